"""The lab as one object: CA, clock, faults, log, AWS twin, public internet, extra twins.

``Lab`` starts everything in-process on free loopback ports and describes
itself as environment variables (:meth:`Lab.env`). Other twins (the
OpenShift API twin) join as *components*: objects with ``start()`` and
``stop()``, optionally ``attach(lab)`` (called before ``start`` with this
lab, to reach its CA, clock, internet and log), ``reset()``, and ``env()``
(or an ``env`` dict) contributing environment variables.
"""

import os
import shlex
import shutil
import tempfile

from lab.aws.api import AwsTwin
from lab.ca import LabCA
from lab.clock import Clock
from lab.control import Control
from lab.faults import FaultPlan
from lab.internet import Internet
from lab.records import RequestLog

DUMMY_ACCESS_KEY = "AKIALABDUMMYKEY00000"
DUMMY_SECRET_KEY = "lab-dummy-secret-not-a-real-key-0000000000"  # nosec - a fake credential for the local twin


class Lab:
    """The whole lab world (in-process)."""

    def __init__(self, state_dir=None, region="us-east-1", deploy_seconds=0.0, idp_timeout=5.0,
                 modern_bucket_defaults=True, components=()):
        self.region = region
        self._own_state_dir = state_dir is None
        self.state_dir = state_dir
        self.ca = LabCA()
        self.clock = Clock()
        self.faults = FaultPlan()
        self.log = RequestLog()
        self.aws = AwsTwin(self.clock, self.faults, self.log, deploy_seconds=deploy_seconds,
                           idp_timeout=idp_timeout, modern_bucket_defaults=modern_bucket_defaults)
        self.internet = Internet(self.ca, self.faults, self.log, self.aws.cloudfront)
        self.aws.attach_fetch(self.internet.fetch)
        self.control = Control(self)
        self.aws.control_handler = self.control.handle
        self.components = list(components)
        self.ca_bundle = None
        self._started = False

    def add_component(self, component):
        """Add another twin (call before :meth:`start`, or it is started at once)."""
        self.components.append(component)
        if self._started:
            self._start_component(component)

    def _start_component(self, component):
        if hasattr(component, "attach"):
            component.attach(self)
        component.start()

    def start(self):
        """Start every part; returns self."""
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix="oidc-lab-")
        os.makedirs(self.state_dir, exist_ok=True)
        self.ca_bundle = self.ca.write_bundle(os.path.join(self.state_dir, "ca.pem"))
        self.aws.start()
        self.internet.start()
        self._started = True
        for component in self.components:
            self._start_component(component)
        return self

    def stop(self):
        """Stop every part (components first) and remove a temporary state directory."""
        for component in reversed(self.components):
            component.stop()
        if self._started:
            self.internet.stop()
            self.aws.stop()
            self._started = False
        if self._own_state_dir and self.state_dir and os.path.isdir(self.state_dir):
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Back to an empty world: AWS state, faults, clock, custom hosts, log, components."""
        self.aws.reset()
        self.faults.clear()
        self.clock.reset()
        self.internet.reset()
        self.log.clear()
        for component in self.components:
            if hasattr(component, "reset"):
                component.reset()

    @property
    def control_url(self):
        """The base URL of the control API."""
        return f"{self.aws.url}/_lab"

    def env(self):
        """Environment variables for a shell, ansible-playbook or ansible-runner."""
        env = {
            "AWS_ENDPOINT_URL": self.aws.url,
            "AWS_ENDPOINT_URL_STS": self.aws.url,
            "AWS_URL": self.aws.url,
            "HTTPS_PROXY": self.internet.proxy_url,
            "https_proxy": self.internet.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": self.ca_bundle,
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
            "AWS_CA_BUNDLE": self.ca_bundle,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAB_CONTROL_URL": self.control_url,
            "LAB_STATE_DIR": self.state_dir,
        }
        for component in self.components:
            extra = component.env() if callable(getattr(component, "env", None)) else getattr(component, "env", {})
            env.update(extra or {})
        return env

    def write_env_file(self, path):
        """Write :meth:`env` as ``export KEY='value'`` lines (also fine for ``set -a; . file``)."""
        lines = [f"export {key}={shlex.quote(str(value))}" for key, value in sorted(self.env().items())]
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
        return path
