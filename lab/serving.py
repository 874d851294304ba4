"""Serving a socketserver from a daemon thread on loopback: the lifecycle shared by the lab's servers."""

import threading


class ServingThread:
    """``server.serve_forever`` in a daemon thread named ``name``; :meth:`stop` shuts it down and closes the socket."""

    def __init__(self, server, name, poll_interval=0.5):
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), name=name, daemon=True)

    def start(self):
        """Start serving; returns self."""
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close the listening socket and wait (up to 5 s) for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    @property
    def port(self):
        """The bound loopback port."""
        return self.server.server_address[1]

    @property
    def url(self):
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"
