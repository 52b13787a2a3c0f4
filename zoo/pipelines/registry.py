"""The task registry and ``zoo.pipeline(task, model=None, device=None, batch_size=None, **kwargs)``.

Tasks use Hugging Face's names (``"image-classification"``, ``"text-generation"``, ``"automatic-speech-
recognition"`` ...). Each domain registers its tasks by import string in its provider module
(``zoo.<domain>.pretrained``, imported on the first lookup that needs it), so no pipeline code is imported
until a pipeline is made::

    register_task("image-classification", "zoo.vision.pipelines:ImageClassificationPipeline",
                  default_model="resnet18", aliases=["image-classifier"])
"""
import dataclasses
import difflib
from typing import Optional, Tuple, Union

from ..weights.providers import check_target, load_providers, load_target
from .base import Pipeline

__all__ = ["TaskSpec", "UnknownTaskError", "register_task", "unregister_task", "get_task", "list_tasks", "pipeline"]


class UnknownTaskError(KeyError):
    """No task is registered under this name (or alias)."""

    def __str__(self):  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """A registered task: its pipeline class (``"module:Class"`` or the class), default model and aliases."""
    task: str
    target: Union[str, type]
    default_model: Optional[str] = None
    aliases: Tuple[str, ...] = ()

    def pipeline_class(self):
        """The pipeline class, imported now if it was registered by name."""
        return load_target(self.target, Pipeline, f"task {self.task!r}")


_TASKS = {}
_ALIASES = {}


def register_task(task, target, *, default_model=None, aliases=(), replace=False):
    """Register ``task``: its pipeline class as ``"module.path:ClassName"`` (imported only when a pipeline is
    made) or the class, the model used when ``pipeline(task)`` names none, and other names for the task."""
    if not isinstance(task, str) or not task:
        raise ValueError(f"register_task: task must be a non-empty string, got {task!r}")
    check_target("register_task", target, Pipeline)
    aliases = (aliases,) if isinstance(aliases, str) else tuple(aliases)
    spec = TaskSpec(task, target, default_model, aliases)
    old = _TASKS.get(task)
    if old is not None and old != spec and not replace:
        raise ValueError(f"task {task!r} is already registered ({old.target!r}); pass replace=True to override it")
    for name in (task,) + aliases:
        owner = _ALIASES.get(name, name if name in _TASKS else None)
        if owner is not None and owner != task:
            raise ValueError(f"register_task: {name!r} already names task {owner!r}")
    if old is not None:
        unregister_task(task)
    _TASKS[task] = spec
    for alias in aliases:
        _ALIASES[alias] = task
    return spec


def unregister_task(task):
    """Forget a task and its aliases; returns its spec, or None if it was not registered."""
    spec = _TASKS.pop(task, None)
    if spec is not None:
        for alias in spec.aliases:
            _ALIASES.pop(alias, None)
    return spec


def list_tasks():
    """Every registered task name, sorted (aliases not included)."""
    load_providers()
    return sorted(_TASKS)


def get_task(task):
    """The :class:`TaskSpec` of a task name or alias; :class:`UnknownTaskError` lists the tasks otherwise."""
    if not isinstance(task, str):
        raise TypeError(f"task must be a string, got {type(task).__name__}")
    if task not in _TASKS and task not in _ALIASES:
        load_providers()
    name = _ALIASES.get(task, task)
    if name in _TASKS:
        return _TASKS[name]
    close = difflib.get_close_matches(task, list(_TASKS) + list(_ALIASES), n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    known = ", ".join(sorted(_TASKS)) or "none registered yet"
    raise UnknownTaskError(f"unknown task {task!r}.{hint} Available tasks: {known}.")


def pipeline(task=None, model=None, device=None, batch_size=None, **kwargs):
    """A ready-to-call pipeline for ``task``, as ``transformers.pipeline`` makes one.

    ``model`` is a model object, a registered weights name, a model directory or a hub repo id; None uses the
    task's default model. Without ``task``, the task recorded by the registered weights named by ``model`` is
    used. ``device``: ``"cpu"``, ``"cuda[:N]"``, a cuda index or ``-1`` for cpu. ``batch_size``: how many inputs
    run through the model together when the pipeline is called with a list. Other keywords (``revision``,
    ``top_k`` and the task's own options) go to the pipeline class; task options become the defaults of every
    call.
    """
    if task is None:
        if not isinstance(model, str):
            raise ValueError("pipeline() needs a task, e.g. pipeline('image-classification'); it can be left out "
                             "only when model names registered weights, whose task is then used")
        from ..weights.registry import get_entry
        task = get_entry(model).task
    spec = get_task(task)
    if model is None:
        if spec.default_model is None:
            raise ValueError(f"task {spec.task!r} has no default model; pass model=")
        model = spec.default_model
    cls = spec.pipeline_class()
    return cls(model, task=spec.task, device=device, batch_size=batch_size, **kwargs)
