"""Shared by the server statistics integration tests (issue 13): child processes that always die
with us, free loopback ports, Debian's Prometheus scraping stats_app, and PromQL waits.

Only loopback addresses are used; HTTP proxies from the environment are ignored."""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

SKIP = 77
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def _die_with_parent():
    try:  # PR_SET_PDEATHSIG = 1: the child gets SIGKILL if we die (ctest timeout)
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Children:
    """Processes we started, stopped (SIGTERM, then SIGKILL) in reverse order by stop_all()."""

    def __init__(self):
        self.procs = {}

    def start(self, name, argv, out, err, env=None, cwd=None, user=None):
        p = subprocess.Popen(argv, stdout=open(out, "wb"), stderr=open(err, "wb"),
                             env=env, cwd=cwd, preexec_fn=_die_with_parent, user=user)
        self.procs[name] = p
        return p

    def stop(self, name, sig=signal.SIGTERM, timeout=15):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return None if p is None else p.returncode
        p.send_signal(sig)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def stop_all(self):
        codes = {}
        for name in list(self.procs)[::-1]:
            codes[name] = self.stop(name)
        return codes


def http_get(url, timeout=5):
    with _opener.open(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def start_app(children, app, config, tmp):
    """Starts stats_app on a free port it picks; returns the instance "127.0.0.1:PORT"."""
    out, err = os.path.join(tmp, "app.out"), os.path.join(tmp, "app.err")
    p = children.start("app", [app, "--config", config, "--port", "0", "--bind", "127.0.0.1"],
                       out, err)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise Failure(f"stats_app exited {p.returncode}: {tail(err)}")
        m = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/", open(out).read())
        if m:
            return f"127.0.0.1:{m.group(1)}"
        time.sleep(0.05)
    raise Failure("stats_app did not print where it listens")


def start_prometheus(children, tmp, instance, job="stats"):
    prom = shutil.which("prometheus")
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
                f"      - targets: [\"{instance}\"]\n")
    for attempt in range(3):
        port = free_port()
        logf = os.path.join(tmp, f"prom{attempt}.log")
        p = children.start("prometheus", [prom, f"--config.file={cfg}",
                                          f"--storage.tsdb.path={tmp}/tsdb{attempt}",
                                          f"--web.listen-address=127.0.0.1:{port}",
                                          "--log.level=warn"], os.devnull, logf)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            try:
                if http_get(base + "/-/ready", 2)[0] == 200:
                    return base
            except OSError:
                pass
            time.sleep(0.1)
        children.stop("prometheus")
    raise Failure("prometheus did not start")


def query(base, expr):
    """Instant query: {labels-string: value}; labels-string is "" for a single unlabelled result."""
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        _, body = http_get(url)
    except OSError as e:
        raise Failure(f"query {expr!r}: {e}")
    d = json.loads(body)
    if d.get("status") != "success":
        raise Failure(f"query {expr!r}: {d}")
    return [float(r["value"][1]) for r in d["data"]["result"]]


def wait_value(base, expr, pred, what, timeout=20.0):
    """Waits until the query returns exactly one value satisfying pred; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        vals = query(base, expr)
        last = vals
        if len(vals) == 1 and pred(vals[0]):
            return vals[0]
        time.sleep(0.25)
    raise Failure(f"{what}: {expr} = {last} after {timeout} s")


def expect_eq(base, expr, want, timeout=20.0):
    v = wait_value(base, expr, lambda x: x == want, f"expected {want}", timeout)
    log(f"ok  {expr} == {want}")
    return v


def tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""
