#!/usr/bin/env python3
"""A stand-in for Grafana's HTTP API, for promex's client tests.

Grafana itself is not packaged for Debian 12, so the tests run against this server, which
implements the endpoints promex uses the way Grafana documents them (docs/grafana.md,
../shared/reference/protocols.md section 5): status codes, bodies and error shapes
({"message": ..., "status": ...}).

Usage: mock_grafana.py [--token T] [--user U --password P]
Listens on 127.0.0.1, port 0 (the kernel picks one), prints the port on stdout, serves forever.

Test controls (no auth):
  GET  /__requests          recorded /api requests as JSON [{method,path,auth,body}]
  POST /__slow?ms=N         delay every later /api response by N ms (0 turns it off)
  POST /__fail?count=N&status=S   answer the next N /api requests with status S
  POST /__reset             forget requests, folders, dashboards, annotations and toggles
  GET  /__state             folders, dashboards and annotations as JSON
"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = None
USER = None
PASSWORD = None
LOCK = threading.Lock()


def fresh_state():
    return {"requests": [], "folders": {}, "dashboards": {}, "annotations": [],
            "slow_ms": 0, "fail_count": 0, "fail_status": 503, "next_id": 1}


STATE = fresh_state()


def next_id():
    STATE["next_id"] += 1
    return STATE["next_id"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return raw

    def authorized(self):
        auth = self.headers.get("Authorization") or ""
        if TOKEN is not None and auth == "Bearer " + TOKEN:
            return True
        if USER is not None and auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return False
            return user == USER and pw == PASSWORD
        return TOKEN is None and USER is None

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query)
        raw = self.read_body()
        if path.startswith("/__"):
            return self.control(method, path, query)
        with LOCK:
            STATE["requests"].append({"method": method, "path": self.path,
                                      "auth": self.headers.get("Authorization"),
                                      "content_type": self.headers.get("Content-Type"),
                                      "body": raw.decode(errors="replace")})
            slow = STATE["slow_ms"]
            fail = STATE["fail_count"] > 0
            if fail:
                STATE["fail_count"] -= 1
                fail_status = STATE["fail_status"]
        if slow:
            time.sleep(slow / 1000.0)
        if fail:
            return self.send_json(fail_status, {"message": "injected failure"})
        if path == "/api/health":
            return self.send_json(200, {"database": "ok", "version": "10.4.0-mock",
                                        "commit": "mock"})
        if not self.authorized():
            return self.send_json(401, {"message": "Unauthorized"})
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(400, {"message": "bad request data"})
        with LOCK:
            return self.api(method, path, query, body)

    def control(self, method, path, query):
        with LOCK:
            if path == "/__requests":
                return self.send_json(200, STATE["requests"])
            if path == "/__state":
                return self.send_json(200, {"folders": STATE["folders"],
                                            "dashboards": STATE["dashboards"],
                                            "annotations": STATE["annotations"]})
            if path == "/__slow":
                STATE["slow_ms"] = int(query.get("ms", ["0"])[0])
                return self.send_json(200, {"slow_ms": STATE["slow_ms"]})
            if path == "/__fail":
                STATE["fail_count"] = int(query.get("count", ["1"])[0])
                STATE["fail_status"] = int(query.get("status", ["503"])[0])
                return self.send_json(200, {})
            if path == "/__reset":
                STATE.clear()
                STATE.update(fresh_state())
                return self.send_json(200, {})
        return self.send_json(404, {"message": "no such control"})

    # ---- Grafana API (called with LOCK held) ----
    def api(self, method, path, query, body):
        folders = STATE["folders"]
        dashboards = STATE["dashboards"]
        if path == "/api/folders" and method == "GET":
            return self.send_json(200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]}
                                        for f in folders.values()])
        if path == "/api/folders" and method == "POST":
            if not isinstance(body, dict) or not body.get("title"):
                return self.send_json(400, {"message": "folder title cannot be empty"})
            uid = body.get("uid") or "auto%d" % next_id()
            if len(uid) > 40:
                return self.send_json(400, {"message": "uid too long, max 40 characters"})
            if uid in folders:
                return self.send_json(409, {"message": "a folder with the same uid already exists"})
            if any(f["title"] == body["title"] for f in folders.values()):
                # Grafana < 11.3: folder titles are unique.
                return self.send_json(409, {"message": "a folder or dashboard in the general folder with the same name already exists"})
            f = {"id": next_id(), "uid": uid, "title": body["title"], "url": "/dashboards/f/" + uid,
                 "version": 1}
            folders[uid] = f
            return self.send_json(200, f)
        if path.startswith("/api/folders/"):
            uid = unquote(path[len("/api/folders/"):])
            f = folders.get(uid)
            if f is None:
                return self.send_json(404, {"message": "folder not found", "status": "not-found"})
            if method == "GET":
                return self.send_json(200, f)
            if method == "PUT":
                if not isinstance(body, dict) or not body.get("title"):
                    return self.send_json(400, {"message": "folder title cannot be empty"})
                if not body.get("overwrite") and body.get("version") != f["version"]:
                    return self.send_json(412, {"message": "the folder has been changed by someone else",
                                                "status": "version-mismatch"})
                f["title"] = body["title"]
                f["version"] += 1
                return self.send_json(200, f)
        if path == "/api/dashboards/db" and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
                return self.send_json(400, {"message": "bad request data"})
            d = body["dashboard"]
            if not d.get("title"):
                return self.send_json(400, {"message": "Dashboard title cannot be empty"})
            uid = d.get("uid") or "gen%d" % next_id()
            if len(uid) > 40:
                return self.send_json(400, {"message": "uid too long, max 40 characters"})
            folder_uid = body.get("folderUid") or ""
            if folder_uid and folder_uid not in folders:
                return self.send_json(404, {"message": "folder not found", "status": "not-found"})
            old = dashboards.get(uid)
            if old and not body.get("overwrite") and d.get("version") != old["dashboard"]["version"]:
                return self.send_json(412, {"message": "The dashboard has been changed by someone else",
                                            "status": "version-mismatch"})
            version = old["dashboard"]["version"] + 1 if old else 1
            did = old["dashboard"]["id"] if old else next_id()
            stored = dict(d, id=did, uid=uid, version=version)
            dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid,
                               "message": body.get("message")}
            slug = d["title"].lower().replace(" ", "-")
            return self.send_json(200, {"id": did, "uid": uid, "url": "/d/%s/%s" % (uid, slug),
                                        "status": "success", "version": version, "slug": slug})
        if path.startswith("/api/dashboards/uid/") and method == "GET":
            uid = unquote(path[len("/api/dashboards/uid/"):])
            d = dashboards.get(uid)
            if d is None:
                return self.send_json(404, {"message": "Dashboard not found", "status": "not-found"})
            return self.send_json(200, {"dashboard": d["dashboard"],
                                        "meta": {"folderUid": d["folderUid"],
                                                 "url": "/d/" + uid}})
        if path == "/api/annotations" and method == "POST":
            if not isinstance(body, dict) or not body.get("text"):
                return self.send_json(400, {"message": "Failed to save annotation"})
            a = dict(body, id=next_id())
            STATE["annotations"].append(a)
            return self.send_json(200, {"message": "Annotation added", "id": a["id"]})
        return self.send_json(404, {"message": "Not found"})


def main():
    global TOKEN, USER, PASSWORD
    args = sys.argv[1:]
    while args:
        flag = args.pop(0)
        if flag == "--token":
            TOKEN = args.pop(0)
        elif flag == "--user":
            USER = args.pop(0)
        elif flag == "--password":
            PASSWORD = args.pop(0)
        else:
            print("unknown flag " + flag, file=sys.stderr)
            sys.exit(2)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
