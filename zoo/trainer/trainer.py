"""``zoo.Trainer``: the training loop, in the style of PyTorch Lightning's Trainer and the Hugging Face Trainer.

The model contract — either of:

* Lightning style: the model defines ``training_step(batch, batch_idx)`` returning the loss tensor or a dict with
  a ``"loss"`` entry. Optional: ``validation_step(batch, batch_idx)`` (returns the loss, logged as ``val_loss``,
  or nothing when it logs its own metrics), ``predict_step(batch, batch_idx)``, ``configure_optimizers()``
  (returns an optimizer; ``(optimizer, scheduler)``; ``([optimizer], [scheduler])``; or
  ``{"optimizer": ..., "lr_scheduler": scheduler or {"scheduler": ..., "interval": ..., "monitor": ...}}``),
  ``on_save_checkpoint(checkpoint)`` / ``on_load_checkpoint(checkpoint)``.
* Hugging Face style: no ``training_step``; the model is called with the batch — a dict as keyword arguments
  (``model(**batch)``), a tuple/list as positional arguments, anything else as the one argument — and returns
  the loss tensor, or a dict / an output object holding it as ``"loss"`` / ``.loss``. The same call gives the
  validation loss and (without ``predict_step``) the predictions.

A step that produces no loss is an error naming the model and what it returned.

Logging: inside a step (or a callback hook) ``self.log(name, value)`` / ``self.log_dict(...)`` record a metric
(the trainer lends the model these methods, and ``self.trainer``, for the duration of fit/validate/predict unless
its class defines its own). In training steps a metric goes to the step's row by default (``on_step``); in
validation it is averaged over the run, weighted by batch size (``on_epoch``); with both flags it is logged as
``<name>_step`` and ``<name>_epoch``. The trainer itself logs ``train_loss`` (mean over the micro-batches of an
optimizer step) and ``lr`` (group 0, the rate that step used) every ``log_every_n_steps`` steps,
``train_loss_epoch`` at the end of each epoch and ``val_loss`` after each validation run. Rows go to
``<log_dir>/metrics.csv`` and the curves to ``<log_dir>/curves.png`` (see loggers.py).

Checkpoints and resume: see checkpoint.py for the contents. ``fit(ckpt_path=path or "last")`` restores the
model, optimizer, scheduler, GradScaler, callbacks, counters and every random state, rebuilds the interrupted
epoch's shuffled order and skips its consumed batches (they are read again but not trained on), so the resumed
run continues the uninterrupted run's loss curve exactly. Checkpoints are written at optimizer-step boundaries
(gradients being accumulated are not saved).
"""
import contextlib
import math
import os
import random
import sys
import warnings
from collections.abc import Mapping

import numpy as np

import zoo
from zoo.core.optim import Optimizer
from zoo.core.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from zoo.core.tensor import Tensor

from .callbacks import Callback, ModelCheckpoint
from .checkpoint import FORMAT, capture_rng, load_checkpoint, loader_generators, restore_rng
from .loggers import CSVLogger

__all__ = ["Trainer", "seed_everything"]

_MODEL_HOOKS = frozenset({"on_fit_start", "on_fit_end", "on_train_start", "on_train_end", "on_train_epoch_start",
                          "on_train_epoch_end", "on_train_batch_start", "on_train_batch_end",
                          "on_before_optimizer_step", "on_validation_start", "on_validation_batch_end",
                          "on_validation_end", "on_predict_start", "on_predict_end"})
_PRECISIONS = {"32": "32", "32-true": "32", 32: "32", "16-mixed": "16-mixed", "16": "16-mixed", 16: "16-mixed"}


def seed_everything(seed):
    """Seed zoo's generators (cpu and cuda), NumPy's global generator and Python's ``random``."""
    seed = int(seed)
    zoo.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)
    return seed


def move_to_device(batch, device):
    """``batch`` with every tensor in it (nested in dicts, lists, tuples, namedtuples) moved to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        moved = {k: move_to_device(v, device) for k, v in batch.items()}
        try:
            return type(batch)(moved)
        except TypeError:
            return moved
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(v, device) for v in batch)
    return batch


def _batch_size(batch):
    """The leading dimension of the first tensor in ``batch`` (None when it holds no tensor)."""
    if isinstance(batch, Tensor):
        return batch.shape[0] if batch.ndim else 1
    if isinstance(batch, Mapping):
        items = batch.values()
    elif isinstance(batch, (list, tuple)):
        items = batch
    else:
        return None
    for v in items:
        n = _batch_size(v)
        if n is not None:
            return n
    return None


def _call_with_batch(model, batch):
    if isinstance(batch, Mapping):
        return model(**batch)
    if isinstance(batch, (list, tuple)) and not hasattr(batch, "_fields"):
        return model(*batch)
    return model(batch)


def _sized_len(obj):
    try:
        return len(obj)
    except TypeError:
        return None


class Trainer:
    """Train, validate and predict with a zoo model (see the module docstring for the model contract).

    ``optimizer``: an Optimizer; a callable ``f(parameters) -> Optimizer`` (e.g. ``functools.partial(zoo.optim.SGD,
    lr=0.1)``); a config dict ``{"name": "SGD", "lr": 0.1, ...}`` naming a ``zoo.optim`` class; or None — the
    model's ``configure_optimizers()`` if it has one, else ``AdamW(lr=1e-3)``.
    ``scheduler``: an LR scheduler, a callable ``f(optimizer) -> scheduler``, or a Lightning config dict
    ``{"scheduler": ..., "interval": "epoch" | "step", "frequency": 1, "monitor": "val_loss"}``; stepped every
    epoch unless ``interval="step"`` (ReduceLROnPlateau is given the ``monitor`` metric).
    ``max_epochs`` / ``max_steps`` (optimizer steps): training stops at whichever comes first; with neither,
    1000 epochs (as Lightning). ``grad_accum_steps`` batches are accumulated per optimizer step (the loss is
    divided by it; the last batches of an epoch make a shorter step). ``gradient_clip_val`` clips the gradient
    norm (``gradient_clip_algorithm="value"`` clips values).
    ``precision``: "32" or "16-mixed" (autocast to float16 + GradScaler; needs a CUDA device).
    ``device``: "cpu", "cuda", "cuda:N"; default cuda when available. Batches are moved there.
    ``default_root_dir`` (default: the working directory) holds ``log_dir`` (default ``<root>/zoo_logs``), which
    holds metrics.csv, curves.png and ``checkpoints/``. ``enable_checkpointing`` adds a
    ``ModelCheckpoint(save_last=True, save_top_k=0)`` (``last.ckpt`` after every epoch) when none is given.
    ``seed``: seeds zoo, NumPy and ``random`` when ``fit`` starts a fresh run.
    Validation runs at the end of every ``check_val_every_n_epoch``-th epoch and, with ``val_check_interval``
    (an int: every that many training batches; a float < 1: that fraction of an epoch), also within it
    (``check_val_every_n_epoch=None``: only at those intervals, in every epoch).
    ``enable_progress_bar``: tqdm bars, shown only when stderr is a terminal.
    """

    def __init__(self, model, optimizer=None, scheduler=None, *, max_epochs=None, max_steps=-1, grad_accum_steps=1,
                 gradient_clip_val=None, gradient_clip_algorithm="norm", precision="32", device=None, callbacks=None,
                 default_root_dir=None, log_dir=None, seed=None, log_every_n_steps=50, val_check_interval=None,
                 check_val_every_n_epoch=1, enable_progress_bar=True, enable_checkpointing=True):
        if not isinstance(model, zoo.nn.Module):
            raise TypeError(f"Trainer: model must be a zoo.nn.Module, got {type(model).__name__}")
        if precision not in _PRECISIONS:
            raise ValueError(f"Trainer: precision={precision!r} is not supported; use '32' or '16-mixed'")
        if not isinstance(grad_accum_steps, int) or grad_accum_steps < 1:
            raise ValueError(f"Trainer: grad_accum_steps must be an int >= 1, got {grad_accum_steps!r}")
        if gradient_clip_algorithm not in ("norm", "value"):
            raise ValueError(f"Trainer: gradient_clip_algorithm must be 'norm' or 'value', got "
                             f"{gradient_clip_algorithm!r}")
        if not isinstance(log_every_n_steps, int) or log_every_n_steps < 1:
            raise ValueError(f"Trainer: log_every_n_steps must be an int >= 1, got {log_every_n_steps!r}")
        if check_val_every_n_epoch is not None and check_val_every_n_epoch < 1:
            raise ValueError(f"Trainer: check_val_every_n_epoch must be >= 1, got {check_val_every_n_epoch}")
        if val_check_interval is not None:
            if isinstance(val_check_interval, float) and not 0.0 < val_check_interval <= 1.0:
                raise ValueError(f"Trainer: a float val_check_interval is a fraction of an epoch in (0, 1], got "
                                 f"{val_check_interval}")
            if isinstance(val_check_interval, int) and val_check_interval < 1:
                raise ValueError(f"Trainer: val_check_interval must be >= 1 batches, got {val_check_interval}")
        self.model = model
        self.device = zoo.device(device if device is not None else ("cuda" if zoo.cuda.is_available() else "cpu"))
        if self.device.type == "cuda" and not zoo.cuda.is_available():
            raise RuntimeError(f"Trainer: device {str(self.device)!r} was asked for, but zoo.cuda.is_available() is "
                               f"False (CuPy and a CUDA GPU are needed); use device='cpu'")
        self.precision = _PRECISIONS[precision]
        if self.precision == "16-mixed" and self.device.type != "cuda":
            raise ValueError("Trainer: precision='16-mixed' needs a CUDA device (float16 autocast with a GradScaler "
                             f"is a GPU technique; on {self.device} it would only be slower): use precision='32'")
        if max_epochs is None:
            max_epochs = -1 if max_steps != -1 else 1000
        self.max_epochs, self.max_steps = max_epochs, max_steps
        self.grad_accum_steps = grad_accum_steps
        self.gradient_clip_val, self.gradient_clip_algorithm = gradient_clip_val, gradient_clip_algorithm
        self.seed = seed
        self.log_every_n_steps = log_every_n_steps
        self.val_check_interval = val_check_interval
        self.check_val_every_n_epoch = check_val_every_n_epoch
        self.enable_progress_bar = enable_progress_bar
        self.default_root_dir = os.fspath(default_root_dir) if default_root_dir is not None else os.getcwd()
        self.log_dir = os.fspath(log_dir) if log_dir is not None else os.path.join(self.default_root_dir,
                                                                                   "zoo_logs")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be zoo.trainer.Callback instances, got {type(cb).__name__}")
        if enable_checkpointing and not any(isinstance(cb, ModelCheckpoint) for cb in callbacks):
            callbacks.append(ModelCheckpoint(save_last=True, save_top_k=0))
        # checkpointing runs last, so the state it saves includes what the other callbacks did
        self.callbacks = [cb for cb in callbacks if not isinstance(cb, ModelCheckpoint)] + \
                         [cb for cb in callbacks if isinstance(cb, ModelCheckpoint)]
        self._optimizer_arg, self._scheduler_arg = optimizer, scheduler
        self.optimizer = None
        self.scheduler = None
        self._sched_cfg = None
        self.scaler = None
        self.logger = CSVLogger(self.log_dir)
        self.current_epoch = 0
        self.global_step = 0
        self.should_stop = False
        self.stage = None
        self.callback_metrics = {}
        self.has_validation = False
        self.stepped_this_batch = False
        self.validated_this_batch = False
        self._reset_run_state()

    # --- public properties ------------------------------------------------------------------------------------
    @property
    def optimizers(self):
        return [self.optimizer] if self.optimizer is not None else []

    @property
    def checkpoint_callbacks(self):
        return [cb for cb in self.callbacks if isinstance(cb, ModelCheckpoint)]

    @property
    def checkpoint_callback(self):
        cbs = self.checkpoint_callbacks
        return cbs[0] if cbs else None

    @property
    def lightning_style(self):
        """True when the model defines ``training_step`` (see the module docstring)."""
        return callable(getattr(self.model, "training_step", None))

    # --- setup ------------------------------------------------------------------------------------------------
    def _reset_run_state(self):
        self._batches_done = 0
        self._epoch_finished = False
        self._epoch_rng = None
        self._resume = None
        self._epoch_sums = {}
        self._val_sums = {}
        self._step_logs = {}
        self._epoch_logs = {}
        self._logged_now = set()
        self._step_loss = None
        self._step_micro = 0
        self._phase = None
        self._gens = []
        self._current_bs = None
        self._bar = None
        self._epoch_row = None

    def _setup_model(self):
        self.model.to(self.device)

    def _setup_optimization(self):
        if self.optimizer is not None:
            return
        opt, sched = self._optimizer_arg, self._scheduler_arg
        if opt is None and callable(getattr(self.model, "configure_optimizers", None)):
            opt, conf_sched = self._parse_configure_optimizers(self.model.configure_optimizers())
            sched = sched if sched is not None else conf_sched
        params = list(self.model.parameters())
        if opt is None:
            opt = zoo.optim.AdamW(params, lr=1e-3)
        elif isinstance(opt, Mapping):
            cfg = dict(opt)
            name = cfg.pop("name", None)
            cls = getattr(zoo.optim, name, None) if isinstance(name, str) else None
            if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
                raise ValueError(f"Trainer: optimizer config {opt!r} must name a zoo.optim optimizer class under "
                                 f"'name' (e.g. {{'name': 'SGD', 'lr': 0.1}})")
            opt = cls(params, **cfg)
        elif not isinstance(opt, Optimizer):
            if not callable(opt):
                raise TypeError(f"Trainer: optimizer must be an Optimizer, a callable(parameters) or a config "
                                f"dict, got {type(opt).__name__}")
            opt = opt(params)
            if not isinstance(opt, Optimizer):
                raise TypeError(f"Trainer: the optimizer factory returned {type(opt).__name__}, not an Optimizer")
        self.optimizer = opt
        self._sched_cfg = self._parse_scheduler(sched)
        self.scheduler = self._sched_cfg["scheduler"] if self._sched_cfg else None
        if self.precision == "16-mixed":
            self.scaler = zoo.amp.GradScaler("cuda")

    def _parse_configure_optimizers(self, out):
        sched = None
        if isinstance(out, Mapping):
            opt, sched = out.get("optimizer"), out.get("lr_scheduler")
        elif isinstance(out, (list, tuple)) and len(out) == 2 and isinstance(out[0], (list, tuple)):
            opts, scheds = list(out[0]), list(out[1])
            if len(opts) != 1 or len(scheds) > 1:
                raise NotImplementedError("Trainer: configure_optimizers returned several optimizers or "
                                          "schedulers; zoo.Trainer supports one of each")
            opt, sched = opts[0], (scheds[0] if scheds else None)
        elif isinstance(out, (list, tuple)) and len(out) == 2 and isinstance(out[0], Optimizer):
            opt, sched = out
        elif isinstance(out, (list, tuple)):
            if len(out) != 1:
                raise NotImplementedError("Trainer: configure_optimizers returned several optimizers; "
                                          "zoo.Trainer supports one")
            opt = out[0]
        else:
            opt = out
        if not isinstance(opt, Optimizer):
            raise TypeError(f"{type(self.model).__name__}.configure_optimizers must return an optimizer (or "
                            f"Lightning's tuple/dict forms), got {type(out).__name__}")
        return opt, sched

    def _parse_scheduler(self, sched):
        if sched is None:
            return None
        cfg = dict(sched) if isinstance(sched, Mapping) else {"scheduler": sched}
        obj = cfg.get("scheduler")
        if obj is not None and not isinstance(obj, LRScheduler) and callable(obj):
            obj = obj(self.optimizer)
        if not isinstance(obj, LRScheduler):
            raise TypeError(f"Trainer: scheduler must be an LR scheduler, a callable(optimizer) returning one, or "
                            f"a config dict with a 'scheduler' entry; got {type(obj).__name__}")
        if obj.optimizer is not self.optimizer:
            raise ValueError("Trainer: the scheduler was built for a different optimizer than the trainer's")
        interval = cfg.get("interval", "epoch")
        if interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler interval must be 'epoch' or 'step', got {interval!r}")
        return {"scheduler": obj, "interval": interval, "frequency": int(cfg.get("frequency", 1)),
                "monitor": cfg.get("monitor", "val_loss")}

    def _check_contract(self, need_validation=False):
        if need_validation and self.lightning_style and not callable(getattr(self.model, "validation_step", None)):
            raise TypeError(f"validation data was given, but {type(self.model).__name__} defines training_step "
                            f"and no validation_step")

    @contextlib.contextmanager
    def _attached(self, stage):
        """Lend the model ``log``, ``log_dict`` and ``trainer`` for the duration of a stage."""
        lent = []
        for name, value in (("log", self.log), ("log_dict", self.log_dict), ("trainer", self)):
            if getattr(type(self.model), name, None) is None and name not in self.model.__dict__:
                object.__setattr__(self.model, name, value)
                lent.append(name)
        self.stage = stage
        for cb in self.callbacks:
            cb.setup(self, self.model, stage)
        try:
            yield
        except BaseException as e:
            for cb in self.callbacks:
                cb.on_exception(self, self.model, e)
            raise
        finally:
            for cb in self.callbacks:
                cb.teardown(self, self.model, stage)
            for name in lent:
                self.model.__dict__.pop(name, None)
            self.stage = None
            self._phase = None

    def _autocast(self):
        return zoo.autocast("cuda") if self.precision == "16-mixed" else contextlib.nullcontext()

    def _hook(self, name, *args):
        """Run hook ``name``: the callbacks, then the model's own hook of that name if it has one (Lightning's
        signature, without ``trainer, model``), then the ModelCheckpoint callbacks."""
        checkpoints = []
        for cb in self.callbacks:
            if isinstance(cb, ModelCheckpoint):
                checkpoints.append(cb)
            else:
                getattr(cb, name)(self, self.model, *args)
        model_hook = getattr(self.model, name, None) if name in _MODEL_HOOKS else None
        if callable(model_hook):
            model_hook(*args)
        for cb in checkpoints:
            getattr(cb, name)(self, self.model, *args)

    # --- logging ----------------------------------------------------------------------------------------------
    def log(self, name, value, on_step=None, on_epoch=None, prog_bar=False, batch_size=None, **kwargs):
        """Record a metric. ``value``: a number or a one-element tensor. In a training step it goes to the step's
        row (``on_step``, default) and/or is averaged over the epoch (``on_epoch``), weighted by ``batch_size``
        (default: inferred from the batch); in validation it is averaged over the run; in an epoch hook it goes to
        the epoch row. Extra Lightning keywords (``prog_bar``, ``logger``, ``sync_dist`` …) are accepted and
        ignored."""
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"log({name!r}): expected a number or a one-element tensor, got shape "
                                 f"{tuple(value.shape)}")
            value = value.detach()
        elif not isinstance(value, (int, float, np.number)):
            raise TypeError(f"log({name!r}): expected a number or a tensor, got {type(value).__name__}")
        phase = self._phase
        if phase not in ("train_batch", "train_epoch", "validate"):
            raise RuntimeError(f"log({name!r}) can only be called while fit or validate runs a step or a hook")
        if phase == "train_epoch":  # epoch hooks: into the epoch row (added to it once it is logged)
            if self._epoch_row is None:
                self._epoch_logs[name] = value
            else:
                self._epoch_row.update(self._row_values({name: value}))
                self.logger.updated_last(self._epoch_row)
                self.callback_metrics[name] = self._epoch_row[name]
        elif phase == "validate":  # averaged over the validation run
            self._accumulate(self._val_sums, name, value, batch_size)
        else:
            on_step = True if on_step is None else on_step
            both = on_step and bool(on_epoch)
            if on_step:
                self._step_logs[f"{name}_step" if both else name] = value
            if on_epoch:
                self._accumulate(self._epoch_sums, f"{name}_epoch" if both else name, value, batch_size)
        self._logged_now.add(name)

    def _accumulate(self, sums, key, value, batch_size):
        weight = batch_size if batch_size is not None else (self._current_bs or 1)
        total, count = sums.get(key, (0.0, 0))
        sums[key] = (total + value * weight, count + weight)

    def log_dict(self, metrics, **kwargs):
        for name, value in metrics.items():
            self.log(name, value, **kwargs)

    @staticmethod
    def _row_values(values):
        return {k: float(v.item() if isinstance(v, Tensor) else v) for k, v in values.items()}

    def _log_row(self, values):
        """Add a row to metrics.csv (and the values to ``callback_metrics``); returns the row."""
        row = {"step": max(self.global_step - 1, 0), "epoch": self.current_epoch, **self._row_values(values)}
        self.logger.log(row)
        self.callback_metrics.update({k: v for k, v in row.items() if k not in ("step", "epoch")})
        if self._bar is not None:
            shown = {k: f"{self.callback_metrics[k]:.4g}" for k in ("train_loss", "val_loss")
                     if k in self.callback_metrics}
            self._bar.set_postfix(shown, refresh=False)
        return row

    @staticmethod
    def _means(sums):
        return {k: (total / count if count else math.nan) for k, (total, count) in sums.items()}

    def _progress_bar(self, total, desc, leave):
        if not self.enable_progress_bar or not getattr(sys.stderr, "isatty", lambda: False)():
            return None
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, leave=leave, dynamic_ncols=True, file=sys.stderr)

    # --- steps ------------------------------------------------------------------------------------------------
    def _loss(self, output, where, hint=""):
        loss = output if isinstance(output, Tensor) else (
            output.get("loss") if isinstance(output, Mapping) else getattr(output, "loss", None))
        if loss is None:
            raise RuntimeError(f"{where} returned no loss (got {type(output).__name__}{': ' if hint else ''}{hint})")
        if not isinstance(loss, Tensor):
            raise TypeError(f"{where}: the loss must be a zoo tensor, got {type(loss).__name__}")
        if loss.numel() != 1:
            raise ValueError(f"{where}: the loss must be a scalar, got a tensor of shape {tuple(loss.shape)} "
                             f"(reduce it, e.g. .mean())")
        return loss

    def _where(self, step):
        """How errors name the model's step, and what they advise."""
        cls = type(self.model).__name__
        if self.lightning_style:
            return f"{cls}.{step}", "expected a loss tensor or a dict with a 'loss' entry"
        return f"{cls}(batch)", ("a Hugging Face style model must return the loss tensor, or a dict / output "
                                 "object with 'loss' (models compute it only when the batch holds the labels)")

    def _training_step(self, batch, batch_idx):
        if self.lightning_style:
            out = self.model.training_step(batch, batch_idx)
        else:
            out = _call_with_batch(self.model, batch)
        where, hint = self._where("training_step")
        loss = self._loss(out, where, hint)
        if not loss.requires_grad:
            raise RuntimeError(f"{where}: the loss does not require grad (was it computed under zoo.no_grad, "
                               f"detached, or are all parameters frozen?)")
        return out, loss

    def _validation_step(self, batch, batch_idx):
        if self.lightning_style:
            out = self.model.validation_step(batch, batch_idx)
            if out is None:
                return out, None
            loss = out if isinstance(out, Tensor) else (out.get("loss") if isinstance(out, Mapping) else None)
            return out, loss
        out = _call_with_batch(self.model, batch)
        where, hint = self._where("validation_step")
        return out, self._loss(out, where, hint)

    # --- fit --------------------------------------------------------------------------------------------------
    def fit(self, train_dataloaders, val_dataloaders=None, ckpt_path=None):
        """Train on ``train_dataloaders`` (a DataLoader or any re-iterable of batches), validating on
        ``val_dataloaders``. ``ckpt_path``: a checkpoint to resume from, or "last" (the newest ``last.ckpt`` of
        the ModelCheckpoint callbacks; a fresh start, with a warning, when there is none). Returns self."""
        if train_dataloaders is None:
            raise ValueError("Trainer.fit: train_dataloaders is required")
        self._check_contract(need_validation=val_dataloaders is not None)
        self._reset_run_state()
        self.current_epoch, self.global_step, self.should_stop = 0, 0, False
        self.callback_metrics = {}
        self.has_validation = val_dataloaders is not None
        self._setup_model()
        self._setup_optimization()
        self._gens = loader_generators(train_dataloaders)
        with self._attached("fit"):
            path = self._resolve_ckpt_path(ckpt_path)
            if path is not None:
                self._restore(path)
            else:
                if self.seed is not None:
                    seed_everything(self.seed)
                columns = ["train_loss", "lr", "train_loss_epoch"] + (["val_loss"] if self.has_validation else [])
                self.logger.start(columns)
            self.optimizer.zero_grad()
            self._hook("on_fit_start")
            self._hook("on_train_start")
            try:
                while not self._done():
                    self._train_epoch(train_dataloaders, val_dataloaders)
                    if not self._epoch_finished:
                        break
                    self.current_epoch += 1
                    self._batches_done, self._epoch_finished = 0, False
            finally:
                self.logger.flush()
            self._hook("on_train_end")
            self._hook("on_fit_end")
        return self

    def _done(self):
        return (self.should_stop or (self.max_epochs != -1 and self.current_epoch >= self.max_epochs)
                or (self.max_steps != -1 and self.global_step >= self.max_steps))

    def _resolve_ckpt_path(self, ckpt_path):
        if ckpt_path is None:
            return None
        if ckpt_path == "last":
            found = [cb.last_model_path or os.path.join(cb.dirpath, "last.ckpt") for cb in self.checkpoint_callbacks]
            found += [os.path.join(self.log_dir, "checkpoints", "last.ckpt")]
            found = [p for p in found if os.path.isfile(p)]
            if not found:
                warnings.warn("Trainer.fit(ckpt_path='last'): no last.ckpt found; training starts from scratch",
                              UserWarning, stacklevel=3)
                return None
            return max(found, key=os.path.getmtime)
        return os.fspath(ckpt_path)

    def _val_due_mid_epoch(self, n_batches):
        if not self.has_validation or self.val_check_interval is None:
            return False
        if self.check_val_every_n_epoch is not None and not self._val_epoch_due():
            return False
        interval = self.val_check_interval
        if isinstance(interval, float):
            if interval == 1.0:
                return False
            if n_batches is None:
                raise ValueError("Trainer: a float val_check_interval needs a train DataLoader with a length")
            interval = max(1, int(n_batches * interval))
        last = n_batches is not None and self._batches_done == n_batches
        return self._batches_done % interval == 0 and not last

    def _val_epoch_due(self):
        return self.check_val_every_n_epoch is not None and (self.current_epoch + 1) % \
            self.check_val_every_n_epoch == 0

    def _train_epoch(self, train, val):
        model = self.model
        model.train()
        self._phase = "train_epoch"
        self._current_bs = None
        self._epoch_row = None
        self.stepped_this_batch = self.validated_this_batch = False
        resume, self._resume = self._resume, None
        skip = resume["batch_idx"] if resume else 0
        if not resume or skip == 0:
            self._epoch_sums, self._epoch_logs = {}, {}
        self._hook("on_train_epoch_start")
        if skip:
            self._epoch_rng = resume["epoch_rng"]
            restore_rng(self._epoch_rng, self._gens, self.device)
        else:
            self._epoch_rng = capture_rng(self._gens, self.device)
        it = iter(train)
        for i in range(skip):
            try:
                next(it)
            except StopIteration:
                warnings.warn(f"resuming: the train data has only {i} batches, the checkpoint was written after "
                              f"{skip} of them in this epoch", UserWarning, stacklevel=3)
                break
        if resume:
            restore_rng(resume["rng"], self._gens, self.device)
        n_batches = _sized_len(train)
        self._batches_done = skip
        self._bar = self._progress_bar(n_batches, f"Epoch {self.current_epoch}", leave=True)
        if self._bar is not None and skip:
            self._bar.update(skip)
        exhausted, pending = False, 0
        try:
            batch_idx = skip
            while True:
                try:
                    batch = next(it)
                except StopIteration:
                    exhausted = True
                    break
                self._phase = "train_batch"
                self.stepped_this_batch = self.validated_this_batch = False
                batch = move_to_device(batch, self.device)
                self._current_bs = _batch_size(batch)
                self._logged_now = set()
                self._hook("on_train_batch_start", batch, batch_idx)
                with self._autocast():
                    out, loss = self._training_step(batch, batch_idx)
                self._backward(loss)
                pending += 1
                if pending == self.grad_accum_steps or (n_batches is not None and batch_idx + 1 == n_batches):
                    self._optimizer_step()
                    pending = 0
                self._batches_done = batch_idx + 1
                if self._val_due_mid_epoch(n_batches):
                    metrics = self._run_validation(val)
                    self._log_row(metrics)
                    self.validated_this_batch = True
                    self._phase = "train_batch"
                self._hook("on_train_batch_end", out, batch, batch_idx)
                if self._bar is not None:
                    self._bar.update(1)
                batch_idx += 1
                if self.should_stop or (self.max_steps != -1 and self.global_step >= self.max_steps):
                    exhausted = n_batches is not None and batch_idx == n_batches
                    break
            if pending:
                self._optimizer_step()
            self._phase = "train_epoch"
            self._epoch_end(val, exhausted)
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    def _backward(self, loss):
        self._step_loss = loss.detach() if self._step_loss is None else self._step_loss + loss.detach()
        self._step_micro += 1
        bs = self._current_bs or 1
        total, count = self._epoch_sums.get("train_loss_epoch", (0.0, 0))
        self._epoch_sums["train_loss_epoch"] = (total + loss.detach() * bs, count + bs)
        scaled = loss / self.grad_accum_steps if self.grad_accum_steps > 1 else loss
        if self.scaler is not None:
            scaled = self.scaler.scale(scaled)
        scaled.backward()

    def _params(self):
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def _optimizer_step(self):
        opt = self.optimizer
        if self.scaler is not None:
            self.scaler.unscale_(opt)
        self._hook("on_before_optimizer_step", opt)
        if self.gradient_clip_val is not None:
            if self.gradient_clip_algorithm == "norm":
                zoo.nn.utils.clip_grad_norm_(self._params(), self.gradient_clip_val)
            else:
                zoo.nn.utils.clip_grad_value_(self._params(), self.gradient_clip_val)
        lr = opt.param_groups[0]["lr"]
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        opt.zero_grad()
        self.global_step += 1
        self.stepped_this_batch = True
        cfg = self._sched_cfg
        if cfg and cfg["interval"] == "step" and self.global_step % cfg["frequency"] == 0:
            self._scheduler_step()
        step_loss = self._step_loss / self._step_micro
        self._step_loss, self._step_micro = None, 0
        if self.global_step % self.log_every_n_steps == 0:
            self._log_row({"train_loss": step_loss, "lr": lr, **self._step_logs})
        self._step_logs = {}

    def _scheduler_step(self):
        cfg = self._sched_cfg
        if isinstance(cfg["scheduler"], ReduceLROnPlateau):
            value = self.callback_metrics.get(cfg["monitor"])
            if value is None:
                raise RuntimeError(f"ReduceLROnPlateau monitors {cfg['monitor']!r}, which was not logged; logged "
                                   f"metrics are {sorted(self.callback_metrics)} (set 'monitor' in the scheduler "
                                   f"config)")
            cfg["scheduler"].step(value)
        else:
            cfg["scheduler"].step()

    def _epoch_end(self, val, exhausted):
        values = self._means(self._epoch_sums)
        values.update(self._epoch_logs)
        if self.has_validation and self._val_epoch_due() and not self.validated_this_batch:
            values.update(self._run_validation(val))
        self._phase = "train_epoch"
        self._epoch_row = self._log_row(values) if values else None
        cfg = self._sched_cfg
        if cfg and cfg["interval"] == "epoch" and exhausted and (self.current_epoch + 1) % cfg["frequency"] == 0:
            self._scheduler_step()
        self._epoch_finished = exhausted
        self._hook("on_train_epoch_end")
        self.logger.flush()
        self.logger.write_curves()

    # --- validation and prediction ----------------------------------------------------------------------------
    def _run_validation(self, loader):
        """One pass over ``loader`` in eval mode without gradients; returns the metrics (also put in
        ``callback_metrics`` before ``on_validation_end`` runs)."""
        model = self.model
        was_training = model.training
        model.eval()
        prev_phase, prev_bs = self._phase, self._current_bs
        self._phase, self._val_sums = "validate", {}
        self._hook("on_validation_start")
        bar = self._progress_bar(_sized_len(loader), "Validation", leave=False)
        try:
            with zoo.no_grad(), self._autocast():
                for batch_idx, batch in enumerate(loader):
                    batch = move_to_device(batch, self.device)
                    self._current_bs = _batch_size(batch)
                    self._logged_now = set()
                    out, loss = self._validation_step(batch, batch_idx)
                    if loss is not None and "val_loss" not in self._logged_now:
                        self.log("val_loss", loss)
                    self._hook("on_validation_batch_end", out, batch, batch_idx)
                    if bar is not None:
                        bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            model.train(was_training)
        metrics = {k: float(v.item() if isinstance(v, Tensor) else v) for k, v in self._means(self._val_sums).items()}
        self.callback_metrics.update(metrics)
        self._hook("on_validation_end")
        self._phase, self._current_bs = prev_phase, prev_bs
        return metrics

    def validate(self, dataloaders, ckpt_path=None):
        """Run the validation loop once; returns ``[metrics]`` (one dict, as Lightning). ``ckpt_path``: weights
        to load first — a path, or "best" / "last" of the ModelCheckpoint callback. Nothing is written to
        metrics.csv."""
        self._check_contract(need_validation=True)
        self._setup_model()
        self._load_weights(ckpt_path)
        with self._attached("validate"):
            return [self._run_validation(dataloaders)]

    def predict(self, dataloaders, ckpt_path=None):
        """Return the list of per-batch outputs of ``predict_step(batch, batch_idx)`` (without one: the model
        called with the batch), in eval mode without gradients."""
        self._setup_model()
        self._load_weights(ckpt_path)
        model = self.model
        was_training = model.training
        model.eval()
        outputs = []
        with self._attached("predict"):
            self._phase = "predict"
            self._hook("on_predict_start")
            bar = self._progress_bar(_sized_len(dataloaders), "Predict", leave=False)
            try:
                with zoo.no_grad(), self._autocast():
                    for batch_idx, batch in enumerate(dataloaders):
                        batch = move_to_device(batch, self.device)
                        if callable(getattr(model, "predict_step", None)):
                            outputs.append(model.predict_step(batch, batch_idx))
                        else:
                            outputs.append(_call_with_batch(model, batch))
                        if bar is not None:
                            bar.update(1)
            finally:
                if bar is not None:
                    bar.close()
                model.train(was_training)
            self._hook("on_predict_end")
        return outputs

    def _load_weights(self, ckpt_path):
        if ckpt_path is None:
            return
        if ckpt_path in ("best", "last"):
            cb = self.checkpoint_callback
            path = cb and (cb.best_model_path if ckpt_path == "best" else cb.last_model_path)
            if not path:
                raise ValueError(f"ckpt_path={ckpt_path!r}: no {ckpt_path} checkpoint has been saved by a "
                                 f"ModelCheckpoint callback of this trainer")
        else:
            path = os.fspath(ckpt_path)
        self.model.load_state_dict(load_checkpoint(path)["state_dict"])

    # --- checkpoints ------------------------------------------------------------------------------------------
    def save_checkpoint(self, filepath, weights_only=False):
        """Write a checkpoint (atomically) that ``fit(ckpt_path=filepath)`` resumes from; ``weights_only``
        keeps just the model weights and counters."""
        if self._epoch_finished:
            epoch, batch_idx = self.current_epoch + 1, 0
        else:
            epoch, batch_idx = self.current_epoch, self._batches_done
        ckpt = {"format": FORMAT, "epoch": epoch, "batch_idx": batch_idx, "global_step": self.global_step,
                "state_dict": self.model.state_dict()}
        if not weights_only:
            if self.optimizer is None:
                raise RuntimeError("Trainer.save_checkpoint: nothing to resume yet (fit() has not set up the "
                                   "optimizer); pass weights_only=True to save just the weights")
            self.logger.flush()
            ckpt["optimizer_states"] = [self.optimizer.state_dict()]
            ckpt["lr_schedulers"] = [self.scheduler.state_dict()] if self.scheduler is not None else []
            if self.scaler is not None:
                ckpt["grad_scaler"] = self.scaler.state_dict()
            ckpt["rng"] = capture_rng(self._gens, self.device)
            if batch_idx > 0:
                ckpt["epoch_rng"] = self._epoch_rng
            ckpt["loop"] = {"log_rows": len(self.logger.rows), "epoch_sums": {k: list(v) for k, v in
                                                                               self._epoch_sums.items()},
                            "epoch_logs": dict(self._epoch_logs), "callback_metrics": dict(self.callback_metrics)}
            ckpt["callbacks"] = {cb.state_key: cb.state_dict() for cb in self.callbacks}
            self._hook("on_save_checkpoint", ckpt)
            if callable(getattr(self.model, "on_save_checkpoint", None)):
                self.model.on_save_checkpoint(ckpt)
        folder = os.path.dirname(os.path.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        zoo.save(ckpt, filepath)

    def _restore(self, path):
        ckpt = load_checkpoint(path)
        if "optimizer_states" not in ckpt:
            raise ValueError(f"{path} holds only model weights (saved with weights_only): it cannot resume "
                             f"training; load the weights with model.load_state_dict(zoo.load(path)['state_dict'])")
        self.model.load_state_dict(ckpt["state_dict"])
        self.optimizer.load_state_dict(ckpt["optimizer_states"][0])
        scheds = ckpt.get("lr_schedulers", [])
        if (self.scheduler is None) != (not scheds):
            raise ValueError(f"{path}: the checkpoint has {len(scheds)} LR scheduler state(s) but this trainer "
                             f"has {0 if self.scheduler is None else 1} scheduler")
        if self.scheduler is not None:
            self.scheduler.load_state_dict(scheds[0])
        if self.scaler is not None and "grad_scaler" in ckpt:
            self.scaler.load_state_dict(ckpt["grad_scaler"])
        saved_cbs = ckpt.get("callbacks", {})
        for cb in self.callbacks:
            if cb.state_key in saved_cbs:
                cb.load_state_dict(saved_cbs[cb.state_key])
        self.current_epoch, self.global_step = ckpt["epoch"], ckpt["global_step"]
        loop = ckpt["loop"]
        self._epoch_sums = {k: (self._to_device(v[0]), v[1]) for k, v in loop["epoch_sums"].items()}
        self._epoch_logs = {k: self._to_device(v) for k, v in loop["epoch_logs"].items()}
        self.callback_metrics = dict(loop["callback_metrics"])
        self.logger.restore(loop["log_rows"])
        batch_idx = ckpt["batch_idx"]
        if batch_idx > 0 and "epoch_rng" not in ckpt:
            raise ValueError(f"{path}: written in the middle of an epoch but holds no 'epoch_rng' entry")
        self._resume = {"batch_idx": batch_idx, "rng": ckpt["rng"], "epoch_rng": ckpt.get("epoch_rng")}
        if batch_idx == 0:
            restore_rng(ckpt["rng"], self._gens, self.device)
            self._resume = None
        self._hook("on_load_checkpoint", ckpt)
        if callable(getattr(self.model, "on_load_checkpoint", None)):
            self.model.on_load_checkpoint(ckpt)

    def _to_device(self, v):
        return v.to(self.device) if isinstance(v, Tensor) else v
