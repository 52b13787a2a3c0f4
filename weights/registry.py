"""The registry of pretrained weights: one :class:`WeightsEntry` per checkpoint, torchvision weight-enum style.

An entry bundles everything needed to use a checkpoint: which builder makes the model (``architecture``), the
task, its files with their sha256, where to get them (``sources``), the eval transform, the labels, the metrics
it reaches, its license and citation, and for checkpoints this project trained, the script that reproduces it
(``recipe``) and what that run used and reached (``record``).

Domain packages register their entries lazily, in their provider modules (see :mod:`zoo.weights.providers`),
imported on the first lookup that needs them, never at ``import zoo.weights``. A provider module only builds
entries and calls :func:`register`; it must stay light (no heavy imports at module level).
"""
import dataclasses
import difflib
import re
import types
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from .errors import UnknownWeightsError
from .providers import add_provider, import_attr, load_providers

__all__ = ["FileSpec", "Record", "WeightsEntry", "register", "unregister", "get_entry", "list_entries", "list_models",
           "add_provider"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class FileSpec:
    """What the registry knows about one file: its sha256 (hex) and size in bytes, either may be unknown."""
    sha256: Optional[str] = None
    size: Optional[int] = None

    def __post_init__(self):
        if self.sha256 is not None:
            sha = str(self.sha256).lower()
            if not _SHA256.fullmatch(sha):
                raise ValueError(f"FileSpec: sha256 must be 64 hex digits, got {self.sha256!r}")
            object.__setattr__(self, "sha256", sha)
        if self.size is not None and (not isinstance(self.size, int) or self.size < 0):
            raise ValueError(f"FileSpec: size must be a non-negative int, got {self.size!r}")

    @classmethod
    def of(cls, value):
        """A FileSpec from a FileSpec, a sha256 string, a ``(sha256, size)`` pair, a dict or None."""
        if isinstance(value, cls):
            return value
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(sha256=value)
        if isinstance(value, Mapping):
            return cls(**value)
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return cls(*value)
        raise TypeError(f"cannot describe a file with {value!r}: give a sha256 string, (sha256, size), a dict "
                        "or a FileSpec")


@dataclasses.dataclass(frozen=True)
class Record:
    """How a project-trained checkpoint was made: data source, exact command, seed and the metric it reached."""
    data: str
    command: str
    seed: int
    metric: Mapping[str, float]

    def __post_init__(self):
        object.__setattr__(self, "metric", types.MappingProxyType(dict(self.metric)))


@dataclasses.dataclass(frozen=True)
class WeightsEntry:
    """One pretrained checkpoint.

    ``files`` maps each file name to its :class:`FileSpec` (a sha256 string or ``(sha256, size)`` is accepted).
    ``sources`` are tried for every file; they are kept in the canonical order store → package → hub whatever
    order they were given in (a user's explicit local path, passed to ``resolve``, always comes first).
    ``transforms`` is a callable returning the eval transform, or a spec ``{"builder": "module:attr", **kwargs}``
    (see :meth:`get_transforms`); ``labels`` a sequence, a callable returning one, or ``"module:attr"``.
    A checkpoint shipped in the project store must name its ``recipe`` (the script that reproduces it, relative to
    the repository root) and carry its :class:`Record`.
    """
    name: str
    architecture: str
    task: str
    files: Mapping[str, Any]
    sources: Sequence[Any]
    transforms: Union[Callable, Mapping, None] = None
    labels: Union[Sequence[str], Callable, str, None] = None
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    license: str = ""
    citation: str = ""
    recipe: Optional[str] = None
    record: Optional[Record] = None

    def __post_init__(self):
        for field in ("name", "architecture", "task"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ValueError(f"WeightsEntry.{field} must be a non-empty string, got {value!r}")
        if not self.files:
            raise ValueError(f"WeightsEntry {self.name!r}: files is empty")
        files = {str(k): FileSpec.of(v) for k, v in dict(self.files).items()}
        sources = tuple(self.sources)
        if not sources:
            raise ValueError(f"WeightsEntry {self.name!r}: no sources")
        for s in sources:
            if not hasattr(s, "locate") or not hasattr(s, "rank"):
                raise TypeError(f"WeightsEntry {self.name!r}: {s!r} is not a source (use Store, Package or Hub)")
        record = self.record
        if isinstance(record, Mapping):
            record = Record(**record)
        if any(s.kind == "store" for s in sources) and (not self.recipe or record is None):
            raise ValueError(f"WeightsEntry {self.name!r} ships in the project store, so it needs a recipe (the "
                             "script that reproduces it) and a record (data, command, seed, metric)")
        labels = self.labels
        if isinstance(labels, (list, tuple)):
            labels = tuple(labels)
        set_ = object.__setattr__
        set_(self, "files", types.MappingProxyType(files))
        set_(self, "sources", tuple(sorted(sources, key=lambda s: s.rank)))
        set_(self, "metrics", types.MappingProxyType(dict(self.metrics)))
        set_(self, "labels", labels)
        set_(self, "record", record)

    def __hash__(self):
        return hash(self.name)

    def pick_file(self, filename=None):
        """``filename`` checked against this entry's files; None means the entry's only file."""
        if filename is None:
            if len(self.files) != 1:
                raise ValueError(f"weights {self.name!r} has {len(self.files)} files ({', '.join(self.files)}): "
                                 "say which one")
            return next(iter(self.files))
        if filename not in self.files:
            raise KeyError(f"weights {self.name!r} has no file {filename!r}; its files: {', '.join(self.files)}")
        return filename

    def get_transforms(self):
        """The eval transform: ``transforms()`` for a callable, ``builder(**kwargs)`` for a spec."""
        spec = self.transforms
        if spec is None:
            raise ValueError(f"weights {self.name!r} records no eval transform")
        if callable(spec):
            return spec()
        spec = dict(spec)
        if "builder" not in spec:
            raise ValueError(f"weights {self.name!r}: transform spec {spec!r} lacks 'builder': 'module:attr'")
        return import_attr(spec.pop("builder"))(**spec)

    def get_labels(self):
        """The class labels as a list (loaded on demand when the entry holds a loader)."""
        labels = self.labels
        if labels is None:
            raise ValueError(f"weights {self.name!r} records no labels")
        if isinstance(labels, str):
            labels = import_attr(labels)
        if callable(labels):
            labels = labels()
        return list(labels)

    def get_state_dict(self, filename=None, *, local=None, revision=None):
        """Resolve (and verify) one file, then read it with ``zoo.load``: like torchvision's ``get_state_dict``."""
        from ..core.serialization import load
        from .sources import resolve
        return load(resolve(self, filename, revision, local=local))


_ENTRIES = {}
def register(entry, *, replace=False):
    """Add ``entry`` to the registry and return it. Registering an equal entry again is a no-op; a different
    entry under a taken name is refused unless ``replace``."""
    if not isinstance(entry, WeightsEntry):
        raise TypeError(f"register expects a WeightsEntry, got {type(entry).__name__}")
    old = _ENTRIES.get(entry.name)
    if old is not None and old != entry and not replace:
        raise ValueError(f"weights {entry.name!r} are already registered (architecture {old.architecture}); "
                         "pass replace=True to override them")
    _ENTRIES[entry.name] = entry
    return entry


def unregister(name):
    """Remove an entry (a plugin unloading, a test cleaning up); returns it, or None if it was not there."""
    return _ENTRIES.pop(name, None)


def get_entry(name):
    """The entry registered as ``name`` (an entry passes through). Providers are imported if needed."""
    if isinstance(name, WeightsEntry):
        return name
    if not isinstance(name, str):
        raise TypeError(f"weights name must be a string, got {type(name).__name__}")
    if name not in _ENTRIES:
        load_providers()
    try:
        return _ENTRIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_ENTRIES), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownWeightsError(f"no pretrained weights named {name!r}.{hint} "
                                  "zoo.list_models() lists them all.") from None


def list_entries(task=None, architecture=None):
    """Every registered entry, sorted by name; only those of ``task`` / ``architecture`` when given."""
    load_providers()
    return [e for _, e in sorted(_ENTRIES.items())
            if (task is None or e.task == task) and (architecture is None or e.architecture == architecture)]


def list_models(task=None):
    """The names of the registered pretrained weights, sorted; only those of ``task`` when given
    (``zoo.list_models``, as ``torchvision.models.list_models``)."""
    return [e.name for e in list_entries(task=task)]
