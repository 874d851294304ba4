"""The lab's one certificate authority.

Every TLS endpoint of the lab (the AWS twin's "public internet", the
OpenShift API server twin, any custom issuer host a scenario declares) is
served with a leaf certificate issued by this CA, so a client needs one CA
bundle: the file written by :meth:`LabCA.write_bundle`.

A second, unrelated CA (:func:`untrusted_ca`) signs certificates that no lab
client trusts; the fault injector uses it to model an intercepting proxy or a
self-signed issuer.
"""

import os
import ssl
import tempfile
import threading

import trustme


class LabCA:
    """A local CA that issues server certificates for host names on demand."""

    def __init__(self, organization="openshift_sts.oidc lab"):
        self._ca = trustme.CA(organization_name=organization)
        self._contexts = {}
        self._lock = threading.Lock()

    @property
    def cert_pem(self):
        """The CA certificate, PEM bytes."""
        return self._ca.cert_pem.bytes()

    def write_bundle(self, path):
        """Write the CA certificate to ``path`` and return the path."""
        with open(path, "wb") as handle:
            handle.write(self.cert_pem)
        return path

    def server_context(self, *hostnames):
        """An ``ssl.SSLContext`` serving a leaf certificate for ``hostnames``.

        Contexts are cached per host-name set: issuing a certificate costs a
        key generation, and a TLS front may see thousands of connections.
        """
        key = tuple(sorted(hostnames))
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self._ca.issue_cert(*key).configure_cert(context)
                self._contexts[key] = context
            return context

    def client_context(self):
        """An ``ssl.SSLContext`` trusting only this CA."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def issue_files(self, directory, *hostnames):
        """Write a leaf certificate chain and key for ``hostnames`` to files.

        Returns ``(cert_path, key_path)``; for servers that load files rather
        than an ``SSLContext``.
        """
        leaf = self._ca.issue_cert(*hostnames)
        fd, cert_path = tempfile.mkstemp(prefix="lab-cert-", suffix=".pem", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            for blob in leaf.cert_chain_pems:
                handle.write(blob.bytes())
        fd, key_path = tempfile.mkstemp(prefix="lab-key-", suffix=".pem", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(leaf.private_key_pem.bytes())
        return cert_path, key_path


_UNTRUSTED = None
_UNTRUSTED_LOCK = threading.Lock()


def untrusted_ca():
    """A CA that nothing in the lab trusts (for the untrusted-certificate fault)."""
    global _UNTRUSTED  # pylint: disable=global-statement
    with _UNTRUSTED_LOCK:
        if _UNTRUSTED is None:
            _UNTRUSTED = LabCA(organization="untrusted interceptor")
        return _UNTRUSTED
