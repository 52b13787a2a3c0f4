"""Per-op overhead: ``a + b`` on two 8-element tensors, forward only and forward + backward, zoo vs PyTorch.

Small models are dominated by this Python overhead. Prints microseconds per call and the zoo/PyTorch ratio
(lower is better for zoo); PyTorch is skipped when it is not installed.
"""
import statistics
import time

import zoo


def per_call_us(fn, number=20000, repeat=7):
    for _ in range(number // 10):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(times)


def workloads(lib):
    a = lib.randn(8, requires_grad=True)
    b = lib.randn(8, requires_grad=True)
    g = lib.ones(8)
    x = lib.randn(8)
    y = lib.randn(8)

    def forward_no_grad():
        return x + y

    def forward():
        return a + b

    def forward_backward():
        (a + b).backward(g)

    def forward_backward_chain():  # a small graph: mul, add, tanh, sum
        (lib.tanh(a * b + a)).sum().backward()

    return {"add, no grad": forward_no_grad, "add, forward (records graph)": forward,
            "add, forward + backward": forward_backward,
            "tanh(a*b+a).sum(), forward + backward": forward_backward_chain}


def main():
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    zoo.set_num_threads(1)
    zoo_w = workloads(zoo)
    torch_w = workloads(torch) if torch is not None else {}
    print(f"{'workload':42s} {'zoo us':>9s} {'torch us':>9s} {'ratio':>7s}")
    for name, fn in zoo_w.items():
        z = per_call_us(fn)
        if torch is not None:
            t = per_call_us(torch_w[name])
            print(f"{name:42s} {z:9.2f} {t:9.2f} {z / t:7.2f}")
        else:
            print(f"{name:42s} {z:9.2f} {'-':>9s} {'-':>7s}")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, zoo {zoo.__version__}")


if __name__ == "__main__":
    main()
