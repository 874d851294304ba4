"""The lab's public internet: real AWS host names behind an HTTP CONNECT proxy.

Clients set ``HTTPS_PROXY`` to :attr:`Internet.proxy_url` and trust the lab
CA. A ``CONNECT host:443`` to a host the lab knows is answered by the proxy
itself: it terminates TLS with a certificate from :class:`lab.ca.LabCA`
(chosen per SNI name; wildcard certificates for S3 and CloudFront, like AWS's,
so dotted bucket names fail verification as they do in reality) and serves:

* S3 REST endpoints, virtual-hosted and path-style, regional and global
  (anonymous reads evaluated by :mod:`lab.aws.s3access`);
* ``<id>.cloudfront.net`` for every distribution (:mod:`lab.aws.cloudfront`);
* custom hosts a scenario registers (static documents or a handler);
* pass-through hosts tunnelled to a loopback port (e.g. another twin).

:meth:`Internet.fetch` gives in-process callers (the STS validator) the same
routing, faults and latency without sockets.
"""

import http.server
import select
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse

from lab.aws import ACCOUNT_ID
from lab.aws.cloudfront import serve as cloudfront_serve
from lab.aws.responses import Response, s3_error
from lab.aws.s3access import S3View, decide_read, parse_s3_host, render
from lab.ca import untrusted_ca
from lab.serving import ServingThread


class FetchError(Exception):
    """A fetch that produced no HTTP response (DNS, TLS, reset, timeout)."""


class FetchResult:
    """An HTTP response seen by an in-process fetch."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        """The first value of header ``name`` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def certificate_names(host):
    """The names on the certificate a host presents (AWS uses wildcards)."""
    host = host.lower()
    if host.endswith(".cloudfront.net"):
        return ("*.cloudfront.net",)
    parsed = parse_s3_host(host, "/")
    if parsed is not None:
        bucket, style = parsed[0], parsed[3]
        if style == "path":
            return (host, "*." + host)
        endpoint = host[len(bucket) + 1:]
        return (endpoint, "*." + endpoint)
    return (host,)


class _Route:
    def __init__(self, documents=None, handler=None, port=None):
        self.documents = documents or {}
        self.handler = handler
        self.port = port


class Internet:
    """Routing, serving and the CONNECT proxy of the lab's public internet."""

    def __init__(self, ca, faults, log, cloudfront_store, account_id=ACCOUNT_ID):
        self.ca = ca
        self.faults = faults
        self.log = log
        self.cloudfront = cloudfront_store
        self.s3 = S3View(account_id)
        self._routes = {}
        self._lock = threading.Lock()
        self._server = None

    # ------------------------------------------------------------ lifecycle
    def start(self):
        """Start the proxy on a free loopback port."""
        server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        server.internet = self
        self._server = ServingThread(server, "lab-internet").start()
        return self

    def stop(self):
        """Stop the proxy."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def proxy_url(self):
        """``http://127.0.0.1:<port>``, the value of ``HTTPS_PROXY``."""
        return self._server.url

    # ------------------------------------------------------------ hosts
    def register_host(self, host, documents=None, handler=None):
        """Serve ``host``: ``documents`` maps a path to ``body`` or ``(body, content_type[, status])``;
        ``handler(method, path, headers)`` returns a :class:`lab.aws.responses.Response` or None (404).
        """
        docs = {}
        for path, value in (documents or {}).items():
            if not isinstance(value, tuple):
                value = (value, "application/json")
            docs["/" + path.lstrip("/")] = value
        with self._lock:
            self._routes[host.lower()] = _Route(documents=docs, handler=handler)

    def register_passthrough(self, host, port):
        """Tunnel ``CONNECT host:*`` to ``127.0.0.1:port`` (the server does its own TLS)."""
        with self._lock:
            self._routes[host.lower()] = _Route(port=int(port))

    def unregister_host(self, host):
        """Forget a custom or pass-through host."""
        with self._lock:
            self._routes.pop(host.lower(), None)

    def reset(self):
        """Forget every custom host."""
        with self._lock:
            self._routes = {}

    def _route(self, host):
        with self._lock:
            return self._routes.get(host)

    def resolvable(self, host):
        """True if ``host`` exists on the lab's internet (DNS would resolve it)."""
        host = host.lower()
        if self._route(host) is not None or parse_s3_host(host, "/") is not None:
            return True
        return host.endswith(".cloudfront.net") and self.cloudfront.find_by_domain(host) is not None

    def tls_context(self, host):
        """The server TLS context for ``host`` (untrusted if that fault is on)."""
        ca = untrusted_ca() if self.faults.untrusted(host.lower()) else self.ca
        context = ca.server_context(*certificate_names(host))
        context.sni_callback = self._sni
        return context

    def _sni(self, sslsock, server_name, _context):
        if server_name:
            sslsock.context = self.tls_context(server_name)

    # ------------------------------------------------------------ serving
    def respond(self, method, host, path, headers=None):
        """Route one request: ``(Response, detail)``; a 404-free miss gives None."""
        host = host.lower().split(":")[0]
        head = method == "HEAD"
        route = self._route(host)
        if route is not None:
            if route.handler is not None:
                response = route.handler(method, path, headers or {})
                if response is not None:
                    return response, "handler"
            doc = route.documents.get(path.split("?", 1)[0])
            if doc is None:
                return Response(404, b"" if head else b"Not Found", content_type="text/plain"), "no document"
            body, content_type = doc[0], doc[1]
            status = doc[2] if len(doc) > 2 else 200
            response = Response(status, b"" if head else body, content_type=content_type)
            response.content_length = len(body.encode() if isinstance(body, str) else body)
            return response, "document"
        parsed = parse_s3_host(host, path)
        if parsed is not None:
            bucket, key, region = parsed[:3]
            if not bucket:
                return s3_error("AccessDenied", "Access Denied", 403), "no bucket"
            decision = decide_read(self.s3, bucket, key, region)
            return render(decision, bucket, key, head=head), f"s3 {bucket}/{key}: {decision.code or decision.status}"
        if host.endswith(".cloudfront.net"):
            dist_id = self.cloudfront.find_by_domain(host)
            if dist_id is not None:
                return cloudfront_serve(self.cloudfront, self.s3, dist_id, path, head=head)
        return None

    def _fault_response(self, host, decision):
        if decision.action == "throttle":
            if parse_s3_host(host, "/") is not None:
                return s3_error("SlowDown", "Please reduce your request rate.", 503)
            return Response(429 if not host.endswith(".cloudfront.net") else 503, b"Too Many Requests",
                            content_type="text/plain")
        return Response(decision.error_status, b"Internal Server Error", content_type="text/plain")

    def serve_request(self, method, host, path, headers, caller):
        """Apply faults, route and log one request; None means "close the connection"."""
        host = host.lower().split(":")[0]
        decision = self.faults.take(host, kinds=("throttle", "error", "reset"))
        if decision.latency:
            time.sleep(decision.latency)
        if decision.action == "reset":
            self.log.add(kind="internet", host=host, path=path, method=method, status=0, caller=caller,
                         error="reset", detail="fault: connection reset")
            return None
        if decision.action in ("throttle", "error"):
            response, detail = self._fault_response(host, decision), f"fault: {decision.action}"
        else:
            routed = self.respond(method, host, path, headers)
            if routed is None:
                response, detail = Response(502, b"Bad Gateway", content_type="text/plain"), "unknown host"
            else:
                response, detail = routed
        self.log.add(kind="internet", host=host, path=path, method=method, status=response.status, caller=caller,
                     error=response.error_code, detail=detail)
        return response

    def fetch(self, url, timeout=5.0, caller="sts", method="GET"):
        """Fetch ``url`` in-process through the lab's internet, with its faults and latency.

        Raises :class:`FetchError` when no HTTP answer arrives within ``timeout``.
        """
        start = time.monotonic()
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

        def fail(reason):
            self.log.add(kind="fetch", host=host, path=path, method=method, status=0, caller=caller, error=reason)
            raise FetchError(reason)

        if not host or not self.resolvable(host) or (self._route(host) and self._route(host).port):
            fail("could not resolve host")
        if parts.scheme == "https" and self.faults.untrusted(host):
            fail("certificate verify failed")
        decision = self.faults.take(host, kinds=("throttle", "error", "reset"))
        if decision.latency >= timeout:
            time.sleep(timeout)
            fail("timed out")
        time.sleep(decision.latency)
        if decision.action == "reset":
            fail("connection reset by peer")
        if decision.action in ("throttle", "error"):
            response, detail = self._fault_response(host, decision), f"fault: {decision.action}"
        else:
            routed = self.respond(method, host, path)
            if routed is None:
                fail("bad gateway")
            response, detail = routed
        elapsed = time.monotonic() - start
        self.log.add(kind="fetch", host=host, path=path, method=method, status=response.status, caller=caller,
                     error=response.error_code, detail=detail)
        return FetchResult(response.status, response.headers, response.body, elapsed)


class _ProxyServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    internet = None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        """Disable Nagle: headers and body go out in separate writes."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
    server_version = "lab"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default stderr access log (the lab has its own)."""

    def _write(self, response, head):
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for key, value in response.headers:
            if key.lower() not in ("content-length", "connection", "date"):
                self.send_header(key, value)
        length = getattr(response, "content_length", None) if head else None
        self.send_header("Content-Length", str(length if length is not None else len(response.body)))
        self.end_headers()
        if not head and response.body:
            self.wfile.write(response.body)

    def _serve(self, host, path, caller="anonymous"):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        response = self.server.internet.serve_request(self.command, host, path, dict(self.headers), caller)
        if response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(response, self.command == "HEAD")


class _TLSHandler(_Handler):
    """HTTP over the TLS connection the proxy terminated."""

    def _any(self):
        host = self.headers.get("Host") or getattr(self.request, "lab_connect_host", "")
        self._serve(host, self.path)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _any


class _ProxyHandler(_Handler):
    """The CONNECT proxy (and plain ``http://`` absolute-URI requests)."""

    def do_CONNECT(self):  # pylint: disable=invalid-name
        """Terminate TLS for known hosts, tunnel pass-through hosts, refuse the rest."""
        internet = self.server.internet
        host = self.path.rsplit(":", 1)[0].strip("[]").lower()
        route = internet._route(host)  # pylint: disable=protected-access
        if route is not None and route.port:
            self._tunnel(route.port)
            return
        if not internet.resolvable(host):
            self.send_response_only(502, "Bad Gateway")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True
            internet.log.add(kind="internet", host=host, path="", method="CONNECT", status=502, caller="anonymous",
                             error="unknown host")
            return
        self.send_response_only(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            tls = internet.tls_context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        tls.lab_connect_host = host
        try:
            _TLSHandler(tls, self.client_address, self.server)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def _tunnel(self, port):
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            self.send_response_only(502, "Bad Gateway")
            self.end_headers()
            self.close_connection = True
            return
        self.send_response_only(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        sockets = [self.connection, upstream]
        try:
            while True:
                readable = select.select(sockets, [], [], 60)[0]
                if not readable:
                    break
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()

    def _plain(self):
        parts = urllib.parse.urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            self.send_response_only(400, "Bad Request")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._serve(parts.hostname, path)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _plain
