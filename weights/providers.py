"""Provider modules: the modules that register a domain's weights entries, model architectures and pipeline tasks.

They are imported on the first registry lookup that needs them, never at ``import zoo``, so registrations cost
nothing until used. Each domain has one (``zoo.vision.pretrained``, ``zoo.text.pretrained`` ...); other packages
add theirs with :func:`add_provider`. A provider module that does not exist (a domain with no registrations yet)
is skipped; one that fails to import is reported, naming it, and tried again on the next lookup.
"""
import importlib

__all__ = ["add_provider", "load_providers", "import_attr", "check_target", "load_target"]

_MODULES = ["zoo.vision.pretrained", "zoo.text.pretrained", "zoo.audio.pretrained", "zoo.rl.pretrained"]
_LOADED = set()


def add_provider(module):
    """Name a module that registers entries, architectures or tasks; it is imported on the next lookup."""
    if module not in _MODULES:
        _MODULES.append(module)


def load_providers():
    """Import every provider module not imported yet."""
    for module in list(_MODULES):
        if module in _LOADED:
            continue
        _LOADED.add(module)  # first: a provider may look things up while it registers its own
        try:
            importlib.import_module(module)
        except Exception as e:
            if isinstance(e, ModuleNotFoundError) and e.name and (module == e.name or module.startswith(e.name + ".")):
                continue  # this domain has no provider module
            _LOADED.discard(module)
            raise ImportError(f"zoo: importing the registrations of {module} failed: {e}") from e


def import_attr(path):
    """The object named by ``"module.path:attr"`` (``attr`` may be dotted), imported now."""
    module, sep, attr = path.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"expected 'module.path:attribute', got {path!r}")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def check_target(caller, target, base):
    """Validate what a registry is given to build later: ``"module.path:ClassName"`` or a subclass of ``base``."""
    if isinstance(target, str):
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"{caller}: target must be 'module.path:ClassName', got {target!r}")
    elif not (isinstance(target, type) and issubclass(target, base)):
        raise TypeError(f"{caller}: target must be 'module.path:ClassName' or a {base.__name__} subclass, "
                        f"got {target!r}")


def load_target(target, base, what):
    """The class a registration names (imported now if given by name), checked to be a subclass of ``base``."""
    cls = import_attr(target) if isinstance(target, str) else target
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{what} is registered as {target!r}, which is not a {base.__name__} subclass")
    return cls
