"""Hook registries keyed by handle id, as used by Module (forward hooks) and Optimizer (step and state_dict hooks)."""
import itertools

__all__ = ["RemovableHandle", "add_hook"]


class RemovableHandle:
    """What ``register_*_hook`` returns: ``remove()``, or leaving a ``with`` block, unregisters the hook."""
    _ids = itertools.count()

    def __init__(self, hooks, tags=()):
        self.hooks = hooks
        self.tags = tags  # sets that also hold this hook's id (e.g. "called with kwargs"); cleared on remove
        self.id = next(self._ids)

    def remove(self):
        self.hooks.pop(self.id, None)
        for tag in self.tags:
            tag.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, hook, prepend=False, tags=()):
    """Store ``hook`` in the ordered dict ``hooks`` (first in line with ``prepend``), add its id to each set in
    ``tags``, and return its handle."""
    handle = RemovableHandle(hooks, tags)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    for tag in tags:
        tag.add(handle.id)
    return handle
