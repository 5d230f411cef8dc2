#!/usr/bin/env python3
"""Loopback HTTP and HTTPS server for the http_client integration test.

    server.py PORTFILE CERT KEY

Listens on 127.0.0.1 on two free ports (plain and TLS, same handler), writes "HTTP HTTPS" to
PORTFILE once both listen, and serves until killed. HTTP/1.1 with Content-Length everywhere, so
connections are kept alive. Paths: /ok 200, /notfound 404, /error 500, /redirect 302 -> /ok,
/slow answers after 3 s (the client times out first)."""
import http.server
import socketserver
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        routes = {"/ok": (200, b"hello"), "/notfound": (404, b"no such page"),
                  "/error": (500, b"boom"), "/redirect": (302, b"")}
        if self.path == "/slow":
            time.sleep(3)
            status, body = 200, b"late"
        else:
            status, body = routes.get(self.path, (404, b"?"))
        try:
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/ok")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # /slow: the client timed out and left


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    portfile, cert, key = sys.argv[1:4]
    plain = Server(("127.0.0.1", 0), Handler)
    tls = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for s in (plain, tls):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(portfile + ".tmp", "w") as f:
        f.write(f"{plain.server_address[1]} {tls.server_address[1]}\n")
    import os
    os.rename(portfile + ".tmp", portfile)
    threading.Event().wait()


if __name__ == "__main__":
    main()
