#!/usr/bin/env python3
"""mysql_stats against a real MariaDB on loopback (issue 13), read back through a real Prometheus
scraping stats_app every second.

    mysql_it.py STATS_APP                      the integration test
    mysql_it.py STATS_APP --panels CHECK_PANELS PROMEX_CLI DASHBOARDS_DIR
                                               every panel of mysql_stats.json has data

The server runs from a temporary directory (servers.md); the plugin connects over TCP as user
promex (PROCESS, REPLICATION CLIENT, SLAVE MONITOR; password from ${MYSQL_PASSWORD}).
Integration: after a known workload (20 rows inserted in 4 INSERTs, 5 updated, 3 deleted) the
Com_insert / Com_update / Com_delete counters and the Handler_write / update / delete counters
(MariaDB keeps temporary tables apart, so our own SHOW queries do not move them) moved by
exactly that; the schema's size is reported; the server frozen (SIGSTOP) gives up 0 with reason timeout
while Prometheus keeps scraping; stopped, up 0; restarted, up 1; the user's password changed,
reason auth with exactly one "Access denied" log line. Panels: a second MariaDB replicates the
first (CHANGE MASTER TO on loopback) and the plugin watches the replica, so the replication lag
and threads panels have data too. Exit 77 when MariaDB or prometheus is missing."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server_stats"))
import harness as h  # noqa: E402

P = "stats_it_prom_ex_mysql_stats"
PASSWORD = "promex pw"


class My:
    def __init__(self, tmp, port, name="my", extra=()):
        self.dir = os.path.join(tmp, name)
        self.name = "mariadb" if name == "my" else f"mariadb-{name}"
        self.extra = list(extra)
        self.port = port
        os.makedirs(self.dir)
        r = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.dir}/data",
                            "--user=root", "--auth-root-authentication-method=normal"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise h.Failure(f"mariadb-install-db: {r.stdout}{r.stderr}")
        self.proc = None

    def start(self, children):
        self.proc = children.start(self.name, [
            "mariadbd", "--no-defaults", f"--datadir={self.dir}/data", "--user=root",
            f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.dir}/sock",
            f"--pid-file={self.dir}/pid"] + self.extra, f"{self.dir}/out", f"{self.dir}/err")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run(["mariadb-admin", "--no-defaults", "-S", f"{self.dir}/sock", "-u",
                                "root", "ping"], capture_output=True, text=True)
            if r.returncode == 0:
                return
            if self.proc.poll() is not None:
                raise h.Failure(f"mariadbd exited: {h.tail(self.dir + '/err')}")
            time.sleep(0.1)
        raise h.Failure("mariadbd not ready after 30 s")

    def sql(self, sql):
        r = subprocess.run(["mariadb", "--no-defaults", "-S", f"{self.dir}/sock", "-u", "root",
                            "-N", "-e", sql], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise h.Failure(f"mariadb {sql!r}: {r.stdout}{r.stderr}")
        return r.stdout


def setup(my):
    for host in ("localhost", "127.0.0.1", "%"):
        my.sql(f"CREATE USER 'promex'@'{host}' IDENTIFIED BY '{PASSWORD}'; GRANT PROCESS, "
               f"REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'promex'@'{host}'")
    my.sql("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)) "
           "ENGINE=InnoDB")
    # information_schema.tables lists only tables the user holds some privilege on.
    for host in ("localhost", "127.0.0.1", "%"):
        my.sql(f"GRANT SELECT ON app.* TO 'promex'@'{host}'")


def write_config(tmp, port):
    cfg = os.path.join(tmp, "promex.ini")
    with open(cfg, "w") as f:
        f.write(f"""[promex]
app = stats_it

[metrics_server]
port = 0

[plugin.mysql_stats]
conn = host=127.0.0.1 port={port} user=promex
password = ${{MYSQL_PASSWORD}}
poll_rate = 500
timeout = 1000
""")
    return cfg


def val(base, expr):
    v = h.query(base, expr)
    if len(v) != 1:
        raise h.Failure(f"{expr}: {v}")
    return v[0]


def integration(app, tmp, children):
    my = My(tmp, h.free_port())
    my.start(children)
    setup(my)
    os.environ["MYSQL_PASSWORD"] = PASSWORD
    inst = h.start_app(children, app, write_config(tmp, my.port), tmp)
    base = h.start_prometheus(children, tmp, inst)
    h.expect_eq(base, f"{P}_up", 1)
    h.expect_eq(base, f"count({P}_errors_total == 0)", 5)
    h.expect_eq(base, f"{P}_connections_max", 151)
    h.expect_eq(base, f"{P}_replication_configured", 0)  # a primary: no replication source
    version = my.sql("SELECT VERSION()").strip()
    h.expect_eq(base, f'{P}_version_info{{version="{version}"}}', 1)

    names = {"ins": f'{P}_commands_total{{command="insert"}}',
             "upd": f'{P}_commands_total{{command="update"}}',
             "del": f'{P}_commands_total{{command="delete"}}',
             "rows_ins": f'{P}_handlers_total{{handler="write"}}',
             "rows_upd": f'{P}_handlers_total{{handler="update"}}',
             "rows_del": f'{P}_handlers_total{{handler="delete"}}'}
    time.sleep(1.5)
    before = {k: val(base, e) for k, e in names.items()}
    for b in range(4):
        values = ", ".join(f"({b * 5 + i}, 'v')" for i in range(5))
        my.sql(f"INSERT INTO app.t VALUES {values}")
    my.sql("UPDATE app.t SET v = 'w' WHERE id < 5")
    my.sql("DELETE FROM app.t WHERE id >= 17")
    for k, d in (("ins", 4), ("upd", 1), ("del", 1), ("rows_ins", 20), ("rows_upd", 5),
                 ("rows_del", 3)):
        h.expect_eq(base, names[k], before[k] + d)
    h.wait_value(base, f'{P}_schema_size_bytes{{schema="app"}}', lambda v: v > 0, "schema size")

    # A schema dropped: its size series leaves the exposition rather than freeze.
    my.sql("CREATE DATABASE scratch; CREATE TABLE scratch.t (id INT PRIMARY KEY) ENGINE=InnoDB")
    for host in ("localhost", "127.0.0.1", "%"):
        my.sql(f"GRANT SELECT ON scratch.* TO 'promex'@'{host}'")
    h.wait_value(base, f'{P}_schema_size_bytes{{schema="scratch"}}', lambda v: v > 0, "scratch")
    my.sql("DROP DATABASE scratch")
    h.expect_eq(base, f'count({P}_schema_size_bytes{{schema="scratch"}}) or vector(0)', 0)
    h.expect_eq(base, f'count({P}_schema_size_bytes{{schema="app"}})', 1)

    # Slow server: frozen.
    pid = int(open(f"{my.dir}/pid").read())
    os.kill(pid, signal.SIGSTOP)
    try:
        h.expect_eq(base, f"{P}_up", 0, timeout=15)
        h.wait_value(base, f'{P}_errors_total{{reason="timeout"}}', lambda v: v >= 1, "timeout")
        h.expect_eq(base, 'up{job="stats"}', 1)
        h.wait_value(base, 'scrape_duration_seconds{job="stats"}', lambda v: v < 0.5, "scrape")
    finally:
        os.kill(pid, signal.SIGCONT)
    h.expect_eq(base, f"{P}_up", 1, timeout=40)

    # Stopped and restarted.
    children.stop("mariadb")
    h.expect_eq(base, f"{P}_up", 0, timeout=10)
    h.wait_value(base, f'{P}_errors_total{{reason="connect"}}', lambda v: v >= 1, "connect")
    my.start(children)
    h.expect_eq(base, f"{P}_up", 1, timeout=40)

    # Wrong password: one clear error.
    for host in ("localhost", "127.0.0.1", "%"):
        my.sql(f"ALTER USER 'promex'@'{host}' IDENTIFIED BY 'changed'")
    for cid in my.sql("SELECT id FROM information_schema.processlist WHERE user = 'promex'").split():
        my.sql(f"KILL {cid}")
    h.wait_value(base, f'{P}_errors_total{{reason="auth"}}', lambda v: v >= 2, "auth", timeout=60)
    h.expect_eq(base, f"{P}_up", 0)
    err = open(os.path.join(tmp, "app.err"), errors="replace").read()
    n = err.count("Access denied")
    if n != 1:
        raise h.Failure(f"expected one 'Access denied' log line, got {n}:\n{err}")
    if PASSWORD in err:
        raise h.Failure("the password appears in the log")
    h.log("ok  one 'Access denied' log line, no password in it")


def start_replica(tmp, children):
    """A primary (binary log on) and a replica of it, both on loopback; returns (primary,
    replica) once the replica's threads run. Statements run on the primary afterwards (users,
    the app schema, the workload) reach the replica through replication."""
    primary = My(tmp, h.free_port(), "primary", ["--log-bin=bin", "--server-id=1"])
    replica = My(tmp, h.free_port(), "replica", ["--server-id=2"])
    primary.start(children)
    replica.start(children)
    primary.sql("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl pw'; "
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'")
    replica.sql(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
                "MASTER_USER='repl', MASTER_PASSWORD='repl pw', MASTER_USE_GTID=slave_pos, "
                "MASTER_CONNECT_RETRY=1; START SLAVE")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        st = replica.sql("SELECT COUNT(*) FROM information_schema.global_status WHERE "
                         "variable_name = 'SLAVE_RUNNING' AND variable_value = 'ON'").strip()
        if st == "1":
            return primary, replica
        time.sleep(0.1)
    raise h.Failure(f"replica not running: {replica.sql('SHOW SLAVE STATUS')}")


def panels(app, tmp, children, check_panels, promex, dashboards):
    # The plugin watches a replica so the replication panels have data; the workload runs on
    # the primary and replicates (the other panels' counters move on the replica as well).
    primary, replica = start_replica(tmp, children)
    setup(primary)
    deadline = time.monotonic() + 15
    while replica.sql("SELECT COUNT(*) FROM mysql.user WHERE user = 'promex'").strip() != "3":
        if time.monotonic() > deadline:
            raise h.Failure("the promex user did not reach the replica")
        time.sleep(0.1)
    my = primary
    os.environ["MYSQL_PASSWORD"] = PASSWORD
    os.environ["PMX_STATS_CONFIG"] = write_config(tmp, replica.port)
    busy = subprocess.Popen([sys.executable, "-c", f"""
import subprocess, time
for i in range(1000):
    subprocess.run(["mariadb", "--no-defaults", "-S", "{my.dir}/sock", "-u", "root", "-e",
                    "REPLACE INTO app.t VALUES (%d, 'x'); SELECT COUNT(*) FROM app.t;" % (i % 50)],
                   capture_output=True)
    time.sleep(0.1)
"""], preexec_fn=h._die_with_parent)
    try:
        r = subprocess.run([sys.executable, check_panels, "--demo", app, "--promex", promex,
                            "--dashboards", dashboards, "--only", "mysql_stats.json",
                            "--config", os.environ["PMX_STATS_CONFIG"]], timeout=300)
    finally:
        busy.kill()
        busy.wait()
    return r.returncode


def main():
    if len(sys.argv) < 2:
        h.log(__doc__)
        return 2
    for tool in ("mariadbd", "mariadb-install-db", "mariadb", "prometheus"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            h.log(f"skip: {tool} is not installed")
            return h.SKIP
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin"
    app = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="promex-my-it-")
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
