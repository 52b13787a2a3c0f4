"""zoo.trainer: ``Trainer`` (fit / validate / predict with callbacks, checkpoints, exact resume, metrics.csv and
learning curves) and its callbacks, in the style of PyTorch Lightning. See trainer.py for the model contract."""
from .callbacks import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint
from .loggers import CSVLogger
from .trainer import Trainer, seed_everything

__all__ = ["Trainer", "Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateMonitor", "CSVLogger",
           "seed_everything"]
