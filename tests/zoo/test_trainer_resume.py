"""Killing a training run and resuming it from its last checkpoint continues the identical loss curve; a crash
while a checkpoint is written leaves the previous one intact."""
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
import zoo.nn as nn
import zoo.nn.functional as F
from zoo.core.serialization import safetensors_format
from zoo.trainer import ModelCheckpoint, Trainer
from zoo.utils.data import DataLoader, TensorDataset

# A 2-layer MLP with dropout on noisy synthetic data (the noise drawn from NumPy's and Python's global generators
# while batches are read), a shuffled DataLoader, SGD with momentum, a per-step LR schedule, validation twice per
# epoch and at its end, and metrics logged every step. argv: log_dir, checkpoint kind, kill step (-1: none),
# "resume" or "fresh".
SCRIPT = r'''
import os, random, signal, sys
import numpy as np
import zoo, zoo.nn as nn, zoo.nn.functional as F
from zoo.trainer import Callback, EarlyStopping, ModelCheckpoint, Trainer
from zoo.utils.data import DataLoader, Dataset, TensorDataset

log_dir, kind, kill_at, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
zoo.manual_seed(0)
X = zoo.randn(96, 6)
y = (X[:, :3].sum(1) > 0).long()

class Noisy(Dataset):
    def __len__(self):
        return 96
    def __getitem__(self, i):
        return X[i] + float(np.random.normal(0, 0.05)) + random.uniform(-0.05, 0.05), y[i]

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    def training_step(self, batch, batch_idx):
        x, t = batch
        return F.cross_entropy(self.net(x), t)
    def validation_step(self, batch, batch_idx):
        x, t = batch
        logits = self.net(x)
        self.log("val_acc", (logits.argmax(1) == t).float().mean())
        return F.cross_entropy(logits, t)

class Kill(Callback):
    def on_train_batch_end(self, trainer, model, outputs, batch, batch_idx):
        if trainer.global_step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

if kind == "step":
    ckpt = ModelCheckpoint(every_n_train_steps=5, save_last=True, save_top_k=0)
else:
    ckpt = ModelCheckpoint(monitor="val_loss", save_top_k=2, save_last=True)
model = MLP()
trainer = Trainer(model, optimizer=lambda params: zoo.optim.SGD(params, lr=0.2, momentum=0.9),
                  scheduler={"scheduler": lambda opt: zoo.optim.lr_scheduler.StepLR(opt, 7, 0.7), "interval": "step"},
                  max_epochs=3, log_dir=log_dir, log_every_n_steps=1, val_check_interval=5, seed=1234,
                  callbacks=[Kill(), EarlyStopping(patience=100), ckpt], enable_progress_bar=False)
train = DataLoader(Noisy(), batch_size=8, shuffle=True)
val = DataLoader(TensorDataset(X[:32], y[:32]), batch_size=16)
trainer.fit(train, val, ckpt_path="last" if mode == "resume" else None)
zoo.save(model.state_dict(), os.path.join(log_dir, "final.safetensors"))
'''


def _run(script, *args):
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.parametrize("kind,kill_at,resumed_step", [("step", 13, 10), ("epoch", 26, 24)])
def test_kill_and_resume_continues_the_identical_run(tmp_path, kind, kill_at, resumed_step):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    full, broken = tmp_path / "full", tmp_path / "broken"

    done = _run(script, full, kind, -1, "fresh")
    assert done.returncode == 0, done.stderr

    killed = _run(script, broken, kind, kill_at, "fresh")
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no cleanup ran
    ckpt = zoo.load(broken / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == resumed_step
    if kind == "step":
        assert ckpt["batch_idx"] > 0 and "epoch_rng" in ckpt  # mid-epoch: the shuffled order must be replayed
    else:
        assert (ckpt["epoch"], ckpt["batch_idx"]) == (2, 0)

    resumed = _run(script, broken, kind, -1, "resume")
    assert resumed.returncode == 0, resumed.stderr

    # every logged value (per-step train loss, lr, val loss/accuracy, epoch means) equal to the last bit
    assert (broken / "metrics.csv").read_text() == (full / "metrics.csv").read_text()
    a = zoo.load(full / "final.safetensors")
    b = zoo.load(broken / "final.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
    rows = (full / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,train_loss,lr,train_loss_epoch,val_loss")
    assert sum(1 for r in rows[1:] if r.split(",")[2]) == 36  # one train_loss row per step


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, x, t):
        return F.mse_loss(self.fc(x), t)


def test_crash_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    X, y = zoo.randn(32, 3), zoo.randn(32, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
    ckpt_cb = ModelCheckpoint(every_n_train_steps=2, save_last=True, save_top_k=0)
    trainer = Trainer(_Tiny(), max_epochs=1, log_dir=tmp_path, callbacks=[ckpt_cb], enable_progress_bar=False)

    real_write, calls = safetensors_format.write, []

    def failing_write(obj, fh):
        calls.append(1)
        if len(calls) == 3:
            fh.write(b"\x00" * 100)  # half a file, then the disk "fills up"
            raise OSError(28, "No space left on device")
        return real_write(obj, fh)

    monkeypatch.setattr(safetensors_format, "write", failing_write)
    with pytest.raises(OSError, match="No space left"):
        trainer.fit(loader)
    monkeypatch.undo()

    folder = tmp_path / "checkpoints"
    assert sorted(os.listdir(folder)) == ["last.ckpt"]  # no temporary file left behind
    ckpt = zoo.load(folder / "last.ckpt")
    assert ckpt["global_step"] == 4  # the checkpoint before the failed one, whole
    fresh = _Tiny()
    fresh.load_state_dict(ckpt["state_dict"])

    # and training resumes from it
    trainer = Trainer(_Tiny(), max_epochs=1, log_dir=tmp_path, enable_progress_bar=False,
                      callbacks=[ModelCheckpoint(every_n_train_steps=2, save_last=True, save_top_k=0)])
    trainer.fit(loader, ckpt_path="last")
    assert trainer.global_step == 8
