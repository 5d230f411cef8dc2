#!/usr/bin/env python3
"""Push integration tests against a real Pushgateway and a real Prometheus on loopback.

usage: run.py <push_prog> pushgateway|remote_write
Servers get random free ports and temp dirs and are always stopped. Exit 77 = skipped (server
binary missing). Every expected number below is computed from the events this script makes
push_prog record, never copied from an earlier run."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROG, MODE = sys.argv[1], sys.argv[2]
PREFIX = "pt_prom_ex_pp_"
OWN = "pt_prom_ex_prom_ex_"  # promex's own metrics
procs = []
tmp = tempfile.mkdtemp(prefix="pmx-push-")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for name in os.listdir(tmp):
        if name.endswith(".log"):
            with open(os.path.join(tmp, name), errors="replace") as f:
                print("--- %s (tail)\n%s" % (name, "".join(f.readlines()[-20:])), file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def wait_for(what, pred, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def start(name, argv, ready_url):
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    wait_for(name + " ready", lambda: p.poll() is None and http("GET", ready_url)[0] == 200)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Prog:
    def __init__(self):
        self.p = subprocess.Popen([PROG], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(tmp, "prog.log"), "w"), text=True)
        procs.append(self.p)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline().strip()
        if not out:
            fail("push_prog died on: " + line)
        return out

    def ok(self, line):
        out = self.cmd(line)
        if out != "ok":
            fail("%s -> %s" % (line, out))

    def quit(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        if self.p.wait(20) != 0:
            fail("push_prog exited with %d" % self.p.returncode)

    def stats(self):
        return {k: int(v) for k, v in (kv.split("=") for kv in self.cmd("rw_stats").split())}


def parse_text(body):
    """{(name, frozenset(labels)): value} from a text exposition."""
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def promql(port, q):
    st, body = http("GET", "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q})))
    if st != 200:
        return None
    res = json.loads(body)["data"]["result"]
    return [(r["metric"], float(r["value"][1])) for r in res]


def prom_value(port, q):
    r = promql(port, q)
    return r[0][1] if r and len(r) == 1 else None


def start_prometheus(port, data, scrape=None, receiver=False):
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
        if scrape:
            f.write("  - job_name: pushgateway\n    honor_labels: true\n"
                    "    static_configs:\n      - targets: ['%s']\n" % scrape)
        else:
            f.write("  []\n")
    argv = ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data,
            "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"]
    if receiver:
        argv.append("--web.enable-remote-write-receiver")
    return start("prometheus", argv, "http://127.0.0.1:%d/-/ready" % port)


def pushgateway_mode():
    gw_port = free_port()
    gw = "http://127.0.0.1:%d" % gw_port
    # Debian defaults --persistence.file to /var/lib/prometheus: keep groups in memory only.
    start("pushgateway", ["prometheus-pushgateway", "--persistence.file=",
                          "--web.listen-address=127.0.0.1:%d" % gw_port],
          gw + "/-/ready")
    prog = Prog()
    recorded = {"a": [5] * 3, "b": [50] * 2}
    prog.ok("emit a 3 5")
    prog.ok("emit b 2 50")

    def group_metrics():
        return parse_text(http("GET", gw + "/metrics")[1])

    def val(name, **labels):
        labels.setdefault("instance", "x/y")
        labels.setdefault("job", "batch")
        return group_metrics().get((PREFIX + name, frozenset(labels.items())))

    # A foreign metric in the same group: POST keeps it, PUT replaces the whole group.
    st, _ = http("PUT", gw + "/metrics/job/batch/instance@base64/eC95", b"other_metric 1\n")
    if st != 200:
        fail("seeding the group: HTTP %d" % st)
    prog.ok("push %s post batch instance=x/y" % gw)
    for kind, obs in recorded.items():
        if val("jobs_total", kind=kind) != len(obs):
            fail("POST: jobs_total{kind=%s} = %s, want %d" % (kind, val("jobs_total", kind=kind), len(obs)))
        if val("job_duration_milliseconds_sum", kind=kind) != sum(obs):
            fail("POST: duration sum for %s" % kind)
        for le in ("10", "100", "1000", "+Inf"):
            want = sum(1 for o in obs if le == "+Inf" or o <= float(le))
            if val("job_duration_milliseconds_bucket", kind=kind, le=le) != want:
                fail("POST: bucket le=%s kind=%s want %d" % (le, kind, want))
    if group_metrics().get(("other_metric", frozenset({("instance", "x/y"), ("job", "batch")}))) != 1:
        fail("POST removed a metric it did not push")
    prog.ok("emit a 4 500")
    recorded["a"] += [500] * 4
    prog.ok("push %s put batch instance=x/y" % gw)
    if ("other_metric", frozenset({("instance", "x/y"), ("job", "batch")})) in group_metrics():
        fail("PUT kept a metric of the old group")
    if val("jobs_total", kind="a") != len(recorded["a"]):
        fail("PUT: jobs_total{kind=a} = %s" % val("jobs_total", kind="a"))
    # The JSON API agrees, with the grouping key decoded from base64.
    st, body = http("GET", gw + "/api/v1/metrics")
    groups = json.loads(body)["data"]
    if not any(g["labels"].get("instance") == "x/y" and g["labels"].get("job") == "batch" for g in groups):
        fail("/api/v1/metrics has no group {job=batch,instance=x/y}: " + body[:300])

    # A real Prometheus scraping the Pushgateway (honor_labels) sees the same numbers.
    prom_port = free_port()
    start_prometheus(prom_port, os.path.join(tmp, "data"), scrape="127.0.0.1:%d" % gw_port)
    q = PREFIX + 'jobs_total{job="batch",instance="x/y",kind="a"}'
    wait_for("prometheus to scrape the pushgateway", lambda: prom_value(prom_port, q) == len(recorded["a"]), 20)
    qb = PREFIX + 'job_duration_milliseconds_bucket{job="batch",instance="x/y",kind="a",le="100"}'
    if prom_value(prom_port, qb) != sum(1 for o in recorded["a"] if o <= 100):
        fail("prometheus: bucket le=100 = %s" % prom_value(prom_port, qb))

    # DELETE removes the group (queued by the Pushgateway: 202, then gone).
    prog.ok("push %s delete batch instance=x/y" % gw)
    wait_for("the group to be deleted", lambda: val("jobs_total", kind="a") is None, 5)
    # Errors: with the group gone, a gauge of the same name in another group makes our counter
    # a type conflict: a 400 with the Pushgateway's reason in the error.
    st, _ = http("PUT", gw + "/metrics/job/other", ("# TYPE %sjobs_total gauge\n%sjobs_total 1\n" % (PREFIX, PREFIX)).encode())
    if st != 200:
        fail("seeding the conflict: HTTP %d %s\n%s" % (st, _, http("GET", gw + "/metrics")[1]))
    out = prog.cmd("push %s put batch2" % gw)
    if not (out.startswith("error PMX_EHTTP") and "HTTP 400" in out and "inconsistent with existing metrics" in out):
        fail("type conflict: " + out)
    out = prog.cmd("push %s put batch __bad=1" % gw)
    if not out.startswith("error PMX_EINVAL"):
        fail("bad label name: " + out)
    out = prog.cmd("push http://127.0.0.1:%d put batch" % free_port())
    if not out.startswith("error PMX_EIO"):
        fail("closed port: " + out)

    # The pushes above, as promex counts them (push_requests_total{method,result}), read from
    # the body of one more push: POST, PUT and DELETE succeeded once each, three PUTs failed.
    http("DELETE", gw + "/metrics/job/other")  # the conflicting gauge would refuse this push
    wait_for("the conflicting group to be deleted",
             lambda: not any(n == PREFIX + "jobs_total" and ("job", "other") in l
                             for n, l in parse_text(http("GET", gw + "/metrics")[1])), 5)
    prog.ok("push %s put counts" % gw)
    counts = parse_text(http("GET", gw + "/metrics")[1])
    for method, result, want in (("post", "ok", 1), ("put", "ok", 1), ("delete", "ok", 1), ("put", "error", 3)):
        key = (OWN + "push_requests_total", frozenset({("job", "counts"), ("instance", ""),
                                                      ("method", method), ("result", result)}))
        if counts.get(key) != want:
            fail("push_requests_total{method=%s,result=%s} = %s, want %d" % (method, result, counts.get(key), want))
    prog.quit()
    print("pushgateway: ok")


def remote_write_mode():
    prom_port = free_port()
    data = os.path.join(tmp, "data")
    url = "http://127.0.0.1:%d/api/v1/write" % prom_port
    prom = start_prometheus(prom_port, data, receiver=True)
    prog = Prog()
    a = [5] * 3
    prog.ok("emit a 3 5")
    # queue: 1000 samples; a round has a few dozen (own metrics included), so an outage of a
    # few seconds at 100 ms per round overflows it.
    prog.ok("rw_start %s 100 1000" % url)
    q = PREFIX + 'jobs_total{kind="a"}'
    wait_for("the first samples", lambda: prom_value(prom_port, q) == len(a), 20)
    for le in ("10", "100"):
        want = sum(1 for o in a if o <= float(le))
        if prom_value(prom_port, PREFIX + 'job_duration_milliseconds_bucket{kind="a",le="%s"}' % le) != want:
            fail("bucket le=%s" % le)
    if prom_value(prom_port, PREFIX + 'job_duration_milliseconds_sum{kind="a"}') != sum(a):
        fail("sum")
    s0 = prog.stats()
    if s0["sent"] == 0 or s0["dropped_queue"] != 0:
        fail("before the outage: %s" % s0)

    # Outage: the receiver stops; rounds keep being taken, requests fail and are retried, the
    # queue overflows and drops its oldest samples.
    stop(prom)
    prog.ok("emit a 4 500")
    a += [500] * 4
    wait_for("failed requests and dropped samples",
             lambda: (lambda s: s["failed"] > 0 and s["dropped_queue"] > 0)(prog.stats()), 15)
    s1 = prog.stats()
    if s1["last_status"] != 0:  # connection refused: no HTTP status
        fail("during the outage: %s" % s1)
    prom = start_prometheus(prom_port, data, receiver=True)
    prog.ok("emit a 2 50")
    a += [50] * 2
    wait_for("samples after recovery", lambda: prom_value(prom_port, q) == len(a), 20)
    if prom_value(prom_port, PREFIX + 'job_duration_milliseconds_sum{kind="a"}') != sum(a):
        fail("sum after recovery")
    s2 = prog.stats()
    if s2["dropped_queue"] < s1["dropped_queue"] or s2["rejected"] != 0:
        fail("after recovery: %s" % s2)
    if s2["taken"] != s2["sent"] + s2["dropped_queue"] + s2["rejected"] + s2["queued"]:
        fail("samples not accounted for: %s" % s2)
    # promex's own metrics show the same counts: the dropped samples in the exposition equal
    # what pmx_remote_write_stats() reports (nothing is dropped after the recovery), and the
    # receiving Prometheus got that count too, through remote_write itself.
    own = OWN + 'remote_write_samples_dropped_total{url="%s",reason="queue_full"}' % url
    s3 = prog.stats()
    if s3["dropped_queue"] != s2["dropped_queue"]:
        fail("samples dropped after the recovery: %s then %s" % (s2, s3))
    wait_for("dropped samples in the exposition equal to the stats",
             lambda: prog.cmd("sample " + own) == str(s3["dropped_queue"]), 5)
    wait_for("sent samples in the exposition",
             lambda: int(prog.cmd("sample " + own.replace("dropped", "sent").replace(',reason="queue_full"', ""))) >= s3["sent"], 5)
    if int(prog.cmd("sample " + OWN + 'remote_write_requests_failed_total{url="%s"}' % url)) < s3["failed"]:
        fail("failed requests in the exposition below the stats")
    q_own = OWN + 'remote_write_samples_dropped_total{reason="queue_full"}'
    wait_for("the dropped count at the receiver", lambda: prom_value(prom_port, q_own) == s3["dropped_queue"], 20)
    last_ok = prom_value(prom_port, OWN + "remote_write_last_success_timestamp_seconds")
    if last_ok is None or last_ok < time.time() - 60:
        fail("last success timestamp at the receiver: %s" % last_ok)
    # Series come with __name__ and their labels; no label is empty.
    r = promql(prom_port, '{__name__=~"%s.*"}' % PREFIX)
    if not r or any(v == "" for m, _ in r for v in m.values()):
        fail("received series: %s" % r)
    prog.quit()
    print("remote_write: ok (%s)" % s2)


try:
    for tool in ("prometheus-pushgateway" if MODE == "pushgateway" else "prometheus", "prometheus"):
        if not shutil.which(tool):
            print("skip: %s missing" % tool)
            sys.exit(77)
    pushgateway_mode() if MODE == "pushgateway" else remote_write_mode()
finally:
    for p in procs:
        stop(p)
    shutil.rmtree(tmp, ignore_errors=True)
