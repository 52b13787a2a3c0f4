"""Train the DCGAN that zoo ships (weights entry ``dcgan_digits``, the default model of the
``unconditional-image-generation`` pipeline) on scikit-learn's handwritten digits.

Data: ``sklearn.datasets.load_digits`` (1,797 grayscale 8x8 digits with values 0-16, the test part of the UCI
"optdigits" set; bundled with scikit-learn, so no download), upscaled bilinearly to 32x32 and scaled to [-1, 1].
scikit-learn is needed by this recipe only (``pip install scikit-learn``), never by zoo.

Model and training (Radford et al., 2015): DCGANGenerator / DCGANDiscriminator for 1 x 32 x 32 images, Adam with
lr 2e-4 and betas (0.5, 0.999) for both networks, binary cross-entropy; each step updates D on a real and a fake
batch, then G with the non-saturating loss -log D(G(z)). The GAN trains on all 1,797 digits. The loop is written
here (zoo.Trainer drives one optimizer; a GAN alternates two).

Metric (what the record's numbers mean): a LeNet-5 classifier is trained with zoo on 1,437 real digits (the other
360 are held out; its held-out accuracy is ``classifier_test_acc``). It then labels 1,000 generated digits (the
shipped generator in eval mode, latent seed 0) and, as a reference, the 360 held-out real digits:

* ``gen_confident_frac``: the fraction of generated samples the classifier puts in one class with probability
  >= 0.9, i.e. recognisable digits (``real_confident_frac`` is the same for real digits);
* ``gen_mean_max_prob``: the classifier's mean top-class probability on generated samples;
* ``gen_digit_is``: the Inception Score with this classifier in place of Inception, exp(E_x KL(p(y|x) || p(y))):
  high (at most 10) when samples are each confidently one digit and all ten digits occur (``real_digit_is``);
* ``gen_classes_covered``: how many of the 10 digits are at least 2% of the confident generated samples.

    python examples/train_dcgan.py --epochs 30 --seed 0 --out weights/store/dcgan_digits

writes, to --log-dir: metrics.csv (per-epoch losses and D outputs), curves.png (D and G losses), samples at
epochs (samples_epoch_NNN.png, 64 samples from a fixed latent batch), and with --out the generator
(model.safetensors + config.json) and record.json, then prints the sha256 of the shipped files.
"""
import argparse
import csv
import hashlib
import json
import os
import pathlib
import shlex
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--nz", type=int, default=64, help="latent size")
    p.add_argument("--ngf", type=int, default=32, help="generator width")
    p.add_argument("--ndf", type=int, default=32, help="discriminator width")
    p.add_argument("--image-size", type=int, default=32, choices=(32, 64))
    p.add_argument("--sample-every", type=int, default=4, help="write a sample grid every N epochs (and the last)")
    p.add_argument("--classifier-epochs", type=int, default=10)
    p.add_argument("--num-eval", type=int, default=1000, help="generated samples scored by the classifier")
    p.add_argument("--limit", type=int, default=None, help="use only this many digits (a quick trial)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--log-dir", default="runs/dcgan_digits")
    p.add_argument("--out", default=None, help="where to save the generator directory (default: no save)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "nz", "ngf", "ndf", "sample_every", "classifier_epochs", "num_eval"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.limit is not None and args.limit < 2 * args.batch_size:
        p.error(f"--limit must leave at least two batches ({2 * args.batch_size} digits)")
    return args


def load_digits_32(image_size, limit=None):
    """(images (N, 1, S, S) float32 in [-1, 1], labels (N,)) from scikit-learn's digits, upscaled bilinearly."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this recipe needs scikit-learn for its data: pip install scikit-learn") from None
    import zoo
    import zoo.nn.functional as F
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0  # 0..16 -> [0, 1]
    labels = digits.target.astype(np.int64)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = zoo.from_numpy(np.ascontiguousarray(images[:, None]))
    with zoo.no_grad():
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return (x.clamp(0.0, 1.0) * 2 - 1).numpy().astype(np.float32), labels


def train_classifier(images, labels, args, device):
    """LeNet-5 (ReLU, max pooling) trained on 80% of the real digits; returns (model, held-out x, y, accuracy)."""
    import zoo
    from zoo.utils.data import DataLoader, TensorDataset
    from zoo.vision.models import lenet5
    order = np.random.default_rng(args.seed).permutation(len(images))
    cut = int(round(0.8 * len(images)))
    tr, te = order[:cut], order[cut:]
    model = lenet5(num_classes=10, activation="relu", pooling="max").to(device)
    opt = zoo.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(zoo.from_numpy(images[tr]), zoo.from_numpy(labels[tr])), batch_size=64,
                        shuffle=True, generator=zoo.Generator().manual_seed(args.seed + 1))
    for _ in range(args.classifier_epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = _to_32(xb.to(device)), yb.to(device)
            loss = zoo.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    probs = classify(model, images[te], device)
    acc = float((probs.argmax(1) == labels[te]).mean())
    return model, images[te], labels[te], acc


def _to_32(x):
    import zoo.nn.functional as F
    return x if x.shape[-1] == 32 else F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)


def classify(model, images, device):
    """Softmax probabilities (N, 10) of the classifier for images in [-1, 1] (resized to 32x32 if needed)."""
    import zoo
    model.eval()
    out = []
    with zoo.no_grad():
        for i in range(0, len(images), 256):
            xb = zoo.from_numpy(np.ascontiguousarray(images[i:i + 256])).to(device)
            out.append(zoo.nn.functional.softmax(model(_to_32(xb)), dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def sample(generator, n, seed, device):
    """``n`` images from ``generator`` in eval mode, latent vectors from zoo.Generator seeded with ``seed``."""
    import zoo
    was_training = generator.training
    generator.eval()
    z = zoo.randn(n, generator.nz, 1, 1, generator=zoo.Generator().manual_seed(seed)).to(device)
    with zoo.no_grad():
        images = generator(z).cpu().numpy()
    generator.train(was_training)
    return images


def score(probs, threshold=0.9):
    """The classifier-based numbers of the module docstring for one set of softmax outputs."""
    top = probs.max(1)
    confident = top >= threshold
    marginal = probs.mean(0)
    kl = (probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    counts = np.bincount(probs.argmax(1)[confident], minlength=10)
    covered = int((counts >= 0.02 * max(int(confident.sum()), 1)).sum()) if confident.any() else 0
    return {"confident_frac": float(confident.mean()), "mean_max_prob": float(top.mean()),
            "digit_is": float(np.exp(kl.mean())), "classes_covered": covered}


def save_grid(images, path, nrow=8):
    import zoo
    from zoo.vision.utils import make_grid, save_image
    grid = make_grid(zoo.from_numpy(np.ascontiguousarray(images)), nrow=nrow, padding=2, normalize=True,
                     value_range=(-1.0, 1.0), pad_value=1.0)
    save_image(grid, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    args = parse_args(argv)
    import zoo
    from tqdm import tqdm

    from zoo.core.plot import line_plot
    from zoo.utils.data import DataLoader, TensorDataset
    from zoo.vision.models.dcgan import DCGANDiscriminator, DCGANGenerator

    zoo.manual_seed(args.seed)
    device = zoo.device(args.device)
    log_dir = pathlib.Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    images, labels = load_digits_32(args.image_size, args.limit)
    print(f"data: {len(images)} digits, {images.shape[1:]} in [{images.min():.2f}, {images.max():.2f}]")

    netG = DCGANGenerator(nz=args.nz, ngf=args.ngf, nc=1, image_size=args.image_size).to(device)
    netD = DCGANDiscriminator(ndf=args.ndf, nc=1, image_size=args.image_size).to(device)
    optD = zoo.optim.Adam(netD.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optG = zoo.optim.Adam(netG.parameters(), lr=args.lr, betas=(0.5, 0.999))
    criterion = zoo.nn.BCELoss()
    loader = DataLoader(TensorDataset(zoo.from_numpy(images)), batch_size=args.batch_size, shuffle=True,
                        drop_last=True, generator=zoo.Generator().manual_seed(args.seed))
    fixed_seed = args.seed + 1000  # the latent batch of the sample grids
    fields = ["epoch", "step", "loss_D", "loss_G", "D_x", "D_G_z1", "D_G_z2", "seconds"]
    history = []
    step, start = 0, time.time()
    with open(log_dir / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for epoch in range(1, args.epochs + 1):
            sums = dict.fromkeys(fields[2:7], 0.0)
            bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, file=sys.stderr)
            for (real,) in bar:
                real = real.to(device)
                n = real.shape[0]
                ones, zeros = zoo.ones(n, device=device), zoo.zeros(n, device=device)
                # D: maximise log D(x) + log(1 - D(G(z)))
                netD.zero_grad()
                out_real = netD(real)
                loss_real = criterion(out_real, ones)
                loss_real.backward()
                fake = netG(zoo.randn(n, args.nz, 1, 1, device=device))
                out_fake = netD(fake.detach())
                loss_fake = criterion(out_fake, zeros)
                loss_fake.backward()
                optD.step()
                # G: maximise log D(G(z)) (the non-saturating loss)
                netG.zero_grad()
                out_gen = netD(fake)
                loss_G = criterion(out_gen, ones)
                loss_G.backward()
                optG.step()
                step += 1
                vals = {"loss_D": loss_real.item() + loss_fake.item(), "loss_G": loss_G.item(),
                        "D_x": out_real.mean().item(), "D_G_z1": out_fake.mean().item(),
                        "D_G_z2": out_gen.mean().item()}
                if not all(np.isfinite(v) for v in vals.values()):
                    raise FloatingPointError(f"epoch {epoch} step {step}: a loss is not finite ({vals})")
                for k, v in vals.items():
                    sums[k] += v
                bar.set_postfix(loss_D=f"{vals['loss_D']:.3f}", loss_G=f"{vals['loss_G']:.3f}")
            row = {"epoch": epoch, "step": step, **{k: round(v / len(loader), 5) for k, v in sums.items()},
                   "seconds": round(time.time() - start, 1)}
            writer.writerow(row)
            f.flush()
            history.append(row)
            print(f"epoch {epoch:3d}  step {step:5d}  loss_D {row['loss_D']:.4f}  loss_G {row['loss_G']:.4f}  "
                  f"D(x) {row['D_x']:.3f}  D(G(z)) {row['D_G_z1']:.3f}/{row['D_G_z2']:.3f}  "
                  f"{row['seconds']:.0f}s", flush=True)
            epochs = [r["epoch"] for r in history]
            line_plot({"D loss": (epochs, [r["loss_D"] for r in history]),
                       "G loss": (epochs, [r["loss_G"] for r in history])}, log_dir / "curves.png",
                      title="DCGAN on sklearn digits (32x32): mean loss per epoch", xlabel="epoch", ylabel="BCE loss")
            if epoch % args.sample_every == 0 or epoch == args.epochs:
                save_grid(sample(netG, 64, fixed_seed, device), log_dir / f"samples_epoch_{epoch:03d}.png")
    train_seconds = time.time() - start

    # the metric: a classifier trained on real digits recognises the generated ones
    classifier, x_test, y_test, acc = train_classifier(images, labels, args, device)
    real = score(classify(classifier, x_test, device))
    generated = sample(netG, args.num_eval, 0, device)
    gen = score(classify(classifier, generated, device))
    save_grid(generated[:100], log_dir / "samples_eval_seed0.png", nrow=10)
    metric = {"classifier_test_acc": round(acc, 4),
              "real_confident_frac": round(real["confident_frac"], 4), "real_digit_is": round(real["digit_is"], 3),
              "gen_confident_frac": round(gen["confident_frac"], 4),
              "gen_mean_max_prob": round(gen["mean_max_prob"], 4), "gen_digit_is": round(gen["digit_is"], 3),
              "gen_classes_covered": gen["classes_covered"]}
    print(f"trained {args.epochs} epochs ({step} steps) in {train_seconds:.0f}s")
    print("metric: " + json.dumps(metric))

    if args.out:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        netG.cpu()
        zoo.save(netG.state_dict(), out / "model.safetensors")
        (out / "config.json").write_text(json.dumps(netG.config(), indent=2) + "\n")
        argv = sys.argv[1:] if argv is None else list(argv)
        command = "python examples/train_dcgan.py " + shlex.join(argv)
        record = {"data": f"scikit-learn load_digits ({len(images)} 8x8 digits, UCI optdigits test set), "
                          f"upscaled bilinearly to {args.image_size}x{args.image_size}, scaled to [-1, 1]; metric: "
                          f"a LeNet-5 trained on 80% of the real digits scores {args.num_eval:,} generated samples "
                          "(latent seed 0), see examples/train_dcgan.py",
                  "command": command, "seed": args.seed, "metric": metric}
        (out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps({name: sha256(out / name) for name in ("config.json", "model.safetensors")}, indent=2))
    return metric


if __name__ == "__main__":
    main()
