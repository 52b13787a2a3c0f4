"""Text generation speed with a KV cache: zoo vs Hugging Face Transformers (PyTorch), side by side.

A GPT-2-small-shaped model (12 layers, 768 wide, 12 heads, vocabulary 50257) with random weights: Transformers
builds it, saves it, and zoo loads the same files, so both decode the same tokens (checked). Each library
generates ``--new-tokens`` tokens greedily after a ``--prompt``-token prompt, batch ``--batch``; the table shows
the best of ``--repeats`` runs: the whole call, new tokens per second, and the time per new token after the
prompt (the decode step, one position through the cache).

    python bench/bench_generation.py [--new-tokens 32] [--prompt 16] [--batch 1] [--threads 2]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", type=int, default=12)
    args = p.parse_args()

    import zoo
    from zoo.text.models.gpt2 import GPT2LMHeadModel
    zoo.set_num_threads(args.threads)
    ids = np.random.default_rng(0).integers(0, 50257, (args.batch, args.prompt))
    rows = []
    try:
        import torch
        import transformers
    except ImportError:
        torch = None
    with tempfile.TemporaryDirectory() as folder:
        if torch is not None:
            torch.set_num_threads(args.threads)
            torch.manual_seed(0)
            config = transformers.GPT2Config(n_layer=args.layers)
            hf = transformers.GPT2LMHeadModel(config).eval()
            hf.save_pretrained(folder)
        else:
            zoo.manual_seed(0)
            from zoo.text.models.gpt2 import GPT2Config
            GPT2LMHeadModel(GPT2Config(n_layer=args.layers)).save_pretrained(folder)
        model = GPT2LMHeadModel.from_pretrained(folder)

        x = zoo.tensor(ids)

        def run_zoo(n):
            return model.generate(x, max_new_tokens=n, eos_token_id=None).numpy()

        run_zoo(2)
        zoo_tokens = run_zoo(args.new_tokens)
        t_all = best_time(lambda: run_zoo(args.new_tokens), args.repeats)
        t_one = best_time(lambda: run_zoo(1), args.repeats)
        rows.append(("zoo", t_all, t_one))

        if torch is not None:
            xt = torch.tensor(ids)

            def run_torch(n):
                with torch.inference_mode():
                    return hf.generate(xt, attention_mask=torch.ones_like(xt), max_new_tokens=n, do_sample=False,
                                       eos_token_id=None, pad_token_id=0).numpy()

            run_torch(2)
            same = np.array_equal(run_torch(args.new_tokens), zoo_tokens)
            t_all = best_time(lambda: run_torch(args.new_tokens), args.repeats)
            t_one = best_time(lambda: run_torch(1), args.repeats)
            rows.append((f"transformers {transformers.__version__} (torch {torch.__version__})", t_all, t_one))

    n = args.new_tokens
    print(f"GPT-2 small shape ({args.layers} layers, 768 wide), batch {args.batch}, prompt {args.prompt}, "
          f"{n} new tokens, greedy, KV cache, {args.threads} threads")
    print(f"{'library':44s} {'total s':>8s} {'new tok/s':>10s} {'ms/token (decode)':>18s}")
    for name, t_all, t_one in rows:
        decode_ms = (t_all - t_one) / max(n - 1, 1) * 1e3
        print(f"{name:44s} {t_all:8.3f} {args.batch * n / t_all:10.1f} {decode_ms:18.1f}")
    if len(rows) > 1:
        print(f"same tokens: {same}")


if __name__ == "__main__":
    main()
