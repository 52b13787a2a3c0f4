"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
import operator
from collections import OrderedDict

from ..parameter import Parameter
from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _index(idx, n):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for a container of length {n}")
    return idx % n


def _renumber(container, values):
    """Store ``values`` as the container's modules under the keys "0", "1", ... (after a deletion or an
    insertion), checking each with add_module."""
    container._modules.clear()
    for i, m in enumerate(values):
        container.add_module(str(i), m)


class _ListContainer(Module):
    """List behaviour shared by Sequential, ModuleList and ParameterList: the entries of one registry
    (``_entries``), appended under the keys "0", "1", ...; ``_put(key, value)`` checks and stores one entry."""

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries().values())

    def append(self, value):
        self._put(str(len(self)), value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self


class _NumberedList(_ListContainer):
    """ModuleList and ParameterList: entries always keyed "0" to "n-1", so indexing is a dict lookup."""

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self)[idx])
        return self._entries()[str(_index(idx, len(self)))]

    def __setitem__(self, idx, value):
        self._put(str(_index(idx, len(self))), value)


class _DictContainer(Module):
    """Dict behaviour shared by ModuleDict and ParameterDict over one registry (``_entries``); ``_put(key,
    value)`` checks and stores one entry."""

    def __getitem__(self, key):
        return self._entries()[key]

    def __setitem__(self, key, value):
        self._put(key, value)

    def __delitem__(self, key):
        del self._entries()[key]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key):
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def pop(self, key):
        return self._entries().pop(key)

    def clear(self):
        self._entries().clear()

    def update(self, values):
        for key, value in values.items() if hasattr(values, "items") else values:
            self[key] = value


class _ModuleEntries:
    """Entries are submodules (``_modules``), stored through add_module."""

    def _entries(self):
        return self._modules

    def _put(self, key, module):
        self.add_module(key, module)


class _ParameterEntries:
    """Entries are parameters (``_parameters``); plain tensors are wrapped as Parameters."""

    def _entries(self):
        return self._parameters

    def _put(self, key, value):
        self.register_parameter(key, value if isinstance(value, Parameter) else Parameter(value))

    def _describe(self, keys, kind):
        """PyTorch's extra_repr lines: ``  (key): Parameter containing: [<kind(p)> of size 2x3]``, plus the device
        when not cpu."""
        lines = []
        for k, p in zip(keys, self._parameters.values()):
            where = "" if p.device.type == "cpu" else f" ({p.device})"
            lines.append(f"  ({k}): Parameter containing: [{kind(p)} of size {'x'.join(map(str, p.shape))}{where}]")
        return "\n".join(lines)


class Sequential(_ModuleEntries, _ListContainer):
    """Modules applied in order: ``Sequential(a, b, c)`` or ``Sequential(OrderedDict(name=module, ...))``."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self))]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[_index(idx, len(self))]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in (keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(self))]]):
            del self._modules[key]
        if all(k.isdigit() for k in self._modules):
            _renumber(self, list(self._modules.values()))

    def insert(self, index, module):
        values = list(self._modules.values())
        values.insert(index if index >= 0 else len(values) + index, module)
        _renumber(self, values)
        return self

    def __add__(self, other):
        return Sequential(*self, *other)


class ModuleList(_ModuleEntries, _NumberedList):
    """A list of modules whose parameters are registered (indexable like a list)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __delitem__(self, idx):
        values = list(self._modules.values())
        del values[idx if isinstance(idx, slice) else _index(idx, len(values))]
        _renumber(self, values)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def insert(self, index, module):
        values = list(self._modules.values())
        values.insert(index, module)
        _renumber(self, values)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward; iterate over its modules")

    def __repr__(self):
        """Runs of identical children print once, as ``(0-2): 3 x Linear(...)`` (like PyTorch)."""
        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return "ModuleList()"
        lines, start = [], 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                body = reprs[start].replace("\n", "\n  ")
                n = i - start
                lines.append(f"({start}): {body}" if n == 1 else f"({start}-{i - 1}): {n} x {body}")
                start = i
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(_ModuleEntries, _DictContainer):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward; index it by name")


class ParameterList(_ParameterEntries, _NumberedList):
    """A list of Parameters registered with the module."""

    def __init__(self, values=None):
        super().__init__()
        self.extend(values or ())

    def extra_repr(self):
        return self._describe(range(len(self)), lambda p: p.dtype)


class ParameterDict(_ParameterEntries, _DictContainer):
    """A dict of Parameters registered with the module."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def extra_repr(self):
        return self._describe(self._parameters, lambda p: p.type())  # PyTorch names the tensor type here
