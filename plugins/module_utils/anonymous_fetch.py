# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch a URL anonymously, the way STS fetches an OIDC issuer's documents.

One GET, no ``Authorization``, no cookies, no ``.netrc``, no redirects
followed (the 3xx status and ``Location`` are reported), no decompression,
a body capped at :data:`MAX_BODY` bytes (the cap + 1 byte is read to detect a
larger body), a per-operation socket timeout plus an overall deadline, and
the HTTP(S) proxy of ``HTTPS_PROXY``/``https_proxy``/``HTTP_PROXY`` honouring
``NO_PROXY`` (an HTTPS URL is tunnelled with ``CONNECT``).

A failure to get an HTTP answer is classified into :data:`ERROR_KINDS`.
"""

import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from http.client import HTTPException

MAX_BODY = 1024 * 1024
"""Body cap in bytes (1 MiB)."""

ERROR_KINDS = ("dns", "connection", "tls", "timeout", "proxy", "invalid_url")
"""Kinds of failure before an HTTP answer: name resolution, TCP connection, TLS
(handshake or certificate), timeout, the proxy (unreachable or refusing the
CONNECT), and a URL that cannot be fetched at all."""

USER_AGENT = "openshift_sts.oidc-issuer_probe/1.0"
_CHUNK = 64 * 1024
_MAX_HEADERS = 64
_MAX_HEADER_VALUE = 1024
_DROPPED_HEADERS = ("set-cookie", "set-cookie2")


class FetchResult(object):  # pylint: disable=too-many-instance-attributes,useless-object-inheritance
    """The outcome of one anonymous GET.

    ``status`` is the HTTP status (None when no answer came: see ``error_kind``
    and ``error_detail``); ``headers`` a dict with lower-case names; ``body``
    bytes (at most :data:`MAX_BODY`), ``truncated`` True when the body was
    larger; ``location`` the ``Location`` of a 3xx answer resolved against
    ``url``; ``elapsed`` seconds; ``proxy`` the proxy used (credentials
    removed) or None.
    """

    __slots__ = ("url", "status", "reason", "headers", "body", "truncated", "elapsed",
                 "error_kind", "error_detail", "location", "proxy")

    def __init__(self, url, status=None, reason=None, headers=None, body=b"", truncated=False, elapsed=0.0,
                 error_kind=None, error_detail=None, location=None, proxy=None):
        self.url = url
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.body = body
        self.truncated = truncated
        self.elapsed = elapsed
        self.error_kind = error_kind
        self.error_detail = error_detail
        self.location = location
        self.proxy = proxy

    @property
    def ok(self):
        """True for an HTTP 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    def describe_failure(self):
        """``"<kind>: <detail>"`` for a failed fetch, or ``"HTTP <status> <reason>"``."""
        if self.error_kind:
            return "%s: %s" % (self.error_kind, self.error_detail)
        return ("HTTP %s %s" % (self.status, self.reason or "")).strip()

    def timing(self):
        """A small dict for the module's ``timings`` return value."""
        return {
            "url": self.url,
            "status": self.status,
            "elapsed": round(self.elapsed, 3),
            "bytes": len(self.body or b""),
            "truncated": self.truncated,
            "error_kind": self.error_kind,
            "proxy": self.proxy,
        }


def strip_userinfo(url):
    """``url`` without ``user:password@`` (for showing a proxy URL)."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    if "@" not in parts.netloc:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def select_proxy(url, proxies=None):
    """The proxy URL used for ``url`` (None for a direct connection).

    ``proxies`` maps a scheme to a proxy URL (``no`` holds a NO_PROXY list);
    None reads ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (either case) from the environment.
    """
    if proxies is None:
        proxies = urllib.request.getproxies_environment()
    parts = urllib.parse.urlsplit(url)
    proxy = proxies.get(parts.scheme)
    if not proxy:
        return None
    host = parts.hostname or ""
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxy


def make_ssl_context(validate_certs=True, ca_path=None):
    """An SSL context: system trust (honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``), or only ``ca_path`` (file or directory)."""
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_path:
        if os.path.isdir(ca_path):
            return ssl.create_default_context(capath=ca_path)
        return ssl.create_default_context(cafile=ca_path)
    return ssl.create_default_context()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib then raises HTTPError with the 3xx answer."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _is_timeout(error):
    """True for a socket timeout on any supported Python."""
    return isinstance(error, (socket.timeout, TimeoutError))


def classify_error(error, host, proxy=None):
    """Classify an exception raised before an HTTP answer: return ``(kind, detail)``."""
    reason = error.reason if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError) else error
    shown_proxy = strip_userinfo(proxy) if proxy else None
    text = str(reason)
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = getattr(reason, "verify_message", None) or getattr(reason, "reason", None) or text
        return "tls", "certificate verification failed for %s: %s" % (host, detail)
    if isinstance(reason, ssl.SSLError):
        return "tls", "TLS handshake with %s failed: %s" % (host, getattr(reason, "reason", None) or text)
    if isinstance(reason, ssl.CertificateError):
        return "tls", "certificate of %s rejected: %s" % (host, text)
    if _is_timeout(reason):
        return "timeout", "no answer from %s within the timeout%s" % (host, " (through proxy %s)" % shown_proxy if proxy else "")
    if text.startswith("Tunnel connection failed"):
        return "proxy", "proxy %s refused to CONNECT to %s: %s" % (shown_proxy, host, text.split(":", 1)[1].strip())
    if isinstance(reason, socket.gaierror):
        if proxy:
            return "proxy", "cannot resolve the proxy host of %s: %s" % (shown_proxy, reason.strerror or text)
        return "dns", "cannot resolve %s: %s" % (host, reason.strerror or text)
    if isinstance(reason, (ConnectionError, OSError, HTTPException)):
        what = type(reason).__name__
        detail = getattr(reason, "strerror", None) or text or what
        if proxy and isinstance(reason, (ConnectionRefusedError, ConnectionResetError)) and not text.startswith("Remote"):
            return "proxy", "cannot connect to proxy %s: %s" % (shown_proxy, detail)
        if isinstance(reason, ConnectionRefusedError):
            return "connection", "connection to %s refused" % host
        if isinstance(reason, HTTPException):
            return "connection", "%s closed the connection or sent a malformed answer (%s)" % (host, what)
        return "connection", "connection to %s failed: %s (%s)" % (host, detail, what)
    return "invalid_url", "cannot fetch %s: %s" % (host, text)


def _read_capped(response, started, deadline, clock):
    """Read at most MAX_BODY + 1 bytes; return ``(body, truncated)``; raise socket.timeout past ``deadline``."""
    read = getattr(response, "read1", None) or response.read
    chunks = []
    total = 0
    while total <= MAX_BODY:
        chunk = read(min(_CHUNK, MAX_BODY + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if clock() - started > deadline:
            raise socket.timeout("body not received within the overall deadline")
    body = b"".join(chunks)
    if len(body) > MAX_BODY:
        return body[:MAX_BODY], True
    return body, False


def _headers(message):
    """Lower-case header dict, without cookies, bounded in count and size."""
    result = {}
    if message is None:
        return result
    for name, value in list(message.items())[:_MAX_HEADERS]:
        name = name.lower()
        if name in _DROPPED_HEADERS:
            continue
        result[name] = str(value)[:_MAX_HEADER_VALUE]
    return result


def fetch(url, timeout=5.0, validate_certs=True, ca_path=None, proxies=None, clock=time.monotonic, deadline=None):
    """GET ``url`` anonymously and return a :class:`FetchResult`; never raises for network trouble.

    ``timeout`` applies to each socket operation (connect, TLS, each read);
    ``deadline`` (default ``2 * timeout``) bounds the whole request, so a
    server dripping bytes cannot hold the probe. ``proxies`` overrides the
    environment (see :func:`select_proxy`). ``clock`` is injectable for tests.
    """
    deadline = 2.0 * timeout if deadline is None else deadline
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1] or url
    started = clock()
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return FetchResult(url, elapsed=0.0, error_kind="invalid_url",
                           error_detail="only absolute http(s) URLs can be fetched")
    proxy = select_proxy(url, proxies)
    handlers = [
        urllib.request.ProxyHandler({parts.scheme: proxy} if proxy else {}),
        urllib.request.HTTPSHandler(context=make_ssl_context(validate_certs, ca_path)),
        _NoRedirect(),
    ]
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    result = FetchResult(url, proxy=strip_userinfo(proxy) if proxy else None)
    response = None
    try:
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error
        result.status = response.getcode() if hasattr(response, "getcode") else response.code
        result.reason = getattr(response, "reason", None) or getattr(response, "msg", None)
        result.headers = _headers(getattr(response, "headers", None))
        if 300 <= result.status < 400 and result.headers.get("location"):
            result.location = urllib.parse.urljoin(url, result.headers["location"])
        if getattr(response, "fp", None) is not None or not isinstance(response, urllib.error.HTTPError):
            result.body, result.truncated = _read_capped(response, started, deadline, clock)
    except (urllib.error.URLError, OSError, HTTPException, ValueError) as error:
        kind, detail = classify_error(error, host, proxy)
        if kind == "invalid_url" and isinstance(error, ValueError):
            detail = "cannot fetch %s: %s" % (host, error)
        result.status = None
        result.reason = None
        result.body = b""
        result.truncated = False
        result.error_kind = kind
        result.error_detail = detail
    finally:
        result.elapsed = max(0.0, clock() - started)
        if response is not None:
            try:
                response.close()
            except Exception:  # pylint: disable=broad-except  # closing a broken connection must not mask the result
                pass
    return result
