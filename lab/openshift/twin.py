"""``ClusterTwin``: the OpenShift API server twin's public Python API.

Typical use::

    ca = LabCA()
    with ClusterTwin(ca, issuer="https://example-oidc.s3.us-east-2.amazonaws.com") as twin:
        twin.add_credentials_requests("default", account_id="123456789012")
        env = twin.env(tmpdir)          # K8S_AUTH_* and KUBECONFIG
        ...
        twin.set_issuer("https://d111111abcdef8.cloudfront.net")
        twin.wait_for_rollout()

Everything is in-process and thread-safe; the HTTPS server listens on
127.0.0.1 only. See docs/lab.md ("OpenShift twin").
"""

import base64
import os
import threading
import time

import yaml

from . import credentials as creds
from . import keys as keymod
from . import machinery
from . import resources as R
from .api import RestApi
from .auth import Principal, TokenRegistry, new_token, read_only_rules
from .cluster import DEFAULT_ISSUER, Cluster
from .server import Fault, HttpsFront, RequestLog
from .store import Store, deep_copy

DEFAULT_ACCOUNT = "123456789012"


class FakeClock:
    """A settable clock for tests: ``clock()`` returns ``now``; ``advance(s)`` moves it."""

    def __init__(self, now=None):
        self._lock = threading.Lock()
        self.now = float(now if now is not None else time.time())

    def __call__(self):
        with self._lock:
            return self.now

    def advance(self, seconds):
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self.now += seconds
            return self.now


class ClusterTwin:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """An OpenShift cluster's API server, in process.

    ``signing_keys``: the bound service-account signing keys, oldest first;
    the **last** is the current signing key (needs its private key), the
    others stay trusted (listed in the JWKS). ``previous_keys`` is an alias
    that is prepended (keys rotated out but still trusted; public or private,
    objects or PEM). ``legacy_keys``: extra trusted keys that never sign bound
    tokens (OpenShift's legacy ``sa-token-signing-certs``); default none.
    Without keys one RSA key of ``key_size`` bits is generated.

    ``clock``: a callable returning epoch seconds, or an object with a
    ``now()`` method (``lab.clock.Clock``); it drives timestamps, token
    times, the rollout and the 24 h grace. ``shared_log`` (an object with
    ``add(**fields)``, e.g. ``lab.records.RequestLog``) also receives every
    request as ``kind="kubernetes"``. ``fault_plan`` (``lab.faults.FaultPlan``)
    is consulted per request under ``fault_target``: its latency applies,
    ``error`` answers ``error_status``, ``throttle`` answers 429, ``reset``
    closes the connection.
    """

    def __init__(self, ca, issuer="", signing_keys=None, previous_keys=(), legacy_keys=(), rollout_seconds=2.0,  # pylint: disable=too-many-arguments
                 clock=None, kubelet_refresh=True, cluster_name="lab", base_domain="example.com", infra_name=None,
                 region="us-east-1", account_id=DEFAULT_ACCOUNT, partition="aws", key_size=keymod.DEFAULT_KEY_SIZE, port=0,
                 shared_log=None, fault_plan=None, fault_target="kube-apiserver"):
        self.ca = ca
        if clock is not None and callable(getattr(clock, "now", None)):
            clock = clock.now  # a lab.clock.Clock
        self.clock = clock or time.time
        self.account_id = account_id
        self.partition = partition
        self._port = port
        keys = list(signing_keys or [])
        if not keys:
            keys = [keymod.generate_key(key_size)]
        self._config = {"issuer": issuer, "keys": list(previous_keys) + keys, "legacy": list(legacy_keys),
                        "rollout_seconds": rollout_seconds, "kubelet_refresh": kubelet_refresh, "cluster_name": cluster_name,
                        "base_domain": base_domain, "infra_name": infra_name, "region": region}
        self.tokens = TokenRegistry()
        self.admin_token = self.tokens.add(Principal("kube:admin", admin=True, groups=("system:cluster-admins", "system:authenticated")))
        self.readonly_token = self.tokens.add(Principal("lab-reader", rules=read_only_rules()))
        self.lab_token = new_token()
        self.log = RequestLog()
        self.shared_log = shared_log
        self.fault_plan = fault_plan
        self.fault_target = fault_target
        self.latency = 0.0
        self._faults = []
        self._fault_lock = threading.Lock()
        self._front = None
        self._build()

    def _build(self):
        config = self._config
        self.store = Store(self.clock)
        self.cluster = Cluster(self.store, self.clock, config["issuer"], config["keys"], config["legacy"],
                               rollout_seconds=config["rollout_seconds"], kubelet_refresh=config["kubelet_refresh"],
                               cluster_name=config["cluster_name"], base_domain=config["base_domain"], infra_name=config["infra_name"],
                               region=config["region"])
        self.cluster.bootstrap()
        self.api = RestApi(self.cluster, self.tokens, self.lab_token)

    # ================================================================ lifecycle
    def start(self):
        """Start the HTTPS server (idempotent); returns self."""
        if self._front is None:
            self._front = HttpsFront(self, self.ca.server_context("127.0.0.1", "localhost"), self._port)
            self._front.start()
        return self

    def stop(self):
        """Stop the HTTPS server."""
        if self._front is not None:
            self._front.stop()
            self._front = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Back to the state right after construction (same tokens, keys and URL; no faults, empty log)."""
        with self.store.lock:
            self._build()
        self.clear_faults()
        self.latency = 0.0
        self.log.clear()

    @property
    def port(self):
        """The HTTPS port (after start())."""
        if self._front is None:
            raise RuntimeError("the twin is not started")
        return self._front.port

    @property
    def url(self):
        """``https://127.0.0.1:<port>``."""
        return "https://127.0.0.1:%d" % self.port

    # ================================================================ credentials for clients
    def add_token(self, rules=None, name="lab-user", admin=False, token=None):
        """Register a bearer token; ``rules`` is an iterable of ``(verb, group, resource)``."""
        return self.tokens.add(Principal(name, rules=frozenset(rules or ()), admin=admin), token)

    def revoke_token(self, token):
        """Make ``token`` unknown (401 from then on)."""
        self.tokens.remove(token)

    def write_ca(self, path):
        """Write the lab CA bundle and return its path."""
        return self.ca.write_bundle(path)

    def kubeconfig(self, token=None, ca_path=None):
        """A kubeconfig dict for this server (CA embedded unless ``ca_path`` is given)."""
        cluster = {"server": self.url}
        if ca_path:
            cluster["certificate-authority"] = ca_path
        else:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca.cert_pem).decode()
        name = self._config["cluster_name"]
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": "admin/" + name, "user": {"token": token or self.admin_token}}],
            "contexts": [{"name": "admin/" + name, "context": {"cluster": name, "user": "admin/" + name, "namespace": "default"}}],
            "current-context": "admin/" + name,
            "preferences": {},
        }

    def write_kubeconfig(self, path, token=None):
        """Write a kubeconfig file (mode 0600) and return its path."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.kubeconfig(token), handle, default_flow_style=False, sort_keys=False)
        return path

    def env(self, directory, token=None):
        """What AAP's OpenShift credential injects, plus KUBECONFIG; files are written to ``directory``.

        ``token`` defaults to the admin token; pass ``twin.readonly_token`` for a read-only identity.
        """
        os.makedirs(directory, exist_ok=True)
        ca_path = self.write_ca(os.path.join(directory, "lab-ca.pem"))
        kubeconfig = self.write_kubeconfig(os.path.join(directory, "kubeconfig"), token)
        return {
            "K8S_AUTH_HOST": self.url,
            "K8S_AUTH_API_KEY": token or self.admin_token,
            "K8S_AUTH_SSL_CA_CERT": ca_path,
            "K8S_AUTH_VERIFY_SSL": "true",
            "KUBECONFIG": kubeconfig,
        }

    # ================================================================ objects
    @staticmethod
    def _rtype(kind_or_resource, group=None):
        for rtype in R.STORED:
            if kind_or_resource in (rtype.kind, rtype.resource) and (group is None or group == rtype.group):
                return rtype
        raise KeyError(kind_or_resource)

    def get(self, kind, name, namespace=""):
        """A copy of an object, or None (``kind`` is a Kind or a plural resource name)."""
        with self.store.lock:
            self.cluster.tick()
            obj = self.store.get(self._rtype(kind), namespace, name)
            return deep_copy(obj) if obj is not None else None

    def list(self, kind, namespace=None, label_selector=""):
        """Copies of objects of ``kind`` (optionally in a namespace, filtered by a label selector)."""
        predicate = machinery.parse_label_selector(label_selector)
        with self.store.lock:
            self.cluster.tick()
            return [deep_copy(o) for o in self.store.list(self._rtype(kind), namespace) if predicate(o["metadata"].get("labels"))]

    def apply(self, obj):
        """Create or replace an object directly (no auth, no faults); controllers run. Returns a copy."""
        rtype = next(rt for rt in R.STORED if rt.kind == obj["kind"] and rt.api_version == obj["apiVersion"])
        obj = deep_copy(obj)
        meta = obj["metadata"]
        with self.store.lock:
            self.cluster.tick()
            if rtype.namespaced:
                self.cluster.ensure_namespace(meta["namespace"])
            if rtype is R.SECRETS and "stringData" in obj:
                data = dict(obj.get("data") or {})
                data.update({k: base64.b64encode(v.encode()).decode() for k, v in obj.pop("stringData").items()})
                obj["data"] = data
            old = self.store.get(rtype, meta.get("namespace", ""), meta["name"])
            if old is None:
                if rtype is R.PODS:
                    obj = self.cluster.admit_pod(obj)
                return deep_copy(self.store.create(rtype, obj))
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            return deep_copy(self.store.update(rtype, obj))

    def delete(self, kind, name, namespace=""):
        """Delete an object directly (controllers run: a deployment's pod comes back)."""
        with self.store.lock:
            self.store.delete(self._rtype(kind), namespace, name)

    def ensure_namespace(self, name):
        """Create a namespace (with its default service account) if missing."""
        with self.store.lock:
            self.cluster.ensure_namespace(name)

    # ================================================================ CredentialsRequests
    def add_credentials_requests(self, requests="default", account_id=None, partition=None, role_arns=None,  # pylint: disable=too-many-arguments
                                 infra_name=None, workloads=True, regional=True, secrets=True, token_audience="openshift",
                                 token_expiration_seconds=3600):
        """Create CredentialsRequests, their ccoctl-style Secrets, service accounts and workloads.

        ``requests``: ``"default"`` (field notes §8), an int N (generated), or
        a list of CredentialsRequest dicts. ``role_arns`` maps a
        CredentialsRequest name to an ARN overriding ccoctl's naming.
        ``token_audience``/``token_expiration_seconds`` shape the workloads'
        projected token (OpenShift operators use ``openshift``/3600).
        Returns one summary dict per CredentialsRequest: ``name``,
        ``secret_namespace``, ``secret_name``, ``service_accounts``,
        ``role_name``, ``role_arn``.
        """
        if requests == "default":
            requests = creds.default_aws_credentials_requests()
        elif isinstance(requests, int):
            requests = creds.generated_credentials_requests(requests)
        account_id = account_id or self.account_id
        partition = partition or self.partition
        infra = infra_name or self.cluster.infra_name
        role_arns = role_arns or {}
        summary = []
        with self.store.lock:
            for request in requests:
                request = deep_copy(request)
                request.setdefault("metadata", {}).setdefault("namespace", creds.CCO_NAMESPACE)
                self.apply(request)
                ref = request["spec"]["secretRef"]
                name = creds.role_name(infra, request)
                arn = role_arns.get(request["metadata"]["name"]) or creds.role_arn(account_id, name, partition)
                self.cluster.ensure_namespace(ref["namespace"])
                if secrets:
                    self.apply(creds.credentials_secret(request, arn, regional))
                for sa_name in request["spec"].get("serviceAccountNames", []):
                    if self.store.get(R.SERVICEACCOUNTS, ref["namespace"], sa_name) is None:
                        self.store.create(R.SERVICEACCOUNTS, {"metadata": {"name": sa_name, "namespace": ref["namespace"]}})
                    if workloads and self.store.get(R.DEPLOYMENTS, ref["namespace"], sa_name) is None:
                        self.apply(creds.workload(ref["namespace"], sa_name, audience=token_audience,
                                                  expiration_seconds=token_expiration_seconds))
                summary.append({"name": request["metadata"]["name"], "secret_namespace": ref["namespace"], "secret_name": ref["name"],
                                "service_accounts": list(request["spec"].get("serviceAccountNames", [])),
                                "role_name": name, "role_arn": arn})
        return summary

    # ================================================================ issuer, keys, tokens
    @property
    def active_issuer(self):
        """The issuer new tokens carry now."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.active_issuer

    @property
    def trusted_issuers(self):
        """Issuers the API server accepts now (active first)."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.trusted_issuers

    @property
    def rollout_in_progress(self):
        """True while kube-apiserver is Progressing."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.rollout_in_progress

    @property
    def signing_key(self):
        """The private key new tokens are signed with (for writing install dirs: ``tls/bound-service-account-signing-key.key``)."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.signing_key.private

    @property
    def signing_key_id(self):
        """The kid of the key new tokens are signed with."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.signing_key.kid

    @property
    def operator_errors(self):
        """Errors the simulated kube-apiserver-operator hit (e.g. the 10-issuer cap)."""
        return list(self.cluster.operator_errors)

    def set_issuer(self, issuer):
        """Set ``Authentication/cluster`` ``spec.serviceAccountIssuer`` (as ``oc patch`` would)."""
        with self.store.lock:
            self.cluster.tick()
            auth = deep_copy(self.store.get(R.AUTHENTICATIONS, "", "cluster"))
            auth["spec"]["serviceAccountIssuer"] = issuer
            self.store.update(R.AUTHENTICATIONS, auth)

    def wait_for_rollout(self, timeout=30.0, poll=0.02):
        """Block until no rollout is in progress (real clock); returns True if it finished."""
        deadline = time.monotonic() + timeout
        while self.rollout_in_progress:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def rotate_signing_key(self, new_key=None):
        """Add a new signing key (old one stays trusted); it signs after the rollout. Returns its kid."""
        return self.cluster.rotate_signing_key(keymod.as_private_key(new_key) if new_key is not None else None)

    def untrust_key(self, kid):
        """Remove a key from the trusted set (JWKS and configmap)."""
        self.cluster.untrust_key(kid)

    def jwks(self):
        """The in-cluster ``/openid/v1/jwks`` document."""
        return self.cluster.jwks()

    def openid_configuration(self):
        """The in-cluster ``/.well-known/openid-configuration`` document."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.openid_configuration()

    def request_token(self, namespace, service_account, audiences=None, expiration_seconds=3600):
        """A TokenRequest done in-process; returns the token."""
        with self.store.lock:
            self.cluster.tick()
            return self.cluster.mint(namespace, service_account, audiences, expiration_seconds)[0]

    def pod_tokens(self, namespace, name):
        """Every projected token the pod holds: dicts with volume, path, audience, token, claims."""
        return self.cluster.pod_tokens(namespace, name)

    def pod_token(self, namespace, name, path="/var/run/secrets/openshift/serviceaccount/token"):
        """The token file at ``path`` in the pod (the first token if no mount has that path)."""
        records = self.pod_tokens(namespace, name)
        chosen = [r for r in records if r["path"] == path] or records
        return chosen[0] if chosen else None

    # ================================================================ faults and log
    def add_fault(self, pattern, status=500, count=1, method=None, delay=0.0, message=None):
        """Answer the next ``count`` requests matching ``pattern`` (regex on the path) with ``status``."""
        fault = Fault(pattern, status, count, method, delay)
        if message:
            fault.message = message
        with self._fault_lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        """Remove every fault."""
        with self._fault_lock:
            self._faults.clear()

    def take_fault(self, method, path):
        """The fault applying to this request (consuming one use), or None."""
        with self._fault_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    @property
    def requests(self):
        """The request log: entries with time, method, path, status, duration."""
        return self.log.entries()

    def request_count(self, method=None, path=None, status=None):
        """How many requests matched (``path`` is a regular expression)."""
        return self.log.count(method, path, status)

    def clear_log(self):
        """Empty the request log."""
        self.log.clear()


__all__ = ["ClusterTwin", "FakeClock", "DEFAULT_ISSUER"]
