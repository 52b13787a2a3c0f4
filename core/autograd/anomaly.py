"""Anomaly detection: backward checks every gradient for NaN/inf and names the op (with the forward trace)."""
from .grad_mode import _mode


def is_anomaly_enabled():
    return _mode.anomaly


class set_detect_anomaly:
    """Turn anomaly detection on or off (immediately, or for a ``with`` block)."""

    def __init__(self, mode):
        self.prev = _mode.anomaly
        _mode.anomaly = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self.prev
        return False


class detect_anomaly(set_detect_anomaly):
    """``with zoo.autograd.detect_anomaly():`` — a NaN/inf gradient raises, naming the op that produced it."""

    def __init__(self, check_nan=True):
        super().__init__(check_nan)
