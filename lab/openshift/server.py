"""The HTTPS front of the API server twin: TLS, keep-alive, faults, request log."""

import collections
import dataclasses
import http.server
import re
import socket
import threading
import time
import urllib.parse

from ..serving import ServingThread
from . import machinery
from .api import Response


@dataclasses.dataclass
class Fault:
    """Answer the next ``count`` requests whose path matches ``pattern`` with ``status``.

    ``count=None`` means every matching request until removed. ``delay`` adds
    latency (seconds) before answering; with ``status=None`` the request is
    only delayed and then served normally.
    """

    pattern: str
    status: int = 500
    count: int = 1
    method: str = None
    delay: float = 0.0
    message: str = "Internal error occurred: lab fault injected"

    def __post_init__(self):
        self._regex = re.compile(self.pattern)

    def matches(self, method, path):
        """True if the fault applies to this request."""
        if self.method and self.method.upper() != method:
            return False
        return bool(self._regex.search(path))


_REASONS = {500: "InternalError", 503: "ServiceUnavailable", 429: "TooManyRequests", 504: "Timeout", 502: "InternalError",
            401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    """One entry of the request log (never holds tokens or bodies)."""

    time: float
    method: str
    path: str
    status: int
    duration: float
    user: str = ""
    dry_run: bool = False  # ``?dryRun=All``: validated and answered, never stored


class RequestLog:
    """A bounded, thread-safe log plus counters."""

    def __init__(self, maxlen=100000):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=maxlen)
        self.total = 0

    def add(self, entry):
        """Record one request."""
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(self):
        """A copy of the logged requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self):
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self.total = 0

    def count(self, method=None, path=None, status=None):
        """How many logged requests match (``path`` is a regular expression)."""
        regex = re.compile(path) if path else None
        return sum(1 for e in self.entries()
                   if (method is None or e.method == method) and (regex is None or regex.search(e.path))
                   and (status is None or e.status == status))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one segment (no Nagle/delayed-ACK stalls)

    def version_string(self):
        """The Server header."""
        return "lab-kube-apiserver"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default stderr log (tokens must not leak; the twin keeps its own log)."""

    def _serve(self):
        twin = self.server.twin
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path_only = self.path.split("?", 1)[0]
        fault = twin.take_fault(self.command, path_only)
        if twin.latency:
            time.sleep(twin.latency)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        decision = twin.fault_plan.take(twin.fault_target) if twin.fault_plan is not None else None
        if decision is not None and decision.latency:
            time.sleep(decision.latency)
        if decision is not None and decision.action == "reset":
            self.close_connection = True
            self._record(twin, path_only, 0, started, "")
            self.connection.close()
            return
        if fault is not None and fault.status:
            error = machinery.ApiError(fault.status, _REASONS.get(fault.status, "InternalError"), fault.message, {})
            response = Response(fault.status, error.status())
        elif decision is not None and decision.action in ("error", "throttle"):
            code = 429 if decision.action == "throttle" else decision.error_status
            message = "Too many requests, please try again later." if code == 429 else "Internal error occurred: lab fault injected"
            error = machinery.ApiError(code, _REASONS.get(code, "InternalError"), message, {"retryAfterSeconds": 1} if code == 429 else {})
            response = Response(code, error.status(), headers={"Retry-After": "1"} if code == 429 else {})
        else:
            response = twin.api.handle(self.command, self.path, headers, body)
        payload = response.payload()
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Audit-Id", "lab-%d" % twin.log.total)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self._record(twin, path_only, response.code, started, getattr(response, "user", ""))

    def _record(self, twin, path, status, started, user):
        dry_run = "All" in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("dryRun", [])
        twin.log.add(LoggedRequest(time.time(), self.command, path, status, time.monotonic() - started, user, dry_run))
        if twin.shared_log is not None:
            twin.shared_log.add(kind="kubernetes", service="kube-apiserver", method=self.command, path=path, status=status,
                                caller=user or "anonymous")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, twin, ssl_context):
        self.twin = twin
        self._ssl_context = ssl_context
        super().__init__(address, _Handler)

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        """Client disconnects and TLS failures are not the twin's errors; keep quiet."""


class HttpsFront(ServingThread):
    """Serve ``twin.api`` over HTTPS on 127.0.0.1 (``start()``, ``stop()``, ``port``)."""

    def __init__(self, twin, ssl_context, port=0):
        super().__init__(_Server(("127.0.0.1", port), twin, ssl_context), "lab-openshift-apiserver", poll_interval=0.05)
