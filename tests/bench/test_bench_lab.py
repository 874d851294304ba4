"""Benchmark of the lab with scenarios (issue 4 §5): prints figures, asserts only correctness.

``many-roles`` with 500 CredentialsRequests is built (AWS side through boto3:
bucket, documents, provider, 500 roles with inline policies; cluster side: 500
CredentialsRequests, Secrets, service accounts, deployments and pods), then
the OpenShift twin serves a list of the CredentialsRequests, 500 Secret GETs
and 1,000 TokenRequests over HTTPS with the plain kubernetes client, and STS
verifies a sample of the tokens. Target of the issue: 500 CredentialsRequests
and 1,000 token requests served in under 10 s on this machine.

Run: ``.venv/bin/pytest -q -s tests/bench/test_bench_lab.py`` (``make bench``).
Knobs: ``LAB_BENCH_CRS`` (500), ``LAB_BENCH_TOKENS`` (1000), ``LAB_BENCH_THREADS`` (2).
"""

import concurrent.futures
import os
import sys
import time

import boto3
import botocore
from botocore.config import Config
from kubernetes import client as k8s

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lab.scenarios import build_world  # noqa: E402  pylint: disable=wrong-import-position
from lab.world import Lab  # noqa: E402  pylint: disable=wrong-import-position

CRS = int(os.environ.get("LAB_BENCH_CRS", "500"))
TOKENS = int(os.environ.get("LAB_BENCH_TOKENS", "1000"))
THREADS = int(os.environ.get("LAB_BENCH_THREADS", "2"))
CCO = "openshift-cloud-credential-operator"


def _api(env):
    configuration = k8s.Configuration()
    configuration.host = env["K8S_AUTH_HOST"]
    configuration.ssl_ca_cert = env["K8S_AUTH_SSL_CA_CERT"]
    configuration.api_key = {"authorization": "Bearer " + env["K8S_AUTH_API_KEY"]}
    configuration.connection_pool_maxsize = max(4, THREADS * 2)
    return k8s.ApiClient(configuration)


def _timed(results, label, count, func):
    started = time.perf_counter()
    value = func()
    results.append((label, count, time.perf_counter() - started))
    return value


def test_bench_many_roles_and_tokens(tmp_path):
    results = []
    lab = Lab(state_dir=str(tmp_path / "lab"), region="us-east-2")
    _timed(results, "lab start (AWS twin + internet)", 1, lab.start)
    try:
        lab.reset()  # moto's state is per process: another benchmark of this run may have left its world
        world = _timed(results, f"build many-roles ({CRS} CRs: {CRS} IAM roles + cluster objects)", CRS,
                       lambda: build_world(lab, "many-roles", {"count": CRS}))
        assert len(world.roles) == CRS
        api = _api(lab.env())
        try:
            core, custom = k8s.CoreV1Api(api), k8s.CustomObjectsApi(api)
            served_started = time.perf_counter()
            listed = _timed(results, "list CredentialsRequests", 1, lambda: custom.list_namespaced_custom_object(
                "cloudcredential.openshift.io", "v1", CCO, "credentialsrequests"))
            assert len(listed["items"]) == CRS
            _timed(results, f"GET {CRS} credentials Secrets", CRS, lambda: [
                core.read_namespaced_secret(role["secret_name"], role["secret_namespace"]) for role in world.roles])
            accounts = world.service_accounts()
            body = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=["openshift"],
                                                                                expiration_seconds=3600))

            def one(index):
                namespace, service_account = accounts[index % len(accounts)][:2]
                return core.create_namespaced_service_account_token(service_account, namespace, body).status.token

            with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
                tokens = _timed(results, f"{TOKENS} TokenRequests ({THREADS} threads)", TOKENS,
                                lambda: list(pool.map(one, range(TOKENS))))
            served = time.perf_counter() - served_started
        finally:
            api.close()
        assert len(tokens) == TOKENS and all(tokens)
        sts = boto3.client("sts", endpoint_url=lab.aws.url, region_name="us-east-2",
                           config=Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1}))
        sample = min(20, TOKENS)

        def verify():
            for index in range(sample):
                role_arn = accounts[index % len(accounts)][2]
                sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="bench", WebIdentityToken=tokens[index])
        _timed(results, f"{sample} AssumeRoleWithWebIdentity (STS fetches discovery + JWKS each time)", sample, verify)
        world.close()
    finally:
        lab.stop()
    print()
    print(f"lab benchmark: many-roles, {CRS} CredentialsRequests, {TOKENS} token requests, {THREADS} threads, "
          f"{os.cpu_count()} CPUs")
    for label, count, seconds in results:
        rate = f"{count / seconds:9.1f}/s" if count > 1 and seconds > 0 else " " * 11
        print(f"  {label:72} {seconds:8.2f} s  {rate}")
    print(f"  {'served by the OpenShift twin (list + Secrets + TokenRequests); issue target < 10 s':72} {served:8.2f} s")
