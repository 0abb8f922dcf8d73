#!/usr/bin/env python3
"""Serves the load tool's --count-url for a PostgreSQL database: GET /count?prefix=P -> {"rowCount": N},
N = distinct stored messages whose Message-ID starts with P (so two load clients on one database each see
only their own). Usage: pg_counter.py PORT PSQL_ARGS...   (e.g. -h 127.0.0.1 -p 5432 -U postgres -d c1)"""
import json, re, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

port, psql = int(sys.argv[1]), ["psql", "-X", "-tA", *sys.argv[2:]]

class Counter(BaseHTTPRequestHandler):
    def do_GET(self):
        prefix = parse_qs(urlparse(self.path).query).get("prefix", [""])[0]
        if not re.fullmatch(r"[A-Za-z0-9.]*", prefix):
            self.send_error(400, "prefix: letters, digits and dots only")
            return
        sql = f"""SELECT COUNT(DISTINCT "DedupKey") FROM "Messages" WHERE "MessageIdHeader" LIKE '{prefix}%'"""
        count = int(subprocess.run([*psql, "-c", sql], capture_output=True, text=True, check=True).stdout.strip() or 0)
        body = json.dumps({"rowCount": count}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", port), Counter).serve_forever()
