"""Benchmark of the OpenShift API server twin (prints figures; not a timed test).

Target (issue 4 §5): 500 CredentialsRequests and 1,000 token requests served
in under 10 s on 2 cores. Run::

    .venv/bin/python tests/bench/bench_openshift_twin.py [--crs 500] [--tokens 1000] [--threads 2] [--key-size 4096]
"""

import argparse
import concurrent.futures
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from kubernetes import client  # noqa: E402  pylint: disable=wrong-import-position

from lab.ca import LabCA  # noqa: E402  pylint: disable=wrong-import-position
from lab.openshift import ClusterTwin, generate_key  # noqa: E402  pylint: disable=wrong-import-position

CCO = "openshift-cloud-credential-operator"


def _api(twin, ca_path):
    configuration = client.Configuration()
    configuration.host = twin.url
    configuration.ssl_ca_cert = ca_path
    configuration.api_key = {"authorization": "Bearer " + twin.admin_token}
    configuration.connection_pool_maxsize = 8
    return client.ApiClient(configuration)


def _timed(label, func, count, results):
    started = time.perf_counter()
    func()
    elapsed = time.perf_counter() - started
    results.append((label, count, elapsed))
    return elapsed


def run(crs=500, tokens=1000, threads=2, key_size=2048):
    """Run the benchmark and return ``[(phase, requests, seconds)]``."""
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        twin = ClusterTwin(LabCA(), issuer="https://bench-oidc.s3.us-east-2.amazonaws.com", signing_keys=[generate_key(key_size)],
                           rollout_seconds=0.1)
        with twin:
            ca_path = twin.write_ca(os.path.join(workdir, "ca.pem"))
            summary = []
            _timed("build %d CredentialsRequests (+secrets, SAs, deployments, pods)" % crs,
                   lambda: summary.extend(twin.add_credentials_requests(crs)), 0, results)
            api = _api(twin, ca_path)
            custom = client.CustomObjectsApi(api)
            core = client.CoreV1Api(api)
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)

            def parallel(func, items):
                list(pool.map(func, items))

            def list_all():
                items = custom.list_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests")["items"]
                assert len(items) == crs

            twin.clear_log()
            served_start = time.perf_counter()
            _timed("list CredentialsRequests (1 request, %d items)" % crs, list_all, 1, results)
            _timed("get each CredentialsRequest", lambda: parallel(
                lambda s: custom.get_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", s["name"]),
                summary), crs, results)
            _timed("get each credentials Secret", lambda: parallel(
                lambda s: core.read_namespaced_secret(s["secret_name"], s["secret_namespace"]), summary), crs, results)
            targets = [summary[i % len(summary)] for i in range(tokens)]
            _timed("TokenRequest x%d" % tokens, lambda: parallel(
                lambda s: core.create_namespaced_service_account_token(s["service_accounts"][0], s["secret_namespace"],
                                                                       {"spec": {"audiences": ["openshift"]}}), targets), tokens, results)
            served = time.perf_counter() - served_start
            results.append(("served total", twin.request_count(), served))
            pool.shutdown()
            api.close()
    return results


def main(argv=None):
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crs", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--key-size", type=int, default=2048)
    args = parser.parse_args(argv)
    print("OpenShift twin benchmark: %d CRs, %d tokens, %d client threads, RSA-%d, %d CPUs"
          % (args.crs, args.tokens, args.threads, args.key_size, os.cpu_count() or 0))
    results = run(args.crs, args.tokens, args.threads, args.key_size)
    for label, count, seconds in results:
        rate = " (%.0f req/s)" % (count / seconds) if count and seconds else ""
        print("  %-66s %7.2f s%s" % (label, seconds, rate))
    served = results[-1][2]
    print("target: serve in < 10 s -> %s" % ("OK" if served < 10 else "MISSED"))
    return 0 if served < 10 else 1


def test_print_openshift_twin_figures():
    """For ``make bench`` (pytest -s tests/bench): prints the figures, asserts nothing about time."""
    for label, count, seconds in run(crs=500, tokens=1000):
        print("%-66s %7.2f s %s" % (label, seconds, count or ""))


if __name__ == "__main__":
    sys.exit(main())
