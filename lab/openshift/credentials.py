"""CredentialsRequests and the Secrets ccoctl makes for them (issue 4 §2).

:func:`default_aws_credentials_requests` is the OpenShift 4.x AWS set of
field notes §8; :func:`generated_credentials_requests` makes ``count: N``
synthetic ones; :func:`role_name` names roles as ``ccoctl aws
create-iam-roles`` does (field notes §6.7); :func:`credentials_ini` is the
``credentials`` file of the Secret manifest ccoctl writes.

The statement entries are representative (a few actions per request), not a
copy of the release manifests: nothing in the lab evaluates them.
"""

import copy

CCO_NAMESPACE = "openshift-cloud-credential-operator"
TOKEN_FILE = "/var/run/secrets/openshift/serviceaccount/token"
HA_ANNOTATION = "include.release.openshift.io/self-managed-high-availability"
CAPABILITY = "capability.openshift.io/name"

# (metadata.name, secret namespace, secret name, service accounts, capability, actions)
_DEFAULT_SET = (
    ("cloud-credential-operator-iam-ro", CCO_NAMESPACE, "cloud-credential-operator-iam-ro-creds",
     ["cloud-credential-operator"], "CloudCredential", ["iam:GetUser", "iam:GetUserPolicy", "iam:ListAccessKeys"]),
    ("openshift-machine-api-aws", "openshift-machine-api", "aws-cloud-credentials",
     ["machine-api-controllers"], "MachineAPI",
     ["ec2:CreateTags", "ec2:DescribeInstances", "ec2:RunInstances", "ec2:TerminateInstances", "iam:PassRole"]),
    ("openshift-image-registry", "openshift-image-registry", "installer-cloud-credentials",
     ["cluster-image-registry-operator", "registry"], "ImageRegistry",
     ["s3:CreateBucket", "s3:DeleteBucket", "s3:GetObject", "s3:PutObject", "s3:ListBucket"]),
    ("openshift-ingress", "openshift-ingress-operator", "cloud-credentials",
     ["ingress-operator"], "Ingress",
     ["elasticloadbalancing:DescribeLoadBalancers", "route53:ChangeResourceRecordSets", "route53:ListHostedZones",
      "tag:GetResources"]),
    ("aws-ebs-csi-driver-operator", "openshift-cluster-csi-drivers", "ebs-cloud-credentials",
     ["aws-ebs-csi-driver-operator", "aws-ebs-csi-driver-controller-sa"], "Storage",
     ["ec2:AttachVolume", "ec2:CreateVolume", "ec2:DeleteVolume", "ec2:DescribeVolumes", "ec2:DetachVolume"]),
    ("openshift-cloud-network-config-controller-aws", "openshift-cloud-network-config-controller", "cloud-credentials",
     ["cloud-network-config-controller"], "",
     ["ec2:AssignPrivateIpAddresses", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:UnassignPrivateIpAddresses"]),
    ("openshift-cluster-api-aws", "openshift-cluster-api", "capa-manager-bootstrap-credentials",
     ["capa-controller-manager"], "CloudCredential+ClusterAPI",
     ["ec2:CreateTags", "ec2:DescribeInstances", "ec2:RunInstances", "ec2:TerminateInstances", "iam:PassRole"]),
    ("openshift-aws-cloud-controller-manager", "openshift-cloud-controller-manager", "cloud-controller-manager-credentials",
     ["cloud-controller-manager"], "",
     ["ec2:DescribeInstances", "ec2:DescribeRegions", "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers"]),
)


def credentials_request(name, secret_namespace, secret_name, service_accounts, actions=("sts:GetCallerIdentity",),
                        capability="", annotations=None):
    """One CredentialsRequest object (``cloudcredential.openshift.io/v1``)."""
    meta_annotations = {HA_ANNOTATION: "true"}
    if capability:
        meta_annotations[CAPABILITY] = capability
    meta_annotations.update(annotations or {})
    obj = {
        "apiVersion": "cloudcredential.openshift.io/v1",
        "kind": "CredentialsRequest",
        "metadata": {"name": name, "namespace": CCO_NAMESPACE, "annotations": meta_annotations},
        "spec": {
            "providerSpec": {
                "apiVersion": "cloudcredential.openshift.io/v1",
                "kind": "AWSProviderSpec",
                "statementEntries": [{"effect": "Allow", "action": list(actions), "resource": "*"}],
            },
            "secretRef": {"name": secret_name, "namespace": secret_namespace},
            "serviceAccountNames": list(service_accounts),
        },
    }
    if name == "openshift-aws-cloud-controller-manager":
        obj["spec"]["cloudTokenPath"] = TOKEN_FILE
        obj["spec"]["providerSpec"]["stsIAMRoleARN"] = ""
    return obj


def default_aws_credentials_requests():
    """The OpenShift 4.x AWS CredentialsRequests (field notes §8), in table order."""
    return [credentials_request(name, ns, secret, sas, actions, capability)
            for name, ns, secret, sas, capability, actions in _DEFAULT_SET]


def generated_credentials_requests(count, prefix="lab-operator"):
    """``count`` synthetic CredentialsRequests, each with its own namespace, secret and service account."""
    width = max(3, len(str(count)))
    result = []
    for index in range(1, count + 1):
        suffix = str(index).zfill(width)
        name = "%s-%s" % (prefix, suffix)
        result.append(credentials_request(name, "openshift-" + name, "cloud-credentials", [name + "-controller"],
                                          ["s3:ListAllMyBuckets"]))
    return result


def role_name(infra_name, credentials_request_obj):
    """ccoctl's role name: ``<name>-<secretRef.namespace>-<secretRef.name>`` cut to 64 characters."""
    ref = credentials_request_obj["spec"]["secretRef"]
    return ("%s-%s-%s" % (infra_name, ref["namespace"], ref["name"]))[:64]


def role_arn(account_id, name, partition="aws"):
    """``arn:<partition>:iam::<account>:role/<name>``."""
    return "arn:%s:iam::%s:role/%s" % (partition, account_id, name)


def credentials_ini(arn, regional=True):
    """The ``credentials`` value ccoctl writes (a ``|-`` block: no trailing newline)."""
    lines = ["[default]"]
    if regional:
        lines.append("sts_regional_endpoints = regional")
    lines.append("role_arn = %s" % arn)
    lines.append("web_identity_token_file = %s" % TOKEN_FILE)
    return "\n".join(lines)


def credentials_secret(credentials_request_obj, arn, regional=True):
    """The Secret manifest ccoctl writes (``stringData``; the API server stores it as ``data``)."""
    ref = credentials_request_obj["spec"]["secretRef"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": ref["name"], "namespace": ref["namespace"]},
        "stringData": {"credentials": credentials_ini(arn, regional)},
        "type": "Opaque",
    }


def workload(namespace, service_account, image="quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:lab", audience="openshift",
             expiration_seconds=3600):
    """A Deployment running as ``service_account`` with the projected ``openshift`` token, as operators mount it."""
    labels = {"app": service_account}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service_account, "namespace": namespace, "labels": copy.deepcopy(labels)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": copy.deepcopy(labels)},
            "template": {
                "metadata": {"labels": copy.deepcopy(labels)},
                "spec": {
                    "serviceAccountName": service_account,
                    "containers": [{
                        "name": "operator",
                        "image": image,
                        "volumeMounts": [{"name": "bound-sa-token", "mountPath": "/var/run/secrets/openshift/serviceaccount",
                                          "readOnly": True}],
                    }],
                    "volumes": [{"name": "bound-sa-token", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"audience": audience, "expirationSeconds": expiration_seconds, "path": "token"}}]}}],
                },
            },
        },
    }
