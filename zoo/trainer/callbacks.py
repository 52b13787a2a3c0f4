"""Trainer callbacks, as in PyTorch Lightning: a :class:`Callback` base with hooks, and the stock
:class:`EarlyStopping`, :class:`ModelCheckpoint` and :class:`LearningRateMonitor`.

Hooks receive ``(trainer, model, ...)``. Per training batch the trainer runs: ``on_train_batch_start`` → step →
(validation when due, with ``on_validation_start`` / ``on_validation_batch_end`` / ``on_validation_end``) →
``on_train_batch_end``. At the end of an epoch: validation when due → ``on_train_epoch_end``. ModelCheckpoint
callbacks always run after the others, so the state they save includes what the other callbacks did.
A callback's ``state_dict()`` is saved in checkpoints under its ``state_key`` and handed back to
``load_state_dict`` on resume.
"""
import math
import os
import re
import warnings

from .checkpoint import atomic_copy

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateMonitor"]


class Callback:
    """Base class: override the hooks you need (all do nothing here)."""

    @property
    def state_key(self):
        """The key of this callback's state in a checkpoint (the class name; subclasses add what tells apart
        several instances)."""
        return type(self).__name__

    def _key_with(self, **kwargs):
        return f"{type(self).__name__}{kwargs}"

    def setup(self, trainer, model, stage):
        """Before ``fit`` / ``validate`` / ``predict`` (``stage`` is "fit", "validate" or "predict")."""

    def teardown(self, trainer, model, stage):
        """After ``fit`` / ``validate`` / ``predict``, also when they raised."""

    def on_fit_start(self, trainer, model):
        pass

    def on_fit_end(self, trainer, model):
        pass

    def on_train_start(self, trainer, model):
        pass

    def on_train_end(self, trainer, model):
        pass

    def on_train_epoch_start(self, trainer, model):
        pass

    def on_train_epoch_end(self, trainer, model):
        pass

    def on_train_batch_start(self, trainer, model, batch, batch_idx):
        pass

    def on_train_batch_end(self, trainer, model, outputs, batch, batch_idx):
        pass

    def on_before_optimizer_step(self, trainer, model, optimizer):
        """After backward (gradients unscaled under "16-mixed"), before clipping and ``optimizer.step()``."""

    def on_validation_start(self, trainer, model):
        pass

    def on_validation_batch_end(self, trainer, model, outputs, batch, batch_idx):
        pass

    def on_validation_end(self, trainer, model):
        """After a validation run; its metrics are in ``trainer.callback_metrics``."""

    def on_predict_start(self, trainer, model):
        pass

    def on_predict_end(self, trainer, model):
        pass

    def on_exception(self, trainer, model, exception):
        pass

    def on_save_checkpoint(self, trainer, model, checkpoint):
        """The checkpoint dict is about to be written: a callback may add entries to it."""

    def on_load_checkpoint(self, trainer, model, checkpoint):
        """A checkpoint was read to resume (after ``load_state_dict``)."""

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        pass


def _better(mode, current, best, min_delta=0.0):
    if best is None:
        return True
    return current < best - min_delta if mode == "min" else current > best + min_delta


def _check_mode(mode):
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` checks.

    The metric is checked after every validation run, or at the end of every training epoch when there is no
    validation data (or ``check_on_train_epoch_end=True``). ``strict`` makes a missing metric an error;
    ``check_finite`` stops on NaN/inf; ``stopping_threshold`` stops once the metric is good enough and
    ``divergence_threshold`` once it is hopelessly bad."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=3, verbose=False, mode="min", strict=True,
                 check_finite=True, stopping_threshold=None, divergence_threshold=None,
                 check_on_train_epoch_end=None):
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _check_mode(mode)
        self.strict = strict
        self.check_finite = check_finite
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.check_on_train_epoch_end = check_on_train_epoch_end
        self.wait_count = 0
        self.best_score = None
        self.stopped_epoch = 0
        self.stopping_reason = None

    @property
    def state_key(self):
        return self._key_with(monitor=self.monitor, mode=self.mode)

    def _on_train_epoch_end_check(self, trainer):
        if self.check_on_train_epoch_end is None:
            return not trainer.has_validation
        return self.check_on_train_epoch_end

    def on_validation_end(self, trainer, model):
        if trainer.stage == "fit" and not self._on_train_epoch_end_check(trainer):
            self._check(trainer)

    def on_train_epoch_end(self, trainer, model):
        if self._on_train_epoch_end_check(trainer):
            self._check(trainer)

    def _check(self, trainer):
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            if self.strict:
                raise RuntimeError(f"EarlyStopping: metric {self.monitor!r} was not logged; logged metrics are "
                                   f"{sorted(trainer.callback_metrics)} (set strict=False to ignore)")
            return
        stop, reason = False, None
        if self.check_finite and not math.isfinite(value):
            stop, reason = True, f"{self.monitor} = {value} is not finite"
        elif self.stopping_threshold is not None and not _better(self.mode, self.stopping_threshold, value):
            stop = True
            reason = f"{self.monitor} = {value} reached the stopping threshold {self.stopping_threshold}"
        elif self.divergence_threshold is not None and _better(self.mode, self.divergence_threshold, value):
            stop = True
            reason = f"{self.monitor} = {value} is past the divergence threshold {self.divergence_threshold}"
        elif _better(self.mode, value, self.best_score, self.min_delta):
            self.best_score, self.wait_count = value, 0
        else:
            self.wait_count += 1
            if self.wait_count >= self.patience:
                stop = True
                reason = f"{self.monitor} did not improve for {self.wait_count} checks (best {self.best_score})"
        if stop:
            self.stopped_epoch = trainer.current_epoch
            self.stopping_reason = reason
            trainer.should_stop = True
            if self.verbose:
                print(f"EarlyStopping at epoch {trainer.current_epoch}: {reason}")

    def state_dict(self):
        return {"wait_count": self.wait_count, "stopped_epoch": self.stopped_epoch, "best_score": self.best_score,
                "patience": self.patience}

    def load_state_dict(self, state_dict):
        self.wait_count = state_dict["wait_count"]
        self.stopped_epoch = state_dict["stopped_epoch"]
        self.best_score = state_dict["best_score"]
        self.patience = state_dict["patience"]


class ModelCheckpoint(Callback):
    """Save checkpoints during ``fit``, keeping the ``save_top_k`` best by ``monitor`` (and ``last.ckpt``).

    When: every ``every_n_train_steps`` optimizer steps if that is set; otherwise at the end of every
    ``every_n_epochs``-th epoch (default 1) and after each validation run in the middle of an epoch.
    Which: with a ``monitor`` the best ``save_top_k`` by it (``mode`` "min"/"max"); without one the most recent
    ``save_top_k``; ``-1`` keeps all, ``0`` none. ``save_last=True`` also keeps ``last.ckpt``, always the newest,
    which ``fit(ckpt_path="last")`` resumes from. ``dirpath`` defaults to ``<log_dir>/checkpoints``.
    ``filename`` is a format pattern over ``epoch``, ``step`` and the logged metrics: ``"{epoch}-{val_loss:.3f}"``
    gives ``epoch=3-val_loss=0.123.ckpt`` (``auto_insert_metric_name=False`` leaves out the ``name=``).
    A name already used by a file this callback did not write gets a ``-v1``, ``-v2`` … suffix.
    """

    CHECKPOINT_EXT = ".ckpt"
    CHECKPOINT_NAME_LAST = "last"

    def __init__(self, dirpath=None, filename=None, monitor=None, verbose=False, save_last=None, save_top_k=1,
                 save_weights_only=False, mode="min", auto_insert_metric_name=True, every_n_train_steps=None,
                 every_n_epochs=None):
        if save_top_k < -1:
            raise ValueError(f"save_top_k must be >= -1, got {save_top_k}")
        if every_n_train_steps is not None and every_n_train_steps < 1:
            raise ValueError(f"every_n_train_steps must be >= 1, got {every_n_train_steps}")
        if every_n_epochs is not None and every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.dirpath = os.fspath(dirpath) if dirpath is not None else None
        self.filename = filename
        self.monitor = monitor
        self.verbose = verbose
        self.save_last = save_last
        self.save_top_k = save_top_k
        self.save_weights_only = save_weights_only
        self.mode = _check_mode(mode)
        self.auto_insert_metric_name = auto_insert_metric_name
        self.every_n_train_steps = every_n_train_steps
        self.every_n_epochs = every_n_epochs if every_n_epochs is not None else (
            None if every_n_train_steps is not None else 1)
        self.best_k_models = {}
        self.best_model_path = ""
        self.best_model_score = None
        self.last_model_path = ""
        self._warned_missing = False

    @property
    def state_key(self):
        return self._key_with(monitor=self.monitor, mode=self.mode, every_n_train_steps=self.every_n_train_steps,
                              every_n_epochs=self.every_n_epochs)

    def setup(self, trainer, model, stage):
        if self.dirpath is None:
            self.dirpath = os.path.join(trainer.log_dir, "checkpoints")

    # --- when --------------------------------------------------------------------------------------------------
    def on_train_batch_end(self, trainer, model, outputs, batch, batch_idx):
        if self.every_n_train_steps is not None:
            if trainer.stepped_this_batch and trainer.global_step % self.every_n_train_steps == 0:
                self._save(trainer)
        elif trainer.validated_this_batch:
            self._save(trainer)

    def on_train_epoch_end(self, trainer, model):
        if self.every_n_epochs is not None and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._save(trainer)

    # --- what --------------------------------------------------------------------------------------------------
    def format_checkpoint_name(self, metrics, ver=None):
        """The file path for a checkpoint with ``metrics`` (which include ``epoch`` and ``step``)."""
        pattern = self.filename or "{epoch}-{step}"
        if self.auto_insert_metric_name:
            pattern = re.sub(r"\{([A-Za-z_][\w]*)([^}]*)\}", r"\1={\1\2}", pattern)
        names = re.findall(r"\{([A-Za-z_][\w]*)", pattern)
        missing = [n for n in names if n not in metrics]
        if missing:
            raise KeyError(f"ModelCheckpoint filename {self.filename!r} uses {missing}, which were not logged; "
                           f"available: {sorted(metrics)}")
        name = pattern.format(**metrics)
        if ver is not None:
            name += f"-v{ver}"
        return os.path.join(self.dirpath, name + self.CHECKPOINT_EXT)

    def _free_name(self, metrics):
        path, ver = self.format_checkpoint_name(metrics), 0
        ours = set(self.best_k_models) | {self.last_model_path}
        while os.path.exists(path) and path not in ours:
            ver += 1
            path = self.format_checkpoint_name(metrics, ver)
        return path

    def _score(self, trainer):
        if self.monitor is None:
            return float(trainer.global_step)
        value = trainer.callback_metrics.get(self.monitor)
        if value is None and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(f"ModelCheckpoint: metric {self.monitor!r} has not been logged yet (logged: "
                          f"{sorted(trainer.callback_metrics)}); no best-k checkpoint is kept until it is",
                          UserWarning, stacklevel=2)
        return value

    def _keeps(self, score):
        if self.save_top_k == -1 or len(self.best_k_models) < self.save_top_k:
            return True
        if self.save_top_k == 0:
            return False
        mode = "max" if self.monitor is None else self.mode
        return _better(mode, score, self._worst()[1])

    def _worst(self):
        mode = "max" if self.monitor is None else self.mode
        pick = min if mode == "max" else max
        path = pick(self.best_k_models, key=lambda p: self.best_k_models[p])
        return path, self.best_k_models[path]

    def _save(self, trainer):
        os.makedirs(self.dirpath, exist_ok=True)
        last = os.path.join(self.dirpath, self.CHECKPOINT_NAME_LAST + self.CHECKPOINT_EXT)
        if self.save_last:
            self.last_model_path = last  # set first: the checkpoints written now record it
        saved = None
        score = self._score(trainer)
        if self.save_top_k != 0 and score is not None and not math.isnan(score) and self._keeps(score):
            metrics = {**trainer.callback_metrics, "epoch": trainer.current_epoch, "step": trainer.global_step}
            path = self._free_name(metrics)
            self.best_k_models[path] = score
            dropped = None
            if self.save_top_k != -1 and len(self.best_k_models) > self.save_top_k:
                dropped = self._worst()[0]
                del self.best_k_models[dropped]
            mode = "max" if self.monitor is None else self.mode
            self.best_model_path = (max if mode == "max" else min)(self.best_k_models,
                                                                    key=lambda p: self.best_k_models[p])
            self.best_model_score = self.best_k_models[self.best_model_path]
            trainer.save_checkpoint(path, weights_only=self.save_weights_only)
            saved = path
            if dropped is not None and dropped != path and os.path.exists(dropped):
                os.remove(dropped)
            if self.verbose:
                print(f"ModelCheckpoint: saved {path} ({self.monitor or 'step'} = {score})")
        if self.save_last:
            if saved is not None:
                atomic_copy(saved, last)
            else:
                trainer.save_checkpoint(last, weights_only=self.save_weights_only)

    def state_dict(self):
        return {"dirpath": self.dirpath, "best_model_path": self.best_model_path,
                "best_model_score": self.best_model_score, "last_model_path": self.last_model_path,
                "best_k_models": dict(self.best_k_models)}

    def load_state_dict(self, state_dict):
        if os.path.abspath(state_dict["dirpath"]) != os.path.abspath(self.dirpath or state_dict["dirpath"]):
            warnings.warn(f"ModelCheckpoint: the checkpoint was saved with dirpath {state_dict['dirpath']!r}, now "
                          f"{self.dirpath!r}: its best-k bookkeeping is not carried over", UserWarning, stacklevel=2)
            return
        self.best_model_path = state_dict["best_model_path"]
        self.best_model_score = state_dict["best_model_score"]
        self.last_model_path = state_dict["last_model_path"]
        self.best_k_models = dict(state_dict["best_k_models"])


class LearningRateMonitor(Callback):
    """Log the learning rate of every parameter group (``lr-<Optimizer>``, or ``lr-<Optimizer>/pg<i>`` with
    several groups) and, with ``log_momentum``, the momentum / Adam beta1, at every step (``logging_interval=
    "step"`` or None) or at the start of every epoch ("epoch")."""

    def __init__(self, logging_interval=None, log_momentum=False):
        if logging_interval not in (None, "step", "epoch"):
            raise ValueError(f"logging_interval must be None, 'step' or 'epoch', got {logging_interval!r}")
        self.logging_interval = logging_interval
        self.log_momentum = log_momentum

    def _log(self, trainer):
        opt = trainer.optimizer
        name = type(opt).__name__
        groups = opt.param_groups
        for i, group in enumerate(groups):
            suffix = f"/pg{i}" if len(groups) > 1 else ""
            trainer.log(f"lr-{name}{suffix}", float(group["lr"]))
            if self.log_momentum:
                momentum = group.get("momentum", group.get("betas", (None,))[0])
                if momentum is not None:
                    trainer.log(f"lr-{name}-momentum{suffix}", float(momentum))

    def on_train_batch_start(self, trainer, model, batch, batch_idx):
        if self.logging_interval in (None, "step"):
            self._log(trainer)

    def on_train_epoch_start(self, trainer, model):
        if self.logging_interval == "epoch":
            self._log(trainer)
