"""Fault injection, per AWS service and per internet host.

A *target* is an AWS service name (``iam``, ``sts``, ``cloudfront``, ``s3``,
``s3control``) as answered by the API front, one operation of a service named
as its IAM action (``s3:GetBucketPolicyStatus``, ``iam:GetRole``,
``cloudfront:ListDistributions``), or a host name of the lab's public internet
(``mybucket.s3.us-east-1.amazonaws.com``, ``d123.cloudfront.net``); targets
may use shell wildcards (``*.cloudfront.net``, ``s3:Get*``).

Each target has a fixed added latency, a queue of one-shot faults consumed by
the next calls (``throttle``, ``error`` (HTTP 5xx), ``reset`` (connection
closed without an answer), ``deny`` (AWS API only: ``AccessDenied``, HTTP 403,
as an identity without the permission gets), ``idp_communication`` and
``idp_rejected_claim`` (STS only)), and an ``untrusted_cert`` switch (the
internet host presents a certificate from a CA nobody trusts).
"""

import fnmatch
import threading

FAULT_KINDS = ("throttle", "error", "reset", "deny", "idp_communication", "idp_rejected_claim")


class _TargetFaults:
    def __init__(self):
        self.latency = 0.0
        self.queue = []
        self.error_status = 500
        self.untrusted_cert = False

    def as_dict(self):
        return {
            "latency": self.latency,
            "queue": list(self.queue),
            "error_status": self.error_status,
            "untrusted_cert": self.untrusted_cert,
        }


class Decision:
    """What to do with one call: sleep ``latency`` seconds, then ``action`` (or None)."""

    def __init__(self, latency=0.0, action=None, error_status=500):
        self.latency = latency
        self.action = action
        self.error_status = error_status

    def __repr__(self):
        return f"Decision(latency={self.latency!r}, action={self.action!r})"


class FaultPlan:
    """The set of active faults; shared by the API front and the internet."""

    def __init__(self):
        self._lock = threading.Lock()
        self._targets = {}

    def _get(self, target):
        entry = self._targets.get(target)
        if entry is None:
            entry = self._targets[target] = _TargetFaults()
        return entry

    def set_latency(self, target, seconds):
        """Add ``seconds`` of latency to every call to ``target``."""
        with self._lock:
            self._get(target).latency = float(seconds)

    def inject(self, target, kind, count=1, error_status=500):
        """Answer the next ``count`` calls to ``target`` with fault ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            entry = self._get(target)
            entry.queue.extend([kind] * int(count))
            if kind == "error":
                entry.error_status = int(error_status)

    def set_untrusted_cert(self, target, enabled=True):
        """Make internet host ``target`` present an untrusted certificate."""
        with self._lock:
            self._get(target).untrusted_cert = bool(enabled)

    def configure(self, target, latency=None, throttle=0, errors=0, error_status=500,
                  resets=0, deny=0, idp_communication=0, idp_rejected_claim=0, untrusted_cert=None):
        """Set several knobs at once (the control API's shape)."""
        if latency is not None:
            self.set_latency(target, latency)
        for kind, count in (("reset", resets), ("throttle", throttle), ("error", errors), ("deny", deny),
                            ("idp_communication", idp_communication), ("idp_rejected_claim", idp_rejected_claim)):
            if count:
                self.inject(target, kind, count, error_status=error_status)
        if untrusted_cert is not None:
            self.set_untrusted_cert(target, untrusted_cert)

    def clear(self, target=None):
        """Remove the faults of ``target``, or all faults."""
        with self._lock:
            if target is None:
                self._targets = {}
            else:
                self._targets.pop(target, None)

    def _matching(self, names):
        """Entries for ``names`` (one name or several, most specific first): for each name the exact target,
        then matching wildcard targets; each entry once."""
        entries = []
        for name in (names,) if isinstance(names, str) else names:
            if name in self._targets:
                entries.append(self._targets[name])
            for pattern, entry in self._targets.items():
                if pattern != name and any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern):
                    entries.append(entry)
        unique = []
        for entry in entries:
            if all(entry is not seen for seen in unique):
                unique.append(entry)
        return unique

    def take(self, name, kinds=None):
        """Consume the next fault for ``name`` and return a :class:`Decision`.

        ``name`` may be a tuple of names, most specific first (the API front
        passes ``("s3:GetBucketPolicyStatus", "s3")``): the first queued fault
        of the most specific target wins. ``kinds`` restricts which queued
        kinds this caller can act on (others stay queued); e.g. only STS acts
        on ``idp_communication``. The latency is the largest of every matching
        target.
        """
        with self._lock:
            entries = self._matching(name)
            if not entries:
                return Decision()
            latency = max(entry.latency for entry in entries)
            for entry in entries:
                for index, kind in enumerate(entry.queue):
                    if kinds is None or kind in kinds:
                        return Decision(latency, entry.queue.pop(index), entry.error_status)
            return Decision(latency)

    def untrusted(self, name):
        """True if host ``name`` must present an untrusted certificate."""
        with self._lock:
            return any(entry.untrusted_cert for entry in self._matching(name))

    def snapshot(self):
        """A JSON-friendly view of every target's faults."""
        with self._lock:
            return {name: entry.as_dict() for name, entry in self._targets.items()}
