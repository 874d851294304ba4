"""HTTP responses and AWS error bodies in the shapes boto3 parses.

IAM and STS speak the query protocol (``ErrorResponse`` with a namespaced
``Error{Type, Code, Message}``), CloudFront rest-xml (the same shape with
CloudFront's namespace), S3 its own ``<Error>`` document.
"""

import uuid
from xml.sax.saxutils import escape

NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "cloudfront": "http://cloudfront.amazonaws.com/doc/2020-05-31/",
}


class Response:
    """A complete HTTP response: status, header list and body bytes."""

    def __init__(self, status, body=b"", headers=None, content_type=None):
        self.status = int(status)
        self.body = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        self.headers = list(headers or [])
        if content_type and not self.header("Content-Type"):
            self.headers.append(("Content-Type", content_type))
        self.error_code = None

    def header(self, name):
        """The first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def set_header(self, name, value):
        """Replace every ``name`` header by one with ``value``."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))


def request_id():
    """A fresh AWS-style request id."""
    return str(uuid.uuid4())


def query_error(service, code, message, status=400, sender=True):
    """An IAM/STS (query protocol) error response."""
    rid = request_id()
    body = (
        f'<ErrorResponse xmlns="{NAMESPACES[service]}">'
        f"<Error><Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    )
    response = Response(status, body, [("x-amzn-RequestId", rid)], "text/xml")
    response.error_code = code
    return response


def query_result(service, action, inner_xml=""):
    """A successful query-protocol response for ``action``."""
    rid = request_id()
    body = (
        f'<{action}Response xmlns="{NAMESPACES[service]}">'
        + (f"<{action}Result>{inner_xml}</{action}Result>" if inner_xml else "")
        + f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(200, body, [("x-amzn-RequestId", rid)], "text/xml")


def cloudfront_error(code, message, status):
    """A CloudFront (rest-xml) error response."""
    rid = request_id()
    body = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{NAMESPACES["cloudfront"]}">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    )
    response = Response(status, body, [("x-amzn-RequestId", rid)], "text/xml")
    response.error_code = code
    return response


def s3_error(code, message, status, **extra):
    """An S3 error response; ``extra`` adds elements (``Endpoint``, ``Bucket``, ``Key``...)."""
    rid = uuid.uuid4().hex[:16].upper()
    host_id = uuid.uuid4().hex
    fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{rid}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    response = Response(status, body, [("x-amz-request-id", rid), ("x-amz-id-2", host_id), ("Server", "AmazonS3")],
                        "application/xml")
    response.error_code = code
    return response


def s3_access_denied():
    """S3's 403 ``AccessDenied``."""
    return s3_error("AccessDenied", "Access Denied", 403)


def access_denied(service, action, principal, resource=None):
    """``AccessDenied`` (HTTP 403) for an identity without the permission, in the service's error shape.

    The message is IAM's implicit-deny form, as IAM, STS and CloudFront give it, and S3 for same-account requests
    since August 2024 (the resource in double quotes there): ``User: <principal> is not authorized to perform:
    <action> on resource: <resource> because no identity-based policy allows the <action> action``; the ``on
    resource`` part is left out for actions without a resource (list calls, account-level settings).
    """
    if service in ("s3", "s3control"):
        resource = f'"{resource}"' if resource else None
    where = f" on resource: {resource}" if resource else ""
    message = f"User: {principal} is not authorized to perform: {action}{where} because no identity-based policy allows the {action} action"
    if service in ("s3", "s3control"):
        return s3_error("AccessDenied", message, 403)
    if service == "cloudfront":
        return cloudfront_error("AccessDenied", message, 403)
    return query_error(service if service in NAMESPACES else "iam", "AccessDenied", message, 403)


def throttling(service):
    """The service's real throttling error."""
    if service == "s3":
        return s3_error("SlowDown", "Please reduce your request rate.", 503)
    if service == "cloudfront":
        return cloudfront_error("Throttling", "Rate exceeded", 400)
    return query_error(service if service in NAMESPACES else "iam", "Throttling", "Rate exceeded", 400)


def server_error(service, status=500):
    """A 5xx answer in the service's error shape."""
    if service == "s3":
        if status == 503:
            return s3_error("ServiceUnavailable", "Service is unable to handle request.", 503)
        return s3_error("InternalError", "We encountered an internal error. Please try again.", status)
    if service == "cloudfront":
        return cloudfront_error("ServiceUnavailable" if status == 503 else "InternalError",
                                "CloudFront encountered an internal error. Please try again.", status)
    code = "ServiceUnavailable" if status == 503 else ("ServiceFailure" if service == "iam" else "InternalFailure")
    error = query_error(service if service in NAMESPACES else "iam", code,
                        "The request processing has failed because of an unknown error, exception or failure.",
                        status, sender=False)
    return error
