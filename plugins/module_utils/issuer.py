# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of a service-account issuer URL as AWS STS and IAM need it.

The issuer is compared as an exact string: kube-apiserver writes it into every token's ``iss``,
IAM stores it (without ``https://``) as the OIDC provider URL and in the trust-policy condition
keys, and STS fetches ``<issuer>/.well-known/openid-configuration`` over HTTPS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# IAM CreateOpenIDConnectProvider: Url is 1-255 characters.
MAX_ISSUER_LENGTH = 255
HTTPS = "https://"


class IssuerError(ValueError):
    """The issuer URL is unusable; ``problems`` lists every reason."""

    def __init__(self, issuer, problems):
        self.issuer = issuer
        self.problems = list(problems)
        super(IssuerError, self).__init__("issuer %r is not valid: %s" % (issuer, "; ".join(self.problems)))


def _s3_problems(host):
    """Problems of an S3 virtual-hosted endpoint: dotted bucket names and website endpoints."""
    labels = host.split(".")
    if not (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")):
        return []
    for index, label in enumerate(labels):
        if label == "s3" or label.startswith("s3-"):
            break
    else:
        return []
    if index == 0:
        return []  # path-style endpoint (s3.<region>.amazonaws.com/<bucket>): no bucket in the host
    problems = []
    bucket = ".".join(labels[:index])
    if label.startswith("s3-website"):
        problems.append("%s is an S3 website endpoint, which serves plain HTTP only; use the S3 REST endpoint "
                        "(<bucket>.s3.<region>.amazonaws.com) or CloudFront" % host)
    if index > 1:
        problems.append("the S3 bucket name %r contains dots, so the virtual-hosted host %s does not match S3's "
                        "TLS certificate (*.s3.<region>.amazonaws.com) and HTTPS fails; use a bucket name "
                        "without dots or serve it through CloudFront" % (bucket, host))
    return problems


def issuer_problems(url):
    """Return a list of human-readable problems of an issuer URL; empty when it is usable.

    Checked: ``https://`` (lowercase) scheme, a host, no user info, no port, no query, no fragment,
    no trailing slash, no whitespace, at most 255 characters (IAM), and for S3 virtual-hosted
    endpoints no dots in the bucket name (TLS) and no website endpoint (HTTP only).
    """
    if url is None or (isinstance(url, str) and not url.strip()):
        return ["the issuer is empty"]
    if not isinstance(url, str):
        return ["the issuer must be a string, got %s" % type(url).__name__]

    problems = []
    if url != url.strip() or any(char.isspace() for char in url):
        problems.append("the issuer contains whitespace")
    if len(url) > MAX_ISSUER_LENGTH:
        problems.append("the issuer is %d characters long; IAM accepts at most %d" % (len(url), MAX_ISSUER_LENGTH))

    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https" or "://" not in url:
        scheme = parts.scheme or "none"
        problems.append("the issuer must start with https:// (scheme is %s); STS fetches the discovery document over HTTPS only" % scheme)
    elif not url.strip().startswith(HTTPS):
        problems.append("the issuer must start with lowercase https://; IAM and STS compare it as an exact string")

    netloc = parts.netloc
    if "@" in netloc:
        problems.append("the issuer must not contain user info (user@host)")
        netloc = netloc.rsplit("@", 1)[1]
    host = netloc
    if netloc.startswith("["):
        host, dummy, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in netloc:
        host, dummy, port = netloc.partition(":")
    else:
        port = None
    if port is not None:
        problems.append("the issuer must not contain a port (:%s); IAM OIDC providers are reached on 443 only" % port)
    if not host and "://" in url:
        problems.append("the issuer has no host")
    if "?" in url:
        problems.append("the issuer must not contain a query ('?...')")
    if "#" in url:
        problems.append("the issuer must not contain a fragment ('#...')")
    if parts.path.endswith("/"):
        problems.append("the issuer must not end with '/'; tokens carry the issuer exactly and ccoctl publishes "
                        "<issuer>/keys.json, which would then contain '//'")
    if host:
        problems.extend(_s3_problems(host.lower()))
    return problems


def check_issuer(url):
    """Raise :class:`IssuerError` listing every problem unless ``url`` is a usable issuer."""
    problems = issuer_problems(url)
    if problems:
        raise IssuerError(url, problems)
    return url


def host_and_path(issuer):
    """The issuer without ``https://``, as IAM uses it (provider URL, ``<host/path>:sub`` condition keys, ARN).

    A value that already has no scheme is returned unchanged; another scheme raises ``ValueError``.
    """
    if issuer.startswith(HTTPS):
        return issuer[len(HTTPS):]
    if "://" in issuer:
        raise ValueError("issuer %r does not start with https://" % issuer)
    return issuer
