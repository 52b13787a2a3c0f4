"""Hugging Face-style pipelines: ``zoo.pipeline(task, model=None, device=None, batch_size=None, **kwargs)``,
the :class:`Pipeline` base class and the task registry that domains add their tasks to."""
from .base import Pipeline
from .registry import TaskSpec, UnknownTaskError, get_task, list_tasks, pipeline, register_task, unregister_task

__all__ = ["Pipeline", "TaskSpec", "UnknownTaskError", "get_task", "list_tasks", "pipeline", "register_task",
           "unregister_task"]
