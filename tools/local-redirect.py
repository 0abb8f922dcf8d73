#!/usr/bin/env python3
"""A stand-in for your mail server's redirect rule, for trying ConnectiveOne on one machine (README, First ten minutes).

Listens on 127.0.0.1:PORT as the outbound relay ConnectiveOne sends through, and hands every message it gets to the
technical address at ConnectiveOne's own SMTP listener, as Microsoft 365's or Google Workspace's redirect would.
Python's standard library only.

Usage: python3 tools/local-redirect.py TECHNICAL_ADDRESS [PORT=2526] [LISTENER=127.0.0.1:2525]
"""
import smtplib
import socketserver
import sys

if len(sys.argv) < 2:
    sys.exit(__doc__)
technical = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 2526
listener_host, listener_port = (sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1:2525").rsplit(":", 1)


class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 local-redirect ready")
        sender = None
        for raw in self.rfile:
            command = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 local-redirect")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].split()[0].strip("<>") if ":" in command else ""
                self.reply("250 OK")
            elif verb == "RCPT":
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End with <CRLF>.<CRLF>")
                lines = []
                for line in self.rfile:
                    if line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                with smtplib.SMTP(listener_host, int(listener_port)) as smtp:
                    smtp.sendmail(sender or "", [technical], b"".join(lines))
                print(f"redirected a message from <{sender}> to {technical}", flush=True)
                self.reply("250 OK: redirected")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP and the rest
                self.reply("250 OK")


socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("127.0.0.1", port), Session) as server:
    print(f"Redirecting mail sent to 127.0.0.1:{port} to {technical} at {listener_host}:{listener_port} (Ctrl+C stops)", flush=True)
    server.serve_forever()
