"""No secret reaches ansible-playbook's output, even at -vvv.

A playbook runs issuer_probe (with a token and the cluster's public key) and
sts_assume_check (token and token_file, success and failure) against the
lab with ``-vvvv`` and ``ANSIBLE_INJECT_INVOCATION``, so that every module's
arguments and result are printed. Its
whole output is then searched for the token (and each of its three
segments), and for the credentials STS minted for the successful calls
(read from the lab's in-process STS backend: access key id, secret key and
session token).
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import uuid

import boto3
from cryptography.hazmat.primitives import serialization
from moto.sts.models import sts_backends

from lab.aws import ACCOUNT_ID, PARTITION
from lab.oidc import SigningKey, discovery_document, trust_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"

PLAYBOOK = """
- name: Run the diagnostic modules verbosely
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe the issuer with the token
      openshift_sts.oidc.issuer_probe:
        issuer: "{{ issuer }}"
        token: "{{ lookup('ansible.builtin.file', token_file) }}"
        expected_keys: ["{{ public_pem }}"]
      register: probe

    - name: Assume the roles
      openshift_sts.oidc.sts_assume_check:
        roles:
          - {role_arn: "{{ role_arn }}", token: "{{ lookup('ansible.builtin.file', token_file) }}"}
          - {role_arn: "{{ role_arn }}", token_file: "{{ token_file }}"}
          - {role_arn: "{{ denied_role_arn }}", token: "{{ lookup('ansible.builtin.file', token_file) }}"}
      register: sts

    - name: Show the results
      ansible.builtin.debug:
        var: item
      loop: [probe, sts]

    - name: Check the results
      ansible.builtin.assert:
        that:
          - probe.ok and probe.findings == []
          - sts.roles | map(attribute='ok') | list == [true, true, false]
"""


def _env(lab_env):
    """The environment of a user's shell with the lab: the collection, the repo's ansible.cfg, the lab's variables."""
    env = dict(os.environ)
    env.update(lab_env)
    env.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_INJECT_INVOCATION": "1"})  # print the module arguments too (no_log values masked)
    return env


def _world(env, name):
    """A public S3 issuer, its IAM provider, a role that trusts the token's subject and one that does not."""
    clients = {service: boto3.client(service, region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"],
                                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]) for service in ("s3", "iam")}
    s3, iam = clients["s3"], clients["iam"]
    issuer = "https://%s.s3.us-east-1.amazonaws.com" % name
    key = SigningKey()
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % name}]}))
    s3.put_object(Bucket=name, Key=".well-known/openid-configuration", Body=discovery_document(issuer).encode())
    s3.put_object(Bucket=name, Key="keys.json", Body=key.jwks().encode())
    provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["openshift"],
                                                   ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    host = issuer[len("https://"):]
    roles = [iam.create_role(RoleName="%s-%s" % (name, suffix),
                             AssumeRolePolicyDocument=trust_policy(provider, host, [subject]))["Role"]["Arn"]
             for suffix, subject in (("ok", SUB), ("denied", "system:serviceaccount:other:other"))]

    def cleanup():
        for arn in roles:
            iam.delete_role(RoleName=arn.rsplit("/", 1)[1])
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
        for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
        s3.delete_bucket(Bucket=name)
    return issuer, key, roles, cleanup


def _minted_credentials():
    """Every (access key id, secret key, session token) the lab's STS has minted so far."""
    backend = sts_backends[ACCOUNT_ID][PARTITION]
    return [(role.access_key_id, role.secret_access_key, role.session_token) for role in backend.assumed_roles]


def test_no_token_or_credential_at_vvvv(lab_env, tmp_path):
    """Neither the token nor STS's credentials appear in -vvv output, though the calls succeed."""
    name = "oidc-nosecrets-%s" % uuid.uuid4().hex[:8]
    issuer, key, (role_arn, denied_role_arn), cleanup = _world(lab_env, name)
    try:
        token = key.token(issuer, sub=SUB)
        token_file = tmp_path / "token"
        token_file.write_text(token)
        token_file.chmod(0o600)
        playbook = tmp_path / "play.yml"
        playbook.write_text(PLAYBOOK)
        public_pem = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        extra = {"issuer": issuer, "token_file": str(token_file), "role_arn": role_arn, "denied_role_arn": denied_role_arn,
                 "public_pem": public_pem.decode()}
        env = _env(lab_env)
        minted_before = len(_minted_credentials())
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvvv", "-i", "localhost,", "-c", "local",
             "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", json.dumps(extra), str(playbook)],
            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
        output = proc.stdout + proc.stderr
        (tmp_path / "ansible.log").write_text(output)
        assert proc.returncode == 0, output[-6000:]
    finally:
        cleanup()

    minted = _minted_credentials()[minted_before:]
    assert len(minted) == 2, "the two successful calls minted credentials"
    # the modules' arguments (token masked) and results were printed
    assert role_arn in output and "subject_from_token" in output and "token_claims" in output
    assert '"module_args"' in output and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    secrets = {"token": token, "AWS_SECRET_ACCESS_KEY": lab_env["AWS_SECRET_ACCESS_KEY"]}
    secrets.update(("token segment %d" % index, part) for index, part in enumerate(token.split(".")))
    for index, (access_key_id, secret_key, session_token) in enumerate(minted):
        secrets["access key id %d" % index] = access_key_id
        secrets["secret access key %d" % index] = secret_key
        secrets["session token %d" % index] = session_token
    leaked = sorted(label for label, value in secrets.items() if value and value in output)
    assert leaked == [], "secrets in the -vvv output: %s" % leaked
    assert not re.search(r"ASIA[A-Z0-9]{16}", output)
