# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster side of the trust chain, from a live cluster or from an install directory.

What is gathered (issue 6 §1, field notes §1.2, §6.5-§6.8, §7.1, §8):

* the configured issuer (``Authentication/cluster`` or ``manifests/cluster-authentication-02-config.yaml``);
* the issuer history (``KubeAPIServer/cluster`` ``status.serviceAccountIssuers``) and the time of the last change
  (the previous issuer's ``expirationTime`` minus the operator's 24 h grace);
* the AWS CredentialsRequests, their Secrets (the ccoctl ``credentials`` INI: ``role_arn``,
  ``web_identity_token_file``), the roles to check with STS and in IAM;
* the cluster's public keys (``/openid/v1/jwks``, the kube-apiserver configmap or secret, or the install
  directory's signing key);
* the workloads still holding tokens with the previous ``iss``;
* tokens for the later checks, written to files and never returned.

:func:`gather_live` reads the cluster through a *reader* (:class:`KubeReader` on a kubernetes ``ApiClient``, or
a fake in tests) with a number of API calls bounded by a constant: the CredentialsRequests are listed once,
Secrets and Pods once per namespace when there are at most :data:`NAMESPACE_LIST_THRESHOLD` namespaces, else once
cluster-wide. :func:`gather_install_dir` reads the files ccoctl and openshift-install write.

Nothing returned ever holds a Secret's data other than role ARNs, a private key, or a token.
"""

import base64
import binascii
import calendar
import configparser
import glob
import os
import re
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.openshift_sts.oidc.plugins.module_utils._kubernetes_rest import KubeHTTPError, path
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding, sort_findings
from ansible_collections.openshift_sts.oidc.plugins.module_utils.keys import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    KeyLoadError,
    alg_for,
    jwks_document,
    kid_for,
    load_public_key,
)
from ansible_collections.openshift_sts.oidc.plugins.module_utils.probe import public_jwks
from ansible_collections.openshift_sts.oidc.plugins.module_utils.service_account_tokens import (
    MIN_EXPIRATION_SECONDS,
    TokenMinter,
    token_error,
)
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import HAS_PYJWT, PYJWT_IMPORT_ERROR

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

try:
    import jwt
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the module reports missing libraries
    jwt = None
    serialization = None

CR_GROUP, CR_VERSION, CR_PLURAL = "cloudcredential.openshift.io", "v1", "credentialsrequests"
DELETE_ANNOTATION = "release.openshift.io/delete"
AWS_PROVIDER_KIND = "AWSProviderSpec"
DEFAULT_ISSUER = "https://kubernetes.default.svc"
TOKEN_PATH = "/var/run/secrets/openshift/serviceaccount/token"

AUTH_MANIFEST = os.path.join("manifests", "cluster-authentication-02-config.yaml")
CREDENTIALS_MANIFESTS = os.path.join("manifests", "*-credentials.yaml")
SIGNING_KEY_FILE = os.path.join("tls", "bound-service-account-signing-key.key")
KEY_CONFIGMAP = ("openshift-kube-apiserver", "bound-sa-token-signing-certs")
KEY_SECRET = ("openshift-kube-apiserver-operator", "next-bound-service-account-signing-key", "service-account.pub")

ISSUER_GRACE_SECONDS = 24 * 3600
"""kube-apiserver-operator trusts the previous issuer this long after a change (field notes §7.1)."""

NAMESPACE_LIST_THRESHOLD = 10
"""Up to this many namespaces, Secrets and Pods are listed per namespace; above it, once cluster-wide."""

KUBELET_REFRESH_FRACTION = 0.8
KUBELET_MAX_TOKEN_AGE = 24 * 3600
KUBELET_SYNC_SLACK = 120
"""The kubelet renews a projected token older than 80 % of its TTL or 24 h, at its next volume sync (allowed for here)."""

DEFAULT_TOKEN_TTL = 3600
PROBE_TOKEN_FILE = "probe.jwt"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_LISTED_PODS = 20

_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$")


class ReadError(Exception):
    """A read of the cluster failed; ``status`` is the HTTP status (None without an answer)."""

    def __init__(self, what, status=None, reason=None):
        self.what = what
        self.status = status
        self.reason = reason or ""
        super(ReadError, self).__init__("%s: %s %s" % (what, status if status is not None else "no answer", self.reason))

    @property
    def fatal(self):
        """True when the API server cannot be used at all (no answer, bad credentials)."""
        return self.status in (None, 0, 401)


# ====================================================================== time
def parse_time(text):
    """Epoch seconds of an RFC 3339 time (``2024-05-01T10:00:00Z``), or None when it is not one."""
    match = _RFC3339.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(index)) for index in range(1, 7))
    epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(7):
        epoch += float("0" + match.group(7))
    zone = match.group(8)
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        epoch += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


def format_time(epoch):
    """RFC 3339 UTC time, to the second, of epoch seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


# ====================================================================== CredentialsRequests and their Secrets
def is_aws_credentials_request(obj):
    """True for a CredentialsRequest with an AWSProviderSpec that is not marked ``release.openshift.io/delete``."""
    if not isinstance(obj, dict) or obj.get("kind", "CredentialsRequest") != "CredentialsRequest":
        return False
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(DELETE_ANNOTATION, "")).lower() == "true":
        return False
    provider = (obj.get("spec") or {}).get("providerSpec") or {}
    return isinstance(provider, dict) and provider.get("kind") == AWS_PROVIDER_KIND


def credentials_request_summary(obj):
    """What the chain needs of one CredentialsRequest; ``namespace`` is ``spec.secretRef.namespace`` (as ccoctl uses it)."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    ref = spec.get("secretRef") or {}
    accounts = spec.get("serviceAccountNames") or []
    return {
        "name": str(metadata.get("name") or ""),
        "namespace": str(ref.get("namespace") or ""),
        "secret_name": str(ref.get("name") or ""),
        "service_accounts": [str(name) for name in accounts if isinstance(name, str) and name],
        "policy_statements": _statement_entries(spec),
        "role_arn": None,
        "web_identity_token_file": None,
        "secret_found": None,
    }


def _statement_entries(spec):
    """``spec.providerSpec.statementEntries`` (the permissions the operator needs), as a list of dicts."""
    entries = (spec.get("providerSpec") or {}).get("statementEntries") or []
    return [dict(entry) for entry in entries if isinstance(entry, dict)]


def aws_credentials_requests(objects):
    """Summaries of the AWS CredentialsRequests among ``objects``, deduplicated by name and secret, in order."""
    seen, result = set(), []
    for obj in objects:
        if not is_aws_credentials_request(obj):
            continue
        summary = credentials_request_summary(obj)
        key = (summary["name"], summary["namespace"], summary["secret_name"])
        if key not in seen:
            seen.add(key)
            result.append(summary)
    return result


def parse_credentials_ini(text):
    """The ``[default]`` profile (or the first one) of a ccoctl ``credentials`` file as a dict of lower-case keys.

    ccoctl writes ``sts_regional_endpoints`` (since 2022), ``role_arn`` and ``web_identity_token_file``; a file
    without a section header is read as ``[default]``. Raises ValueError when it is not an INI file.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=False, default_section="\x00no-defaults")
    try:
        try:
            parser.read_string(text)
        except configparser.MissingSectionHeaderError:
            parser = configparser.ConfigParser(interpolation=None, strict=False, default_section="\x00no-defaults")
            parser.read_string("[default]\n" + text)
    except configparser.Error as error:
        raise ValueError("not an INI file (%s)" % type(error).__name__)
    sections = parser.sections()
    if not sections:
        return {}
    section = "default" if "default" in sections else sections[0]
    return dict((key.lower(), value.strip()) for key, value in parser.items(section))


def secret_credentials_text(secret):
    """The ``credentials`` value of a Secret (``stringData``, else base64 ``data``), or None; ValueError when undecodable."""
    string_data = secret.get("stringData") or {}
    if isinstance(string_data.get("credentials"), str):
        return string_data["credentials"]
    value = (secret.get("data") or {}).get("credentials")
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ValueError("data.credentials is not base64 of UTF-8 text")


def _secret_key_names(secret):
    """The key names (never the values) of a Secret."""
    return sorted(set(list((secret.get("data") or {}).keys()) + list((secret.get("stringData") or {}).keys())))


def attach_secret(summary, secret, source):
    """Fill ``role_arn``, ``web_identity_token_file`` and ``secret_found`` of ``summary``; return its findings.

    ``secret`` is the Secret object or None when it does not exist; ``source`` names where it was looked for.
    """
    where = "%s/%s" % (summary["namespace"], summary["secret_name"])
    cr_name = summary["name"]
    if not summary["namespace"] or not summary["secret_name"]:
        summary["secret_found"] = False
        return [finding("CREDENTIALS_SECRET_MISSING", subject="credentialsrequest %s" % cr_name,
                        message="CredentialsRequest %s names no Secret (spec.secretRef needs namespace and name)." % cr_name,
                        expected="spec.secretRef with namespace and name", actual="secretRef %s" % where)]
    if secret is None:
        summary["secret_found"] = False
        return [finding("CREDENTIALS_SECRET_MISSING", subject="secret %s" % where,
                        message="The Secret %s of CredentialsRequest %s does not exist (%s), so its operator has no role to assume."
                                % (where, cr_name, source),
                        expected="Secret %s with a credentials key naming the role" % where, actual="not found in %s" % source)]
    summary["secret_found"] = True
    try:
        text = secret_credentials_text(secret)
        profile = parse_credentials_ini(text) if text is not None else None
    except ValueError as error:
        text, profile = "", None
        problem = str(error)
    else:
        problem = "no credentials key (keys: %s)" % (", ".join(_secret_key_names(secret)) or "none") if text is None else None
    if profile is not None:
        summary["web_identity_token_file"] = profile.get("web_identity_token_file") or None
        arn = profile.get("role_arn") or ""
        if arn.startswith("arn:") and ":role/" in arn:
            summary["role_arn"] = arn
            return []
        keys = sorted(profile)
        problem = ("role_arn = %s" % arn) if arn else "no role_arn (keys: %s)" % (", ".join(keys) or "none")
    return [finding("CREDENTIALS_ROLE_ARN_MISSING", subject="secret %s" % where,
                    message="The credentials of Secret %s (CredentialsRequest %s) name no IAM role: %s." % (where, cr_name, problem),
                    expected="[default] role_arn = arn:aws:iam::<account>:role/<name>, web_identity_token_file = %s" % TOKEN_PATH,
                    actual=problem)]


def service_account_subject(namespace, name):
    """``system:serviceaccount:<namespace>:<name>``."""
    return "system:serviceaccount:%s:%s" % (namespace, name)


def roles_for(credentials_requests, token_files=None):
    """``(sts_roles, trust_roles)``: the ``roles`` options of sts_assume_check and aws_trust_check.

    ``sts_roles`` has one entry per (role, service account): ``{role_arn, service_account: {namespace, name}}``,
    or ``{role_arn, token_file}`` when ``token_files`` (a dict ``(namespace, name) -> path``) is given (service
    accounts without a token file are left out then). ``trust_roles`` has one entry per role with every
    ``system:serviceaccount:<ns>:<sa>`` that must be trusted.
    """
    sts_roles, trust, order, seen = [], {}, [], set()
    for request in credentials_requests:
        arn = request.get("role_arn")
        if not arn:
            continue
        if arn not in trust:
            trust[arn] = []
            order.append(arn)
        for account in request["service_accounts"]:
            subject = service_account_subject(request["namespace"], account)
            if subject not in trust[arn]:
                trust[arn].append(subject)
            if (arn, subject) in seen:
                continue
            seen.add((arn, subject))
            if token_files is None:
                sts_roles.append({"role_arn": arn, "service_account": {"namespace": request["namespace"], "name": account}})
            elif token_files.get((request["namespace"], account)):
                sts_roles.append({"role_arn": arn, "token_file": token_files[(request["namespace"], account)]})
    return sts_roles, [{"role_arn": arn, "service_accounts": trust[arn]} for arn in order]


def service_accounts_of(credentials_requests):
    """Distinct ``(namespace, service account)`` pairs of the CredentialsRequests, in order."""
    result = []
    for request in credentials_requests:
        for account in request["service_accounts"] if request["namespace"] else []:
            if (request["namespace"], account) not in result:
                result.append((request["namespace"], account))
    return result


# ====================================================================== issuer history and stale workloads
def issuer_history(kube_apiserver):
    """``(history, last_change, active)`` from ``KubeAPIServer/cluster`` ``status.serviceAccountIssuers``.

    ``history`` is ``[{name, expiration_time}]`` in the operator's order (active first, its expiration null);
    ``last_change`` is the epoch time of the last issuer change (the latest ``expirationTime`` minus 24 h),
    or None when no previous issuer is trusted any more; ``active`` is the issuer tokens carry.
    """
    entries = ((kube_apiserver or {}).get("status") or {}).get("serviceAccountIssuers") or []
    history, expirations, active = [], [], None
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        expiration = entry.get("expirationTime") or None
        history.append({"name": entry["name"], "expiration_time": expiration})
        epoch = parse_time(expiration) if expiration else None
        if epoch is not None:
            expirations.append((epoch, entry["name"]))
        elif expiration is None and active is None:
            active = entry["name"]
    if not expirations:
        return history, None, active
    latest = max(expirations)
    return history, latest[0] - ISSUER_GRACE_SECONDS, active


def previous_issuer(history):
    """The issuer replaced by the last change (the one with the latest expiration), or None."""
    dated = [(parse_time(item["expiration_time"]) or 0, item["name"]) for item in history if item.get("expiration_time")]
    return max(dated)[1] if dated else None


def _token_ttl(pod):
    """The TTL of the pod's projected token at the STS token path (seconds), default 3600."""
    spec = pod.get("spec") or {}
    mounts = {}
    for container in spec.get("containers") or []:
        for mount in container.get("volumeMounts") or []:
            mounts[mount.get("name")] = (mount.get("mountPath") or "").rstrip("/")
    fallback = None
    for volume in spec.get("volumes") or []:
        for source in ((volume.get("projected") or {}).get("sources") or []):
            projection = source.get("serviceAccountToken") if isinstance(source, dict) else None
            if not isinstance(projection, dict):
                continue
            ttl = int(projection.get("expirationSeconds") or DEFAULT_TOKEN_TTL)
            if "%s/%s" % (mounts.get(volume.get("name"), ""), projection.get("path") or "") == TOKEN_PATH:
                return ttl
            if projection.get("audience") == "openshift" and fallback is None:
                fallback = ttl
    return fallback or DEFAULT_TOKEN_TTL


def token_minted_at(pod, started, now):
    """When the kubelet last wrote the pod's token: at start, then every min(80 % of TTL, 24 h) (plus sync slack)."""
    period = min(KUBELET_REFRESH_FRACTION * _token_ttl(pod), KUBELET_MAX_TOKEN_AGE)
    if now <= started:
        return started
    renewals = int((now - started - KUBELET_SYNC_SLACK) // period) if now - started > KUBELET_SYNC_SLACK else 0
    return started + max(0, renewals) * period


def stale_pod_findings(pods, credentials_requests, last_change, active_issuer, old_issuer, now):
    """One TOKEN_ISSUER_MISMATCH per service account whose running pods hold a token minted before ``last_change``.

    A pod started before the change keeps its token (with the old ``iss``) until it is restarted or the kubelet
    renews the token (after 80 % of its TTL or 24 h), which :func:`token_minted_at` accounts for.
    """
    if last_change is None:
        return []
    wanted = set(service_accounts_of(credentials_requests))
    stale = {}
    for pod in pods:
        metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
        key = (metadata.get("namespace") or "", (pod.get("spec") or {}).get("serviceAccountName") or "default")
        if key not in wanted or status.get("phase") not in (None, "Pending", "Running", "Unknown") or metadata.get("deletionTimestamp"):
            continue
        started = parse_time(status.get("startTime"))
        if started is None or started >= last_change:
            continue
        if token_minted_at(pod, started, now) < last_change:
            stale.setdefault(key, []).append((started, metadata.get("name") or "?"))
    findings = []
    for (namespace, account), items in sorted(stale.items()):
        items.sort()
        shown = ["%s (started %s)" % (name, format_time(started)) for started, name in items[:MAX_LISTED_PODS]]
        if len(items) > MAX_LISTED_PODS:
            shown.append("... and %d more" % (len(items) - MAX_LISTED_PODS))
        names = " ".join(name for _started, name in items)
        findings.append(finding(
            "TOKEN_ISSUER_MISMATCH", subject=service_account_subject(namespace, account),
            message="%d pod(s) of %s in %s started before the issuer changed at %s and still hold tokens issued by %s, "
                    "which AWS no longer accepts once the roles trust only %s."
                    % (len(items), account, namespace, format_time(last_change), old_issuer or "the previous issuer",
                       active_issuer or "the new issuer"),
            expected="tokens issued by %s (pods started after %s)" % (active_issuer or "the new issuer", format_time(last_change)),
            actual=shown,
            remediation="Restart them (oc -n %s delete pod %s), or run the remediation playbook with its workload refresh "
                        "enabled; the kubelet would otherwise renew the tokens only after 80 %% of their lifetime."
                        % (namespace, names)))
    return findings


# ====================================================================== keys and tokens
def jwks_from_pems(pems, label):
    """A JWKS of the public keys in ``pems`` (PEM texts); raises KeyLoadError when none is usable."""
    keys, errors = [], []
    for index, pem in enumerate(pems):
        try:
            keys.append(load_public_key(pem, "%s[%d]" % (label, index)))
        except KeyLoadError as error:
            errors.append(str(error))
    if not keys:
        raise KeyLoadError("; ".join(errors) or "no public key", label)
    return jwks_document(keys)


def load_signing_key(path):
    """The private key object of a PEM file (PKCS#1, PKCS#8 or SEC1); KeyLoadError otherwise. Never logs key text."""
    if serialization is None:
        raise KeyLoadError("the Python library 'cryptography' is required", path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES)
    except (IOError, OSError) as error:
        raise KeyLoadError("cannot read file: %s" % (error.strerror or type(error).__name__), path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyLoadError("the private key is encrypted", path)
    except ValueError:
        raise KeyLoadError("not a PEM private key (PKCS#1, PKCS#8 or SEC1)", path)
    alg_for(key.public_key())  # raises KeyLoadError for unsupported key types
    return key


def mint_token(private_key, issuer, namespace, account, audience, expiration, now):
    """A service account token signed like kube-apiserver: RS256 (or ES*) with kid = kube's kid of the key, no typ."""
    public = private_key.public_key()
    issued = int(now)
    claims = {
        "aud": [audience],
        "exp": issued + int(expiration),
        "iat": issued,
        "iss": issuer,
        "jti": str(uuid.uuid4()),
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account, "uid": str(uuid.uuid4())}},
        "nbf": issued,
        "sub": service_account_subject(namespace, account),
    }
    token = jwt.encode(claims, private_key, algorithm=alg_for(public), headers={"kid": kid_for(public), "typ": None})
    return token.decode("ascii") if isinstance(token, bytes) else token


def write_private_file(directory, name, text):
    """Write ``text`` to ``directory/name`` with mode 0600 (the directory is created 0700); return the path."""
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)
    return path


def token_file_name(namespace, account):
    """``<namespace>__<service account>.jwt``, or None when a name is not a Kubernetes name (never a path)."""
    if not all(_DNS_NAME.match(name or "") and len(name) <= 253 for name in (namespace, account)):
        return None
    return "%s__%s.jwt" % (namespace, account)


def _inspection_failed(subject, message, actual):
    return finding("CLUSTER_INSPECTION_FAILED", subject=subject, message=message, expected="a successful read", actual=actual)


def _read_failure(error, consequence):
    """CLUSTER_INSPECTION_FAILED for a :class:`ReadError`."""
    if error.status in (401, 403):
        cause = "the Kubernetes credentials may not read it (HTTP %s)" % error.status
    elif error.status == 404:
        cause = "it does not exist (HTTP 404; is this an OpenShift cluster?)"
    else:
        cause = "the API server answered %s" % (error.status if error.status else "nothing")
    return _inspection_failed(error.what, "%s could not be read: %s; %s." % (error.what, cause, consequence),
                              "%s %s" % (error.status or "no answer", error.reason))


def _result(source):
    return {"source": source, "cluster": cluster_identity(None), "issuer": None, "issuer_source": None, "issuer_history": [], "last_issuer_change": None,
            "cluster_keys": None, "cluster_keys_source": None, "credentials_requests": [], "sts_roles": [],
            "trust_roles": [], "probe_token_file": None, "findings": []}


_INFRA_ID_SUFFIX = re.compile(r"-[a-z0-9]{5}$")


def cluster_identity(infrastructure=None, install_config=None):
    """``{name, api_url, infrastructure_name, aws_region}`` of the cluster, each None when unknown.

    From ``Infrastructure/cluster`` (``status.apiServerURL`` is ``https://api.<name>.<base domain>:6443``;
    ``status.infrastructureName`` is the name, cut to 27 characters, plus ``-`` and 5 random characters) or from an
    install-config (``metadata.name``, ``baseDomain``, ``platform.aws.region``).
    """
    identity = {"name": None, "api_url": None, "infrastructure_name": None, "aws_region": None}
    if isinstance(infrastructure, dict):
        status = infrastructure.get("status") or {}
        api_url = status.get("apiServerURL") if isinstance(status.get("apiServerURL"), str) else None
        infra = status.get("infrastructureName") if isinstance(status.get("infrastructureName"), str) else None
        host = (api_url or "").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        name = host[len("api."):].split(".", 1)[0] if host.startswith("api.") else None
        if not name and infra:
            name = _INFRA_ID_SUFFIX.sub("", infra)
        region = ((status.get("platformStatus") or {}).get("aws") or {}).get("region")
        identity.update(name=name or None, api_url=api_url, infrastructure_name=infra,
                        aws_region=region if isinstance(region, str) and region else None)
    elif isinstance(install_config, dict):
        name = (install_config.get("metadata") or {}).get("name")
        domain = install_config.get("baseDomain")
        region = ((install_config.get("platform") or {}).get("aws") or {}).get("region")
        if isinstance(name, str) and name:
            identity["name"] = name
            if isinstance(domain, str) and domain:
                identity["api_url"] = "https://api.%s.%s:6443" % (name, domain)
        identity["aws_region"] = region if isinstance(region, str) and region else None
    return identity


_CREDENTIALS_REQUESTS_EXPECTED = "the CredentialsRequests of the release (AWSProviderSpec), one per operator that uses AWS"


def _not_configured(subject, actual):
    return finding("ISSUER_NOT_CONFIGURED", subject=subject,
                   message="No service account issuer is configured (%s), so tokens carry %s, which AWS cannot reach."
                           % (subject, DEFAULT_ISSUER),
                   expected="spec.serviceAccountIssuer set to the public issuer URL (https://...)",
                   actual=actual)


# ====================================================================== live cluster
class KubeReader(object):  # pylint: disable=useless-object-inheritance
    """Reads the objects the chain needs as raw JSON through a :class:`_kubernetes_rest.KubeRest`.

    Errors become :class:`ReadError`.
    """

    def __init__(self, rest):
        self._rest = rest

    def _json(self, what, api_path, **query):
        try:
            return self._rest.get(api_path, **query)
        except KubeHTTPError as error:
            raise ReadError(what, error.status, error.reason)

    def authentication(self):
        """``authentication.config.openshift.io/cluster``."""
        return self._json("authentication.config.openshift.io/cluster", "/apis/config.openshift.io/v1/authentications/cluster")

    def kube_apiserver(self):
        """``kubeapiserver.operator.openshift.io/cluster``."""
        return self._json("kubeapiserver.operator.openshift.io/cluster", "/apis/operator.openshift.io/v1/kubeapiservers/cluster")

    def infrastructure(self):
        """``infrastructure.config.openshift.io/cluster``."""
        return self._json("infrastructure.config.openshift.io/cluster", "/apis/config.openshift.io/v1/infrastructures/cluster")

    def credentials_requests(self):
        """Every CredentialsRequest, all namespaces (one call)."""
        return self._json("credentialsrequests.cloudcredential.openshift.io",
                          path("apis", CR_GROUP, CR_VERSION, CR_PLURAL)).get("items") or []

    def _list(self, kind, namespace, field_selector):
        if namespace:
            return self._json("%s in %s" % (kind, namespace), path("api/v1", "namespaces", namespace, kind),
                              fieldSelector=field_selector).get("items") or []
        return self._json("%s (all namespaces)" % kind, path("api/v1", kind)).get("items") or []

    def secrets(self, namespace=None, field_selector=None):
        """Secrets of one namespace, or of all."""
        return self._list("secrets", namespace, field_selector)

    def pods(self, namespace=None, field_selector=None):
        """Pods of one namespace, or of all."""
        return self._list("pods", namespace, field_selector)

    def jwks(self):
        """kube-apiserver's ``/openid/v1/jwks``."""
        return self._json("/openid/v1/jwks", "/openid/v1/jwks")

    def configmap(self, namespace, name):
        """One ConfigMap."""
        return self._json("configmap %s/%s" % (namespace, name), path("api/v1", "namespaces", namespace, "configmaps", name))

    def secret(self, namespace, name):
        """One Secret."""
        return self._json("secret %s/%s" % (namespace, name), path("api/v1", "namespaces", namespace, "secrets", name))


def live_cluster_keys(reader):
    """``(jwks, source, findings)``: ``/openid/v1/jwks``, else the configmap of trusted keys, else the next signing key."""
    errors = []
    try:
        document = reader.jwks()
        if isinstance(document, dict) and isinstance(document.get("keys"), list):
            return public_jwks(document), "/openid/v1/jwks", []
        errors.append("/openid/v1/jwks: not a JWKS")
    except ReadError as error:
        errors.append(str(error))
    try:
        data = reader.configmap(*KEY_CONFIGMAP).get("data") or {}
        pems = [data[name] for name in sorted(data) if name.endswith(".pub")]
        return jwks_from_pems(pems, "configmap %s/%s" % KEY_CONFIGMAP), "configmap %s/%s" % KEY_CONFIGMAP, []
    except (ReadError, KeyLoadError) as error:
        errors.append(str(error))
    try:
        secret = reader.secret(KEY_SECRET[0], KEY_SECRET[1])
        pem = base64.b64decode((secret.get("data") or {}).get(KEY_SECRET[2]) or "").decode("ascii", "replace")
        return jwks_from_pems([pem], "secret %s/%s" % KEY_SECRET[:2]), "secret %s/%s %s" % KEY_SECRET, []
    except (ReadError, KeyLoadError, binascii.Error, ValueError) as error:
        errors.append(str(error))
    return None, None, [_inspection_failed("cluster keys", "The cluster's public keys could not be read, so the published keys "
                                           "cannot be compared with them.", errors)]


def _namespace_plan(credentials_requests):
    """``{namespace: (secret names, service accounts)}`` of the CredentialsRequests."""
    plan = {}
    for request in credentials_requests:
        if not request["namespace"] or not request["secret_name"]:
            continue
        secrets, accounts = plan.setdefault(request["namespace"], (set(), set()))
        secrets.add(request["secret_name"])
        accounts.update(request["service_accounts"])
    return plan


def _list_by_namespace(reader, executor, kind, plan, selector_field):
    """Futures listing ``kind`` per namespace (one-name field selectors when a namespace needs one object) or cluster-wide."""
    method = getattr(reader, kind)
    if len(plan) > NAMESPACE_LIST_THRESHOLD:
        return [(None, executor.submit(method))]
    futures = []
    for namespace in sorted(plan):
        names = plan[namespace][0 if kind == "secrets" else 1]
        selector = "%s=%s" % (selector_field, next(iter(names))) if len(names) == 1 else None
        futures.append((namespace, executor.submit(method, namespace, selector)))
    return futures


def _collect(futures, findings, consequence):
    """Items of every ``(namespace, future)``; a failed read adds a finding; returns ``(items, unread)``.

    ``unread`` is the set of namespaces that could not be listed (``None`` in it: all of them).
    """
    items, unread = [], set()
    for namespace, future in futures:
        try:
            items.extend(future.result())
        except ReadError as error:
            unread.add(namespace)
            findings.append(_read_failure(error, consequence))
    return items, unread


def gather_live(reader, now=None, mint=None, token_dir=None, concurrency=8):  # pylint: disable=too-many-locals
    """The cluster side of the chain from a live cluster (see the module's RETURN); raises a fatal ReadError.

    ``mint(namespace, service_account)`` returns a token (TokenRequest); with ``token_dir``, one probe token is
    minted for the first service account and written to ``<token_dir>/probe.jwt``.
    """
    now = time.time() if now is None else now
    result = _result("live")
    findings = result["findings"]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as executor:
        auth_f = executor.submit(reader.authentication)
        kas_f = executor.submit(reader.kube_apiserver)
        crs_f = executor.submit(reader.credentials_requests)
        keys_f = executor.submit(live_cluster_keys, reader)
        infra_f = executor.submit(reader.infrastructure)
        try:
            auth = auth_f.result()
        except ReadError as error:
            if error.fatal:
                raise
            auth = None
            findings.append(_read_failure(error, "the configured issuer is unknown"))
        try:
            kas = kas_f.result()
        except ReadError as error:
            kas = None
            findings.append(_read_failure(error, "the issuer history and stale workloads are not checked"))
        try:
            requests = aws_credentials_requests(crs_f.result())
            crs_ok = True
        except ReadError as error:
            requests, crs_ok = [], False
            findings.append(_read_failure(error, "no role can be checked"))
        result["cluster_keys"], result["cluster_keys_source"], key_findings = keys_f.result()
        findings.extend(key_findings)
        try:
            # Only names the cluster in the reports (and gives its region): an identity that may not read it loses nothing.
            result["cluster"] = cluster_identity(infra_f.result())
        except ReadError:
            pass

        if auth is not None:
            issuer = ((auth.get("spec") or {}).get("serviceAccountIssuer") or "").strip()
            result["issuer"], result["issuer_source"] = issuer or None, "authentication.config.openshift.io/cluster spec.serviceAccountIssuer"
            if not issuer:
                findings.append(_not_configured("authentication.config.openshift.io/cluster", "spec.serviceAccountIssuer is empty"))
        history, last_change, active = issuer_history(kas)
        result["issuer_history"] = history
        result["last_issuer_change"] = format_time(last_change) if last_change is not None else None
        if result["issuer"] and active and active != result["issuer"]:
            findings.append(finding(
                "TOKEN_ISSUER_MISMATCH", subject="kubeapiserver.operator.openshift.io/cluster",
                message="kube-apiserver still issues tokens for %s although Authentication/cluster asks for %s: the "
                        "kube-apiserver-operator has not applied the change (more than 10 trusted issuers, or the operator is degraded)."
                        % (active, result["issuer"]),
                expected=result["issuer"], actual=active))
        if crs_ok and not requests:
            findings.append(finding("CREDENTIALS_REQUESTS_MISSING", subject="credentialsrequests.cloudcredential.openshift.io",
                                    message="The cluster has no CredentialsRequest with an AWSProviderSpec.",
                                    expected=_CREDENTIALS_REQUESTS_EXPECTED, actual="none in any namespace"))

        plan = _namespace_plan(requests)
        secret_futures = _list_by_namespace(reader, executor, "secrets", plan, "metadata.name")
        pod_futures = _list_by_namespace(reader, executor, "pods", plan, "spec.serviceAccountName") if last_change is not None else []
        accounts = service_accounts_of(requests)
        probe_f = executor.submit(mint, *accounts[0]) if token_dir and mint and accounts else None

        secrets, unread = _collect(secret_futures, findings, "the role ARNs of the CredentialsRequests there are unknown")
        by_key = dict((((item.get("metadata") or {}).get("namespace"), (item.get("metadata") or {}).get("name")), item) for item in secrets)
        for request in requests:
            secret = by_key.get((request["namespace"], request["secret_name"]))
            if secret is not None or not unread.intersection((None, request["namespace"])):
                findings.extend(attach_secret(request, secret, "the cluster"))
        pods, _unread = _collect(pod_futures, findings, "workloads holding tokens of the previous issuer are not checked")
        findings.extend(stale_pod_findings(pods, requests, last_change, active or result["issuer"], previous_issuer(history), now))
        if probe_f is not None:
            try:
                token = probe_f.result()
            except Exception as error:  # pylint: disable=broad-except  # reported as a finding
                findings.append(token_error(accounts[0][0], accounts[0][1], error))
            else:
                result["probe_token_file"] = write_private_file(token_dir, PROBE_TOKEN_FILE, token)
    result["credentials_requests"] = requests
    result["sts_roles"], result["trust_roles"] = roles_for(requests)
    result["findings"] = sort_findings(findings)
    return result


# ====================================================================== install directory
def _load_yaml_documents(path):
    """The YAML documents of a file (dicts only); ValueError with a reason (never file content) otherwise."""
    try:
        with open(path, "r") as handle:
            text = handle.read(MAX_MANIFEST_BYTES)
        return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    except (IOError, OSError) as error:
        raise ValueError("cannot read: %s" % (error.strerror or type(error).__name__))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError("not valid YAML (%s)" % type(error).__name__)


INSTALL_CONFIGS = ("install-config.yaml", os.path.join("manifests", "cluster-config.yaml"))
"""Where an install directory holds its install-config: the file itself (``create manifests`` consumes it; users often
keep a copy), or the ConfigMap ``kube-system/cluster-config-v1`` the installer writes into the manifests."""


def _install_config(install_dir):
    """The install-config of ``install_dir`` as a dict, or None (it only names the cluster)."""
    for relative in INSTALL_CONFIGS:
        path = os.path.join(install_dir, relative)
        if not os.path.isfile(path):
            continue
        try:
            docs = _load_yaml_documents(path)
        except ValueError:
            continue
        for doc in docs:
            if doc.get("kind") == "ConfigMap":
                try:
                    doc = yaml.safe_load((doc.get("data") or {}).get("install-config") or "")
                except yaml.YAMLError:
                    continue
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict) and "baseDomain" in doc:
                return doc
    return None


def _install_issuer(install_dir, result):
    path = os.path.join(install_dir, AUTH_MANIFEST)
    result["issuer_source"] = path
    if not os.path.isfile(path):
        result["findings"].append(_not_configured(AUTH_MANIFEST, "%s does not exist (ccoctl writes it; copy ccoctl's manifests/)" % AUTH_MANIFEST))
        return
    try:
        docs = _load_yaml_documents(path)
    except ValueError as error:
        result["findings"].append(_not_configured(AUTH_MANIFEST, "%s: %s" % (AUTH_MANIFEST, error)))
        return
    issuer = ""
    for doc in docs:
        if doc.get("kind") == "Authentication":
            issuer = str((doc.get("spec") or {}).get("serviceAccountIssuer") or "").strip()
    result["issuer"] = issuer or None
    if issuer:
        result["issuer_history"] = [{"name": issuer, "expiration_time": None}]
    else:
        result["findings"].append(_not_configured(AUTH_MANIFEST, "%s has an empty spec.serviceAccountIssuer" % AUTH_MANIFEST))


def _install_secrets(install_dir, findings):
    secrets = {}
    for path in sorted(glob.glob(os.path.join(install_dir, CREDENTIALS_MANIFESTS))):
        try:
            docs = _load_yaml_documents(path)
        except ValueError as error:
            findings.append(_inspection_failed(path, "The credentials manifest %s cannot be read: %s." % (path, error), str(error)))
            continue
        for doc in docs:
            metadata = doc.get("metadata") or {}
            if doc.get("kind") == "Secret":
                secrets[(metadata.get("namespace"), metadata.get("name"))] = (doc, path)
    return secrets


def _install_credentials_requests(directory, findings):
    if not os.path.isdir(directory):
        findings.append(finding("CREDENTIALS_REQUESTS_MISSING", subject=directory,
                                message="No CredentialsRequests directory at %s, so no role can be checked." % directory,
                                expected=_CREDENTIALS_REQUESTS_EXPECTED, actual="%s does not exist" % directory))
        return []
    objects = []
    paths = sorted(glob.glob(os.path.join(directory, "*.yaml")) + glob.glob(os.path.join(directory, "*.yml")))
    for path in paths:
        try:
            objects.extend(_load_yaml_documents(path))
        except ValueError as error:
            findings.append(_inspection_failed(path, "The CredentialsRequest file %s cannot be read: %s." % (path, error), str(error)))
    requests = aws_credentials_requests(objects)
    if not requests:
        findings.append(finding("CREDENTIALS_REQUESTS_MISSING", subject=directory,
                                message="%s holds no AWS CredentialsRequest (%d YAML file(s) read)." % (directory, len(paths)),
                                expected=_CREDENTIALS_REQUESTS_EXPECTED, actual="%d file(s), no CredentialsRequest with an AWSProviderSpec" % len(paths)))
    return requests


def gather_install_dir(install_dir, credentials_requests_dir=None, token_dir=None, audience="openshift", expiration=600, now=None):
    """The cluster side of the chain from an install directory before install (see the module's RETURN).

    With ``token_dir``, a test token per service account is minted with the bound signing key for the manifests'
    issuer and written to ``<token_dir>/<namespace>__<sa>.jwt`` (0600), plus ``probe.jwt``.
    """
    now = time.time() if now is None else now
    result = _result("install_dir")
    findings = result["findings"]
    _install_issuer(install_dir, result)
    result["cluster"] = cluster_identity(install_config=_install_config(install_dir))

    key_path = os.path.join(install_dir, SIGNING_KEY_FILE)
    private_key = None
    if not os.path.isfile(key_path):
        problem = "%s does not exist" % SIGNING_KEY_FILE
    else:
        try:
            private_key = load_signing_key(key_path)
            problem = None
        except KeyLoadError as error:
            problem = "%s: %s" % (SIGNING_KEY_FILE, error.reason)
    if private_key is not None:
        result["cluster_keys"], result["cluster_keys_source"] = jwks_document([private_key.public_key()]), key_path
    else:
        findings.append(finding("INSTALL_SIGNING_KEY_MISSING", subject=key_path,
                                message="The install directory has no usable bound service account signing key (%s); "
                                        "openshift-install would generate one that is not published." % problem,
                                actual=problem))

    secrets = _install_secrets(install_dir, findings)
    requests = _install_credentials_requests(credentials_requests_dir or os.path.join(install_dir, "credrequests"), findings)
    for request in requests:
        secret, path = secrets.get((request["namespace"], request["secret_name"]), (None, None))
        # Where the Secret manifest is, or where ccoctl would write it.
        request["secret_manifest"] = path or os.path.join(
            install_dir, "manifests", "%s-%s-credentials.yaml" % (request["namespace"], request["secret_name"]))
        findings.extend(attach_secret(request, secret, "manifests/*-credentials.yaml of the install directory"))
    result["credentials_requests"] = requests

    token_files = None
    if token_dir and private_key is not None and result["issuer"]:
        token_files = {}
        for namespace, account in service_accounts_of(requests):
            name = token_file_name(namespace, account)
            if name is None:
                findings.append(_inspection_failed(service_account_subject(namespace, account), "No test token is minted for "
                                                   "this service account: its name is not a Kubernetes name.", "invalid name"))
                continue
            token = mint_token(private_key, result["issuer"], namespace, account, audience, expiration, now)
            token_files[(namespace, account)] = write_private_file(token_dir, name, token)
            if result["probe_token_file"] is None:
                result["probe_token_file"] = write_private_file(token_dir, PROBE_TOKEN_FILE, token)
    private_key = None
    sts_roles, result["trust_roles"] = roles_for(requests, token_files if token_files is not None else {})
    result["sts_roles"] = sts_roles
    result["findings"] = sort_findings(findings)
    return result


# ====================================================================== module glue
def read_cluster_side(module, params, token_dir, minter=None, pool_size=None):
    """The cluster side of the chain, as cluster_trust_info returns it, plus ``api_calls``; fails ``module`` when it cannot.

    ``params`` holds the options ``install_dir``, ``credentials_requests_dir``, ``kubernetes``, ``audience`` and
    ``expiration``. A live cluster mints its probe token with ``minter`` (a :class:`TokenMinter`, made here when
    None), so that a caller checking the same service accounts later mints each token once. Call it from the
    module's main thread: it fails the module.
    """
    if params["expiration"] < MIN_EXPIRATION_SECONDS:
        module.fail_json(msg="expiration must be at least %d seconds, not %d" % (MIN_EXPIRATION_SECONDS, params["expiration"]))
    if params.get("install_dir"):
        return _read_install_dir(module, params, token_dir)
    try:
        # Imported only here (a fifth of a second): reading an install directory does not need it.
        import kubernetes  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=traceback.format_exc())
    if minter is None:
        minter = TokenMinter(params["kubernetes"], params["audience"], params["expiration"], pool_size)
    try:
        rest = minter.rest()
    except Exception as error:  # pylint: disable=broad-except  # config errors, TLS, refused connections alike
        module.fail_json(msg="Cannot connect to the Kubernetes API: %s: %s" % (type(error).__name__, error))
    calls_before = rest.calls
    try:
        result = gather_live(KubeReader(rest), mint=minter.token, token_dir=token_dir)
    except ReadError as error:
        module.fail_json(msg="Cannot read the cluster: %s" % error)
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot write to token_dir %s: %s" % (token_dir, error.strerror or error))
    result["api_calls"] = rest.calls - calls_before
    return result


def _read_install_dir(module, params, token_dir):
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if not HAS_PYJWT and token_dir:
        module.fail_json(msg=missing_required_lib("PyJWT", reason="to mint test tokens"), exception=PYJWT_IMPORT_ERROR)
    if not os.path.isdir(params["install_dir"]):
        module.fail_json(msg="install_dir %s is not a directory" % params["install_dir"])
    try:
        result = gather_install_dir(params["install_dir"], params.get("credentials_requests_dir"), token_dir,
                                    params["audience"], params["expiration"])
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot write to token_dir %s: %s" % (token_dir, error.strerror or error))
    result["api_calls"] = 0
    return result
