"""OpenShift behaviour behind the API: operators, controllers, kubelet, token minting.

What runs here (all synchronously, under the store lock, when a write or a
clock tick makes it due):

* the namespace controller (``default`` service account, ``kube-root-ca.crt``;
  cascading deletion),
* the ServiceAccount admission plugin and a scheduler/kubelet that starts pods
  at once (``Running``) and mounts their projected tokens,
* the deployment and replica-set controllers (a deleted pod comes back with a
  new name, start time and token),
* the kube-apiserver-operator's ServiceAccountIssuerController (field notes
  §7.1: ``status.serviceAccountIssuers``, 24 h grace, cap of 10, pruning) and
  its static-pod rollout (ClusterOperator ``kube-apiserver`` Progressing for
  ``rollout_seconds``),
* the bound-token signer: what kube-apiserver's TokenRequest and the kubelet
  use, with the issuer and key of the kube-apiserver revision in force.
"""

import base64
import hashlib
import uuid

from . import keys as keymod
from . import machinery
from . import resources as R
from .store import deep_copy

DEFAULT_ISSUER = "https://kubernetes.default.svc"
GRACE_SECONDS = 24 * 3600
MAX_ISSUERS = 10
OPENSHIFT_TOKEN_DIR = "/var/run/secrets/openshift/serviceaccount"
KUBE_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
OPERATOR_NS = "openshift-kube-apiserver-operator"
KAS_NS = "openshift-kube-apiserver"
NEXT_KEY_SECRET = "next-bound-service-account-signing-key"
BOUND_CERTS_CM = "bound-sa-token-signing-certs"
NODES = ("ip-10-0-23-41.ec2.internal", "ip-10-0-47-118.ec2.internal", "ip-10-0-71-9.ec2.internal")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"

BASE_NAMESPACES = (
    "default", "kube-system", "kube-public", "openshift", "openshift-config", "openshift-config-managed",
    OPERATOR_NS, KAS_NS, "openshift-cloud-credential-operator", "openshift-authentication",
)


def safe_suffix(seed, length):
    """A kube-style random suffix (bcdf... alphabet) derived from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:length])


def _b64(text):
    return base64.b64encode(text.encode()).decode()


class TrustedKey:
    """A key kube-apiserver trusts; ``private`` is None for public-only keys."""

    def __init__(self, key, source):
        if isinstance(key, (str, bytes)):
            text = key.decode() if isinstance(key, bytes) else key
            key = keymod.load_private_key(text) if "PRIVATE" in text else _load_public(text)
        self.private = key if hasattr(key, "sign") else None
        self.public = key.public_key() if self.private is not None else key
        self.kid = keymod.key_id(self.public)
        self.source = source


def _load_public(text):
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    return serialization.load_pem_public_key(text.encode())


class Cluster:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """The simulated control plane; see the module docstring."""

    def __init__(self, store, clock, issuer, signing_keys, legacy_keys=(), rollout_seconds=2.0,
                 kubelet_refresh=True, cluster_name="lab", base_domain="example.com", infra_name=None, region="us-east-1"):
        self.store = store
        self.clock = clock
        self.rollout_seconds = rollout_seconds
        self.kubelet_refresh = kubelet_refresh
        self.cluster_name = cluster_name
        self.base_domain = base_domain
        self.infra_name = infra_name or cluster_name + "-" + safe_suffix(cluster_name, 5)
        self.region = region
        self.initial_issuer = issuer or ""
        # bound-sa-token-signing-certs order: oldest first, current last.
        self.bound_keys = [TrustedKey(k, "bound") for k in signing_keys]
        self.legacy_keys = [TrustedKey(k, "legacy") for k in legacy_keys]
        self.next_key = self.bound_keys[-1]
        if self.next_key.private is None:
            raise ValueError("the current signing key needs its private key")
        self.operator_errors = []
        self._pod_tokens = {}
        self._node_uids = {node: str(uuid.uuid5(uuid.NAMESPACE_DNS, node)) for node in NODES}
        self._kas = None
        self._pending = None
        self._ticking = False
        store.listeners.append(self._on_change)

    # ================================================================ bootstrap
    @property
    def api_internal_url(self):
        """``https://api-int.<cluster domain>:6443`` (jwks_uri base for the default issuer)."""
        return "https://api-int.%s.%s:6443" % (self.cluster_name, self.base_domain)

    def bootstrap(self):
        """Create the objects an installed cluster has."""
        store = self.store
        with store.lock:
            for name in BASE_NAMESPACES:
                self.ensure_namespace(name)
            store.create(R.AUTHENTICATIONS, {
                "metadata": {"name": "cluster", "annotations": {"include.release.openshift.io/self-managed-high-availability": "true",
                                                                "release.openshift.io/create-only": "true"}},
                "spec": {"oauthMetadata": {"name": ""}, "serviceAccountIssuer": self.initial_issuer, "type": "",
                         "webhookTokenAuthenticator": {"kubeConfig": {"name": "webhook-authentication-integrated-oauth"}}},
                "status": {"integratedOAuthMetadata": {"name": "oauth-openshift"}},
            }, notify=False)
            # Infrastructure/cluster as the installer writes it (manifests/cluster-infrastructure-02-config.yml).
            store.create(R.INFRASTRUCTURES, {
                "metadata": {"name": "cluster"},
                "spec": {"cloudConfig": {"name": ""}, "platformSpec": {"type": "AWS", "aws": {}}},
                "status": {
                    "apiServerURL": "https://api.%s.%s:6443" % (self.cluster_name, self.base_domain),
                    "apiServerInternalURI": self.api_internal_url,
                    "controlPlaneTopology": "HighlyAvailable",
                    "cpuPartitioning": "None",
                    "etcdDiscoveryDomain": "",
                    "infrastructureName": self.infra_name,
                    "infrastructureTopology": "HighlyAvailable",
                    "platform": "AWS",
                    "platformStatus": {"type": "AWS", "aws": {"region": self.region}},
                },
            }, notify=False)
            issuers = [{"name": self.initial_issuer or DEFAULT_ISSUER}]
            now = machinery.rfc3339(self.clock())
            store.create(R.KUBEAPISERVERS, {
                "metadata": {"name": "cluster", "annotations": {"include.release.openshift.io/self-managed-high-availability": "true"}},
                "spec": {"logLevel": "Normal", "managementState": "Managed", "operatorLogLevel": "Normal"},
                "status": {
                    "latestAvailableRevision": 7,
                    "latestAvailableRevisionReason": "",
                    "nodeStatuses": [{"nodeName": n, "currentRevision": 7} for n in NODES],
                    "readyReplicas": 0,
                    "serviceAccountIssuers": issuers,
                    "conditions": [
                        {"type": "NodeInstallerProgressing", "status": "False", "reason": "AllNodesAtLatestRevision",
                         "message": "3 nodes are at revision 7", "lastTransitionTime": now},
                        {"type": "NodeInstallerDegraded", "status": "False", "lastTransitionTime": now},
                        {"type": "StaticPodsAvailable", "status": "True", "reason": "AsExpected",
                         "message": "3 nodes are active; 3 nodes are at revision 7", "lastTransitionTime": now},
                    ],
                },
            }, notify=False)
            for name, version in (("kube-apiserver", "1.31.6"), ("authentication", "4.18.9"), ("cloud-credential", "4.18.9")):
                store.create(R.CLUSTEROPERATORS, {
                    "metadata": {"name": name, "annotations": {"include.release.openshift.io/self-managed-high-availability": "true"}},
                    "spec": {},
                    "status": {
                        "conditions": self._co_conditions(name, progressing=False, revision=7, now=now),
                        "versions": [{"name": "raw-internal", "version": "4.18.9"}, {"name": "operator", "version": "4.18.9"}]
                        + ([{"name": "kube-apiserver", "version": version}] if name == "kube-apiserver" else []),
                        "relatedObjects": [{"group": "operator.openshift.io", "resource": "kubeapiservers", "name": "cluster"}]
                        if name == "kube-apiserver" else [],
                    },
                }, notify=False)
            self._write_key_objects()
            self._kas = {"revision": 7, "issuers": [i["name"] for i in issuers], "signing_key": self.next_key}

    def ensure_namespace(self, name, labels=None):
        """Create a namespace if missing (with its default service account)."""
        if self.store.get(R.NAMESPACES, "", name) is None:
            meta = {"name": name, "labels": dict({"kubernetes.io/metadata.name": name}, **(labels or {}))}
            self.store.create(R.NAMESPACES, {"metadata": meta, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def _write_key_objects(self):
        """The key secret and the numbered public-key configmap (field notes §6.5)."""
        store = self.store
        secret = {
            "metadata": {"name": NEXT_KEY_SECRET, "namespace": OPERATOR_NS,
                         "annotations": {"openshift.io/owning-component": "kube-apiserver"}},
            "type": "Opaque",
            "data": {"service-account.key": _b64(keymod.private_pem(self.next_key.private)),
                     "service-account.pub": _b64(keymod.public_pem(self.next_key.public))},
        }
        existing = store.get(R.SECRETS, OPERATOR_NS, NEXT_KEY_SECRET)
        if existing is None:
            store.create(R.SECRETS, secret, notify=False)
        else:
            secret["metadata"] = dict(existing["metadata"])
            store.update(R.SECRETS, secret, notify=False)
        data = {"service-account-%03d.pub" % (i + 1): keymod.public_pem(k.public) for i, k in enumerate(self.bound_keys)}
        configmap = {"metadata": {"name": BOUND_CERTS_CM, "namespace": KAS_NS,
                                  "annotations": {"openshift.io/owning-component": "kube-apiserver"}}, "data": data}
        existing = store.get(R.CONFIGMAPS, KAS_NS, BOUND_CERTS_CM)
        if existing is None:
            store.create(R.CONFIGMAPS, configmap, notify=False)
        else:
            configmap["metadata"] = dict(existing["metadata"])
            store.update(R.CONFIGMAPS, configmap, notify=False)
        if self.legacy_keys:
            legacy = {"metadata": {"name": "sa-token-signing-certs", "namespace": KAS_NS},
                      "data": {"service-account-%03d.pub" % (i + 1): keymod.public_pem(k.public) for i, k in enumerate(self.legacy_keys)}}
            if store.get(R.CONFIGMAPS, KAS_NS, "sa-token-signing-certs") is None:
                store.create(R.CONFIGMAPS, legacy, notify=False)

    # ================================================================ views of the KAS in force
    @property
    def active_issuer(self):
        """The issuer new tokens carry (the KAS revision in force)."""
        return self._kas["issuers"][0]

    @property
    def api_audiences(self):
        """kube-apiserver ``--api-audiences`` (= the issuer list)."""
        return list(self._kas["issuers"])

    @property
    def trusted_issuers(self):
        """Issuers kube-apiserver accepts in tokens."""
        return list(self._kas["issuers"])

    @property
    def signing_key(self):
        """The key new tokens are signed with."""
        return self._kas["signing_key"]

    @property
    def revision(self):
        """The kube-apiserver revision in force."""
        return self._kas["revision"]

    @property
    def rollout_in_progress(self):
        """True while a new revision is rolling out."""
        return self._pending is not None

    def trusted_keys(self):
        """All keys in the JWKS, in configmap order (legacy first)."""
        return self.legacy_keys + self.bound_keys

    def jwks(self):
        """The document served at ``/openid/v1/jwks``."""
        return {"keys": [keymod.jwk(k.public) for k in self.trusted_keys()]}

    def openid_configuration(self):
        """The document served at ``/.well-known/openid-configuration``."""
        issuer = self.active_issuer
        base = self.api_internal_url if issuer == DEFAULT_ISSUER else issuer
        return {
            "issuer": issuer,
            "jwks_uri": base + "/openid/v1/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    # ================================================================ clock-driven work
    def tick(self):
        """Run what is due: finish a rollout, prune expired trusted issuers."""
        with self.store.lock:
            if self._ticking:  # re-entered from a controller this tick started
                return
            self._ticking = True
            try:
                if self._pending is not None and self.clock() >= self._pending["deadline"]:
                    self._complete_rollout()
                self._sync_issuers()
            finally:
                self._ticking = False

    # ================================================================ issuer controller
    def _sync_issuers(self):
        """ServiceAccountIssuerController.sync (field notes §7.1)."""
        auth = self.store.get(R.AUTHENTICATIONS, "", "cluster")
        kas = self.store.get(R.KUBEAPISERVERS, "", "cluster")
        if auth is None or kas is None:
            return
        desired = (auth.get("spec") or {}).get("serviceAccountIssuer") or ""
        current = list((kas.get("status") or {}).get("serviceAccountIssuers") or [])
        if not desired and len(current) == 1 and current[0]["name"] == DEFAULT_ISSUER:
            return
        if not desired or not current:
            self._set_issuers(kas, [{"name": DEFAULT_ISSUER}], "Issuer set to default value %r" % DEFAULT_ISSUER)
            return
        active = next((i["name"] for i in current if not i.get("expirationTime")), "")
        if not active:
            self._make_trusted(kas, current, desired, desired)
            return
        if desired == active:
            now = self.clock()
            keep = [i for i in current if not i.get("expirationTime") or machinery.parse_rfc3339(i["expirationTime"]) > now]
            if len(keep) != len(current):
                pruned = [i["name"] for i in current if i not in keep]
                self._set_issuers(kas, keep, "The following service account issuers were pruned and are no longer trusted: "
                                  + ",".join(pruned))
            return
        self._make_trusted(kas, current, active, desired)

    def _make_trusted(self, kas, current, old, new):
        updated = [{"name": new}]
        expiration = machinery.rfc3339(self.clock() + GRACE_SECONDS)
        for entry in current:
            if not entry.get("expirationTime") and entry["name"] == old:
                updated.append({"name": old, "expirationTime": expiration})
                continue
            if entry["name"] == new:
                continue
            updated.append(entry)
        if len(updated) > MAX_ISSUERS:
            message = "unable to configure more than 10 trusted service account issuers at the time, please wait until old issuers expire"
            if not self.operator_errors or self.operator_errors[-1] != message:
                self.operator_errors.append(message)
                self.event(OPERATOR_NS, "kube-apiserver-operator", "ServiceAccountIssuerControllerError", message, "Warning")
            return
        self._set_issuers(kas, updated, "Desired ServiceAccountIssuer %r is now active issuer. Previous issuer %r is trusted until %s"
                          % (new, old, expiration))

    def _set_issuers(self, kas, issuers, message):
        kas = deep_copy(kas)
        kas["status"]["serviceAccountIssuers"] = issuers
        self.store.update(R.KUBEAPISERVERS, kas, notify=False)
        self.event(OPERATOR_NS, "kube-apiserver-operator", "ServiceAccountIssuer", message)
        self.start_rollout("configmap/config has changed")

    # ================================================================ rollout
    def start_rollout(self, reason):
        """A new kube-apiserver revision: Progressing until ``rollout_seconds`` pass."""
        kas = deep_copy(self.store.get(R.KUBEAPISERVERS, "", "cluster"))
        revision = kas["status"].get("latestAvailableRevision", 7) + 1
        kas["status"]["latestAvailableRevision"] = revision
        kas["status"]["latestAvailableRevisionReason"] = reason
        now = self.clock()
        stamp = machinery.rfc3339(now)
        current = self._kas["revision"] if self._kas else revision - 1
        _set_condition(kas["status"], "NodeInstallerProgressing", "True", "NodeInstaller",
                       "3 nodes are at revision %d; 0 nodes have achieved new revision %d" % (current, revision), stamp)
        self.store.update(R.KUBEAPISERVERS, kas, notify=False)
        self._pending = {"revision": revision, "deadline": now + self.rollout_seconds,
                         "issuers": [i["name"] for i in kas["status"]["serviceAccountIssuers"]], "signing_key": self.next_key}
        self._update_co("kube-apiserver", progressing=True, revision=revision, current=current, now=stamp)
        self.event(OPERATOR_NS, "kube-apiserver-operator", "RevisionTriggered", "new revision %d triggered by %r" % (revision, reason))
        if self.rollout_seconds <= 0:
            self._complete_rollout()

    def _complete_rollout(self):
        pending, self._pending = self._pending, None
        self._kas = {"revision": pending["revision"], "issuers": pending["issuers"], "signing_key": pending["signing_key"]}
        stamp = machinery.rfc3339(pending["deadline"])
        kas = deep_copy(self.store.get(R.KUBEAPISERVERS, "", "cluster"))
        kas["status"]["nodeStatuses"] = [{"nodeName": n, "currentRevision": pending["revision"]} for n in NODES]
        _set_condition(kas["status"], "NodeInstallerProgressing", "False", "AllNodesAtLatestRevision",
                       "3 nodes are at revision %d" % pending["revision"], stamp)
        _set_condition(kas["status"], "StaticPodsAvailable", "True", "AsExpected",
                       "3 nodes are active; 3 nodes are at revision %d" % pending["revision"], stamp)
        self.store.update(R.KUBEAPISERVERS, kas, notify=False)
        self._update_co("kube-apiserver", progressing=False, revision=pending["revision"], current=pending["revision"], now=stamp)

    def _co_conditions(self, name, progressing, revision, now, current=None):
        if name != "kube-apiserver":
            return [
                {"type": "Degraded", "status": "False", "reason": "AsExpected", "lastTransitionTime": now},
                {"type": "Progressing", "status": "False", "reason": "AsExpected", "lastTransitionTime": now},
                {"type": "Available", "status": "True", "reason": "AsExpected", "lastTransitionTime": now},
                {"type": "Upgradeable", "status": "True", "reason": "AsExpected", "lastTransitionTime": now},
            ]
        if progressing:
            prog = {"type": "Progressing", "status": "True", "reason": "NodeInstaller",
                    "message": "NodeInstallerProgressing: 3 nodes are at revision %d; 0 nodes have achieved new revision %d"
                    % (current, revision), "lastTransitionTime": now}
        else:
            prog = {"type": "Progressing", "status": "False", "reason": "AsExpected",
                    "message": "NodeInstallerProgressing: 3 nodes are at revision %d" % revision, "lastTransitionTime": now}
        return [
            {"type": "Degraded", "status": "False", "reason": "AsExpected", "message": "NodeControllerDegraded: All master nodes are ready",
             "lastTransitionTime": now},
            prog,
            {"type": "Available", "status": "True", "reason": "AsExpected",
             "message": "StaticPodsAvailable: 3 nodes are active; 3 nodes are at revision %d" % (current if progressing else revision),
             "lastTransitionTime": now},
            {"type": "Upgradeable", "status": "True", "reason": "AsExpected", "message": "All is well", "lastTransitionTime": now},
            {"type": "EvaluationConditionsDetected", "status": "False", "reason": "AsExpected", "message": "All is well",
             "lastTransitionTime": now},
        ]

    def _update_co(self, name, progressing, revision, current, now):
        operator = deep_copy(self.store.get(R.CLUSTEROPERATORS, "", name))
        old = {c["type"]: c for c in operator["status"].get("conditions", [])}
        conditions = self._co_conditions(name, progressing, revision, now, current)
        for condition in conditions:
            previous = old.get(condition["type"])
            if previous and previous["status"] == condition["status"]:
                condition["lastTransitionTime"] = previous["lastTransitionTime"]
        operator["status"]["conditions"] = conditions
        self.store.update(R.CLUSTEROPERATORS, operator, notify=False)

    # ================================================================ key rotation
    def rotate_signing_key(self, new_key=None):
        """Rotate the bound-token signing key as the operator does when the key secret is deleted.

        The new key is added to ``bound-sa-token-signing-certs`` (the old one
        stays trusted) and signs tokens once the new revision has rolled out.
        """
        with self.store.lock:
            trusted = TrustedKey(new_key if new_key is not None else keymod.generate_key(), "bound")
            self.bound_keys.append(trusted)
            self.next_key = trusted
            self._write_key_objects()
            self.start_rollout("secret/next-bound-service-account-signing-key has changed")
            return trusted.kid

    def untrust_key(self, kid):
        """Drop a no-longer-current key from the trusted set (and the configmap)."""
        with self.store.lock:
            if kid == self.next_key.kid or kid == self.signing_key.kid:
                raise ValueError("cannot untrust the signing key")
            self.bound_keys = [k for k in self.bound_keys if k.kid != kid]
            self.legacy_keys = [k for k in self.legacy_keys if k.kid != kid]
            self._write_key_objects()

    # ================================================================ events
    def event(self, namespace, involved, reason, message, event_type="Normal"):
        """Record a core/v1 Event."""
        now = machinery.rfc3339(self.clock())
        name = "%s.%s" % (involved, uuid.uuid4().hex[:16])
        self.store.create(R.EVENTS, {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "Deployment", "namespace": namespace, "name": involved, "apiVersion": "apps/v1"},
            "reason": reason, "message": message, "type": event_type, "count": 1,
            "firstTimestamp": now, "lastTimestamp": now, "source": {"component": involved},
            "reportingComponent": involved, "reportingInstance": "",
        }, notify=False)

    # ================================================================ tokens
    def mint(self, namespace, sa_name, audiences=None, expiration_seconds=3600, pod=None, secret=None, at=None):
        """Sign a bound token as kube-apiserver would now; returns ``(token, claims)``."""
        sa = self.store.require(R.SERVICEACCOUNTS, namespace, sa_name)
        now = int(self.clock() if at is None else at)
        claims_k8s = {"namespace": namespace}
        exp = now + int(expiration_seconds)
        warn_after = None
        if pod is not None:
            node = pod.get("spec", {}).get("nodeName")
            if node:
                claims_k8s["node"] = {"name": node, "uid": self._node_uids.get(node, str(uuid.uuid5(uuid.NAMESPACE_DNS, node)))}
            claims_k8s["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
            if int(expiration_seconds) == 3607:
                # --service-account-extend-token-expiration (default on): kube-api-access tokens live 1 year.
                warn_after = now + 3607
                exp = now + 365 * 24 * 3600
        if secret is not None:
            claims_k8s["secret"] = {"name": secret["metadata"]["name"], "uid": secret["metadata"]["uid"]}
        claims_k8s["serviceaccount"] = {"name": sa_name, "uid": sa["metadata"]["uid"]}
        if warn_after:
            claims_k8s["warnafter"] = warn_after
        claims = {
            "aud": list(audiences) if audiences else self.api_audiences,
            "exp": exp,
            "iat": now,
            "iss": self.active_issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": claims_k8s,
            "nbf": now,
            "sub": "system:serviceaccount:%s:%s" % (namespace, sa_name),
        }
        return keymod.sign_jwt(self.signing_key.private, claims), claims

    def review(self, token, audiences=None):
        """TokenReview: ``(user dict, audiences)`` or raises ValueError with the reason."""
        public = {k.kid: k.public for k in self.trusted_keys()}
        try:
            _header, claims = keymod.verify_signature(token, public)
        except (ValueError, KeyError) as error:
            raise ValueError("invalid bearer token, %s" % error) from error
        if claims.get("iss") not in self.trusted_issuers:
            raise ValueError("invalid bearer token, token issuer %r not trusted" % claims.get("iss"))
        if claims.get("exp", 0) < self.clock():
            raise ValueError("invalid bearer token, service account token has expired")
        wanted = list(audiences) if audiences else self.api_audiences
        aud = claims.get("aud") or []
        aud = [aud] if isinstance(aud, str) else aud
        matched = [a for a in aud if a in wanted]
        if not matched:
            raise ValueError("invalid bearer token, token audiences %s is invalid for the target audiences %s" % (aud, wanted))
        info = claims.get("kubernetes.io") or {}
        namespace = info.get("namespace", "")
        sa_info = info.get("serviceaccount") or {}
        sa = self.store.get(R.SERVICEACCOUNTS, namespace, sa_info.get("name", ""))
        if sa is None or sa["metadata"]["uid"] != sa_info.get("uid"):
            raise ValueError("invalid bearer token, service account %s/%s has been deleted" % (namespace, sa_info.get("name")))
        pod_info = info.get("pod")
        if pod_info:
            pod = self.store.get(R.PODS, namespace, pod_info.get("name", ""))
            if pod is None or pod["metadata"]["uid"] != pod_info.get("uid"):
                raise ValueError("invalid bearer token, pod %s/%s has been deleted" % (namespace, pod_info.get("name")))
        user = {"username": claims["sub"], "uid": sa_info.get("uid"),
                "groups": ["system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"]}
        return user, matched

    # ================================================================ pods and their tokens
    def admit_pod(self, pod):
        """ServiceAccount admission + scheduling; mutates and returns ``pod`` (raises 403)."""
        meta = pod.setdefault("metadata", {})
        namespace = meta.get("namespace", "")
        spec = pod.setdefault("spec", {})
        sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = spec["serviceAccount"] = sa_name
        if self.store.get(R.SERVICEACCOUNTS, namespace, sa_name) is None:
            raise machinery.ApiError(403, "Forbidden", 'pods "%s" is forbidden: error looking up service account %s/%s: serviceaccount "%s" not found'
                                     % (meta.get("name") or meta.get("generateName", ""), namespace, sa_name, sa_name),
                                     {"name": meta.get("name", ""), "kind": "pods"})
        volumes = spec.setdefault("volumes", [])
        if spec.get("automountServiceAccountToken", True) and not any(v.get("name", "").startswith("kube-api-access-") for v in volumes):
            volume_name = "kube-api-access-" + safe_suffix(uuid.uuid4().hex, 5)
            volumes.append({"name": volume_name, "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ]}})
            for container in spec.get("containers", []):
                container.setdefault("volumeMounts", []).append({"name": volume_name, "readOnly": True, "mountPath": KUBE_TOKEN_DIR})
        if not spec.get("nodeName"):
            spec["nodeName"] = NODES[int(hashlib.sha256((meta.get("name") or uuid.uuid4().hex).encode()).hexdigest(), 16) % len(NODES)]
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        pod.pop("status", None)
        return pod

    def _start_pod(self, pod):
        """The kubelet: pod Running, tokens mounted at the start time."""
        now = self.clock()
        stamp = machinery.rfc3339(now)
        node_index = NODES.index(pod["spec"]["nodeName"]) if pod["spec"].get("nodeName") in NODES else 0
        pod = deep_copy(pod)
        containers = pod["spec"].get("containers", [])
        pod["status"] = {
            "phase": "Running",
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "hostIP": "10.0.%d.%d" % (23 + 24 * node_index, 41 + node_index),
            "podIP": "10.128.%d.%d" % (node_index * 2, 10 + int(pod["metadata"]["uid"][:2], 16) % 240),
            "startTime": stamp,
            "qosClass": "BestEffort",
            "containerStatuses": [{"name": c.get("name", "main"), "ready": True, "started": True, "restartCount": 0,
                                   "image": c.get("image", ""), "imageID": "", "containerID": "cri-o://" + uuid.uuid4().hex * 2,
                                   "state": {"running": {"startedAt": stamp}}} for c in containers],
        }
        self.store.update(R.PODS, pod, notify=False)
        self._pod_tokens[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = self._mount_tokens(pod, now)

    def _mount_tokens(self, pod, now):
        mounts = {}
        for container in pod["spec"].get("containers", []):
            for mount in container.get("volumeMounts", []):
                mounts.setdefault(mount["name"], mount["mountPath"])
        records = []
        for volume in pod["spec"].get("volumes", []):
            for source in (volume.get("projected") or {}).get("sources", []):
                sat = source.get("serviceAccountToken")
                if sat is None:
                    continue
                mount_path = mounts.get(volume["name"], "")
                record = {"volume": volume["name"], "path": (mount_path.rstrip("/") + "/" + sat.get("path", "token")) if mount_path else "",
                          "audience": sat.get("audience"), "expirationSeconds": int(sat.get("expirationSeconds", 3600))}
                self._refresh_record(pod, record, now)
                records.append(record)
        return records

    def _refresh_record(self, pod, record, now):
        audiences = [record["audience"]] if record["audience"] else None
        token, claims = self.mint(pod["metadata"]["namespace"], pod["spec"]["serviceAccountName"], audiences,
                                  record["expirationSeconds"], pod=pod, at=now)
        record.update(token=token, claims=claims, mountedAt=int(now))

    def pod_tokens(self, namespace, name):
        """The tokens a running pod holds (kubelet refresh applied); raises NotFound."""
        with self.store.lock:
            self.tick()
            pod = self.store.require(R.PODS, namespace, name)
            records = self._pod_tokens.get((namespace, name), [])
            now = self.clock()
            for record in records:
                claims = record["claims"]
                ttl = claims.get("kubernetes.io", {}).get("warnafter", claims["exp"]) - claims["iat"]
                if self.kubelet_refresh and (now - claims["iat"] > 0.8 * ttl or now - claims["iat"] > 24 * 3600):
                    self._refresh_record(pod, record, now)
            return [dict(r) for r in records]

    # ================================================================ workload controllers
    def _on_change(self, rtype, event, old, new):  # pylint: disable=too-many-branches
        if rtype is R.NAMESPACES and event == "ADDED":
            ns = new["metadata"]["name"]
            if self.store.get(R.SERVICEACCOUNTS, ns, "default") is None:
                self.store.create(R.SERVICEACCOUNTS, {"metadata": {"name": "default", "namespace": ns}})
            if self.store.get(R.CONFIGMAPS, ns, "kube-root-ca.crt") is None:
                self.store.create(R.CONFIGMAPS, {"metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                                                              "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used "
                                                                              "to verify the kube-apiserver when using internal endpoints such as the "
                                                                              "internal service IP or kubernetes.default.svc. No other usage is "
                                                                              "guaranteed across distributions of Kubernetes clusters."}},
                                                 "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(lab)\n-----END CERTIFICATE-----\n"}})
        elif rtype is R.NAMESPACES and event == "DELETED":
            ns = old["metadata"]["name"]
            for other in R.STORED:
                if other.namespaced:
                    for obj in self.store.list(other, ns):
                        self.store.delete(other, ns, obj["metadata"]["name"], notify=False)
            for key in [key for key in self._pod_tokens if key[0] == ns]:
                del self._pod_tokens[key]
        elif rtype is R.AUTHENTICATIONS and new is not None and new["metadata"]["name"] == "cluster":
            if old is None or (old.get("spec") or {}).get("serviceAccountIssuer") != (new.get("spec") or {}).get("serviceAccountIssuer"):
                self._sync_issuers()
        elif rtype is R.PODS and event == "ADDED":
            self._start_pod(new)
        elif rtype is R.PODS and event == "DELETED":
            self._pod_tokens.pop((old["metadata"]["namespace"], old["metadata"]["name"]), None)
            owner = _controller_ref(old)
            if owner and owner["kind"] == "ReplicaSet":
                rs = self.store.get(R.REPLICASETS, old["metadata"]["namespace"], owner["name"])
                if rs is not None:
                    self._reconcile_rs(rs)
        elif rtype is R.DEPLOYMENTS and event in ("ADDED", "MODIFIED"):
            if old is None or old.get("spec") != new.get("spec"):
                self._reconcile_deployment(new)
        elif rtype is R.DEPLOYMENTS and event == "DELETED":
            self._cascade(old, R.REPLICASETS)
        elif rtype is R.REPLICASETS and event in ("ADDED", "MODIFIED"):
            if old is None or old.get("spec") != new.get("spec"):
                self._reconcile_rs(new)
        elif rtype is R.REPLICASETS and event == "DELETED":
            self._cascade(old, R.PODS)
        elif rtype is R.SECRETS and event == "DELETED" and old["metadata"]["namespace"] == OPERATOR_NS \
                and old["metadata"]["name"] == NEXT_KEY_SECRET:
            self.rotate_signing_key()

    def _cascade(self, owner, child_type):
        uid = owner["metadata"]["uid"]
        for child in self.store.list(child_type, owner["metadata"]["namespace"]):
            if any(ref.get("uid") == uid for ref in child["metadata"].get("ownerReferences", [])):
                self.store.delete(child_type, child["metadata"]["namespace"], child["metadata"]["name"])

    def _reconcile_deployment(self, deployment):
        ns = deployment["metadata"]["namespace"]
        template = deployment["spec"].get("template", {})
        template_hash = safe_suffix(str(sorted(_flatten(template))), 10)
        rs_name = "%s-%s" % (deployment["metadata"]["name"], template_hash)
        replicas = deployment["spec"].get("replicas", 1)
        owner_ref = _owner_ref(deployment)
        for rs in self.store.list(R.REPLICASETS, ns):
            if _controller_ref(rs) and _controller_ref(rs)["uid"] == owner_ref["uid"] and rs["metadata"]["name"] != rs_name \
                    and rs["spec"].get("replicas", 0) != 0:
                scaled = deep_copy(rs)
                scaled["spec"]["replicas"] = 0
                self.store.update(R.REPLICASETS, scaled)
        existing = self.store.get(R.REPLICASETS, ns, rs_name)
        if existing is None:
            labels = dict(template.get("metadata", {}).get("labels", {}), **{"pod-template-hash": template_hash})
            rs_template = deep_copy(template)
            rs_template.setdefault("metadata", {})["labels"] = labels
            selector = deep_copy(deployment["spec"].get("selector") or {"matchLabels": {}})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
            self.store.create(R.REPLICASETS, {
                "metadata": {"name": rs_name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref],
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/revision": "1"}},
                "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
            })
        elif existing["spec"].get("replicas") != replicas:
            scaled = deep_copy(existing)
            scaled["spec"]["replicas"] = replicas
            self.store.update(R.REPLICASETS, scaled)
        current = self.store.get(R.DEPLOYMENTS, ns, deployment["metadata"]["name"])
        if current is not None:
            updated = deep_copy(current)
            stamp = machinery.rfc3339(self.clock())
            updated["status"] = {
                "observedGeneration": current["metadata"].get("generation", 1), "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability.", "lastUpdateTime": stamp, "lastTransitionTime": stamp},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                     "message": 'ReplicaSet "%s" has successfully progressed.' % rs_name, "lastUpdateTime": stamp,
                     "lastTransitionTime": stamp},
                ],
            }
            self.store.update(R.DEPLOYMENTS, updated, notify=False)

    def _reconcile_rs(self, rs):
        ns = rs["metadata"]["namespace"]
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.store.list(R.PODS, ns) if (_controller_ref(p) or {}).get("uid") == uid]
        want = rs["spec"].get("replicas", 1)
        for pod in pods[want:]:
            self.store.delete(R.PODS, ns, pod["metadata"]["name"])
        for _index in range(want - len(pods)):
            template = deep_copy(rs["spec"].get("template", {}))
            meta = template.get("metadata", {})
            name = "%s-%s" % (rs["metadata"]["name"], safe_suffix(uuid.uuid4().hex, 5))
            pod = {"metadata": {"name": name, "generateName": rs["metadata"]["name"] + "-", "namespace": ns,
                                "labels": meta.get("labels", {}), "annotations": meta.get("annotations", {}),
                                "ownerReferences": [_owner_ref(rs)]},
                   "spec": template.get("spec", {})}
            self.store.create(R.PODS, self.admit_pod(pod))
        current = self.store.get(R.REPLICASETS, ns, rs["metadata"]["name"])
        if current is not None:
            updated = deep_copy(current)
            updated["status"] = {"replicas": want, "fullyLabeledReplicas": want, "readyReplicas": want, "availableReplicas": want,
                                 "observedGeneration": current["metadata"].get("generation", 1)}
            self.store.update(R.REPLICASETS, updated, notify=False)


def _set_condition(status, ctype, value, reason, message, stamp):
    conditions = status.setdefault("conditions", [])
    for condition in conditions:
        if condition["type"] == ctype:
            if condition.get("status") != value:
                condition["lastTransitionTime"] = stamp
            condition.update(status=value, reason=reason, message=message)
            return
    conditions.append({"type": ctype, "status": value, "reason": reason, "message": message, "lastTransitionTime": stamp})


def _owner_ref(obj):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _controller_ref(obj):
    for ref in obj.get("metadata", {}).get("ownerReferences", []):
        if ref.get("controller"):
            return ref
    return None


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, prefix + "/" + key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, "%s/%d" % (prefix, index))
    else:
        yield (prefix, repr(value))
