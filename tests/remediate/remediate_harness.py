"""Helpers of the remediate.yml tests: the environment a user gives ansible-playbook, runs (whole or killed at a task),
the PLAY RECAP, install-directory snapshots, and the lab-side evidence that a bucket was never public.

The tests drive ``playbooks/remediate.yml`` and ``playbooks/diagnose.yml`` from the checkout exactly as a user
does, against worlds built before install in an in-process lab. Nothing here imports the collection's code: AWS
state is read with plain boto3 through the lab, reports as files.
"""

import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config

from lab.aws import policy as lab_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
REMEDIATE = ROOT / "playbooks" / "remediate.yml"
DIAGNOSE = ROOT / "playbooks" / "diagnose.yml"
LOG_DIR = ROOT / "tests" / "output" / "remediate"
BIN_DIR = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN_DIR, "ansible-playbook")
BACKUP_DIR = ".openshift_sts-oidc-backup"
AUTH_MANIFEST = "manifests/cluster-authentication-02-config.yaml"
MARKER_TAG = "openshift_sts.oidc/issuer-bucket"

_SCRUBBED_PREFIXES = ("AWS_", "K8S_AUTH_", "ANSIBLE_", "LAB_")
_SCRUBBED = {"KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
             "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
                   r"\s+rescued=(\d+)\s+ignored=(\d+)")
# Operations that only read: anything else the playbooks send to S3, CloudFront, IAM or KMS is a write.
READ_PREFIXES = ("Get", "List", "Head", "Describe")


def playbook_env(lab, region):
    """The environment of a user's shell after sourcing the lab's env file (no cluster: before install)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(_SCRUBBED_PREFIXES) and key not in _SCRUBBED}
    env.update({key: value for key, value in lab.env().items() if not key.startswith("K8S_AUTH_") and key != "KUBECONFIG"})
    env.update({
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PYTHONUNBUFFERED": "1",
        "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
    })
    return env


def remediate_vars(world, install_dir, report_root, **extra):
    """The extra variables of a remediation of ``world``'s install directory (bucket: the world's, unless given)."""
    variables = {"oidc_install_dir": str(install_dir), "oidc_bucket_name": world.bucket, "oidc_aws_region": world.region,
                 "oidc_cluster_name": world.cluster_name, "oidc_report_root": str(report_root), "oidc_deploy_poll": 1}
    variables.update(extra)
    return variables


def _command(playbook, extra_vars, args):
    cmd = [ANSIBLE_PLAYBOOK, str(playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return cmd + list(args)


def _keep_log(log_name, cmd, stdout, stderr):
    if log_name:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        (LOG_DIR / (log_name + ".log")).write_text(
            "$ %s\n\n%s\n--- stderr ---\n%s" % (" ".join(cmd), stdout, stderr), encoding="utf-8")


def run_playbook(playbook, env, cwd, extra_vars=None, args=(), log_name=None, timeout=600):
    """Run ``ansible-playbook PLAYBOOK`` to its end; the CompletedProcess (also kept in tests/output/remediate/)."""
    cmd = _command(playbook, extra_vars, args)
    proc = subprocess.run(cmd, env=env, cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False)
    _keep_log(log_name, cmd, proc.stdout, proc.stderr)
    return proc


class Killed:  # pylint: disable=too-few-public-methods  # a plain record
    """The outcome of :func:`run_and_kill`: ``killed`` (the trigger was seen), ``returncode``, ``stdout``."""

    def __init__(self, killed, returncode, stdout):
        self.killed = killed
        self.returncode = returncode
        self.stdout = stdout


def run_and_kill(playbook, env, cwd, trigger, extra_vars=None, sig=signal.SIGKILL, log_name=None, timeout=300):
    """Start ansible-playbook and kill its whole process group with ``sig`` when a stdout line matches ``trigger``.

    ``trigger``: a regular expression (e.g. ``r"^TASK \\[.*: Grant the distribution"``). A TASK banner is printed just
    before the task runs, so killing on it interrupts the play between the previous task and that one. The process
    group is the one this function created (``start_new_session``); nothing else is signalled.
    """
    cmd = _command(playbook, extra_vars, ())
    pattern = re.compile(trigger)
    proc = subprocess.Popen(cmd, env=env, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                            text=True, start_new_session=True)
    lines, killed = [], False
    timer = threading.Timer(timeout, lambda: _kill_group(proc, signal.SIGKILL))
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if not killed and pattern.search(line):
                killed = True
                _kill_group(proc, sig)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    # Forked workers of a killed ansible-playbook die with the group; wait until none is left.
    _wait_group_gone(proc.pid)
    stdout = "".join(lines)
    _keep_log(log_name, cmd, stdout, "")
    return Killed(killed, proc.returncode, stdout)


def _kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _wait_group_gone(pgid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    _kill_group_id(pgid)


def _kill_group_id(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def describe(proc):
    """The tail of a run's output, for assertion messages."""
    return "rc=%s\n%s\n--- stderr ---\n%s" % (proc.returncode, proc.stdout[-8000:], (getattr(proc, "stderr", "") or "")[-3000:])


def recap(stdout, host="localhost"):
    """``{"ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"}`` of ``host`` in the PLAY RECAP."""
    keys = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
    found = None
    for line in stdout.splitlines():
        match = RECAP.match(line.strip())
        if match and match.group(1) == host:
            found = dict(zip(keys, (int(value) for value in match.groups()[1:])))
    assert found is not None, "no PLAY RECAP line for %s:\n%s" % (host, stdout[-3000:])
    return found


def changed_tasks(stdout):
    """The TASK banners followed by a ``changed:`` line (to name what a second run changed)."""
    names, current = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            current = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed:") and current and current not in names:
            names.append(current)
    return names


def snapshot(directory, skip=(BACKUP_DIR,)):
    """``{relative path: (sha256, mode)}`` of every file under ``directory`` (the backup folder left out)."""
    result = {}
    base = pathlib.Path(directory)
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if rel.split("/", 1)[0] in skip or not path.is_file():
            continue
        result[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode & 0o777)
    return result


def read_bytes(directory):
    """``{relative path: bytes}`` of every file under ``directory``."""
    base = pathlib.Path(directory)
    return {path.relative_to(base).as_posix(): path.read_bytes() for path in base.rglob("*") if path.is_file()}


def load_json(path):
    """A JSON file, parsed."""
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def authentication_manifest(issuer):
    """The exact text the remediation writes into cluster-authentication-02-config.yaml."""
    return ("apiVersion: config.openshift.io/v1\nkind: Authentication\nmetadata:\n  name: cluster\nspec:\n"
            "  serviceAccountIssuer: %s\n" % issuer)


# ---------------------------------------------------------------- AWS state through plain boto3
def client(lab, service, region="us-east-1"):
    """A boto3 client of the lab (the lab's dummy keys, one attempt)."""
    env = lab.env()
    return boto3.client(service, region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 1}))


def distributions(lab):
    """Every CloudFront distribution summary, with its tags (``Tags`` dict)."""
    cloudfront = client(lab, "cloudfront")
    items = cloudfront.list_distributions()["DistributionList"].get("Items") or []
    for item in items:
        tags = cloudfront.list_tags_for_resource(Resource=item["ARN"])["Tags"].get("Items") or []
        item["Tags"] = {tag["Key"]: tag["Value"] for tag in tags}
    return items


def marked_distributions(lab, bucket):
    """The distributions this collection made for ``bucket`` (marker tag)."""
    return [item for item in distributions(lab) if item["Tags"].get(MARKER_TAG) == bucket]


def origin_access_controls(lab):
    """Every origin access control summary."""
    listing = client(lab, "cloudfront").list_origin_access_controls()["OriginAccessControlList"]
    return listing.get("Items") or []


def oidc_providers(lab):
    """``{url without scheme: provider}`` of every IAM OIDC provider."""
    iam = client(lab, "iam")
    result = {}
    for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
        provider["Arn"] = entry["Arn"]
        result.setdefault(provider["Url"], []).append(provider)
    return result


def bucket_policy(lab, bucket, region):
    """The bucket's policy document, or None."""
    s3 = client(lab, "s3", region)
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


# ---------------------------------------------------------------- "never public" evidence
def bucket_hosts(bucket, region):
    """The S3 REST host names (and path-style prefixes) anonymous readers can use for ``bucket``."""
    return {
        "virtual": {"%s.s3.%s.amazonaws.com" % (bucket, region), "%s.s3.amazonaws.com" % bucket,
                    "%s.s3-%s.amazonaws.com" % (bucket, region)},
        "path": {"s3.%s.amazonaws.com" % region, "s3.amazonaws.com"},
    }


def anonymous_bucket_reads(lab, bucket, region, since=0):
    """Records of the lab's public internet that read ``bucket`` directly on an S3 endpoint after ``since``."""
    hosts = bucket_hosts(bucket, region)
    found = []
    for entry in lab.log.entries(since=since):
        if entry.get("kind") not in ("internet", "fetch"):
            continue
        host = (entry.get("host") or "").split(":")[0].lower()
        path = entry.get("path") or ""
        if host in hosts["virtual"] or (host in hosts["path"] and (path + "/").startswith("/%s/" % bucket)):
            found.append(entry)
    return found


class ExposureRecorder:
    """Keeps the request bodies and headers of every S3 call that could make a bucket or object public.

    The lab's request log records each call's operation and outcome but not its body; this recorder wraps the lab's
    AWS front in-process (its ``_record`` hook, called once per answered request) to keep the bodies of:
    ``PutBucketPolicy``, ``PutPublicAccessBlock``/``DeletePublicAccessBlock`` (bucket and account level),
    ``PutBucketAcl``, ``PutObjectAcl``, ``PutBucketOwnershipControls``, ``DeleteBucketOwnershipControls``,
    and the ACL headers of ``CreateBucket``/``PutObject``/``CopyObject``.
    """

    WATCHED = frozenset(("PutBucketPolicy", "PutPublicAccessBlock", "DeletePublicAccessBlock", "PutBucketAcl",
                         "PutObjectAcl", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls", "CreateBucket",
                         "PutObject", "CopyObject"))

    def __init__(self, lab):
        self.lab = lab
        self.calls = []
        self._original = None
        self._lock = threading.Lock()

    def install(self):
        """Start recording."""
        twin = self.lab.aws
        self._original = twin._record  # pylint: disable=protected-access  # the lab's one per-request hook

        def record(request, response, detail):
            self._original(request, response, detail)
            if request.service in ("s3", "s3control") and request.operation in self.WATCHED:
                with self._lock:
                    self.calls.append({
                        "seq": self.lab.log.last_seq(), "service": request.service, "operation": request.operation,
                        "bucket": getattr(request, "bucket", None), "status": response.status if response is not None else 0,
                        "body": bytes(request.body or b""),
                        "headers": {key.lower(): value for key, value in request.headers.items()}})

        twin._record = record  # pylint: disable=protected-access
        return self

    def uninstall(self):
        """Stop recording."""
        if self._original is not None:
            try:
                del self.lab.aws._record  # pylint: disable=protected-access  # back to the class's method
            except AttributeError:
                pass
            self._original = None

    def since(self, seq):
        """Recorded calls after log sequence ``seq``."""
        with self._lock:
            return [call for call in self.calls if call["seq"] > seq]

    def exposures(self, since=0):
        """Every accepted call (2xx) after ``since`` that made, or could have made, something public: a list of texts."""
        problems = []
        for call in self.since(since):
            if not 200 <= call["status"] < 300:
                continue
            operation, body, headers = call["operation"], call["body"], call["headers"]
            where = "%s %s (bucket %s)" % (call["service"], operation, call["bucket"])
            acl = (headers.get("x-amz-acl") or "").lower()
            grants = [key for key in headers if key.startswith("x-amz-grant-")]
            if operation in ("DeletePublicAccessBlock", "PutBucketAcl", "PutObjectAcl", "DeleteBucketOwnershipControls"):
                problems.append("%s was accepted" % where)
            elif operation == "PutPublicAccessBlock":
                flags = _pab_flags(body)
                if not flags or not all(flags.values()):
                    problems.append("%s with %s" % (where, flags))
            elif operation == "PutBucketPolicy":
                document = _json_body(body)
                if document is None or lab_policy.policy_is_public(document):
                    problems.append("%s wrote a public (or unreadable) policy: %r" % (where, body[:300]))
            elif operation == "PutBucketOwnershipControls":
                if b"BucketOwnerEnforced" not in body:
                    problems.append("%s did not keep BucketOwnerEnforced: %r" % (where, body[:300]))
            elif acl not in ("", "private", "bucket-owner-full-control") or grants:
                problems.append("%s with ACL headers %s %s" % (where, acl, grants))
        return problems


def _pab_flags(body):
    text = _strip_chunks(body)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return {}
    flags = {}
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"):
            flags[name] = (element.text or "").strip().lower() == "true"
    return flags if len(flags) == 4 else {name: flags.get(name, False) for name in (
        "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}


def _strip_chunks(body):
    """The payload of a body that may be ``aws-chunked`` encoded (newer botocore)."""
    text = body.decode("utf-8", "replace")
    if re.match(r"^[0-9a-fA-F]+(;[^\r\n]*)?\r\n", text):
        payload, rest = [], text
        while True:
            head, _sep, rest = rest.partition("\r\n")
            size = int(head.split(";", 1)[0] or "0", 16)
            if size == 0:
                break
            payload.append(rest[:size])
            rest = rest[size + 2:]
        return "".join(payload)
    return text


def _json_body(body):
    text = _strip_chunks(body)
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end < start:
            return None
        try:
            return json.loads(text[start:end + 1])
        except ValueError:
            return None


def write_calls(lab, since=0):
    """``(service, operation, status)`` of every call the playbook sent to S3, CloudFront, IAM or KMS that is not a read."""
    return [(entry["service"], entry["operation"], entry["status"]) for entry in lab.log.entries(since=since, kind="api")
            if entry.get("service") in ("s3", "s3control", "cloudfront", "iam", "kms")
            and not str(entry.get("operation") or "").startswith(READ_PREFIXES)]


def api_calls(lab, since=0):
    """``(service, operation)`` of every API call after ``since`` (sorted, unique)."""
    return sorted({(entry["service"], entry["operation"]) for entry in lab.log.entries(since=since, kind="api")
                   if entry.get("operation")})
