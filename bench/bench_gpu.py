"""GPU workloads, zoo (CuPy) vs PyTorch eager, side by side in one run on the same GPU.

    python bench/bench_gpu.py [--only gpt2,resnet50,bert,lite0] [--iters 10] [--warmup 3]

Workloads (random weights and inputs; the same shapes in both libraries):

* ``gpt2``: GPT-2 124M training step (batch 8 x 1024 tokens, AdamW), float32 and float16 autocast with a
  GradScaler: tokens/s. PyTorch side: ``transformers.GPT2LMHeadModel``.
* ``resnet50``: ResNet-50 training step (batch 64 at 224, SGD momentum): images/s. PyTorch side: torchvision.
* ``bert``: BERT-base inference (batch 32 x 128 tokens): sequences/s. PyTorch side: ``transformers.BertModel``.
* ``lite0``: EfficientNet-Lite0 inference (batch 64 at 224): images/s. PyTorch side: timm's
  ``efficientnet_lite0`` (same architecture, its own key names).

Each figure is the median of ``--iters`` timed steps after ``--warmup`` steps, the device synchronised around each
step (never inside zoo's step). Peak memory is each library's own allocator peak for the workload. The ratio is
zoo / PyTorch throughput (above 1: zoo is faster) and zoo / PyTorch peak memory. A PyTorch column is left empty
when PyTorch or its model library is missing; the run needs CuPy and a GPU for zoo.
"""
import argparse

import numpy as np

import zoo
from timing import median_seconds


# ---- zoo side ---------------------------------------------------------------------------------------------------
def zoo_gpt2_train(fp16):
    from zoo.text.models.gpt2 import GPT2Config, GPT2LMHeadModel
    model = GPT2LMHeadModel(GPT2Config()).to("cuda").train()
    opt = zoo.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = zoo.amp.GradScaler("cuda", enabled=fp16)
    ids = zoo.randint(0, 50257, (8, 1024), device="cuda")

    def step():
        with zoo.autocast("cuda", enabled=fp16):
            loss = model(ids, labels=ids).loss
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    return step


def zoo_resnet50_train():
    from zoo.vision.models import resnet50
    model = resnet50().to("cuda").train()
    opt = zoo.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = zoo.randn(64, 3, 224, 224, device="cuda")
    y = zoo.randint(0, 1000, (64,), device="cuda")

    def step():
        loss = zoo.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def zoo_bert_infer():
    from zoo.text.models.bert import BertConfig, BertModel
    model = BertModel(BertConfig()).to("cuda").eval()
    ids = zoo.randint(0, 30522, (32, 128), device="cuda")
    mask = zoo.ones(32, 128, dtype=zoo.int64, device="cuda")

    def step():
        with zoo.inference_mode():
            model(input_ids=ids, attention_mask=mask)
    return step


def zoo_lite0_infer():
    from zoo.vision.models import efficientnet_lite0
    model = efficientnet_lite0().to("cuda").eval()
    x = zoo.randn(64, 3, 224, 224, device="cuda")

    def step():
        with zoo.inference_mode():
            model(x)
    return step


# ---- PyTorch side -----------------------------------------------------------------------------------------------
def torch_gpt2_train(torch, fp16):
    from transformers import GPT2Config, GPT2LMHeadModel
    model = GPT2LMHeadModel(GPT2Config()).cuda().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=fp16)
    ids = torch.randint(0, 50257, (8, 1024), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
            loss = model(ids, labels=ids).loss
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    return step


def torch_resnet50_train(torch):
    import torchvision
    model = torchvision.models.resnet50().cuda().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(64, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (64,), device="cuda")

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def torch_bert_infer(torch):
    from transformers import BertConfig, BertModel
    model = BertModel(BertConfig()).cuda().eval()
    ids = torch.randint(0, 30522, (32, 128), device="cuda")
    mask = torch.ones(32, 128, dtype=torch.int64, device="cuda")

    def step():
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)
    return step


def torch_lite0_infer(torch):
    import timm
    model = timm.create_model("efficientnet_lite0").cuda().eval()
    x = torch.randn(64, 3, 224, 224, device="cuda")

    def step():
        with torch.inference_mode():
            model(x)
    return step


WORKLOADS = {  # name: (label, unit, items per step, zoo builder, torch builder)
    "gpt2": [("GPT-2 124M train fp32", "tokens/s", 8 * 1024, lambda: zoo_gpt2_train(False),
              lambda t: torch_gpt2_train(t, False)),
             ("GPT-2 124M train fp16", "tokens/s", 8 * 1024, lambda: zoo_gpt2_train(True),
              lambda t: torch_gpt2_train(t, True))],
    "resnet50": [("ResNet-50 train b64", "images/s", 64, zoo_resnet50_train, torch_resnet50_train)],
    "bert": [("BERT-base infer b32x128", "seq/s", 32, zoo_bert_infer, torch_bert_infer)],
    "lite0": [("EfficientNet-Lite0 infer b64", "images/s", 64, zoo_lite0_infer, torch_lite0_infer)],
}


def measure_zoo(build, args):
    zoo.cuda.empty_cache()
    zoo.cuda.reset_peak_memory_stats()
    step = build()
    seconds = median_seconds(step, zoo.cuda.synchronize, args.warmup, args.iters)
    peak = zoo.cuda.max_memory_allocated() / 2 ** 20
    del step
    zoo.cuda.empty_cache()
    return seconds, peak


def measure_torch(torch, build, args):
    if torch is None:
        return None, None
    try:
        step = build(torch)
    except ImportError as e:
        print(f"  (PyTorch side skipped: {e})")
        return None, None
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    seconds = median_seconds(step, torch.cuda.synchronize, args.warmup, args.iters)
    peak = torch.cuda.max_memory_allocated() / 2 ** 20
    del step
    torch.cuda.empty_cache()
    return seconds, peak


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads: " + ", ".join(WORKLOADS))
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    if not zoo.cuda.is_available():
        raise SystemExit("bench_gpu needs CuPy and a CUDA GPU")
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = True  # what zoo's float32 matmuls use too (TF32 tensor cores)
        torch.backends.cudnn.allow_tf32 = True
        versions = f"PyTorch {torch.__version__}"
    except ImportError:
        torch, versions = None, "PyTorch not installed"
    import cupy
    print(f"device: {zoo.cuda.get_device_name()}; zoo {zoo.__version__}, CuPy {cupy.__version__}, "
          f"NumPy {np.__version__}; {versions}")
    rows = []
    for name in args.only.split(","):
        for label, unit, items, build_zoo, build_torch in WORKLOADS[name.strip()]:
            zs, zm = measure_zoo(build_zoo, args)
            ts, tm = measure_torch(torch, build_torch, args)
            rows.append((label, unit, items / zs, None if ts is None else items / ts, zm, tm))
            print(f"{label}: zoo {items / zs:,.0f} {unit}" + ("" if ts is None else f", torch {items / ts:,.0f}"),
                  flush=True)
    print()
    print("| workload | unit | zoo | PyTorch | zoo/PyTorch | zoo peak MiB | PyTorch peak MiB | memory ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for label, unit, z, t, zm, tm in rows:
        cells = [label, unit, f"{z:,.0f}", "-" if t is None else f"{t:,.0f}", "-" if t is None else f"{z / t:.2f}",
                 f"{zm:,.0f}", "-" if tm is None else f"{tm:,.0f}", "-" if tm is None else f"{zm / tm:.2f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
