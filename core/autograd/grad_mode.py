"""Grad modes: no_grad, enable_grad, inference_mode, set_grad_enabled (context managers and decorators)."""
import functools

__all__ = ["no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _mode:
    """Global switches read by every op; class attributes so the hot path is one attribute load."""
    grad_enabled = True
    inference = False
    anomaly = False
    autocast = None  # (device type, NumPy dtype) inside zoo.autocast


def is_grad_enabled():
    return _mode.grad_enabled


def is_inference_mode_enabled():
    return _mode.inference


class _GradModeContext:
    """Base for the grad-mode context managers; each instance also works as a decorator."""

    def __new__(cls, *args, **kwargs):
        # ``@no_grad`` without parentheses: the decorated function arrives as the only argument
        if len(args) == 1 and not kwargs and callable(args[0]) and cls is not set_grad_enabled:
            return cls()(args[0])
        return super().__new__(cls)

    def _enter(self):
        raise NotImplementedError

    def __enter__(self):
        self._saved = (_mode.grad_enabled, _mode.inference)
        self._enter()
        return self

    def __exit__(self, *exc):
        _mode.grad_enabled, _mode.inference = self._saved
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    """Ops inside record no graph (like ``torch.no_grad``)."""

    def _enter(self):
        _mode.grad_enabled = False


class enable_grad(_GradModeContext):
    def _enter(self):
        _mode.grad_enabled = True


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off: as a function call (takes effect at once) or as a context manager."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = (_mode.grad_enabled, _mode.inference)
        _mode.grad_enabled = self.mode

    def __enter__(self):
        self._saved = self._prev
        return self

    def _args(self):
        return (self.mode,)


class inference_mode(_GradModeContext):
    """Like no_grad; tensors made inside are marked as inference tensors and never record a graph."""

    def __init__(self, mode=True):
        self.mode = mode

    def _enter(self):
        if self.mode:
            _mode.grad_enabled = False
            _mode.inference = True

    def _args(self):
        return (self.mode,)
