"""conv2d forward and forward + backward, zoo vs PyTorch on the same machine and thread count.

Prints milliseconds per call (median of repeats after warmup) and the zoo/PyTorch ratio (lower is better for
zoo); PyTorch is skipped when it is not installed. ``--device cuda`` times zoo on the GPU (PyTorch only when it
has CUDA too); ``--threads N`` sets both libraries' thread count (default: all cores).
"""
import argparse
import os

import numpy as np

import zoo
from timing import median_seconds

# (name, input shape, weight shape, conv kwargs)
CASES = [
    ("3x3 pad 1, (32,64,56,56) x (64,64,3,3)", (32, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    ("3x3 stride 2, (32,64,56,56) x (128,64,3,3)", (32, 64, 56, 56), (128, 64, 3, 3), dict(stride=2, padding=1)),
    ("1x1, (32,256,14,14) x (64,256,1,1)", (32, 256, 14, 14), (64, 256, 1, 1), {}),
    ("depthwise 3x3, (32,128,28,28) x (128,1,3,3)", (32, 128, 28, 28), (128, 1, 3, 3), dict(padding=1, groups=128)),
]


def workloads(lib, device, x_np, w_np, kwargs):
    x = lib.tensor(x_np, device=device, requires_grad=True)
    w = lib.tensor(w_np, device=device, requires_grad=True)
    b = lib.zeros(w_np.shape[0], device=device, requires_grad=True)
    conv = lib.nn.functional.conv2d

    def forward():
        with lib.no_grad():
            return conv(x, w, b, **kwargs)

    y_shape = tuple(forward().shape)
    g = lib.ones(y_shape, device=device)

    def forward_backward():
        x.grad = w.grad = b.grad = None
        conv(x, w, b, **kwargs).backward(g)

    return {"forward": forward, "forward + backward": forward_backward}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(args.threads)
        if args.device != "cpu" and not torch.cuda.is_available():
            torch = None
    except ImportError:
        torch = None
    zoo.set_num_threads(args.threads)

    def zoo_sync():
        if args.device != "cpu":
            zoo.cuda.synchronize()

    def torch_sync():
        if args.device != "cpu":
            torch.cuda.synchronize()

    rng = np.random.default_rng(0)
    print(f"device {args.device}, {args.threads} threads, float32, ms per call (median of {args.repeat})")
    print(f"{'case':46s} {'pass':20s} {'zoo ms':>9s} {'torch ms':>9s} {'ratio':>7s}")
    for name, xs, ws, kwargs in CASES:
        x_np = rng.standard_normal(xs, dtype=np.float32)
        w_np = rng.standard_normal(ws, dtype=np.float32) * 0.05
        zw = workloads(zoo, args.device, x_np, w_np, kwargs)
        tw = workloads(torch, args.device, x_np, w_np, kwargs) if torch is not None else {}
        for pass_name, fn in zw.items():
            z = median_seconds(fn, zoo_sync, repeat=args.repeat) * 1e3
            if torch is not None:
                t = median_seconds(tw[pass_name], torch_sync, repeat=args.repeat) * 1e3
                print(f"{name:46s} {pass_name:20s} {z:9.1f} {t:9.1f} {z / t:7.2f}")
            else:
                print(f"{name:46s} {pass_name:20s} {z:9.1f} {'-':>9s} {'-':>7s}")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, zoo {zoo.__version__}")


if __name__ == "__main__":
    main()
