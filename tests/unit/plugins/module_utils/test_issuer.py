"""Unit tests of plugins/module_utils/issuer.py."""

from __future__ import annotations

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils.issuer import (
    IssuerError,
    check_issuer,
    host_and_path,
    issuer_problems,
)


@pytest.mark.parametrize("url", [
    "https://mycluster-oidc.s3.us-east-1.amazonaws.com",
    "https://mycluster-oidc.s3.amazonaws.com",
    "https://mycluster-oidc.s3.cn-north-1.amazonaws.com.cn",
    "https://s3.us-east-1.amazonaws.com/my.dotted.bucket",
    "https://d1234abcd.cloudfront.net",
    "https://oidc.example.com/clusters/prod",
    "https://rh-oidc.s3.us-east-1.amazonaws.com/23ab45cd",
])
def test_valid_issuers(url):
    """Usable issuers have no problems."""
    assert issuer_problems(url) == []
    assert check_issuer(url) == url


@pytest.mark.parametrize("url,fragment", [
    ("http://oidc.example.com", "must start with https://"),
    ("oidc.example.com", "must start with https://"),
    ("ftp://oidc.example.com", "scheme is ftp"),
    ("HTTPS://oidc.example.com", "lowercase https://"),
    ("https://oidc.example.com:443", "must not contain a port (:443)"),
    ("https://oidc.example.com:8443/x", "must not contain a port (:8443)"),
    ("https://[::1]:8443", "must not contain a port"),
    ("https://oidc.example.com?a=b", "must not contain a query"),
    ("https://oidc.example.com/x?", "must not contain a query"),
    ("https://oidc.example.com#frag", "must not contain a fragment"),
    ("https://oidc.example.com/", "must not end with '/'"),
    ("https://oidc.example.com/path/", "must not end with '/'"),
    ("https://user:pw@oidc.example.com", "must not contain user info"),
    ("https://", "has no host"),
    ("https:///path", "has no host"),
    ("https://oidc.example.com/a b", "whitespace"),
    (" https://oidc.example.com", "whitespace"),
    ("", "empty"),
    ("https://oidc.example.com/" + "a" * 250, "IAM accepts at most 255"),
    ("https://my.dotted.bucket.s3.us-east-1.amazonaws.com", "bucket name 'my.dotted.bucket' contains dots"),
    ("https://a.b.s3.amazonaws.com", "bucket name 'a.b' contains dots"),
    ("https://a.b.s3-us-west-2.amazonaws.com", "contains dots"),
    ("https://a.b.s3.dualstack.us-east-1.amazonaws.com", "contains dots"),
    ("https://a.b.s3.cn-north-1.amazonaws.com.cn", "contains dots"),
    ("https://bucket.s3-website-us-east-1.amazonaws.com", "S3 website endpoint"),
    ("https://bucket.s3-website.eu-west-1.amazonaws.com", "plain HTTP only"),
])
def test_invalid_issuers(url, fragment):
    """Each bad issuer gets a readable problem naming the reason."""
    problems = issuer_problems(url)
    assert problems, url
    assert any(fragment in problem for problem in problems), problems
    with pytest.raises(IssuerError) as info:
        check_issuer(url)
    assert isinstance(info.value, ValueError)
    assert info.value.problems == problems
    assert fragment in str(info.value)


def test_several_problems_are_all_reported():
    """Every problem is listed, not only the first."""
    problems = issuer_problems("http://user@a.b.s3.amazonaws.com:80/?q#f")
    assert len(problems) == 7
    joined = " | ".join(problems)
    for fragment in ("https://", "user info", "port", "query", "fragment", "end with '/'", "contains dots"):
        assert fragment in joined
    assert len(issuer_problems("http://x.example.com/")) == 2


@pytest.mark.parametrize("value", [None, 42, ["https://x"]])
def test_non_string_issuer(value):
    """None and non-strings are problems, not crashes."""
    assert issuer_problems(value)


@pytest.mark.parametrize("issuer,expected", [
    ("https://mycluster-oidc.s3.us-east-1.amazonaws.com", "mycluster-oidc.s3.us-east-1.amazonaws.com"),
    ("https://oidc.example.com/clusters/prod", "oidc.example.com/clusters/prod"),
    ("d1234abcd.cloudfront.net", "d1234abcd.cloudfront.net"),
])
def test_host_and_path(issuer, expected):
    """IAM's form of the issuer: no scheme, path kept."""
    assert host_and_path(issuer) == expected


def test_host_and_path_rejects_other_schemes():
    """Only https:// is stripped; another scheme is an error."""
    with pytest.raises(ValueError, match="does not start with https://"):
        host_and_path("http://oidc.example.com")
