#!/usr/bin/env python3
"""redis_stats against a real redis-server on loopback (issue 13), read back through a real
Prometheus scraping stats_app every second.

    redis_it.py STATS_APP                      the integration test
    redis_it.py STATS_APP --panels CHECK_PANELS PROMEX_CLI DASHBOARDS_DIR
                                               every panel of redis_stats.json has data

Integration: a known workload (5 SETs in db0, 2 with an expiry, 1 in db1, 3 hits, 2 misses), then
exact values (keys per db, hits, misses, calls per command, version); more hits move the
counter by exactly that much; the server frozen (SIGSTOP) gives up 0 and a timeout error while
Prometheus keeps scraping the app; thawed, up 1; stopped, up 0 and a connect error; restarted,
up 1 with db0 reported empty and the counters never going backwards; restarted with another
password, up 0 with reason auth and exactly one "AUTH failed" log line. The password comes from
${REDIS_PASSWORD} in the config file. Exit 77 when redis-server or prometheus is missing."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server_stats"))
import harness as h  # noqa: E402

P = "stats_it_prom_ex_redis_stats"
PASSWORD = "s3cret pass"


def start_redis(children, tmp, port, password):
    d = os.path.join(tmp, f"redis{port}")
    os.makedirs(d, exist_ok=True)
    children.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", d,
                             "--requirepass", password],
                   os.path.join(d, "out"), os.path.join(d, "err"))
    if not h.wait_port(port):
        raise h.Failure("redis-server did not listen")


def cli(port, password, *args, db=0):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--no-auth-warning",
                        "-a", password, "-n", str(db), *args],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0 or r.stdout.startswith("(error)") or "ERR" in r.stdout:
        raise h.Failure(f"redis-cli {args}: {r.stdout} {r.stderr}")
    return r.stdout.strip()


def workload(port):
    for i in range(5):
        extra = ["EX", "1000"] if i < 2 else []
        cli(port, PASSWORD, "SET", f"k{i}", str(i), *extra)
    cli(port, PASSWORD, "SET", "other", "x", db=1)
    for k in ("k0", "k1", "k2"):
        cli(port, PASSWORD, "GET", k)
    for k in ("missing1", "missing2"):
        cli(port, PASSWORD, "GET", k)


def write_config(tmp, port):
    cfg = os.path.join(tmp, "promex.ini")
    with open(cfg, "w") as f:
        f.write(f"""[promex]
app = stats_it

[metrics_server]
port = 0

[plugin.redis_stats]
conn = redis://127.0.0.1:{port}
password = ${{REDIS_PASSWORD}}
poll_rate = 500
timeout = 300
""")
    return cfg


def integration(app, tmp, children):
    port = h.free_port()
    start_redis(children, tmp, port, PASSWORD)
    workload(port)
    os.environ["REDIS_PASSWORD"] = PASSWORD
    cfg = write_config(tmp, port)
    inst = h.start_app(children, app, cfg, tmp)
    base = h.start_prometheus(children, tmp, inst)
    h.expect_eq(base, f"{P}_up", 1)
    version = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.split("v=")[1].split()[0]
    h.expect_eq(base, f'{P}_instance_info{{version="{version}",role="master"}}', 1)
    h.expect_eq(base, f'{P}_db_keys{{db="db0"}}', 5)
    h.expect_eq(base, f'{P}_db_keys_expiring{{db="db0"}}', 2)
    h.expect_eq(base, f'{P}_db_keys{{db="db1"}}', 1)
    h.expect_eq(base, f"{P}_keyspace_hits_total", 3)
    h.expect_eq(base, f"{P}_keyspace_misses_total", 2)
    h.expect_eq(base, f'{P}_commands_total{{cmd="get"}}', 5)
    h.expect_eq(base, f'{P}_commands_total{{cmd="set"}}', 6)
    h.wait_value(base, f"{P}_memory_used_bytes", lambda v: v > 0, "memory used")
    h.wait_value(base, f"{P}_connected_clients", lambda v: v >= 1, "our own connection")
    h.expect_eq(base, f"{P}_clients_max", 10000)
    # Every reason's series exists from the first poll, at 0 while the server is fine.
    h.expect_eq(base, f"count({P}_errors_total == 0)", 5)

    # The scraped values move as the workload says.
    for _ in range(3):
        cli(port, PASSWORD, "GET", "k3")
    h.expect_eq(base, f"{P}_keyspace_hits_total", 6)

    # A replica: its lag series appear; once it disconnects they go, rather than freeze.
    rport = h.free_port()
    d = os.path.join(tmp, "replica")
    os.makedirs(d)
    children.start("replica", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", d,
                               "--replicaof", "127.0.0.1", str(port), "--masterauth", PASSWORD],
                   os.path.join(d, "out"), os.path.join(d, "err"))
    h.expect_eq(base, f"{P}_connected_replicas", 1, timeout=30)
    h.expect_eq(base, f'count({{__name__=~"{P}_replica_.*", replica="127.0.0.1:{rport}"}})', 2)  # lag, offset
    children.stop("replica")
    h.expect_eq(base, f"{P}_connected_replicas", 0)
    h.expect_eq(base, f'count({{__name__=~"{P}_replica_.*"}}) or vector(0)', 0)

    # Slow server: frozen, it accepts nothing and answers nothing.
    redis = children.procs["redis"]
    redis.send_signal(signal.SIGSTOP)
    h.expect_eq(base, f"{P}_up", 0, timeout=10)
    h.wait_value(base, f'{P}_errors_total{{reason="timeout"}}', lambda v: v >= 1, "timeout error")
    # Nothing else stalled: Prometheus keeps scraping the app quickly.
    h.expect_eq(base, 'up{job="stats"}', 1)
    h.wait_value(base, 'scrape_duration_seconds{job="stats"}', lambda v: v < 0.5, "fast scrape")
    redis.send_signal(signal.SIGCONT)
    h.expect_eq(base, f"{P}_up", 1, timeout=30)

    # Stopped: up 0 within a few polls; restarted (empty: --save ""): back, counters monotonic.
    children.stop("redis")
    h.expect_eq(base, f"{P}_up", 0, timeout=10)
    h.wait_value(base, f'{P}_errors_total{{reason="connect"}}', lambda v: v >= 1, "connect error")
    start_redis(children, tmp, port, PASSWORD)
    h.expect_eq(base, f"{P}_up", 1, timeout=40)
    h.expect_eq(base, f'{P}_db_keys{{db="db0"}}', 0)
    h.expect_eq(base, f"resets({P}_keyspace_hits_total[5m])", 0)
    h.wait_value(base, f"{P}_keyspace_hits_total", lambda v: v >= 6, "counter kept")

    # Wrong password: one clear error, logged once however many polls fail.
    children.stop("redis")
    start_redis(children, tmp, port, "another password")
    h.wait_value(base, f'{P}_errors_total{{reason="auth"}}', lambda v: v >= 2, "auth errors",
                 timeout=60)
    h.expect_eq(base, f"{P}_up", 0)
    err = open(os.path.join(tmp, "app.err"), errors="replace").read()
    n_auth = err.count("AUTH failed")
    if n_auth != 1:
        raise h.Failure(f"expected exactly one AUTH failed log line, got {n_auth}:\n{err}")
    h.log(err)
    if PASSWORD in err:
        raise h.Failure("the password appears in the log")
    h.log("ok  one 'AUTH failed' log line, no password in it")


def panels(app, tmp, children, check_panels, promex, dashboards):
    port = h.free_port()
    start_redis(children, tmp, port, PASSWORD)
    workload(port)
    os.environ["REDIS_PASSWORD"] = PASSWORD
    os.environ["PMX_STATS_CONFIG"] = write_config(tmp, port)
    # The dashboard's panels also chart replication lag; a replica makes that series exist.
    rport = h.free_port()
    d = os.path.join(tmp, "replica")
    os.makedirs(d)
    children.start("replica", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", d,
                               "--replicaof", "127.0.0.1", str(port), "--masterauth", PASSWORD],
                   os.path.join(d, "out"), os.path.join(d, "err"))
    # Keep hits and misses moving while Prometheus builds its rate() windows.
    busy = subprocess.Popen([sys.executable, "-c", f"""
import subprocess, time
for i in range(600):
    for k in ("k0", "nope"):
        subprocess.run(["redis-cli", "-p", "{port}", "--no-auth-warning", "-a", {PASSWORD!r},
                        "GET", k], capture_output=True)
    time.sleep(0.2)
"""], preexec_fn=h._die_with_parent)
    try:
        r = subprocess.run([sys.executable, check_panels, "--demo", app, "--promex", promex,
                            "--dashboards", dashboards, "--only", "redis_stats.json",
                            "--config", os.environ["PMX_STATS_CONFIG"]],
                           timeout=300)
    finally:
        busy.kill()
        busy.wait()
    return r.returncode


def main():
    if len(sys.argv) < 2:
        h.log(__doc__)
        return 2
    for tool in ("redis-server", "redis-cli", "prometheus"):
        if shutil.which(tool) is None:
            h.log(f"skip: {tool} is not installed")
            return h.SKIP
    app = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="promex-redis-it-")
    children = h.Children()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *_: sys.exit(1))
    rc = 1
    try:
        if len(sys.argv) == 6 and sys.argv[2] == "--panels":
            rc = panels(app, tmp, children, *sys.argv[3:6])
        else:
            integration(app, tmp, children)
            rc = 0
    except h.Failure as e:
        h.log(f"FAIL: {e}")
        h.log("--- stats_app stderr\n" + h.tail(os.path.join(tmp, "app.err")))
    finally:
        codes = children.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    if codes.get("app") not in (None, 0):
        h.log(f"FAIL: stats_app exited {codes.get('app')} on SIGTERM")
        rc = 1
    if rc == 0:
        h.log("PASS")
    return rc


if __name__ == "__main__":
    sys.exit(main())
