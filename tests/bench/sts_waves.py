"""How many round trips the STS pass takes under sts.AdaptiveLimit's growth, for the benchmarks' floors and bounds."""


def sts_waves(calls, start, ceiling):
    """Round trips of ``calls`` STS calls: ``start`` in flight at first, one more per answer, up to ``ceiling``."""
    waves, left, width = 0, calls, start
    while left > 0:
        sent = min(width, left)
        left -= sent
        width = min(ceiling, width + sent)
        waves += 1
    return waves
