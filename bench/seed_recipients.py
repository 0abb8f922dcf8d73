#!/usr/bin/env python3
"""Registers every To/Cc address of the generated load as one of our technical addresses.

The shared load client sends each message to the addresses in its headers (MailKit's default), and our
SMTP edge refuses unknown recipients with 550, so for the benchmark those addresses must be ours.
Usage: seed_recipients.py DATABASE DATA_DIR
"""
import email, email.utils, glob, sqlite3, sys, uuid

db_path, data = sys.argv[1], sys.argv[2]
addresses = set()
for path in glob.glob(f"{data}/*/*.eml"):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f)
    for header in ("To", "Cc"):
        for _, addr in email.utils.getaddresses(msg.get_all(header, [])):
            if addr:
                addresses.add(addr.lower())
db = sqlite3.connect(db_path, timeout=30)
ticks = 638_000_000_000_000_000
for addr in sorted(addresses):
    domain = addr.split("@", 1)[1]
    db.execute("INSERT OR IGNORE INTO Domains (Name, VerificationToken, Status, StatusChangedAt, CreatedAt) VALUES (?, ?, 'Pending', ?, ?)",
               (domain, uuid.uuid4().hex, ticks, ticks))
    db.execute("INSERT OR IGNORE INTO Addresses (Id, Email, NormalizedEmail, Domain, TechnicalAddress, Forwarding, CreatedAt) "
               "VALUES (?, ?, ?, ?, ?, 'Waiting', ?)", (str(uuid.uuid4()).upper(), addr, addr, domain, addr, ticks))
db.commit()
print(f"registered {len(addresses)} recipient addresses")
