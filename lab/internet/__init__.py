"""The public internet as STS and a user's curl see it (see :mod:`lab.internet.server`)."""

from lab.internet.server import FetchError, FetchResult, Internet

__all__ = ["FetchError", "FetchResult", "Internet"]
