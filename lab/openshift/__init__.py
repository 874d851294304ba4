"""The OpenShift half of the lab: an in-process API server twin.

``ClusterTwin`` serves, over HTTPS on 127.0.0.1, what the kubernetes Python
client and kubernetes.core need from an OpenShift-on-AWS cluster in Manual
mode with STS: discovery, core and OpenShift kinds, TokenRequest, the OIDC
discovery endpoints, the issuer-change rollout of the kube-apiserver-operator
and ccoctl-shaped CredentialsRequest Secrets. See docs/lab.md ("OpenShift twin").
"""

from .credentials import (credentials_ini, credentials_request, credentials_secret, default_aws_credentials_requests,
                          generated_credentials_requests, role_arn, role_name)
from .keys import generate_key, jwk, key_id, private_pem, public_pem
from .twin import DEFAULT_ISSUER, ClusterTwin, FakeClock

__all__ = [
    "ClusterTwin", "FakeClock", "DEFAULT_ISSUER",
    "credentials_ini", "credentials_request", "credentials_secret", "default_aws_credentials_requests",
    "generated_credentials_requests", "role_arn", "role_name",
    "generate_key", "jwk", "key_id", "private_pem", "public_pem",
]
