#!/usr/bin/env python3
"""Medians of the load tool's JSON lines: bench/summarize.py RESULTS.jsonl [LABEL]"""
import json, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if len(sys.argv) > 2:
    rows = [r for r in rows if r["label"] == sys.argv[2]]
med = lambda k: statistics.median(r[k] for r in rows)
rss = statistics.median(r.get("server_maxrss_mb", r["server_vmhwm_mb"]) for r in rows)
print(f"{rows[0]['label']}: {len(rows)} runs, e2e {med('e2e_msgs_per_s'):.0f} msgs/s, p50/p99 {med('send_latency_ms_p50'):.0f}/{med('send_latency_ms_p99'):.0f} ms, "
      f"server CPU {1000 * med('server_cpu_s') / rows[0]['n']:.2f} ms/msg, peak RSS {rss:.0f} MB")
