"""An injectable clock shared by the lab's components.

STS compares a token's ``exp`` with :meth:`Clock.now`, and CloudFront
deployments complete when the clock reaches their ready time, so tests move
time instead of sleeping.
"""

import threading
import time


class Clock:
    """Wall-clock time plus an adjustable offset (or a frozen instant)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen = None

    def now(self):
        """Seconds since the epoch, as the lab sees them."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def advance(self, seconds):
        """Move the clock forward by ``seconds`` (negative moves it back)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def set(self, epoch_seconds, freeze=False):
        """Jump to ``epoch_seconds``; with ``freeze`` the clock stops there."""
        with self._lock:
            if freeze:
                self._frozen = float(epoch_seconds)
            else:
                self._frozen = None
                self._offset = float(epoch_seconds) - time.time()

    def reset(self):
        """Back to real time."""
        with self._lock:
            self._offset = 0.0
            self._frozen = None

    def state(self):
        """A JSON-friendly description of the clock."""
        with self._lock:
            return {"offset": self._offset, "frozen": self._frozen}
