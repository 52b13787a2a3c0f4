"""DCGAN: shapes and initialisation, agreement with PyTorch (oracle tier), training, the shipped dcgan_digits
generator, the unconditional-image-generation pipeline and ``zoo run``."""
import dataclasses
import json
import pathlib

import numpy as np
import pytest

import zoo
from zoo import nn
from zoo.vision.models.dcgan import (DCGANDiscriminator, DCGANGenerator, dcgan_discriminator, dcgan_generator,
                                     weights_init)

ROOT = pathlib.Path(__file__).resolve().parents[2]
TASK = "unconditional-image-generation"


# ---- architecture ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size, n_gen, n_disc", [(32, 11, 10), (64, 14, 13)])
def test_shapes_and_tutorial_key_names(size, n_gen, n_disc):
    zoo.manual_seed(0)
    g = DCGANGenerator(nz=16, ngf=8, nc=3, image_size=size)
    d = DCGANDiscriminator(ndf=8, nc=3, image_size=size)
    x = g(zoo.randn(5, 16, 1, 1)).detach()
    assert tuple(x.shape) == (5, 3, size, size)
    assert float(x.abs().max()) <= 1.0  # Tanh
    assert tuple(g(zoo.randn(2, 16)).shape) == (2, 3, size, size)  # (N, nz) latents are accepted too
    p = d(x).detach()
    assert tuple(p.shape) == (5,)
    assert ((p.numpy() > 0) & (p.numpy() < 1)).all()  # Sigmoid
    # PyTorch's tutorial layout: main.N, ConvTranspose2d/BN/ReLU ... Tanh and Conv2d/LeakyReLU ... Sigmoid
    assert len(g.main) == n_gen and len(d.main) == n_disc
    assert isinstance(g.main[0], nn.ConvTranspose2d) and isinstance(g.main[-1], nn.Tanh)
    assert isinstance(d.main[0], nn.Conv2d) and isinstance(d.main[1], nn.LeakyReLU)
    assert isinstance(d.main[2], nn.Conv2d) and isinstance(d.main[3], nn.BatchNorm2d)
    assert isinstance(d.main[-1], nn.Sigmoid)
    assert d.main[1].negative_slope == 0.2
    assert "main.0.weight" in g.state_dict() and "main.1.running_var" in g.state_dict()
    assert not any(k.endswith("bias") and k.split(".")[1] in ("0", "3") for k in g.state_dict())  # bias-free convs
    if size == 64:  # the tutorial's ngf*8 -> ngf*4 -> ngf*2 -> ngf widths
        assert [g.main[i].out_channels for i in (0, 3, 6, 9, 12)] == [64, 32, 16, 8, 3]
        assert [d.main[i].out_channels for i in (0, 2, 5, 8, 11)] == [8, 16, 32, 64, 1]


def test_init_statistics():
    zoo.manual_seed(1)
    g = DCGANGenerator(nz=100, ngf=64, nc=3, image_size=64)
    d = DCGANDiscriminator(ndf=64, nc=3, image_size=64)
    for model in (g, d):
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 10000:
                w = m.weight.detach().numpy()
                assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3, (m, w.mean(), w.std())
            if isinstance(m, nn.BatchNorm2d) and m.weight.numel() >= 64:
                w = m.weight.detach().numpy()
                assert abs(w.mean() - 1.0) < 0.01 and 0.01 < w.std() < 0.03, (m, w.mean(), w.std())
                assert (m.bias.detach().numpy() == 0).all()
    # init=False keeps the framework's default initialisation (kaiming-uniform convs, BN weight 1)
    plain = DCGANGenerator(nz=100, ngf=64, nc=3, image_size=64, init=False)
    assert (plain.main[1].weight.detach().numpy() == 1).all()
    # weights_init is usable on its own, as in the tutorial's netG.apply(weights_init)
    plain.apply(weights_init)
    assert abs(plain.main[3].weight.detach().numpy().std() - 0.02) < 1e-3


@pytest.mark.parametrize("bad", [dict(image_size=48), dict(image_size=8), dict(nz=0), dict(ngf=2.5)])
def test_bad_config_is_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        DCGANGenerator(**{"nz": 8, "ngf": 4, "nc": 1, "image_size": 32, **bad})


def test_bad_input_shapes_name_the_expected_shape():
    g = DCGANGenerator(nz=8, ngf=4, nc=1, image_size=32)
    d = DCGANDiscriminator(ndf=4, nc=1, image_size=32)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        g(zoo.randn(2, 7))
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\)"):
        d(zoo.randn(2, 1, 64, 64))
    with pytest.raises(ValueError, match="no pretrained discriminator"):
        dcgan_discriminator(weights="dcgan_digits")


# ---- PyTorch oracle ----------------------------------------------------------------------------------------------
def _torch_dcgan(torch, nz, ngf, ndf, nc, size):
    """PyTorch's DCGAN tutorial networks (same layer order, so the same main.N keys), for image_size 32 or 64."""
    tnn = torch.nn
    blocks = {32: 2, 64: 3}[size]

    class G(tnn.Module):
        def __init__(self):
            super().__init__()
            w = ngf * 2 ** blocks
            layers = [tnn.ConvTranspose2d(nz, w, 4, 1, 0, bias=False), tnn.BatchNorm2d(w), tnn.ReLU(True)]
            for _ in range(blocks):
                layers += [tnn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(w // 2),
                           tnn.ReLU(True)]
                w //= 2
            self.main = tnn.Sequential(*layers, tnn.ConvTranspose2d(w, nc, 4, 2, 1, bias=False), tnn.Tanh())

        def forward(self, z):
            return self.main(z)

    class D(tnn.Module):
        def __init__(self):
            super().__init__()
            layers = [tnn.Conv2d(nc, ndf, 4, 2, 1, bias=False), tnn.LeakyReLU(0.2, inplace=True)]
            w = ndf
            for _ in range(blocks):
                layers += [tnn.Conv2d(w, w * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(w * 2),
                           tnn.LeakyReLU(0.2, inplace=True)]
                w *= 2
            self.main = tnn.Sequential(*layers, tnn.Conv2d(w, 1, 4, 1, 0, bias=False), tnn.Sigmoid())

        def forward(self, x):
            return self.main(x).view(-1, 1).squeeze(1)

    return G(), D()


def _close(a, b, tol=1e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    err = np.abs(a - b).max() / max(1.0, np.abs(b).max())
    assert err <= tol, err


@pytest.mark.oracle
@pytest.mark.parametrize("size", [32, 64])
def test_forward_backward_match_pytorch(size):
    torch = pytest.importorskip("torch")
    nz, ngf, ndf, nc, n = 12, 8, 8, 3, 4
    zoo.manual_seed(2)
    g, d = DCGANGenerator(nz, ngf, nc, size), DCGANDiscriminator(ndf, nc, size)
    tg, td = _torch_dcgan(torch, nz, ngf, ndf, nc, size)
    assert list(tg.state_dict()) == list(g.state_dict()) and list(td.state_dict()) == list(d.state_dict())
    for zm, tm in ((g, tg), (d, td)):
        tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in zm.state_dict().items()})
    z = np.random.default_rng(0).standard_normal((n, nz, 1, 1)).astype(np.float32)
    # training mode (batch statistics), the generator's output through the discriminator, BCE on "real"
    zz = zoo.tensor(z, requires_grad=True)
    tz = torch.tensor(z, requires_grad=True)
    x_zoo, x_torch = g(zz), tg(tz)
    _close(x_zoo.detach().numpy(), x_torch.detach().numpy())
    p_zoo, p_torch = d(x_zoo), td(x_torch)
    _close(p_zoo.detach().numpy(), p_torch.detach().numpy())
    loss_zoo = nn.BCELoss()(p_zoo, zoo.ones(n))
    loss_torch = torch.nn.BCELoss()(p_torch, torch.ones(n))
    _close(loss_zoo.item(), loss_torch.item())
    loss_zoo.backward()
    loss_torch.backward()
    _close(zz.grad.numpy(), tz.grad.numpy())
    for zm, tm in ((g, tg), (d, td)):
        tparams = dict(tm.named_parameters())
        for name, p in zm.named_parameters():
            _close(p.grad.numpy(), tparams[name].grad.numpy())
    # running statistics updated the same way, and eval mode agrees
    for zm, tm in ((g, tg), (d, td)):
        tstate = tm.state_dict()
        for k, v in zm.state_dict().items():
            if "running" in k:
                _close(v.numpy(), tstate[k].numpy())
    g.eval(), tg.eval(), d.eval(), td.eval()
    with zoo.no_grad(), torch.no_grad():
        _close(d(g(zoo.tensor(z))).numpy(), td(tg(torch.tensor(z))).numpy())


# ---- training ----------------------------------------------------------------------------------------------------
def test_a_few_steps_reduce_the_discriminator_loss():
    zoo.manual_seed(3)
    rng = np.random.default_rng(3)
    # tiny data: 32 images of a bright vertical bar at random columns, in [-1, 1]
    real = -np.ones((32, 1, 16, 16), np.float32)
    for i, c in enumerate(rng.integers(3, 12, 32)):
        real[i, 0, 2:14, c:c + 2] = 1.0
    g = DCGANGenerator(nz=8, ngf=8, nc=1, image_size=16)
    d = DCGANDiscriminator(ndf=8, nc=1, image_size=16)
    opt_d = zoo.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = zoo.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    losses = []
    for step in range(8):
        x = zoo.from_numpy(real[(step % 2) * 16:(step % 2) * 16 + 16])
        d.zero_grad()
        fake = g(zoo.randn(16, 8, 1, 1))
        loss_d = bce(d(x), zoo.ones(16)) + bce(d(fake.detach()), zoo.zeros(16))
        loss_d.backward()
        opt_d.step()
        g.zero_grad()
        bce(d(fake), zoo.ones(16)).backward()
        opt_g.step()
        losses.append(loss_d.item())
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < losses[0] - 0.1, losses


# ---- the shipped generator ---------------------------------------------------------------------------------------
def test_shipped_generator_loads_verified():
    from zoo.weights import get_entry
    from zoo.weights.errors import ChecksumError
    from zoo.weights.registry import WeightsEntry
    entry = get_entry("dcgan_digits")
    assert entry.task == TASK and entry.architecture == "dcgan_generator"
    assert entry.recipe == "examples/train_dcgan.py" and (ROOT / entry.recipe).is_file()
    store = ROOT / "weights" / "store" / "dcgan_digits"
    record = json.loads((store / "record.json").read_text())
    rec = entry.record
    assert record == {"data": rec.data, "command": rec.command, "seed": rec.seed, "metric": dict(rec.metric)}
    assert record["command"].startswith("python examples/train_dcgan.py ") and "--out weights/store/dcgan_digits" \
        in record["command"]
    config = json.loads((store / "config.json").read_text())
    g = dcgan_generator(weights="dcgan_digits")
    assert isinstance(g, DCGANGenerator) and g.weights_entry is entry
    assert g.config() == config and (g.nc, g.image_size) == (1, 32)
    assert dcgan_generator(weights="DEFAULT").state_dict().keys() == g.state_dict().keys()
    with pytest.raises(ValueError, match="ngf"):
        dcgan_generator(weights="dcgan_digits", ngf=config["ngf"] + 1)
    # the sha256 is checked on every load: the same files under a wrong checksum are refused
    wrong = WeightsEntry(**{**{f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)},
                            "name": "dcgan_digits_tampered",
                            "files": {"model.safetensors": "0" * 64, "config.json": entry.files["config.json"]},
                            "sources": [type(entry.sources[0])(folder="dcgan_digits")]})
    with pytest.raises(ChecksumError):
        wrong.get_state_dict("model.safetensors")


def test_shipped_generator_makes_varied_digit_like_images():
    g = dcgan_generator(weights="dcgan_digits").eval()
    with zoo.no_grad():
        x = g(zoo.randn(64, g.nz, generator=zoo.Generator().manual_seed(0))).numpy()
    assert x.shape == (64, 1, 32, 32)
    # like the training digits (sklearn's, upscaled: mean -0.39, 3-pixel border mean -0.41, every image brighter
    # than 0.34 somewhere in its centre, per-pixel std across images 0.37), unlike an untrained generator (a grey
    # mean near 0 and nearly the same image for every latent)
    border = np.concatenate([x[:, 0, :3].ravel(), x[:, 0, -3:].ravel()])
    assert -0.6 < x.mean() < -0.2 and border.mean() < -0.25
    assert (x[:, 0, 8:24, 8:24].max(axis=(1, 2)) > 0.3).mean() > 0.9
    assert x.reshape(64, -1).std(axis=0).mean() > 0.2


# ---- pipeline ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pipe():
    return zoo.pipeline(TASK)


def _arrays(images):
    return np.stack([np.asarray(im) for im in images])


def test_pipeline_returns_pil_images_reproducibly(pipe):
    from PIL import Image
    images = pipe(num_images=4, seed=0)
    assert isinstance(images, list) and len(images) == 4
    assert all(isinstance(im, Image.Image) and im.size == (32, 32) and im.mode == "L" for im in images)
    again = pipe(num_images=4, seed=0)
    np.testing.assert_array_equal(_arrays(images), _arrays(again))
    assert not np.array_equal(_arrays(images), _arrays(pipe(num_images=4, seed=1)))
    # the same request spelled as an input; the first k of n images are those of num_images=k
    np.testing.assert_array_equal(_arrays(pipe("4 seed=0")), _arrays(images))
    np.testing.assert_array_equal(_arrays(pipe({"num_images": 2, "seed": 0})), _arrays(images[:2]))
    assert len(pipe(3)) == 3 and len(pipe()) == 1
    zoo.manual_seed(5)
    a = pipe(2)
    zoo.manual_seed(5)
    np.testing.assert_array_equal(_arrays(a), _arrays(pipe(2)))  # unseeded calls follow zoo.manual_seed
    arr = pipe(num_images=2, seed=0, output_type="np")
    assert arr.shape == (2, 32, 32, 1) and arr.dtype == np.float32 and 0 <= arr.min() and arr.max() <= 1
    np.testing.assert_allclose(arr[..., 0] * 255, _arrays(images[:2]), atol=0.51)


def test_pipeline_batches_inputs_like_single_calls(pipe):
    results = pipe(["2 seed=7", 3, "seed=7"], batch_size=3)
    assert [len(r) for r in results] == [2, 3, 1]
    np.testing.assert_array_equal(_arrays(results[0]), _arrays(pipe("2 seed=7")))
    np.testing.assert_array_equal(_arrays(results[2]), _arrays(results[0][:1]))


@pytest.mark.parametrize("bad, error, match", [
    ("sixteen", ValueError, "num_images"), ("16 seed=x", ValueError, "seed"), (0, ValueError, "positive"),
    ("16 steps=3", ValueError, "seed=N"), ({"count": 2}, ValueError, "count"), (2.5, TypeError, "float"),
    ("seed=-1", ValueError, "non-negative")])
def test_pipeline_bad_input_is_named(pipe, bad, error, match):
    with pytest.raises(error, match=match):
        pipe(bad)


def test_pipeline_bad_options_are_named(pipe):
    with pytest.raises(ValueError, match="num_images"):
        pipe(num_images=-2)
    with pytest.raises(ValueError, match="output_type"):
        pipe(output_type="pt")
    with pytest.raises(ValueError, match="not unconditional-image-generation"):
        zoo.pipeline(TASK, model="efficientnet_lite0")


def test_pipeline_loads_a_recipe_output_folder(tmp_path, pipe):
    g = dcgan_generator(weights="dcgan_digits")
    zoo.save(g.state_dict(), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps(g.config()))
    local = zoo.pipeline(TASK, model=str(tmp_path))
    np.testing.assert_array_equal(_arrays(local(num_images=3, seed=4)), _arrays(pipe(num_images=3, seed=4)))
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        zoo.pipeline(TASK, model=str(tmp_path))


def test_zoo_run_writes_a_grid_png(tmp_path, capsys):
    from PIL import Image

    from zoo.cli import main
    assert main(["run", TASK, "16", "--option", "seed=0", "--output-dir", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.png"))
    assert [f.name for f in files] == [f"{TASK}-grid-0.png"]
    assert str(files[0]) in capsys.readouterr().out
    with Image.open(files[0]) as grid:
        assert grid.size == (4 * 32, 4 * 32)
        cells = np.asarray(grid.convert("L")).reshape(4, 32, 4, 32).transpose(0, 2, 1, 3).reshape(16, 32, 32)
    np.testing.assert_array_equal(cells, _arrays(zoo.pipeline(TASK)(num_images=16, seed=0)))
