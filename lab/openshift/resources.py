"""The kinds the twin serves and their discovery documents.

Discovery follows kube-apiserver's legacy (non-aggregated) discovery:
``/api`` (APIVersions), ``/api/v1`` and ``/apis/<group>/<version>``
(APIResourceList), ``/apis`` (APIGroupList) and ``/apis/<group>`` (APIGroup).
The kubernetes Python client and kubernetes.core only use these.
"""

import dataclasses

READ = ["get", "list", "watch"]
CRUD = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_STATUS = ["get", "patch", "update"]


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """One served resource (a plural name in a group version)."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    verbs: tuple = tuple(CRUD)
    status_subresource: bool = False
    custom: bool = False        # a CRD in OpenShift: no strategic merge patch
    has_spec: bool = False      # metadata.generation tracks spec changes
    categories: tuple = ()

    @property
    def api_version(self):
        """``v1`` or ``group/version``."""
        return self.group + "/" + self.version if self.group else self.version

    @property
    def singular(self):
        """The singular name (the lower-case kind)."""
        return self.kind.lower()

    def discovery(self):
        """The APIResource entries (the resource and its subresources)."""
        entry = {
            "name": self.resource,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status_subresource:
            entries.append({"name": self.resource + "/status", "singularName": "", "namespaced": self.namespaced,
                            "kind": self.kind, "verbs": SUBRESOURCE_STATUS})
        return entries


NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False, ("ns",), ("create", "delete", "get", "list", "patch", "update", "watch"),
                          status_subresource=True)
SECRETS = ResourceType("", "v1", "secrets", "Secret", True)
CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",))
SERVICEACCOUNTS = ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",))
PODS = ResourceType("", "v1", "pods", "Pod", True, ("po",), status_subresource=True, has_spec=False, categories=("all",))
EVENTS = ResourceType("", "v1", "events", "Event", True, ("ev",))
DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", True, ("deploy",), status_subresource=True, has_spec=True,
                           categories=("all",))
REPLICASETS = ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), status_subresource=True, has_spec=True,
                           categories=("all",))
CREDENTIALSREQUESTS = ResourceType("cloudcredential.openshift.io", "v1", "credentialsrequests", "CredentialsRequest", True,
                                   status_subresource=True, custom=True, has_spec=True)
AUTHENTICATIONS = ResourceType("config.openshift.io", "v1", "authentications", "Authentication", False,
                               status_subresource=True, custom=True, has_spec=True)
INFRASTRUCTURES = ResourceType("config.openshift.io", "v1", "infrastructures", "Infrastructure", False,
                               status_subresource=True, custom=True, has_spec=True)
CLUSTEROPERATORS = ResourceType("config.openshift.io", "v1", "clusteroperators", "ClusterOperator", False, ("co",),
                                status_subresource=True, custom=True, has_spec=True)
KUBEAPISERVERS = ResourceType("operator.openshift.io", "v1", "kubeapiservers", "KubeAPIServer", False,
                              status_subresource=True, custom=True, has_spec=True)

STORED = (NAMESPACES, SECRETS, CONFIGMAPS, SERVICEACCOUNTS, PODS, EVENTS, DEPLOYMENTS, REPLICASETS,
          CREDENTIALSREQUESTS, AUTHENTICATIONS, INFRASTRUCTURES, CLUSTEROPERATORS, KUBEAPISERVERS)

# Virtual (create-only) resources: reviews and the TokenRequest subresource.
TOKENREVIEWS = ResourceType("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, verbs=("create",))
SELFSUBJECTACCESSREVIEWS = ResourceType("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
                                        verbs=("create",))
VIRTUAL = (TOKENREVIEWS, SELFSUBJECTACCESSREVIEWS)

ALL = STORED + VIRTUAL

# (group, resource) -> ResourceType
BY_RESOURCE = {(rt.group, rt.resource): rt for rt in ALL}
# (group, version) -> [ResourceType]
BY_GROUP_VERSION = {}
for _rt in ALL:
    BY_GROUP_VERSION.setdefault((_rt.group, _rt.version), []).append(_rt)

TOKEN_SUBRESOURCE = {"name": "serviceaccounts/token", "singularName": "", "namespaced": True, "group": "authentication.k8s.io",
                     "version": "v1", "kind": "TokenRequest", "verbs": ["create"]}

# The group order of a real OpenShift /apis, restricted to what is served.
GROUP_ORDER = ["apps", "authentication.k8s.io", "authorization.k8s.io", "cloudcredential.openshift.io",
               "config.openshift.io", "operator.openshift.io"]


def resource_list(group, version):
    """The APIResourceList of ``group/version`` or None."""
    types = BY_GROUP_VERSION.get((group, version))
    if not types:
        return None
    resources = []
    for rtype in types:
        resources.extend(rtype.discovery())
        if rtype is SERVICEACCOUNTS:
            resources.append(dict(TOKEN_SUBRESOURCE))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group + "/" + version if group else version,
        "resources": resources,
    }


def api_group(group):
    """The APIGroup document of ``group`` or None."""
    versions = sorted({version for (name, version) in BY_GROUP_VERSION if name == group})
    if not group or not versions:
        return None
    entries = [{"groupVersion": group + "/" + v, "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries, "preferredVersion": dict(entries[0])}


def api_group_list():
    """The APIGroupList served at ``/apis``."""
    groups = []
    for group in GROUP_ORDER:
        document = api_group(group)
        document.pop("kind")
        document.pop("apiVersion")
        groups.append(document)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_versions():
    """The APIVersions document served at ``/api``."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.10:6443"}]}


VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.6",
    "gitCommit": "6e2b1d57c1ab9f85fbc3f6b1d5ac7b3bd9e2c2d1",
    "gitTreeState": "clean",
    "buildDate": "2025-03-05T14:23:18Z",
    "goVersion": "go1.22.12 (Red Hat 1.22.12-2.el9_5) X:strictfipsruntime",
    "compiler": "gc",
    "platform": "linux/amd64",
}

OPENAPI_V2 = {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.31.6"}, "paths": {}, "definitions": {}}
