#!/usr/bin/env python3
"""Registers every To/Cc address of the generated load as one of our technical addresses.

The shared load client sends each message to the addresses in its headers (MailKit's default), and our
SMTP edge refuses unknown recipients with 550, so for the benchmark those addresses must be ours.
Usage: seed_recipients.py DATABASE DATA_DIR        (SQLite file)
       seed_recipients.py --sql DATA_DIR...          (prints PostgreSQL statements for psql)
"""
import email, email.utils, glob, sqlite3, sys, uuid

to_sql = sys.argv[1] == "--sql"
db_path, folders = (None, sys.argv[2:]) if to_sql else (sys.argv[1], sys.argv[2:3])
addresses = set()
for path in [p for data in folders for p in glob.glob(f"{data}/*/*.eml")]:
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f)
    for header in ("To", "Cc"):
        for _, addr in email.utils.getaddresses(msg.get_all(header, [])):
            if addr:
                addresses.add(addr.lower())
ticks = 638_000_000_000_000_000
if to_sql:
    for addr in sorted(addresses):
        domain = addr.split("@", 1)[1]
        print(f"""INSERT INTO "Domains" ("Name", "VerificationToken", "Status", "StatusChangedAt", "CreatedAt") """
              f"""VALUES ('{domain}', '{uuid.uuid4().hex}', 'Pending', {ticks}, {ticks}) ON CONFLICT DO NOTHING;""")
        print(f"""INSERT INTO "Addresses" ("Id", "Email", "NormalizedEmail", "Domain", "TechnicalAddress", "Forwarding", "CreatedAt") """
              f"""VALUES ('{uuid.uuid4()}', '{addr}', '{addr}', '{domain}', '{addr}', 'Waiting', {ticks}) ON CONFLICT DO NOTHING;""")
    sys.exit(0)
db = sqlite3.connect(db_path, timeout=30)
for addr in sorted(addresses):
    domain = addr.split("@", 1)[1]
    db.execute("INSERT OR IGNORE INTO Domains (Name, VerificationToken, Status, StatusChangedAt, CreatedAt) VALUES (?, ?, 'Pending', ?, ?)",
               (domain, uuid.uuid4().hex, ticks, ticks))
    db.execute("INSERT OR IGNORE INTO Addresses (Id, Email, NormalizedEmail, Domain, TechnicalAddress, Forwarding, CreatedAt) "
               "VALUES (?, ?, ?, ?, ?, 'Waiting', ?)", (str(uuid.uuid4()).upper(), addr, addr, domain, addr, ticks))
db.commit()
print(f"registered {len(addresses)} recipient addresses")
