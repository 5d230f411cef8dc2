#!/usr/bin/env python3
"""postgres_stats against a real PostgreSQL on loopback (issue 13), read back through a real
Prometheus scraping stats_app every second.

    pg_it.py STATS_APP                      the integration test
    pg_it.py STATS_APP --panels CHECK_PANELS PROMEX_CLI DASHBOARDS_DIR
                                            every panel of postgres_stats.json has data

The server runs as the postgres user from a temporary directory (servers.md), with
pg_stat_statements preloaded and autovacuum off (so only our workload moves the row counters).
The plugin connects over TCP as role promex (pg_monitor, scram password from ${PG_PASSWORD}).
Integration: after a known workload in database app (100 rows inserted, 10 updated, 5 deleted, 3
rolled-back transactions, a marker statement (50 ms, so it is in the top N by time) run 7 times) the counters moved by exactly that;
a session idle in a transaction holding an ACCESS EXCLUSIVE lock and a session in pg_sleep show
as connections by state, lock mode and transaction / query ages; the server frozen (SIGSTOP of
every server process) gives up 0 with reason timeout while Prometheus keeps scraping; stopped,
up 0; restarted, up 1; our role's password changed, reason auth and exactly one "password
authentication failed" log line. A database dropped, and a streaming replica stopped, leave
the exposition (their series are retired, not frozen). Exit 77 when PostgreSQL or prometheus is
missing."""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server_stats"))
import harness as h  # noqa: E402

P = "stats_it_prom_ex_postgres_stats"
PASSWORD = "promex pw"


def bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


class Pg:
    def __init__(self, tmp, port):
        self.bin = bindir()
        self.dir = os.path.join(tmp, "pg")
        self.port = port
        os.makedirs(self.dir)
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.as_pg(["initdb", "-D", f"{self.dir}/data", "-U", "admin", "-A", "trust",
                    "--auth-host=scram-sha-256"])
        with open(f"{self.dir}/data/postgresql.conf", "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\nautovacuum = off\n"
                    "track_io_timing = on\n")
        self.started = False

    def as_pg(self, argv, check=True):
        r = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, argv[0]),
                            *argv[1:]], capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise h.Failure(f"{argv[0]}: {r.stdout}{r.stderr}")
        return r

    def start(self):
        self.as_pg(["pg_ctl", "-D", f"{self.dir}/data", "-w", "-t", "30", "-l", f"{self.dir}/log",
                    "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])
        self.started = True

    def stop(self):
        if self.started:
            self.as_pg(["pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop"], check=False)
            self.started = False

    def pids(self):
        with open(f"{self.dir}/data/postmaster.pid") as f:
            pm = int(f.readline())
        kids = []
        for t in os.listdir(f"/proc/{pm}/task"):
            with open(f"/proc/{pm}/task/{t}/children") as f:
                kids += [int(x) for x in f.read().split()]
        return [pm] + kids

    def sql(self, sql, db="app"):
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p",
                            str(self.port), "-U", "admin", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise h.Failure(f"psql {sql!r}: {r.stdout}{r.stderr}")
        return r.stdout

    def session(self, children, name, script):
        """A psql session kept open: it runs `script` and then waits on its stdin."""
        p = subprocess.Popen(["psql", "-X", "-q", "-h", self.dir, "-p", str(self.port), "-U",
                              "admin", "-d", "app"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                             preexec_fn=h._die_with_parent)
        p.stdin.write(script + "\n")
        p.stdin.flush()
        children.procs[name] = p
        return p


class Replica(Pg):
    """A streaming replica of `primary` (pg_basebackup -R over the primary's socket), named
    replica1 (cluster_name, which the walreceiver sends as its application_name)."""

    def __init__(self, primary, tmp, port):
        self.bin = primary.bin
        self.dir = os.path.join(tmp, "pgrep")
        self.port = port
        os.makedirs(self.dir)
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.as_pg(["pg_basebackup", "-D", f"{self.dir}/data", "-R", "-X", "stream", "-h",
                    primary.dir, "-p", str(primary.port), "-U", "admin"])
        with open(f"{self.dir}/data/postgresql.conf", "a") as f:
            f.write("cluster_name = 'replica1'\n")
        self.started = False


def setup(pg):
    pg.sql("CREATE DATABASE app", db="postgres")
    pg.sql(f"CREATE ROLE promex LOGIN PASSWORD '{PASSWORD}'; GRANT pg_monitor TO promex",
           db="postgres")
    pg.sql("CREATE EXTENSION pg_stat_statements; CREATE TABLE t (id int PRIMARY KEY, v text)")


def write_config(tmp, port, poll_rate=500):
    cfg = os.path.join(tmp, "promex.ini")
    with open(cfg, "w") as f:
        f.write(f"""[promex]
app = stats_it

[metrics_server]
port = 0

[plugin.postgres_stats]
conn = postgresql://promex@127.0.0.1:{port}/app
password = ${{PG_PASSWORD}}
poll_rate = {poll_rate}
timeout = 400
""")
    return cfg


def val(base, expr):
    v = h.query(base, expr)
    if len(v) != 1:
        raise h.Failure(f"{expr}: {v}")
    return v[0]


def integration(app, tmp, children):
    pg = Pg(tmp, h.free_port())
    try:
        pg.start()
        setup(pg)
        os.environ["PG_PASSWORD"] = PASSWORD
        inst = h.start_app(children, app, write_config(tmp, pg.port), tmp)
        base = h.start_prometheus(children, tmp, inst)
        h.expect_eq(base, f"{P}_up", 1)
        h.expect_eq(base, f"count({P}_errors_total == 0)", 5)
        h.expect_eq(base, f"{P}_connections_max", 100)
        h.expect_eq(base, f"{P}_replication_is_replica", 0)
        h.expect_eq(base, f"{P}_replication_replicas", 0)  # pg_stat_replication: no senders
        version = pg.sql("SHOW server_version", db="postgres").split("\n")[2].strip()
        h.expect_eq(base, f'{P}_version_info{{version="{version}"}}', 1)
        h.wait_value(base, f'{P}_database_size_bytes{{datname="app"}}', lambda v: v > 1e6, "size")

        # Baselines once the setup's catalog changes are in, then the workload's exact deltas.
        time.sleep(1.5)
        names = ("tuples_inserted_total", "tuples_updated_total", "tuples_deleted_total",
                 "transactions_rolled_back_total")
        before = {n: val(base, f'{P}_{n}{{datname="app"}}') for n in names}
        pg.sql("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 100) g")
        pg.sql("UPDATE t SET v = 'w' WHERE id <= 10")
        pg.sql("DELETE FROM t WHERE id > 95")
        for _ in range(3):
            pg.sql("BEGIN; SELECT 1; ROLLBACK")
        for _ in range(7):
            pg.sql("SELECT pg_sleep(0.05) AS promex_marker")
        for n, d in zip(names, (100, 10, 5, 3)):
            h.expect_eq(base, f'{P}_{n}{{datname="app"}}', before[n] + d)
        h.expect_eq(base, f'{P}_statements_calls_total * on (datname, queryid) group_left '
                          f'{P}_statements_info{{query=~".*promex_marker.*"}}', 7)

        # A database dropped: its series leave the exposition (not frozen); created again,
        # it comes back with fresh counters.
        pg.sql("CREATE DATABASE scratch", db="postgres")
        h.wait_value(base, f'{P}_database_size_bytes{{datname="scratch"}}', lambda v: v > 0, "scratch")
        h.expect_eq(base, f'count({P}_connections{{datname="scratch"}})', 6)
        pg.sql("DROP DATABASE scratch", db="postgres")
        h.expect_eq(base, f'count({{__name__=~"{P}_.*", datname="scratch"}}) or vector(0)', 0)
        h.expect_eq(base, f'count({P}_database_size_bytes{{datname="app"}})', 1)
        pg.sql("CREATE DATABASE scratch", db="postgres")
        h.wait_value(base, f'{P}_database_size_bytes{{datname="scratch"}}', lambda v: v > 0, "again")
        pg.sql("DROP DATABASE scratch", db="postgres")

        # A streaming replica: its lag series appear; once it disconnects they go, rather
        # than freeze at the last lag.
        rep = Replica(pg, tmp, h.free_port())
        try:
            rep.start()
            h.expect_eq(base, f"{P}_replication_replicas", 1, timeout=30)
            h.expect_eq(base, f'count({P}_replica_replay_lag_bytes{{application_name="replica1"}})', 1)
        finally:
            rep.stop()
        h.expect_eq(base, f"{P}_replication_replicas", 0)
        h.expect_eq(base, f'count({{__name__=~"{P}_replica_.*"}}) or vector(0)', 0)

        # A long transaction holding a lock, and a long query.
        pg.session(children, "idle_tx", "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;")
        pg.session(children, "sleeper", "SELECT pg_sleep(60);")
        h.expect_eq(base, f'{P}_connections{{datname="app", state="idle in transaction"}}', 1)
        h.expect_eq(base, f'{P}_connections{{datname="app", state="active"}}', 1)
        h.wait_value(base, f'{P}_locks{{mode="accessexclusivelock"}}', lambda v: v >= 1, "lock")
        h.wait_value(base, f"{P}_oldest_transaction_seconds", lambda v: v >= 2, "tx age")
        h.wait_value(base, f"{P}_longest_query_seconds", lambda v: v >= 2, "query age")
        children.stop("idle_tx")
        children.stop("sleeper", signal.SIGKILL)
        h.expect_eq(base, f'{P}_connections{{datname="app", state="idle in transaction"}}', 0)
        h.expect_eq(base, f'{P}_locks{{mode="accessexclusivelock"}}', 0)

        # Slow server: every server process frozen.
        pids = pg.pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            h.expect_eq(base, f"{P}_up", 0, timeout=10)
            h.wait_value(base, f'{P}_errors_total{{reason="timeout"}}', lambda v: v >= 1, "timeout")
            h.expect_eq(base, 'up{job="stats"}', 1)
            h.wait_value(base, 'scrape_duration_seconds{job="stats"}', lambda v: v < 0.5, "scrape")
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        h.expect_eq(base, f"{P}_up", 1, timeout=40)

        # Stopped and restarted.
        pg.stop()
        h.expect_eq(base, f"{P}_up", 0, timeout=10)
        h.wait_value(base, f'{P}_errors_total{{reason="connect"}}', lambda v: v >= 1, "connect")
        pg.start()
        h.expect_eq(base, f"{P}_up", 1, timeout=40)

        # Wrong password: one clear error.
        pg.sql("ALTER ROLE promex PASSWORD 'changed'; SELECT pg_terminate_backend(pid) FROM "
               "pg_stat_activity WHERE application_name = 'promex_postgres_stats'", db="postgres")
        h.wait_value(base, f'{P}_errors_total{{reason="auth"}}', lambda v: v >= 2, "auth",
                     timeout=60)
        h.expect_eq(base, f"{P}_up", 0)
        err = open(os.path.join(tmp, "app.err"), errors="replace").read()
        n = err.count("password authentication failed")
        if n != 1:
            raise h.Failure(f"expected one 'password authentication failed' line, got {n}:\n{err}")
        if PASSWORD in err:
            raise h.Failure("the password appears in the log")
        h.log("ok  one 'password authentication failed' log line, no password in it")
    finally:
        children.stop_all()
        pg.stop()


def panels(app, tmp, children, check_panels, promex, dashboards):
    pg = Pg(tmp, h.free_port())
    try:
        pg.start()
        setup(pg)
        os.environ["PG_PASSWORD"] = PASSWORD
        os.environ["PMX_STATS_CONFIG"] = write_config(tmp, pg.port)
        pg.sql("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 100) g")
        # Keep transactions, reads and a long transaction going while Prometheus builds its
        # rate() windows.
        pg.session(children, "idle_tx", "BEGIN; LOCK TABLE t IN ACCESS SHARE MODE;")
        busy = pg.session(children, "busy", "SELECT 1;")
        for i in range(400):
            busy.stdin.write(f"SELECT count(*) FROM t WHERE id > {i % 50}; "
                             f"BEGIN; SELECT 1; ROLLBACK; SELECT pg_sleep(0.1);\n")
        busy.stdin.flush()
        r = subprocess.run([sys.executable, check_panels, "--demo", app, "--promex", promex,
                            "--dashboards", dashboards, "--only", "postgres_stats.json",
                            "--config", os.environ["PMX_STATS_CONFIG"]], timeout=300)
        return r.returncode
    finally:
        children.stop_all()
        pg.stop()


def main():
    if len(sys.argv) < 2:
        h.log(__doc__)
        return 2
    if bindir() is None or shutil.which("psql") is None or shutil.which("prometheus") is None:
        h.log("skip: PostgreSQL (initdb, psql) or prometheus is not installed")
        return h.SKIP
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        h.log("skip: no postgres user")
        return h.SKIP
    app = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="promex-pg-it-")
    os.chmod(tmp, 0o755)
    children = h.Children()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *_: sys.exit(1))
    rc = 1
    codes = {}
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
    if rc == 0:
        h.log("PASS")
    return rc


if __name__ == "__main__":
    sys.exit(main())
