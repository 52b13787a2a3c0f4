"""Builders and weights, torchvision style: ``resnet50(weights=None | "DEFAULT" | entry name | WeightsEntry)``.

Every builder is registered here by name (``register_builder``), so :func:`get_model` and the pipelines can build
the architecture a :class:`~zoo.weights.WeightsEntry` names (``entry.architecture``). The weights entries
themselves live in the registry (``zoo.weights``) and are registered by ``zoo.vision.pretrained``; the default
entry of each builder is that module's ``DEFAULT_WEIGHTS``.

Loading pretrained weights: the entry's file is found and checked (sha256) by ``entry.get_state_dict()``, the
model's ``convert_state_dict`` (a classmethod each architecture with foreign checkpoints defines) renames its
keys, and the result is loaded strictly: a missing, unexpected or mis-shaped tensor is an error listing them.
"""
import difflib

__all__ = ["register_builder", "get_model_builder", "get_model", "list_models", "get_weight", "get_model_weights",
           "resolve_weights", "load_pretrained", "builder_for_architecture", "check_state_dict", "match_bn_counters"]

_BUILDERS = {}


def register_builder(fn):
    """Decorator: make ``fn`` (a builder taking ``weights=``) known by its function name."""
    _BUILDERS[fn.__name__] = fn
    return fn


def list_models():
    """The names of every model builder (``resnet50``, ``efficientnet_lite0`` ...), sorted."""
    return sorted(_BUILDERS)


def get_model_builder(name):
    """The builder function registered as ``name``; a clear error (with close matches) otherwise."""
    try:
        return _BUILDERS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(_BUILDERS), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown vision model {name!r}.{hint} Known: {', '.join(list_models())}.") from None


def builder_for_architecture(architecture):
    """The builder of a weights entry's ``architecture``: a builder name, ``zoo.vision.models.<name>`` or
    ``"module:attr"``."""
    if ":" in architecture:
        from ...weights.providers import import_attr
        return import_attr(architecture)
    prefix = "zoo.vision.models."
    return get_model_builder(architecture[len(prefix):] if architecture.startswith(prefix) else architecture)


def get_model(name, **config):
    """Build the model ``name`` with ``config`` (``weights=``, ``num_classes=`` ...), as torchvision's
    ``get_model``."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The registered weights entries whose architecture is the builder ``name``."""
    from ...weights.registry import list_entries
    get_model_builder(name)
    return list_entries(architecture=name)


def get_weight(name):
    """The weights entry registered as ``name`` (torchvision's ``get_weight``)."""
    from ...weights.registry import get_entry
    return get_entry(name)


def resolve_weights(weights, builder):
    """``weights`` as a WeightsEntry for ``builder`` (or None): None, ``"DEFAULT"``, an entry name or an entry.

    The entry must be for this architecture; ``True`` / ``False`` are refused with torchvision's advice."""
    if weights is None:
        return None
    if isinstance(weights, bool):
        raise TypeError(f"{builder}(weights={weights}): pass weights='DEFAULT' (or an entry name) for pretrained "
                        "weights and weights=None for a randomly initialized model; pretrained=True is not used")
    from ...weights.registry import WeightsEntry, get_entry
    if isinstance(weights, str) and weights.upper() == "DEFAULT":
        from ..pretrained import DEFAULT_WEIGHTS
        if builder not in DEFAULT_WEIGHTS:
            raise ValueError(f"{builder} has no pretrained weights registered; build it with weights=None")
        weights = DEFAULT_WEIGHTS[builder]
    if not isinstance(weights, (str, WeightsEntry)):
        raise TypeError(f"{builder}(weights=...): expected None, 'DEFAULT', a weights name or a WeightsEntry, got "
                        f"{type(weights).__name__}")
    entry = get_entry(weights)
    arch = entry.architecture
    if arch.startswith("zoo.vision.models."):
        arch = arch[len("zoo.vision.models."):]
    if arch != builder:
        raise ValueError(f"weights {entry.name!r} are for {entry.architecture}, not for {builder}")
    return entry


def check_num_classes(builder, entry, num_classes, default=1000):
    """``num_classes`` to build with: the entry's label count when weights are given (a different explicit value
    is an error, as in torchvision), else ``num_classes`` or ``default``."""
    if entry is None:
        return default if num_classes is None else int(num_classes)
    n = len(entry.get_labels()) if entry.labels is not None else default
    if num_classes is not None and int(num_classes) != n:
        raise ValueError(f"{builder}: weights {entry.name!r} have {n} classes but num_classes={num_classes}; "
                         "load them into a model with their class count, then replace the classifier")
    return n


def load_pretrained(model, entry, state=None):
    """Load ``entry``'s (verified) checkpoint into ``model`` strictly, converting key names with the model's
    ``convert_state_dict`` when it has one; records the entry as ``model.weights_entry``. ``state`` is the
    checkpoint when it was read already."""
    if state is None:
        state = entry.get_state_dict()
    convert = getattr(type(model), "convert_state_dict", None)
    if convert is not None:
        state = convert(state, model)
    check_state_dict(model, state, f"weights {entry.name!r}")
    model.load_state_dict(state, strict=True)
    model.weights_entry = entry  # the pipelines take the eval transform and labels from it
    return model


def match_bn_counters(state, model):
    """``state`` with BatchNorm ``num_batches_tracked`` entries added (from ``model``) or dropped so that it
    loads strictly: checkpoints from other frameworks (or old torchvision files) do not carry them."""
    if model is None:
        return dict(state)
    own = model.state_dict()
    out = {k: v for k, v in state.items() if not (k.endswith("num_batches_tracked") and k not in own)}
    for k, v in own.items():
        if k.endswith("num_batches_tracked") and k not in out:
            out[k] = v
    return out


def check_state_dict(model, state, what):
    """Raise one RuntimeError listing every missing, unexpected and mis-shaped key of ``state`` for ``model``
    (checked before anything is copied, so a failed load leaves the model as it was)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in own.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or mismatched:
        lines = [f"{what} do not fit {type(model).__name__}:"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): {', '.join(missing[:10])}"
                         + (" ..." if len(missing) > 10 else ""))
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): {', '.join(unexpected[:10])}"
                         + (" ..." if len(unexpected) > 10 else ""))
        for key, have, want in mismatched[:10]:
            lines.append(f"  size mismatch for {key}: checkpoint {have}, model {want}")
        raise RuntimeError("\n".join(lines))


def build(builder, model_fn, weights, num_classes, default_classes=1000, **kwargs):
    """The common body of a builder: resolve ``weights``, build ``model_fn(num_classes=..., **kwargs)``, load."""
    entry = resolve_weights(weights, builder)
    num_classes = check_num_classes(builder, entry, num_classes, default_classes)
    state = entry.get_state_dict() if entry is not None else None  # find and verify the file before building
    model = model_fn(num_classes=num_classes, **kwargs)
    if entry is not None:
        load_pretrained(model, entry, state)
    return model
