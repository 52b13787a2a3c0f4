"""Train the spoken-digit classifier that zoo ships (weights entry ``kws_cnn_fsdd``, the default model of the
``audio-classification`` pipeline) on the Free Spoken Digit Dataset, with zoo.Trainer.

Data: FSDD recordings (8 kHz wavs ``{digit}_{speaker}_{index}.wav``); the dataset's own split: train = index >= 5
(2,700 clips), test = index 0-4 (300 clips). Model: KWSCNN (log-mel spectrogram -> 4 conv blocks -> linear, ~60k
parameters). Training: AdamW with a one-cycle learning-rate schedule, random time shifts and gains as
augmentation, a fixed number of epochs; the model of the last epoch is kept (no selection on the test split, which
is only evaluated: each epoch for the learning curve, and once at the end for the record).

    python examples/train_spoken_digits.py --data ../shared/data/fsdd --epochs 24 --seed 0 \
        --out weights/store/kws_cnn_fsdd

writes the model directory (config.json, model.safetensors, record.json) to --out and the Trainer's logs
(metrics.csv, curves.png, checkpoints) to --log-dir, and prints the sha256 of the shipped files. The shipped
run (the command above) took 27 minutes on 2 shared CPU cores and reached 0.9967 test accuracy (299 / 300); its
metrics.csv and curves.png are kept beside the model in weights/store/kws_cnn_fsdd/.
"""
import argparse
import json
import pathlib
import shlex
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fsdd"),
                   help="FSDD folder holding recordings/ (default: ../shared/data/fsdd next to the repository)")
    p.add_argument("--epochs", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--channels", default="16,32,64,64", help="conv channels, comma separated")
    p.add_argument("--device", default="cpu")
    p.add_argument("--limit", type=int, default=None, help="use only this many clips per split (a quick trial)")
    p.add_argument("--out", default=None, help="where to save the model directory (default: no save)")
    p.add_argument("--log-dir", default="runs/spoken_digits")
    p.add_argument("--download", action="store_true", help="download FSDD into --data if it is not there")
    return p.parse_args(argv)


def load_split(root, split, limit, download):
    from zoo.audio.datasets import FSDD
    ds = FSDD(root, split=split, download=download)
    n = len(ds) if limit is None else min(limit, len(ds))
    order = np.random.default_rng(123).permutation(len(ds))[:n] if limit is not None else np.arange(n)
    waves, labels = [], []
    for i in order:
        w, sr, digit, _, _ = ds[int(i)]
        if sr != 8000:
            raise ValueError(f"{ds.samples[int(i)][0]}: expected 8 kHz audio, got {sr} Hz")
        waves.append(w.numpy()[0])
        labels.append(digit)
    return waves, np.array(labels, dtype=np.int64)


class ClipDataset:
    """Fixed-length clips; in training, each clip lands at a random offset, with a random gain. (No additive noise:
    it would change the silent padding that evaluation sees, and with it the batch-norm statistics.)"""

    def __init__(self, waves, labels, clip, train, seed=0):
        from zoo.audio.models import fix_length
        self.waves, self.labels, self.clip, self.train = waves, labels, clip, train
        self.fix_length = fix_length
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.waves)

    def __getitem__(self, i):
        import zoo
        w = self.waves[i]
        if self.train:
            slack = abs(self.clip - len(w)) // 2
            offset = int(self.rng.integers(-slack, slack + 1)) if slack else 0
            x = self.fix_length(w, self.clip, offset).astype(np.float32)
            x = x * np.float32(self.rng.uniform(0.5, 1.5))
        else:
            x = self.fix_length(w, self.clip).astype(np.float32)
        return zoo.from_numpy(np.ascontiguousarray(x)), int(self.labels[i])


def make_task(config, lr, weight_decay, epochs, steps_per_epoch):
    import zoo
    from zoo.audio.models import KWSCNN

    class DigitTask(zoo.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = KWSCNN(config)

        def training_step(self, batch, batch_idx):
            x, y = batch
            out = self.model(x, labels=y)
            self.log("train_acc", (out.logits.argmax(-1) == y).float().mean().item())
            return out.loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            out = self.model(x, labels=y)
            self.log("val_acc", (out.logits.argmax(-1) == y).float().mean().item(), batch_size=len(y))
            return out.loss

        def configure_optimizers(self):
            opt = zoo.optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay)
            sched = zoo.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                      pct_start=0.2)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    return DigitTask()


def evaluate(model, waves, labels, clip, batch_size=100):
    import zoo
    from zoo.audio.models import fix_length
    model.eval()
    correct = 0
    with zoo.inference_mode():
        for s in range(0, len(waves), batch_size):
            x = np.stack([fix_length(w, clip) for w in waves[s:s + batch_size]]).astype(np.float32)
            pred = model(zoo.from_numpy(x).to(model.device)).logits.argmax(-1).cpu().numpy()
            correct += int((pred == labels[s:s + batch_size]).sum())
    return correct / len(waves)




def main(argv=None):
    args = parse_args(argv)
    import zoo
    from zoo.audio.models import KWSCNNConfig
    from zoo.trainer import Callback
    from zoo.weights.sources import file_sha256

    zoo.trainer.seed_everything(args.seed)
    config = KWSCNNConfig(channels=[int(c) for c in args.channels.split(",")],
                          id2label={i: str(i) for i in range(10)})
    clip = config.clip_samples
    t0 = time.time()
    train_w, train_y = load_split(args.data, "train", args.limit, args.download)
    test_w, test_y = load_split(args.data, "test", args.limit, False)
    print(f"data: {len(train_w)} train / {len(test_w)} test clips from {args.data} ({time.time() - t0:.1f}s)",
          flush=True)
    train_dl = zoo.utils.data.DataLoader(ClipDataset(train_w, train_y, clip, True, args.seed),
                                         batch_size=args.batch_size, shuffle=True,
                                         generator=zoo.Generator().manual_seed(args.seed))
    test_dl = zoo.utils.data.DataLoader(ClipDataset(test_w, test_y, clip, False), batch_size=100)
    task = make_task(config, args.lr, args.weight_decay, args.epochs, len(train_dl))
    n_params = sum(p.numel() for p in task.model.parameters())
    print(f"model: KWSCNN, {n_params} parameters; {args.epochs} epochs of {len(train_dl)} steps", flush=True)

    class Report(Callback):
        def on_train_epoch_start(self, trainer, model):
            self.t = time.time()

        def on_validation_end(self, trainer, model):
            m = trainer.callback_metrics
            print(f"epoch {trainer.current_epoch:3d}  train_loss {float(m.get('train_loss_epoch', float('nan'))):.4f}"
                  f"  val_loss {float(m.get('val_loss', float('nan'))):.4f}  val_acc {float(m.get('val_acc', 0)):.4f}"
                  f"  ({time.time() - getattr(self, 't', time.time()):.1f}s)", flush=True)

    trainer = zoo.Trainer(task, max_epochs=args.epochs, device=args.device, seed=args.seed,
                          log_dir=args.log_dir, callbacks=[Report()], log_every_n_steps=10)
    t1 = time.time()
    trainer.fit(train_dl, test_dl)
    train_time = time.time() - t1
    acc = evaluate(task.model, test_w, test_y, clip)
    print(f"test accuracy (FSDD test split, index 0-4): {acc:.4f}  [{len(test_w)} clips]; training took "
          f"{train_time / 60:.1f} min", flush=True)
    if args.out:
        out = pathlib.Path(args.out)
        model = task.model.to("cpu")
        model.save_pretrained(out)
        command = "python examples/train_spoken_digits.py " + " ".join(
            shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
        record = {"data": "FSDD (github.com/Jakobovski/free-spoken-digit-dataset) recordings, 8 kHz: train = index "
                          ">= 5 (2700 clips), test = index 0-4 (300 clips)",
                  "command": command, "seed": args.seed,
                  "metric": {"accuracy": round(acc, 4)}}
        (out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
        for f in ("config.json", "model.safetensors"):
            print(f"{f}: sha256 {file_sha256(str(out / f))}  ({(out / f).stat().st_size} bytes)")
    return acc


if __name__ == "__main__":
    main()
