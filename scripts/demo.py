"""make demo: the collection's main job, end to end, on an embedded default world.

Today: generate a cluster signing key the way the OpenShift installer does
(tls/bound-service-account-signing-key.key) and publish its JWKS and OIDC
discovery document with openshift_sts.oidc.jwks_generate, twice (the second
run changes nothing).
"""

import os
import pathlib
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "build" / "demo"
ISSUER = "https://d111111abcdef8.cloudfront.net"


def signing_key(path):
    """An RSA-4096 PKCS#1 key like the installer's, created once (0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def main():
    signing_key(DEMO_DIR / "tls" / "bound-service-account-signing-key.key")
    (DEMO_DIR / "publish").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEMO_DIR=str(DEMO_DIR), DEMO_ISSUER=ISSUER, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"))
    playbook = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                "-e", "ansible_python_interpreter=%s" % sys.executable, str(ROOT / "scripts" / "demo" / "publish.yml")]
    for _run in range(2):
        subprocess.run(playbook, env=env, check=True)
    print("\nPublished documents are in %s" % (DEMO_DIR / "publish"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
