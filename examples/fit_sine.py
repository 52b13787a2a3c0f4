"""Fit y = sin(x) with a two-layer network written directly on zoo tensors and autograd.

Runs offline in a few seconds on a CPU; pass --device cuda to run on a GPU.
"""
import argparse
import math

import zoo


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    zoo.manual_seed(args.seed)
    x = zoo.linspace(-math.pi, math.pi, 256, device=args.device).unsqueeze(1)
    y = zoo.sin(x)

    w1 = (zoo.randn(1, args.hidden, device=args.device) * 1.0).requires_grad_()
    b1 = zoo.zeros(args.hidden, device=args.device, requires_grad=True)
    w2 = (zoo.randn(args.hidden, 1, device=args.device) / math.sqrt(args.hidden)).requires_grad_()
    b2 = zoo.zeros(1, device=args.device, requires_grad=True)
    params = [w1, b1, w2, b2]

    for step in range(args.steps + 1):
        pred = zoo.tanh(x @ w1 + b1) @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with zoo.no_grad():
            for p in params:
                p -= args.lr * p.grad
        if step % (args.steps // 10) == 0:
            print(f"step {step:5d}  mse {loss.item():.6f}")
    print(f"final mse {loss.item():.6f}")


if __name__ == "__main__":
    main()
