"""zoo.trainer.Trainer: both model contracts, logging to metrics.csv / curves.png, accumulation, clipping,
callbacks (EarlyStopping, ModelCheckpoint, LearningRateMonitor, custom), validate / predict, clear errors."""
import csv
import functools
import os

import numpy as np
import pytest

import zoo
import zoo.nn as nn
import zoo.nn.functional as F
from zoo.trainer import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint, Trainer
from zoo.utils.data import DataLoader, TensorDataset


def _data(n=64, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 1.5], np.float32))[:, None] + 0.3
    return zoo.tensor(x), zoo.tensor(y)


def _loader(batch_size=8, shuffle=True, n=64):
    return DataLoader(TensorDataset(*_data(n)), batch_size=batch_size, shuffle=shuffle)


class LitRegressor(nn.Module):
    """Lightning contract: training_step / validation_step / predict_step."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_mae", (self(x) - y).abs().mean())
        return {"loss": loss}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self(x), y)

    def predict_step(self, batch, batch_idx):
        return self(batch[0])


class HFOutput:
    def __init__(self, loss, logits):
        self.loss, self.logits = loss, logits


class HFRegressor(nn.Module):
    """Hugging Face contract: forward(**batch) returns an output object with .loss when labels are given."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, inputs, labels=None):
        out = self.fc(inputs)
        return HFOutput(None if labels is None else F.mse_loss(out, labels), out)


class DictBatches:
    """An iterable of dict batches (not a DataLoader)."""

    def __init__(self, n=64, batch_size=8):
        self.x, self.y = _data(n)
        self.batch_size = batch_size

    def __iter__(self):
        for i in range(0, len(self.x), self.batch_size):
            yield {"inputs": self.x[i:i + self.batch_size], "labels": self.y[i:i + self.batch_size]}

    def __len__(self):
        return -(-len(self.x) // self.batch_size)


def _trainer(model, tmp_path, **kw):
    kw.setdefault("enable_progress_bar", False)
    kw.setdefault("log_every_n_steps", 1)
    return Trainer(model, log_dir=tmp_path, **kw)


def _rows(tmp_path):
    with open(tmp_path / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_fit_reduces_the_loss_lightning_style(tmp_path):
    model = LitRegressor()
    trainer = _trainer(model, tmp_path, optimizer={"name": "SGD", "lr": 0.05}, max_epochs=8)
    before = trainer.validate(_loader(shuffle=False))[0]["val_loss"]
    trainer.fit(_loader(), _loader(shuffle=False))
    after = trainer.validate(_loader(shuffle=False))[0]["val_loss"]
    assert after < 0.05 * before
    assert trainer.current_epoch == 8 and trainer.global_step == 64
    assert "train_mae" in trainer.callback_metrics  # self.log from inside the step


def test_fit_hf_style_with_dict_batches(tmp_path):
    model = HFRegressor()
    batches = DictBatches()
    trainer = _trainer(model, tmp_path, optimizer=functools.partial(zoo.optim.Adam, lr=0.05), max_epochs=10)
    trainer.fit(batches, batches)
    rows = _rows(tmp_path)
    val = [float(r["val_loss"]) for r in rows if r["val_loss"]]
    assert len(val) == 10 and val[-1] < 0.1 * val[0]
    preds = trainer.predict(batches)  # no predict_step: the model called with the batch
    assert len(preds) == 8 and isinstance(preds[0], HFOutput) and preds[0].logits.shape == (8, 1)


def test_fit_hf_style_tuple_batches_returning_a_tensor(tmp_path):
    class TupleModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x, y):
            return F.mse_loss(self.fc(x), y)

    trainer = _trainer(TupleModel(), tmp_path, max_epochs=2, optimizer={"name": "SGD", "lr": 0.05})
    trainer.fit(_loader())
    losses = [float(r["train_loss"]) for r in _rows(tmp_path) if r["train_loss"]]
    assert len(losses) == 16 and np.mean(losses[-4:]) < np.mean(losses[:4])


def test_validate_and_predict_outputs(tmp_path):
    model = LitRegressor()
    x, y = _data(40)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # batches of 16, 16, 8
    trainer = _trainer(model, tmp_path)
    [metrics] = trainer.validate(loader)
    with zoo.no_grad():
        expected = F.mse_loss(model(x), y).item()  # the mean weighted by batch size = the mean over all samples
    assert metrics["val_loss"] == pytest.approx(expected, rel=1e-5)
    preds = trainer.predict(loader)
    assert [p.shape for p in preds] == [(16, 1), (16, 1), (8, 1)]
    with zoo.no_grad():
        np.testing.assert_allclose(zoo.cat(preds).numpy(), model(x).numpy(), rtol=1e-6)
    assert not os.path.exists(tmp_path / "metrics.csv")  # validate/predict do not write the training log


class GradRecorder(Callback):
    def __init__(self):
        self.grads, self.norms = [], []

    def on_before_optimizer_step(self, trainer, model, optimizer):
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        self.grads.append(grads)
        self.norms.append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))))


def test_grad_accumulation_equals_a_larger_batch(tmp_path):
    x, y = _data(32)
    small = DataLoader(TensorDataset(x, y), batch_size=4)
    large = DataLoader(TensorDataset(x, y), batch_size=8)
    results = []
    for loader, accum in ((small, 2), (large, 1)):
        zoo.manual_seed(3)
        model = LitRegressor()
        rec = GradRecorder()
        trainer = _trainer(model, tmp_path / str(accum), grad_accum_steps=accum, max_epochs=1, callbacks=[rec],
                           optimizer={"name": "SGD", "lr": 0.1})
        trainer.fit(loader)
        assert trainer.global_step == 4
        results.append((rec.grads, [p.detach().numpy().copy() for p in model.parameters()]))
    (g_acc, p_acc), (g_big, p_big) = results
    for a, b in zip(g_acc, g_big):
        for ga, gb in zip(a, b):
            np.testing.assert_allclose(ga, gb, rtol=1e-5, atol=1e-7)
    for a, b in zip(p_acc, p_big):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_grad_accumulation_steps_on_the_last_short_group(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, grad_accum_steps=3, max_epochs=2)
    trainer.fit(_loader())  # 8 batches an epoch: steps after batches 3, 6 and 8
    assert trainer.global_step == 6


def test_gradient_clipping(tmp_path):
    zoo.manual_seed(1)
    model = LitRegressor()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    rec = GradRecorder()
    trainer = _trainer(model, tmp_path, gradient_clip_val=0.01, max_steps=1, callbacks=[rec],
                       optimizer={"name": "SGD", "lr": 1.0})
    trainer.fit(_loader())
    assert trainer.global_step == 1 and rec.norms[0] > 0.1  # the raw gradient is far above the limit
    deltas = [b - p.detach().numpy() for b, p in zip(before, model.parameters())]  # = the clipped gradient (lr 1)
    norm = np.sqrt(sum((d.astype(np.float64) ** 2).sum() for d in deltas))
    assert norm == pytest.approx(0.01, rel=1e-3)
    for d, g in zip(deltas, rec.grads[0]):  # same direction as the raw gradient
        np.testing.assert_allclose(d, g * (0.01 / rec.norms[0]), rtol=1e-3, atol=1e-8)


def test_early_stopping_stops(tmp_path):
    es = EarlyStopping(monitor="val_loss", patience=2)
    trainer = _trainer(LitRegressor(), tmp_path, optimizer={"name": "SGD", "lr": 0.0}, max_epochs=50,
                       callbacks=[es])
    trainer.fit(_loader(), _loader(shuffle=False))
    # lr 0: val_loss never improves after the first check, so training stops at the end of the third epoch
    assert trainer.should_stop and es.stopped_epoch == 2 and es.wait_count == 2
    assert trainer.global_step == 3 * 8
    assert "did not improve" in es.stopping_reason


def test_early_stopping_missing_metric_is_a_clear_error(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=2, callbacks=[EarlyStopping(monitor="val_acc")])
    with pytest.raises(RuntimeError, match="'val_acc' was not logged"):
        trainer.fit(_loader(), _loader(shuffle=False))


class ScriptedScore(LitRegressor):
    """Logs a chosen 'score' per validation run, to check which checkpoints are kept."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.runs = scores, 0

    def validation_step(self, batch, batch_idx):
        self.log("score", self.scores[self.runs])
        return F.mse_loss(self(batch[0]), batch[1])

    def on_validation_end(self):  # a model hook (Lightning signature)
        self.runs += 1


def test_model_checkpoint_keeps_best_k_and_last(tmp_path):
    scores = [5.0, 3.0, 4.0, 1.0, 2.0, 0.0]  # the last one for the validate() call
    model = ScriptedScore(scores)
    ckpt = ModelCheckpoint(monitor="score", mode="min", save_top_k=2, save_last=True, filename="{epoch}-{score:.1f}")
    trainer = _trainer(model, tmp_path, max_epochs=5, callbacks=[ckpt])
    trainer.fit(_loader(), _loader(shuffle=False, n=16))
    folder = tmp_path / "checkpoints"
    assert sorted(os.listdir(folder)) == ["epoch=3-score=1.0.ckpt", "epoch=4-score=2.0.ckpt", "last.ckpt"]
    assert ckpt.best_model_path == str(folder / "epoch=3-score=1.0.ckpt") and ckpt.best_model_score == 1.0
    best = zoo.load(ckpt.best_model_path)
    assert (best["epoch"], best["batch_idx"], best["global_step"]) == (4, 0, 32)  # resumes at epoch 4
    last = zoo.load(folder / "last.ckpt")
    assert last["global_step"] == 40 and last["callbacks"][ckpt.state_key]["best_model_score"] == 1.0
    # validate with the best weights
    weights = best["state_dict"]
    [metrics] = trainer.validate(_loader(shuffle=False), ckpt_path="best")
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k].numpy())
    assert metrics["val_loss"] > 0


def test_model_checkpoint_every_n_steps_keeps_the_latest(tmp_path):
    ckpt = ModelCheckpoint(every_n_train_steps=3, save_top_k=2)
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=2, callbacks=[ckpt])
    trainer.fit(_loader())
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["epoch=1-step=12.ckpt", "epoch=1-step=15.ckpt"]


def test_metrics_csv_and_curves(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=3, log_every_n_steps=2,
                       scheduler={"scheduler": lambda opt: zoo.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)},
                       callbacks=[LearningRateMonitor(logging_interval="epoch")])
    trainer.fit(_loader(), _loader(shuffle=False))
    with open(tmp_path / "metrics.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[:6] == ["step", "epoch", "train_loss", "lr", "train_loss_epoch", "val_loss"]
    rows = _rows(tmp_path)
    step_rows = [r for r in rows if r["train_loss"]]
    assert [int(r["step"]) for r in step_rows] == list(range(1, 24, 2))  # steps 1, 3, ... (0-based, every 2nd)
    epoch_rows = [r for r in rows if r["train_loss_epoch"]]
    assert [int(r["epoch"]) for r in epoch_rows] == [0, 1, 2]
    assert all(r["val_loss"] and r["train_mae"] == "" for r in epoch_rows)
    # the epoch scheduler halves the lr after each epoch; the step rows show the lr each step used
    assert sorted({float(r["lr"]) for r in step_rows}) == [0.00025, 0.0005, 0.001]
    assert [float(r["lr-AdamW"]) for r in epoch_rows] == [0.001, 0.0005, 0.00025]
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    with Image.open(tmp_path / "curves.png") as im:
        assert im.size[1] > im.size[0] / 2  # two panels: losses and learning rate


def test_train_loss_epoch_is_the_mean_of_step_losses(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=1)
    trainer.fit(_loader())
    rows = _rows(tmp_path)
    steps = [float(r["train_loss"]) for r in rows if r["train_loss"]]
    [epoch] = [float(r["train_loss_epoch"]) for r in rows if r["train_loss_epoch"]]
    assert epoch == pytest.approx(np.mean(steps), rel=1e-5)


def test_configure_optimizers_and_step_scheduler(tmp_path):
    class Configured(LitRegressor):
        def configure_optimizers(self):
            opt = zoo.optim.SGD(self.parameters(), lr=0.1)
            sched = zoo.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    trainer = _trainer(Configured(), tmp_path, max_steps=5)
    trainer.fit(_loader())
    assert isinstance(trainer.optimizer, zoo.optim.SGD)
    lrs = [float(r["lr"]) for r in _rows(tmp_path) if r["lr"]]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    assert trainer.global_step == 5 and trainer.current_epoch == 0  # stopped inside the first epoch


def test_custom_callback_hook_order(tmp_path):
    class Recorder(Callback):
        def __init__(self):
            self.events = []

        def on_fit_start(self, trainer, model):
            self.events.append("fit_start")

        def on_train_epoch_start(self, trainer, model):
            self.events.append("epoch_start")

        def on_train_batch_end(self, trainer, model, outputs, batch, batch_idx):
            self.events.append(f"batch{batch_idx}")
            assert "loss" in outputs

        def on_validation_end(self, trainer, model):
            self.events.append("val_end")

        def on_train_epoch_end(self, trainer, model):
            self.events.append("epoch_end")

        def on_fit_end(self, trainer, model):
            self.events.append("fit_end")

    rec = Recorder()
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=1, callbacks=[rec], enable_checkpointing=False)
    trainer.fit(_loader(n=24), _loader(shuffle=False, n=8))
    assert rec.events == ["fit_start", "epoch_start", "batch0", "batch1", "batch2", "val_end", "epoch_end",
                          "fit_end"]
    assert not os.path.exists(tmp_path / "checkpoints")


def test_val_check_interval_validates_inside_the_epoch(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=1, val_check_interval=0.25)
    trainer.fit(_loader(), _loader(shuffle=False))
    val_steps = [int(r["step"]) for r in _rows(tmp_path) if r["val_loss"]]
    assert val_steps == [1, 3, 5, 7]  # after batches 2, 4, 6 and at the end of the epoch


def test_resume_last_without_a_checkpoint_starts_fresh(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=1)
    with pytest.warns(UserWarning, match="no last.ckpt"):
        trainer.fit(_loader(), ckpt_path="last")
    assert trainer.global_step == 8


def test_weights_only_checkpoint_cannot_resume(tmp_path):
    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=1)
    trainer.fit(_loader())
    trainer.save_checkpoint(tmp_path / "w.ckpt", weights_only=True)
    assert sorted(zoo.load(tmp_path / "w.ckpt")) == ["batch_idx", "epoch", "format", "global_step", "state_dict"]
    with pytest.raises(ValueError, match="holds only model weights"):
        _trainer(LitRegressor(), tmp_path, max_epochs=2).fit(_loader(), ckpt_path=tmp_path / "w.ckpt")


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    zoo.save({"weight": zoo.ones(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not a zoo.Trainer checkpoint"):
        _trainer(LitRegressor(), tmp_path).fit(_loader(), ckpt_path=tmp_path / "plain.safetensors")


def test_model_returning_no_loss_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"HFRegressor\(batch\) returned no loss.*labels"):
        _trainer(HFRegressor(), tmp_path / "hf").fit([{"inputs": zoo.randn(4, 4)}])

    class NoLoss(LitRegressor):
        def training_step(self, batch, batch_idx):
            return {"logits": self(batch[0])}

    with pytest.raises(RuntimeError, match=r"NoLoss.training_step returned no loss \(got dict"):
        _trainer(NoLoss(), tmp_path / "noloss").fit(_loader())

    class Detached(LitRegressor):
        def training_step(self, batch, batch_idx):
            return F.mse_loss(self(batch[0]), batch[1]).detach()

    with pytest.raises(RuntimeError, match="does not require grad"):
        _trainer(Detached(), tmp_path / "detached").fit(_loader())

    class NotScalar(LitRegressor):
        def training_step(self, batch, batch_idx):
            return (self(batch[0]) - batch[1]) ** 2

    with pytest.raises(ValueError, match="must be a scalar"):
        _trainer(NotScalar(), tmp_path / "notscalar").fit(_loader())


def test_lightning_model_without_validation_step(tmp_path):
    class NoVal(LitRegressor):
        validation_step = None

    with pytest.raises(TypeError, match="no validation_step"):
        _trainer(NoVal(), tmp_path).fit(_loader(), _loader())


def test_mixed_precision_on_cpu_is_refused(tmp_path):
    with pytest.raises(ValueError, match="16-mixed.*CUDA"):
        Trainer(LitRegressor(), precision="16-mixed", device="cpu", log_dir=tmp_path)
    with pytest.raises(ValueError, match="precision"):
        Trainer(LitRegressor(), precision="bf16-mixed", device="cpu", log_dir=tmp_path)


def test_bad_optimizer_config(tmp_path):
    with pytest.raises(ValueError, match="must name a zoo.optim optimizer"):
        _trainer(LitRegressor(), tmp_path, optimizer={"name": "Nope"}).fit(_loader())


def test_seed_makes_runs_repeatable(tmp_path):
    losses = []
    for run in range(2):
        zoo.manual_seed(0)
        model = LitRegressor()  # same init
        zoo.manual_seed(run + 100)  # different global state before fit: the trainer's seed overrides it
        _trainer(model, tmp_path / str(run), max_epochs=2, seed=7).fit(_loader())
        losses.append([r["train_loss"] for r in _rows(tmp_path / str(run)) if r["train_loss"]])
    assert losses[0] == losses[1]


@pytest.mark.gpu
def test_mixed_precision_on_cuda(tmp_path):
    if not zoo.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    trainer = _trainer(LitRegressor(), tmp_path, precision="16-mixed", device="cuda", max_epochs=5,
                       optimizer={"name": "SGD", "lr": 0.05})
    trainer.fit(_loader(), _loader(shuffle=False))
    rows = _rows(tmp_path)
    val = [float(r["val_loss"]) for r in rows if r["val_loss"]]
    assert val[-1] < val[0]
    assert zoo.load(tmp_path / "checkpoints" / "last.ckpt")["grad_scaler"]["scale"] > 0


def test_logging_from_epoch_hooks_goes_to_the_epoch_row(tmp_path):
    class EpochLogger(Callback):
        def on_train_epoch_start(self, trainer, model):
            trainer.log("started", float(trainer.current_epoch))

        def on_train_epoch_end(self, trainer, model):
            trainer.log("ended", 10.0 + trainer.current_epoch)

    trainer = _trainer(LitRegressor(), tmp_path, max_epochs=2, callbacks=[EpochLogger()])
    trainer.fit(_loader())
    epoch_rows = [r for r in _rows(tmp_path) if r["train_loss_epoch"]]
    assert [(r["started"], r["ended"]) for r in epoch_rows] == [("0.0", "10.0"), ("1.0", "11.0")]
    assert trainer.callback_metrics["ended"] == 11.0
