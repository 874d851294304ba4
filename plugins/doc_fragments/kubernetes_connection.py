# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the nested ``kubernetes`` connection option."""


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods,useless-object-inheritance
    """The ``kubernetes`` option: kubernetes.core's connection options, nested."""

    DOCUMENTATION = r"""
options:
  kubernetes:
    description:
      - How to reach the cluster's API server. The suboptions are kubernetes.core's connection options, nested
        here so that they never clash with the module's other options (amazon.aws's have their own C(validate_certs)).
      - Every suboption left unset is read from its C(K8S_AUTH_*) environment variable, exactly as kubernetes.core
        does (C(K8S_AUTH_HOST), C(K8S_AUTH_API_KEY), C(K8S_AUTH_KUBECONFIG), C(K8S_AUTH_CONTEXT),
        C(K8S_AUTH_VERIFY_SSL) or C(K8S_AUTH_VALIDATE_CERTS), C(K8S_AUTH_SSL_CA_CERT) or C(K8S_AUTH_CA_CERT), ...),
        which is what the Ansible Automation Platform OpenShift credential injects. Then the kubeconfig
        (C(~/.kube/config)) or in-cluster configuration is used.
    type: dict
    default: {}
    suboptions:
      host:
        description: URL of the API server, e.g. C(https://api.mycluster.example.com:6443).
        type: str
      api_key:
        description: Bearer token for the API server.
        type: str
      kubeconfig:
        description: Path to a kubeconfig file, or the kubeconfig content as a dictionary.
        type: raw
      context:
        description: The kubeconfig context to use.
        type: str
      validate_certs:
        description: Whether to verify the API server's TLS certificate.
        type: bool
        aliases: [verify_ssl]
      ca_cert:
        description: A CA bundle to verify the API server's certificate with.
        type: path
        aliases: [ssl_ca_cert]
      client_cert:
        description: A client certificate for mutual TLS.
        type: path
        aliases: [cert_file]
      client_key:
        description: The key of O(kubernetes.client_cert).
        type: path
        aliases: [key_file]
      proxy:
        description: An HTTP proxy URL for the API server.
        type: str
      no_proxy:
        description: Hosts that bypass O(kubernetes.proxy), comma separated.
        type: str
"""
