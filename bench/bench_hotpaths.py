"""Single-thread CPU time of zoo's CPU hot paths next to PyTorch (alternating runs, medians of process time).

    python bench/bench_hotpaths.py [--only depthwise,effnet,gelu,pointwise,split] [--repeat 9]

Process time (``time.process_time``) with one thread on both sides, so that a loaded machine disturbs the
figures less than wall time would. Cases: depthwise 3x3 convolutions (stride 1 and 2; forward, and forward +
backward), 1x1 convolutions, exact GELU (forward, forward + backward) on (768, 512) float32, EfficientNet-Lite0
inference at batch 1 and 8, batch norm (eval) + ReLU6, split backward.
"""
import argparse
import statistics
import time

import numpy as np


def cpu_time(fn, warmup=1, repeat=9):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        ts.append(time.process_time() - t0)
    return statistics.median(ts)


def pair(name, zfn, tfn, repeat):
    """Alternate zoo and torch runs; print medians in ms and the ratio torch/zoo (above 1: zoo faster)."""
    zfn(), tfn()
    zs, ts = [], []
    for _ in range(repeat):
        zs.append(cpu_time(zfn, 0, 1))
        ts.append(cpu_time(tfn, 0, 1))
    z, t = statistics.median(zs), statistics.median(ts)
    print(f"{name:48}{z * 1e3:10.2f}{t * 1e3:10.2f}{t / z:9.2f}x", flush=True)
    return z, t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="depthwise,conv1x1,gelu,pointwise,split,effnet")
    p.add_argument("--repeat", type=int, default=9)
    a = p.parse_args()
    only = set(a.only.split(","))
    import torch
    import zoo
    import zoo.nn.functional as F
    import torch.nn.functional as TF
    zoo.set_num_threads(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'case (ms, 1 thread, process time)':48}{'zoo':>10}{'torch':>10}{'torch/zoo':>10}")

    if "depthwise" in only:
        for (N, C, H, k, s) in [(1, 96, 112, 3, 2), (1, 96, 112, 3, 1), (1, 144, 56, 5, 2), (8, 144, 56, 3, 1),
                                (1, 672, 14, 5, 1)]:
            x = rng.standard_normal((N, C, H, H), np.float32)
            w = rng.standard_normal((C, 1, k, k), np.float32)
            zx, zw = zoo.tensor(x), zoo.tensor(w)
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)
            pad = k // 2

            def zf():
                with zoo.no_grad():
                    F.conv2d(zx, zw, None, s, pad, 1, C)

            def tf():
                with torch.no_grad():
                    TF.conv2d(tx, tw, None, s, pad, 1, C)
            pair(f"depthwise fwd {(N, C, H, H)} k{k} s{s}", zf, tf, a.repeat)
            zxg, zwg = zoo.tensor(x, requires_grad=True), zoo.tensor(w, requires_grad=True)
            txg, twg = tx.clone().requires_grad_(), tw.clone().requires_grad_()

            def zb():
                F.conv2d(zxg, zwg, None, s, pad, 1, C).sum().backward()

            def tb():
                TF.conv2d(txg, twg, None, s, pad, 1, C).sum().backward()
            pair(f"depthwise fwd+bwd {(N, C, H, H)} k{k} s{s}", zb, tb, a.repeat)

    if "conv1x1" in only:
        for (N, C, Co, H) in [(1, 16, 96, 112), (1, 96, 24, 56), (8, 24, 144, 56), (1, 320, 1280, 7)]:
            x = rng.standard_normal((N, C, H, H), np.float32)
            w = rng.standard_normal((Co, C, 1, 1), np.float32)
            zx, zw = zoo.tensor(x), zoo.tensor(w)
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)

            def zf():
                with zoo.no_grad():
                    F.conv2d(zx, zw)

            def tf():
                with torch.no_grad():
                    TF.conv2d(tx, tw)
            pair(f"conv1x1 fwd {(N, C, H, H)} -> {Co}", zf, tf, a.repeat)

    if "gelu" in only:
        x = rng.standard_normal((768, 512), np.float32) * 3
        zx, tx = zoo.tensor(x), torch.from_numpy(x)

        def zf():
            with zoo.no_grad():
                F.gelu(zx)

        def tf():
            with torch.no_grad():
                TF.gelu(tx)
        pair("gelu fwd (768, 512) f32", zf, tf, a.repeat)
        zxg, txg = zoo.tensor(x, requires_grad=True), tx.clone().requires_grad_()
        gz, gt = zoo.tensor(np.ones_like(x)), torch.ones(768, 512)

        def zb():
            F.gelu(zxg).backward(gz)

        def tb():
            TF.gelu(txg).backward(gt)
        pair("gelu fwd+bwd (768, 512) f32", zb, tb, a.repeat)

    if "pointwise" in only:
        x = rng.standard_normal((8, 96, 56, 56), np.float32)
        zx, tx = zoo.tensor(x), torch.from_numpy(x)
        bn, tbn = zoo.nn.BatchNorm2d(96).eval(), torch.nn.BatchNorm2d(96).eval()

        def zf():
            with zoo.inference_mode():
                F.relu6(bn(zx))

        def tf():
            with torch.no_grad():
                TF.relu6(tbn(tx))
        pair("bn(eval)+relu6 (8, 96, 56, 56)", zf, tf, a.repeat)

    if "split" in only:
        x = rng.standard_normal((64, 3 * 768), np.float32)
        zx, tx = zoo.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()

        def zb():
            q, k, v = zx.split(768, dim=1)
            (q.sum() + v.sum()).backward()

        def tb():
            q, k, v = tx.split(768, dim=1)
            (q.sum() + v.sum()).backward()
        pair("split(3) backward (64, 2304)", zb, tb, a.repeat)

        def zc():
            parts = zx.chunk(12, dim=1)
            sum(p.sum() for p in parts).backward()

        def tc():
            parts = tx.chunk(12, dim=1)
            sum(p.sum() for p in parts).backward()
        pair("chunk(12) backward (64, 2304)", zc, tc, a.repeat)

    if "effnet" in only:
        from zoo.vision import models
        from efficientnet_lite_pytorch import EfficientNet
        model = models.efficientnet_lite0(weights="DEFAULT").eval()
        ref = EfficientNet.from_name("efficientnet-lite0")
        ref.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()})
        ref.eval()
        for batch in (1, 8):
            x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
            zx, tx = zoo.tensor(x), torch.from_numpy(x)

            def zf():
                with zoo.inference_mode():
                    return model(zx)

            def tf():
                with torch.no_grad():
                    return ref(tx)
            z, t = pair(f"EfficientNet-Lite0 batch {batch}", zf, tf, max(3, a.repeat // 2))
            print(f"{'':48}images/s: zoo {batch / z:.1f}, torch {batch / t:.1f}; "
                  f"max |diff| {float(np.abs(zf().numpy() - tf().numpy()).max()):.1e}")


if __name__ == "__main__":
    main()
