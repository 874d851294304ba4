"""remediate.yml with a customer KMS key (issue 7, section 1: SSE-KMS, and the key-policy grant CloudFront needs).

On the reported case (broken-private-bucket), with ``oidc_kms_key_arn`` naming a key made with boto3 (KMS's default
key policy: the account root may do ``kms:*``):

* the bucket's default encryption is SSE-KMS with that key, and both uploaded documents are SSE-KMS with it;
* the key policy keeps the root statement unchanged and gains ``AllowCloudFrontOriginAccessControlDecrypt``
  (cloudfront.amazonaws.com, Decrypt/Encrypt/GenerateDataKey*, AWS:SourceArn = the created distribution's ARN);
* the diagnosis afterwards is healthy; every call is allowed by docs/iam-policy.json;
* a second run changes nothing: PLAY RECAP changed=0 and no KMS write (the key policy is not rewritten).
"""

import json

from lab.aws import ACCOUNT_ID
from remediate_harness import (
    DIAGNOSE,
    REMEDIATE,
    api_calls,
    changed_tasks,
    client,
    describe,
    load_json,
    marked_distributions,
    playbook_env,
    recap,
    remediate_vars,
    run_playbook,
    write_calls,
)
from test_iam_policy import assert_calls_allowed

SCENARIO = "broken-private-bucket"
SID = "AllowCloudFrontOriginAccessControlDecrypt"
DOCUMENTS = (".well-known/openid-configuration", "keys.json")


def _key_policy(kms, key_arn):
    return json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])


def test_remediation_with_a_customer_kms_key(make_world, remediate_lab, exposure, tmp_path):
    """SSE-KMS bucket and objects with the given key; the key policy grant added once, other statements kept."""
    lab = remediate_lab
    world = make_world(SCENARIO)
    install_dir = tmp_path / "install"
    world.write_install_dir(str(install_dir))
    env = playbook_env(lab, world.region)
    kms = client(lab, "kms", world.region)
    key_arn = kms.create_key(Description="OIDC issuer documents")["KeyMetadata"]["Arn"]
    original = _key_policy(kms, key_arn)
    assert [s["Principal"] for s in original["Statement"]] == [{"AWS": "arn:aws:iam::%s:root" % ACCOUNT_ID}]

    start = lab.log.last_seq()
    variables = remediate_vars(world, install_dir, tmp_path / "reports", oidc_kms_key_arn=key_arn)
    proc = run_playbook(REMEDIATE, env, tmp_path, variables, log_name="kms-remediate")
    assert proc.returncode == 0, describe(proc)
    assert exposure.exposures(start) == []
    assert_calls_allowed(api_calls(lab, start))

    s3 = client(lab, "s3", world.region)
    rules = s3.get_bucket_encryption(Bucket=world.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [rule["ApplyServerSideEncryptionByDefault"] for rule in rules] == [
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}], rules
    for key in DOCUMENTS:
        head = s3.head_object(Bucket=world.bucket, Key=key)
        assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == ("aws:kms", key_arn), (key, head)

    marked = marked_distributions(lab, world.bucket)
    assert len(marked) == 1, marked
    policy = _key_policy(kms, key_arn)
    assert {k: v for k, v in policy.items() if k != "Statement"} == {k: v for k, v in original.items() if k != "Statement"}
    assert policy["Statement"][:-1] == original["Statement"]
    assert policy["Statement"][-1] == {
        "Sid": SID, "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": marked[0]["ARN"]}}}

    proc = run_playbook(DIAGNOSE, env, tmp_path, {"oidc_install_dir": str(install_dir), "oidc_fail_on": "never",
                                                  "oidc_report_root": str(tmp_path / "after")}, log_name="kms-after")
    assert proc.returncode == 0, describe(proc)
    report = load_json(tmp_path / "after" / "localhost" / "report.json")
    assert report["verdict"]["status"] == "healthy", report["verdict"]
    assert report["issuer"] == "https://" + marked[0]["DomainName"]

    second_start = lab.log.last_seq()
    second = run_playbook(REMEDIATE, env, tmp_path, variables, log_name="kms-second-run")
    assert second.returncode == 0, describe(second)
    assert recap(second.stdout)["changed"] == 0, changed_tasks(second.stdout)
    assert [call for call in write_calls(lab, second_start) if call[0] == "kms"] == []
    assert _key_policy(kms, key_arn) == policy


def test_a_key_shared_with_another_cluster_keeps_its_grant(make_world, remediate_lab, tmp_path):
    """The key already lets another cluster's distribution decrypt: its ARN stays, this distribution's is added."""
    lab = remediate_lab
    world = make_world(SCENARIO)
    install_dir = tmp_path / "install"
    world.write_install_dir(str(install_dir))
    kms = client(lab, "kms", world.region)
    key_arn = kms.create_key(Description="OIDC issuer documents of two clusters")["KeyMetadata"]["Arn"]
    other = "arn:aws:cloudfront::%s:distribution/EOTHERCLUSTER1" % ACCOUNT_ID
    shared = _key_policy(kms, key_arn)
    shared["Statement"].append({
        "Sid": SID, "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": other}}})
    shared["Statement"].append({"Sid": "KeepMe", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_ID},
                                "Action": "kms:DescribeKey", "Resource": "*"})
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(shared))

    variables = remediate_vars(world, install_dir, tmp_path / "reports", oidc_kms_key_arn=key_arn)
    proc = run_playbook(REMEDIATE, playbook_env(lab, world.region), tmp_path, variables, log_name="kms-shared-key")
    assert proc.returncode == 0, describe(proc)
    marked = marked_distributions(lab, world.bucket)
    assert len(marked) == 1, marked
    policy = _key_policy(kms, key_arn)
    grant = dict(shared["Statement"][1], Condition={"StringEquals": {"AWS:SourceArn": [other, marked[0]["ARN"]]}})
    assert policy["Statement"] == [shared["Statement"][0], grant, shared["Statement"][2]]
