#!/usr/bin/env python3
"""Real-Prometheus check of the exposition edges: run.py EDGES_BINARY

Runs the edges program (metrics at every definition and value edge, with the series Prometheus
must store), checks the text render with `promtool check metrics`, serves the text render at
/text (text/plain; version=0.0.4) and the OpenMetrics render at /om
(application/openmetrics-text) on a free loopback port, starts Debian's prometheus scraping both
every second, and then asserts through the HTTP API that both targets are up and that every
expected series is stored with exactly the expected value (le compared as a number, since the two
formats spell it differently). Exit 77 = skipped (prometheus/promtool missing)."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_expected(path):
    out = []
    with open(path, "rb") as f:
        for rec in f.read().decode("utf-8").split("\x1e"):
            if not rec:
                continue
            name, labels, value = rec.split("\x1d")
            lab = {}
            for pair in labels.split("\x1f") if labels else []:
                k, v = pair.split("=", 1)
                lab[k] = v
            out.append((name, lab, float(value)))
    return out


def norm(labels):
    """Label set as a comparable key: le as a float, job/instance dropped, and empty values dropped
    (Prometheus treats a label with an empty value as absent)."""
    key = []
    for k, v in labels.items():
        if k in ("job", "instance", "__name__") or v == "":
            continue
        key.append((k, float(v) if k == "le" else v))
    return tuple(sorted(key, key=lambda kv: kv[0]))


def main():
    edges = sys.argv[1]
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            print(f"skip: {tool} not installed", file=sys.stderr)
            return 77
    tmp = tempfile.mkdtemp()
    procs = []
    try:
        subprocess.run([edges, tmp], check=True)
        subprocess.run(["promtool", "check", "metrics"], stdin=open(f"{tmp}/metrics.txt", "rb"), check=True)
        bodies = {
            "/text": (open(f"{tmp}/metrics.txt", "rb").read(), "text/plain; version=0.0.4; charset=utf-8"),
            "/om": (open(f"{tmp}/metrics.om", "rb").read(),
                    "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body, ctype = bodies.get(self.path, (None, None))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        port = srv.server_address[1]
        prom_port = free_port()
        with open(f"{tmp}/prometheus.yml", "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: text
    metrics_path: /text
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
  - job_name: om
    metrics_path: /om
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""")
        log = open(f"{tmp}/prom.log", "w")
        prom = subprocess.Popen(["prometheus", f"--config.file={tmp}/prometheus.yml",
                                 f"--storage.tsdb.path={tmp}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                                stdout=log, stderr=log)
        procs.append(prom)

        def query(expr):
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.load(r)["data"]["result"]
            except Exception:
                return None

        # Both targets up and scraped at least twice.
        deadline = time.time() + 60
        while time.time() < deadline:
            res = query('count_over_time(up[1m]) >= 2 and up == 1')
            if res is not None and len(res) == 2:
                break
            if prom.poll() is not None:
                raise SystemExit("prometheus exited:\n" + open(f"{tmp}/prom.log").read())
            time.sleep(0.5)
        else:
            raise SystemExit("targets not up: %s\n%s" % (query("up"), open(f"{tmp}/prom.log").read()[-2000:]))

        failures = 0
        for job, fmt in (("text", "txt"), ("om", "om")):
            expected = load_expected(f"{tmp}/expected.{fmt}")
            stored = {}
            for name in sorted({n for n, _, _ in expected}):
                for r in query(f'{{__name__="{name}",job="{job}"}}') or []:
                    stored[(name, norm(r["metric"]))] = float(r["value"][1])
            for name, lab, value in expected:
                got = stored.get((name, norm(lab)))
                if got is None or got != value:
                    failures += 1
                    print(f"FAIL {job}: {name}{lab if len(str(lab)) < 200 else '{...}'} = {got}, want {value!r}")
            samples = query(f'scrape_samples_scraped{{job="{job}"}}')
            print(f"{job}: {len(expected)} expected series checked, scrape_samples_scraped="
                  f"{samples[0]['value'][1] if samples else '?'}")
        if failures:
            print(open(f"{tmp}/prom.log").read()[-2000:])
            return 1
        print("PASS")
        return 0
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
