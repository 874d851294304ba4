"""Loopback test servers for the issuer probe: an HTTP(S) origin with scripted routes and an HTTP CONNECT proxy.

Both listen on 127.0.0.1 only, run in daemon threads, and are stopped by
``close()`` (use them as context managers). Nothing here sleeps: a "slow"
route waits on an event that ``close()`` sets.
"""

from __future__ import annotations

import http.server
import select
import socket
import socketserver
import ssl
import threading


class _QuietMixin:
    """Servers that do not print tracebacks of connections the client dropped on purpose."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # noqa: D102 - socketserver API
        return


class OriginServer:
    """A threading HTTP or HTTPS server on 127.0.0.1 answering scripted routes.

    ``routes[path]`` is ``(status, headers_dict, body_bytes)`` or a callable
    ``route(handler)`` that writes the whole answer. ``requests`` records
    ``(path, headers_dict)`` of every request.
    """

    def __init__(self, ssl_context=None):
        self.routes = {}
        self.requests = []
        self.stop = threading.Event()
        self._ssl_context = ssl_context
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                if origin._ssl_context is not None:
                    self.request = origin._ssl_context.wrap_socket(self.request, server_side=True)
                super().setup()

            def log_message(self, *args):  # silence
                return

            def do_GET(self):  # noqa: N802 - http.server API
                origin.requests.append((self.path, dict(self.headers.items())))
                route = origin.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = (404, {"Content-Type": "text/plain"}, b"no route")
                if callable(route):
                    route(self)
                    return
                status, headers, body = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(_QuietMixin, http.server.ThreadingHTTPServer):
            pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path="", host="127.0.0.1"):
        """The URL of ``path`` on this server."""
        scheme = "https" if self._ssl_context is not None else "http"
        return "%s://%s:%d%s" % (scheme, host, self.port, path)

    def close(self):
        """Stop serving and release the socket."""
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stream_route(total, chunk=64 * 1024, status=200):
    """A route that streams ``total`` bytes of ``{"x"...`` without Content-Length, stopping when the client leaves."""
    def route(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        sent = 0
        block = b"x" * chunk
        try:
            handler.wfile.write(b'{"x": "')
            while sent < total:
                handler.wfile.write(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        handler.close_connection = True
    return route


def hanging_route(event):
    """A route that never answers until ``event`` is set (the client times out first)."""
    def route(handler):
        event.wait(10)
        handler.close_connection = True
    return route


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on 127.0.0.1.

    ``targets`` maps ``"host:port"`` (as the client asks) to a loopback
    ``(ip, port)``; other targets get 502. Hosts in ``deny`` get 403.
    ``connects`` records ``(target, headers_dict)``.
    """

    def __init__(self, targets=None, deny=()):
        self.targets = dict(targets or {})
        self.deny = set(deny)
        self.connects = []
        self.stop = threading.Event()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            rbufsize = 0

            def handle(self):
                line = self.rfile.readline(65537).decode("latin-1").strip()
                headers = {}
                while True:
                    header = self.rfile.readline(65537).decode("latin-1")
                    if header in ("\r\n", "\n", ""):
                        break
                    name, _sep, value = header.partition(":")
                    headers[name.strip()] = value.strip()
                method, _sep, rest = line.partition(" ")
                target = rest.split(" ", 1)[0]
                proxy.connects.append((target, headers))
                if method != "CONNECT":
                    self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                host = target.rsplit(":", 1)[0]
                if host in proxy.deny:
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                address = proxy.targets.get(target)
                if address is None:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return
                try:
                    upstream = socket.create_connection(address, timeout=5)
                except OSError:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._relay(self.connection, upstream)

            def _relay(self, client, upstream):
                sockets = [client, upstream]
                try:
                    while not proxy.stop.is_set():
                        readable, _w, _x = select.select(sockets, [], [], 0.05)
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (upstream if sock is client else client).sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()

        class Server(_QuietMixin, socketserver.ThreadingTCPServer):
            pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        """Stop the proxy and its tunnels."""
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def closed_port():
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BlackHole:
    """A loopback socket that accepts TCP connections into its backlog and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def close(self):
        """Release the socket."""
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
