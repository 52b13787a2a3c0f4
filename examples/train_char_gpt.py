"""Train the char-level GPT that zoo ships (``char_gpt_shakespeare``) on Tiny Shakespeare with zoo.Trainer.

The recipe of nanoGPT's Shakespeare-char baseline at a small size: the first 90% of the text trains, the last 10%
validates; the vocabulary is the text's set of characters; a GPT of 4 layers, 4 heads, 128 wide, with a context
of 64 characters and no dropout; AdamW (betas 0.9/0.99, weight decay 0.1 on matrices) with a linear warmup and a
cosine decay to a tenth of the peak rate; gradients clipped to norm 1 (without it, this run diverged once the rate
peaked). Each batch holds random windows of the training split (the windows of a run are drawn up front from
``--seed``, so a run is reproducible).

Outputs, in ``--output-dir``: ``config.json`` + ``model.safetensors`` (``zoo.from_pretrained`` loads them),
``char_tokenizer.json`` and ``record.json`` ({"data", "command", "seed", "metric": {"val_loss": ...}}), where
``val_loss`` is the mean cross entropy (nats per character) over the WHOLE validation split, read in windows of
the context length. The Trainer writes ``metrics.csv`` and the learning curve ``curves.png`` into ``--log-dir``
(tqdm progress bars when run in a terminal).

    python examples/train_char_gpt.py --data /path/to/tinyshakespeare.txt --iterations 2500 \
        --output-dir weights/store/char_gpt_shakespeare
"""
import argparse
import hashlib
import json
import math
import pathlib
import shlex
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="the Tiny Shakespeare text file")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--iterations", type=int, default=2500, help="optimizer steps")
    p.add_argument("--output-dir", default="char_gpt_out", help="where the model, tokenizer and record go")
    p.add_argument("--log-dir", default=None, help="Trainer logs (metrics.csv, curves.png); default OUTPUT/../logs")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--block-size", type=int, default=64, help="context length (also the model's n_positions)")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0, help="gradient norm clipping (0: off)")
    p.add_argument("--eval-interval", type=int, default=250, help="validate every this many steps")
    p.add_argument("--eval-windows", type=int, default=64, help="validation windows per in-training check")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (1 is fastest for this small model on a shared CPU; 0: zoo's default)")
    return p.parse_args(argv)


class RandomWindows:
    """``count`` windows of ``length`` token ids at offsets drawn from ``rng``: {"input_ids", "labels"} (the model
    shifts the labels itself)."""

    def __init__(self, data, length, count, rng):
        if len(data) <= length:
            raise ValueError(f"the data has {len(data)} tokens, fewer than one window of {length}")
        self.data, self.length = data, length
        self.offsets = rng.integers(0, len(data) - length + 1, size=count)

    def __len__(self):
        return len(self.offsets)

    def __getitem__(self, i):
        o = self.offsets[i]
        w = self.data[o:o + self.length]
        return {"input_ids": w, "labels": w}


def progress_callback():
    """Prints each validation (step, losses, minutes so far) and brings metrics.csv up to date, so a run in the
    background can be followed in its log."""
    from zoo.trainer import Callback

    class Progress(Callback):
        def on_fit_start(self, trainer, model):
            self.t0 = time.time()

        def on_validation_end(self, trainer, model):
            m = trainer.callback_metrics
            train = m.get("train_loss")
            print(f"step {trainer.global_step:5d}  val_loss {m.get('val_loss', float('nan')):.4f}  train_loss "
                  f"{train if train is None else round(train, 4)}  {(time.time() - self.t0) / 60:.1f} min",
                  flush=True)
            trainer.logger.flush()

    return Progress()


def lr_lambda(warmup, total, peak, floor):
    """The multiplier of the peak rate at each step: linear warmup, then cosine down to ``floor / peak``."""
    def f(step):
        if step < warmup:
            return (step + 1) / warmup
        ratio = min((step - warmup) / max(1, total - warmup), 1.0)
        return (floor + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (peak - floor)) / peak
    return f


def full_split_loss(model, data, block, batch=32):
    """Mean cross entropy over every token of ``data`` after the first: windows of ``block`` tokens overlapping by
    one, so each token is predicted once, from up to ``block - 1`` characters of context."""
    import zoo
    import zoo.nn.functional as F
    starts = list(range(0, len(data) - 1, block - 1))
    total, count = 0.0, 0
    model.eval()
    with zoo.inference_mode():
        for length in sorted({min(block, len(data) - s) for s in starts}):
            group = [s for s in starts if min(block, len(data) - s) == length]
            for i in range(0, len(group), batch):
                x = np.stack([data[s:s + length] for s in group[i:i + batch]])
                logits = model(input_ids=zoo.from_numpy(x)).logits
                V = logits.shape[-1]
                loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), zoo.from_numpy(x[:, 1:].reshape(-1)),
                                       reduction="sum")
                total += float(loss.item())
                count += x.shape[0] * (length - 1)
    return total / count


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    args = parse_args(argv)
    import zoo
    from zoo.text.char_tokenizer import CharTokenizer
    from zoo.text.models.char_gpt import CharGPTConfig, CharGPTLMHeadModel
    from zoo.trainer import Trainer, seed_everything

    if args.threads:
        zoo.set_num_threads(args.threads)
    data_path = pathlib.Path(args.data)
    if not data_path.is_file():
        sys.exit(f"train_char_gpt: no data file {data_path} (download Tiny Shakespeare: "
                 "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt)")
    text = data_path.read_text(encoding="utf-8")
    tokenizer = CharTokenizer.from_text(text)
    ids = np.asarray(tokenizer.encode(text), dtype=np.int64)
    n = int(0.9 * len(ids))
    train_ids, val_ids = ids[:n], ids[n:]
    print(f"data: {len(text):,} characters, vocabulary {len(tokenizer)}, train {len(train_ids):,} / "
          f"val {len(val_ids):,}", flush=True)

    seed_everything(args.seed)
    config = CharGPTConfig(vocab_size=len(tokenizer), n_positions=args.block_size, n_embd=args.n_embd,
                           n_layer=args.n_layer, n_head=args.n_head)
    model = CharGPTLMHeadModel(config)
    print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters", flush=True)

    rng = np.random.default_rng(args.seed)
    train = RandomWindows(train_ids, args.block_size, args.iterations * args.batch_size, rng)
    val = RandomWindows(val_ids, args.block_size, args.eval_windows, rng)
    train_loader = zoo.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=False)
    val_loader = zoo.utils.data.DataLoader(val, batch_size=32, shuffle=False)

    decay = [p for _, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for _, p in model.named_parameters() if p.ndim < 2]
    optimizer = zoo.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))
    scheduler = zoo.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(args.warmup, args.iterations, args.lr,
                                                                     args.min_lr))
    out_dir = pathlib.Path(args.output_dir)
    log_dir = pathlib.Path(args.log_dir) if args.log_dir else out_dir.parent / f"{out_dir.name}_logs"
    trainer = Trainer(model, optimizer, {"scheduler": scheduler, "interval": "step"}, max_steps=args.iterations,
                      gradient_clip_val=args.grad_clip or None,
                      val_check_interval=min(args.eval_interval, args.iterations), check_val_every_n_epoch=None,
                      log_every_n_steps=min(50, args.iterations), log_dir=str(log_dir), device="cpu",
                      enable_checkpointing=False, seed=args.seed, callbacks=[progress_callback()])
    t0 = time.time()
    trainer.fit(train_loader, val_loader)
    minutes = (time.time() - t0) / 60
    val_loss = full_split_loss(model, val_ids, args.block_size)
    print(f"trained {args.iterations} iterations in {minutes:.1f} min; validation loss (whole split) "
          f"{val_loss:.4f}", flush=True)

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    try:
        data_name = str(data_path.resolve().relative_to(ROOT.parent))
    except ValueError:
        data_name = data_path.name
    command = "python examples/train_char_gpt.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv) if a)
    record = {"data": f"Tiny Shakespeare ({data_name}, {len(text)} characters, sha256 {sha256(data_path)}); "
                      "first 90% train, last 10% validation",
              "command": command, "seed": args.seed,
              "metric": {"val_loss": round(val_loss, 4)}}
    (out_dir / "record.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({f: sha256(out_dir / f) for f in ("config.json", "model.safetensors", "char_tokenizer.json")},
                     indent=2))
    return val_loss


if __name__ == "__main__":
    main()
