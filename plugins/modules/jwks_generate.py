#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jwks_generate
version_added: 1.0.0
short_description: Build the JWKS and OIDC discovery document of a cluster's service-account signing keys
description:
  - Reads one or more service-account signing keys of an OpenShift or Kubernetes cluster and builds
    the JSON Web Key Set (C(keys.json)) and the OpenID Connect discovery document
    (C(.well-known/openid-configuration)) for an O(issuer), in exactly the format C(ccoctl) publishes,
    so that AWS STS C(AssumeRoleWithWebIdentity) can verify the cluster's tokens.
  - The C(kid) of each key is the base64url encoding (no padding) of the SHA-256 of its DER
    SubjectPublicKeyInfo, identical to the C(kid) kube-apiserver writes into token headers.
  - Several keys (for example the old and the new key during a signing-key rotation) give several
    entries, sorted by C(kid), with duplicates removed.
  - The documents are returned and, when O(jwks_path) or O(discovery_path) are given, written to
    those files atomically, only when their content differs.
  - Every input is checked before anything is written; on any bad input the module fails and writes nothing.
  - Private keys are read only to derive their public key. They are never written or returned.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  keys:
    description:
      - The signing keys, each a path to a PEM file on the managed node, inline PEM text, or a public JWK or JWK Set
        (a dict, or its JSON text), for example a running cluster's C(/openid/v1/jwks) as
        M(openshift_sts.oidc.cluster_trust_info) returns it (RV(openshift_sts.oidc.cluster_trust_info#module:cluster_keys));
        a JWK Set gives one key per entry. JWKs with private members are rejected.
      - "Accepted: SPKI C(PUBLIC KEY); PKCS#1 C(RSA PUBLIC KEY), including the OpenShift installer's
        C(bound-service-account-signing-key.pub), which carries that label over SPKI bytes;
        PKCS#1 C(RSA PRIVATE KEY), PKCS#8 C(PRIVATE KEY) and SEC1 C(EC PRIVATE KEY), from which the
        public key is derived."
      - Keys must be RSA of at least 2048 bits or EC on P-256, P-384 or P-521.
        Encrypted private keys, DSA, Ed25519 and certificates are rejected.
      - One key per PEM item. Items whose text contains C(-----BEGIN) or a newline are inline PEM, text starting with
        C({) is JSON; others are file paths.
      - Values are treated as secrets (C(no_log)), so file paths named in error messages are masked too;
        the position of the bad item (C(keys[N])) is always shown.
    type: list
    elements: raw
    required: true
  issuer:
    description:
      - The service-account issuer URL, exactly as in C(Authentication.spec.serviceAccountIssuer)
        and the IAM OIDC provider.
      - Must start with C(https://) and have no port, user info, query, fragment or trailing slash.
        An S3 virtual-hosted host whose bucket name contains dots is rejected, since its TLS certificate cannot match.
      - The discovery document's C(jwks_uri) is O(issuer) followed by C(/keys.json).
    type: str
    required: true
  jwks_path:
    description:
      - File to write the JWKS (C(keys.json)) to. Its directory must exist.
      - When omitted, the JWKS is only returned.
    type: path
  discovery_path:
    description:
      - File to write the discovery document (C(openid-configuration)) to. Its directory must exist.
      - When omitted, the discovery document is only returned.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
notes:
  - Key files are read on the managed node. Requires the Python library C(cryptography) there.
  - The files have no trailing newline and use four-space indentation, like the files C(ccoctl) uploads,
    so documents published by C(ccoctl) compare equal.
  - The discovery document lists the signing algorithms of the given keys in C(id_token_signing_alg_values_supported),
    C(RS256) first; for RSA keys this is C(["RS256"]) as with C(ccoctl).
seealso:
  - name: ccoctl (Cloud Credential Operator utility)
    description: The OpenShift tool whose output format this module reproduces.
    link: https://github.com/openshift/cloud-credential-operator/blob/master/docs/ccoctl.md
requirements:
  - cryptography >= 41.0.0
"""

EXAMPLES = r"""
- name: Publish the installer's signing key for an S3 issuer
  openshift_sts.oidc.jwks_generate:
    keys:
      - "{{ install_dir }}/tls/bound-service-account-signing-key.pub"
    issuer: https://mycluster-oidc.s3.us-east-1.amazonaws.com
    jwks_path: "{{ publish_dir }}/keys.json"
    discovery_path: "{{ publish_dir }}/openid-configuration"
    mode: "0644"

- name: Old and new key during a signing-key rotation, documents only returned
  openshift_sts.oidc.jwks_generate:
    keys:
      - /etc/kubernetes/old-sa.pub
      - "{{ lookup('ansible.builtin.file', 'new-sa.pub') }}"
    issuer: https://d1234abcd.cloudfront.net
  register: oidc

- name: Show the key IDs that tokens must carry
  ansible.builtin.debug:
    var: oidc.kids

- name: Publish exactly the keys a running cluster trusts
  openshift_sts.oidc.jwks_generate:
    keys: ["{{ cluster.cluster_keys }}"]
    issuer: https://d1234abcd.cloudfront.net
  register: oidc
"""

RETURN = r"""
jwks:
  description: The JSON Web Key Set, one entry per distinct key, sorted by C(kid).
  returned: success
  type: dict
  sample:
    keys:
      - use: sig
        kty: RSA
        kid: WrWIcWbhzSUHtZnfydlgGoQvv9ZzJw9SkXIvEqQ3ar8
        alg: RS256
        n: lZGAS5EjDg_sTeMQUEy24hB4PxRWEm_aPk_SARt7VCe-XuPyT-VyRjKkn998GwXFlGKrKydTR6-A2ZlDtFXU6ehyasgz4hDQ3Pktoom5Vvbw...
        e: AQAB
jwks_json:
  description: The text written to O(jwks_path) (or that would be), byte-identical to C(ccoctl)'s C(keys.json) format.
  returned: success
  type: str
  sample: "{\n    \"keys\": [\n        {\n            \"use\": \"sig\",\n            \"kty\": \"RSA\", ...}\n    ]\n}"
discovery:
  description: The OpenID Connect discovery document.
  returned: success
  type: dict
  sample:
    issuer: https://mycluster-oidc.s3.us-east-1.amazonaws.com
    jwks_uri: https://mycluster-oidc.s3.us-east-1.amazonaws.com/keys.json
    response_types_supported: [id_token]
    subject_types_supported: [public]
    id_token_signing_alg_values_supported: [RS256]
    claims_supported: [aud, exp, sub, iat, iss, sub]
discovery_json:
  description: The text written to O(discovery_path) (or that would be), byte-identical to C(ccoctl)'s discovery document.
  returned: success
  type: str
  sample: "{\n\t\"issuer\": \"https://mycluster-oidc.s3.us-east-1.amazonaws.com\",\n\t\"jwks_uri\": ...}"
kids:
  description: The C(kid) of every published key, in JWKS order.
  returned: success
  type: list
  elements: str
  sample: [WrWIcWbhzSUHtZnfydlgGoQvv9ZzJw9SkXIvEqQ3ar8]
errors:
  description: Every problem found in the input, when the module fails because of bad input.
  returned: failure
  type: list
  elements: str
  sample: ["keys[1] (inline PEM): RSA key of 1024 bits is too small; at least 2048 bits are required"]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.openshift_sts.oidc.plugins.module_utils.issuer import issuer_problems
from ansible_collections.openshift_sts.oidc.plugins.module_utils.keys import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    KeyItemsError,
    KeyLoadError,
    algs_for,
    discovery_document,
    jwks_document,
    load_key_items,
    render_discovery,
    render_json,
)


def read_current(path):
    """Return the current bytes of ``path``, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def destination_problems(module, paths):
    """Problems with the destination files, found before anything is written."""
    problems = []
    if len(set(paths)) != len(paths):
        problems.append("jwks_path and discovery_path must be different files")
    for path in paths:
        directory = os.path.dirname(path) or "."
        if os.path.isdir(path):
            problems.append("%s is a directory; give a file path" % path)
        elif not os.path.isdir(directory):
            problems.append("the directory of %s does not exist; create it first" % path)
        elif not module.check_mode and not os.access(directory, os.W_OK | os.X_OK):
            problems.append("the directory of %s is not writable" % path)
    return problems


def write_atomically(module, path, data):
    """Write ``data`` to a temporary file beside ``path`` and move it into place."""
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def publish(module, path, text, diffs):
    """Write one document if it differs and apply file attributes; return whether anything changed."""
    data = text.encode("utf-8")
    try:
        current = read_current(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, to_native(exc)))
    changed = current != data
    if changed:
        before = "" if current is None else current.decode("utf-8", "replace")
        diffs.append(dict(before_header=path, after_header=path, before=before, after=text))
        if not module.check_mode:
            try:
                write_atomically(module, path, data)
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)))
    if os.path.exists(path):
        attr_diff = {}
        file_args = module.load_file_common_arguments(module.params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
        if attr_diff.get("before") != attr_diff.get("after"):
            attr_diff.update(before_header=path, after_header=path)
            diffs.append(attr_diff)
    return changed


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=dict(
            keys=dict(type="list", elements="raw", required=True, no_log=True),
            issuer=dict(type="str", required=True),
            jwks_path=dict(type="path"),
            discovery_path=dict(type="path"),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)

    issuer = module.params["issuer"]
    errors = []
    problems = issuer_problems(issuer)
    if problems:
        errors.append("issuer %r is not valid: %s" % (issuer, "; ".join(problems)))
    loaded = []
    try:
        loaded = load_key_items(module.params["keys"], "keys")
    except KeyItemsError as exc:
        errors.extend(str(error) for error in exc.errors)
    except KeyLoadError as exc:
        errors.append(str(exc))

    paths = [module.params[option] for option in ("jwks_path", "discovery_path") if module.params[option]]
    errors.extend(destination_problems(module, paths))
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    jwks = jwks_document(loaded)
    discovery = discovery_document(issuer, algs_for(jwks))
    texts = dict(jwks_path=render_json(jwks), discovery_path=render_discovery(discovery))

    changed = False
    diffs = []
    for option in ("jwks_path", "discovery_path"):
        if module.params[option]:
            changed = publish(module, module.params[option], texts[option], diffs) or changed

    result = dict(
        changed=changed,
        jwks=jwks,
        jwks_json=texts["jwks_path"],
        discovery=discovery,
        discovery_json=texts["discovery_path"],
        kids=[jwk["kid"] for jwk in jwks["keys"]],
    )
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
