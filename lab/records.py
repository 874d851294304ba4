"""The lab's request log.

Every AWS API call answered by the front and every request served by the
lab's public internet is recorded with its outcome, so tests and benchmarks
can prove properties over time ("the bucket was never publicly readable",
"the module made N AWS calls") instead of sampling the final state.
"""

import threading
import time


class RequestLog:
    """A thread-safe, append-only list of request records.

    A record is a dict with ``seq``, ``time`` (wall clock), ``kind``
    (``api`` for the AWS API endpoint, ``internet`` for the public internet,
    ``fetch`` for STS's own fetches), ``service``, ``operation`` (API) or
    ``host``/``path`` (internet), ``method``, ``status``, ``error`` (error code
    if any), ``caller`` (an access key id, ``anonymous``, ``sts`` or
    ``cloudfront``) and free-form ``detail``.
    """

    def __init__(self, limit=100000):
        self._lock = threading.Lock()
        self._records = []
        self._seq = 0
        self._limit = limit

    def add(self, **fields):
        """Append a record and return it."""
        with self._lock:
            self._seq += 1
            record = {"seq": self._seq, "time": time.time()}
            record.update(fields)
            self._records.append(record)
            if len(self._records) > self._limit:
                del self._records[: len(self._records) - self._limit]
            return record

    def entries(self, since=0, **filters):
        """Records with ``seq > since`` whose fields equal every filter."""
        with self._lock:
            selected = [r for r in self._records if r["seq"] > since]
        for key, value in filters.items():
            selected = [r for r in selected if r.get(key) == value]
        return selected

    def last_seq(self):
        """The sequence number of the newest record (0 if none)."""
        with self._lock:
            return self._seq

    def clear(self):
        """Forget every record (sequence numbers keep growing)."""
        with self._lock:
            self._records = []
