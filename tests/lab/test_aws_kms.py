"""KMS through the lab's AWS front: proxied to moto unchanged, each call logged under its own operation name."""

import json


def test_kms_key_policy_round_trip_is_proxied_and_logged(aws_lab):
    """CreateKey, GetKeyPolicy, PutKeyPolicy, DescribeKey reach moto; the log names each (X-Amz-Target), not S3's."""
    kms = aws_lab.client("kms")
    start = aws_lab.log.last_seq()
    key = kms.create_key(Description="lab kms test")["KeyMetadata"]
    assert key["Arn"].startswith("arn:aws:kms:%s:123456789012:key/" % aws_lab.region)
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert policy["Statement"][0]["Action"] == "kms:*"
    policy["Statement"].append({"Sid": "Extra", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "kms:Decrypt", "Resource": "*"})
    kms.put_key_policy(KeyId=key["Arn"], PolicyName="default", Policy=json.dumps(policy))
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == policy
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    calls = [(entry["service"], entry["operation"], entry["status"], entry["detail"])
             for entry in aws_lab.log.entries(since=start, kind="api")]
    assert calls == [("kms", "CreateKey", 200, "moto"), ("kms", "GetKeyPolicy", 200, "moto"),
                     ("kms", "PutKeyPolicy", 200, "moto"), ("kms", "GetKeyPolicy", 200, "moto"),
                     ("kms", "DescribeKey", 200, "moto")]
