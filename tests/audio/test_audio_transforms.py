"""zoo.audio.transforms: torchaudio's transforms as zoo modules; librosa agreement in the oracle tier, float64
gradchecks, and the same results on every device."""
import numpy as np
import pytest

import zoo
from zoo.audio import functional as AF
from zoo.audio import transforms as T

from helpers import arr, check_grad


def speechy(n=4000, sr=8000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.5 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(n)
    return x.astype(np.float32)


def test_spectrogram_shapes_and_defaults():
    x = zoo.tensor(np.stack([speechy(), speechy(seed=1)]))
    spec = T.Spectrogram()(x)
    assert spec.shape == (2, 201, 4000 // 200 + 1)
    assert T.Spectrogram(power=None)(x).shape == (2, 201, 21, 2)
    mel = T.MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=40)(x)
    assert mel.shape == (2, 40, 4000 // 128 + 1)
    assert T.MFCC(sample_rate=8000, n_mfcc=13, melkwargs={"n_fft": 256, "n_mels": 40})(x).shape == (2, 13, 32)


def test_inverse_spectrogram_round_trip():
    x = zoo.tensor(speechy(1000))
    spec = T.Spectrogram(n_fft=128, hop_length=32, power=None, pad=5)(x)
    y = T.InverseSpectrogram(n_fft=128, hop_length=32, pad=5)(spec, length=1000)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-5)


def test_mel_scale_checks_its_input():
    with pytest.raises(ValueError, match="n_stft=201"):
        T.MelScale(n_mels=10, sample_rate=8000, n_stft=201)(zoo.ones(1, 100, 5))
    with pytest.raises(ValueError, match="stype"):
        T.AmplitudeToDB("energy")
    with pytest.raises(ValueError, match="n_mfcc"):
        T.MFCC(n_mfcc=50, melkwargs={"n_mels": 40})


def test_transform_grads_float64():
    win = dict(n_fft=16, hop_length=4)
    check_grad(T.Spectrogram(**win, power=1.0), arr(2, 40, seed=1))
    mel = T.MelSpectrogram(sample_rate=8000, n_mels=6, **win)
    check_grad(mel, arr(40, seed=2))
    mfcc = T.MFCC(sample_rate=8000, n_mfcc=4, melkwargs=dict(n_mels=6, **win))
    check_grad(mfcc, arr(40, seed=3), atol=1e-4)
    check_grad(T.Resample(5, 4), arr(2, 25, seed=4))
    check_grad(T.InverseSpectrogram(n_fft=16, hop_length=4), arr(9, 6, 2, seed=5))
    check_grad(T.AmplitudeToDB("magnitude"), arr(3, 5, low=0.5, high=2.0))
    check_grad(lambda x: T.MuLawDecoding(16)(x), arr(7, low=0.0, high=15.0))
    check_grad(T.GriffinLim(n_fft=16, hop_length=4, n_iter=2, rand_init=False), arr(9, 6, low=0.5, high=2.0),
               atol=1e-4)


def test_masking_transforms_mask_spans():
    zoo.manual_seed(0)
    spec = zoo.ones(3, 1, 16, 40)
    f = T.FrequencyMasking(8, iid_masks=True)(spec).numpy()
    t = T.TimeMasking(12, p=0.25)(spec).numpy()
    rows_masked = (f == 0).all(axis=-1)
    assert rows_masked.sum(axis=-1).max() <= 8
    assert (t == 0).all(axis=-2).sum(axis=-1).max() <= 10  # p=0.25 of 40 frames caps the width
    x = zoo.tensor(np.ones((16, 40)), requires_grad=True)
    T.TimeMasking(10)(x).sum().backward()
    assert set(np.unique(x.grad.numpy())) <= {0.0, 1.0}


def test_mu_law_and_vol():
    x = zoo.tensor(np.linspace(-1, 1, 50).astype(np.float32))
    np.testing.assert_allclose(T.MuLawDecoding()(T.MuLawEncoding()(x)).numpy(), x.numpy(), atol=0.02)
    assert float(T.Vol(6.0, "db")(zoo.tensor([0.1])).item()) == pytest.approx(0.1 * 10 ** 0.3, rel=1e-5)
    assert float(T.Vol(4.0)(zoo.tensor([0.5])).item()) == 1.0


def test_griffinlim_shape():
    spec = T.Spectrogram(n_fft=64, hop_length=16)(zoo.tensor(speechy(800)))
    y = T.GriffinLim(n_fft=64, hop_length=16, n_iter=4, length=800)(spec)
    assert y.shape == (800,) and np.isfinite(y.numpy()).all()


def test_transforms_on_device(device):
    x = np.stack([speechy(), speechy(seed=3)])
    mel = T.MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=32)
    ref = mel(zoo.tensor(x)).numpy()
    out = mel.to(device)(zoo.tensor(x, device=device))
    assert out.device.type == device
    np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=1e-4, atol=1e-5)
    r = T.Resample(8000, 16000)(zoo.tensor(x, device=device))
    np.testing.assert_allclose(r.cpu().numpy(), AF.resample(zoo.tensor(x), 8000, 16000).numpy(), atol=1e-5)
    mfcc = T.MFCC(sample_rate=8000, n_mfcc=13, melkwargs=dict(n_fft=256, n_mels=32)).to(device)
    assert mfcc(zoo.tensor(x, device=device)).shape == (2, 13, 32)


@pytest.mark.oracle
@pytest.mark.parametrize("htk,norm", [(True, None), (False, "slaney")])
def test_melspectrogram_matches_librosa(htk, norm):
    librosa = pytest.importorskip("librosa")
    y = speechy(8000, sr=16000)
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160, n_mels=40, htk=htk, norm=norm,
                                         center=True, pad_mode="reflect", power=2.0)
    mel = T.MelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=40, norm=norm,
                           mel_scale="htk" if htk else "slaney")(zoo.tensor(y)).numpy()
    np.testing.assert_allclose(mel, ref, rtol=1e-4, atol=1e-6 * ref.max())


@pytest.mark.oracle
def test_mfcc_matches_librosa():
    librosa = pytest.importorskip("librosa")
    y = speechy(8000, sr=16000)
    ref = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=20, n_fft=400, hop_length=160, n_mels=64, htk=False,
                               center=True, pad_mode="constant")
    out = T.MFCC(sample_rate=16000, n_mfcc=20, melkwargs=dict(n_fft=400, hop_length=160, n_mels=64, norm="slaney",
                                                              mel_scale="slaney", pad_mode="constant"))
    np.testing.assert_allclose(out(zoo.tensor(y)).numpy(), ref, atol=2e-3 * np.abs(ref).max())
    db = T.AmplitudeToDB("power", top_db=80.0)(zoo.tensor(np.abs(y) ** 2)).numpy()
    np.testing.assert_allclose(db, librosa.power_to_db(np.abs(y) ** 2, top_db=80.0), atol=1e-4)


@pytest.mark.oracle
def test_resample_matches_librosa_on_a_tone():
    librosa = pytest.importorskip("librosa")
    y = np.sin(2 * np.pi * 220 * np.arange(22050) / 22050).astype(np.float32)
    ours = T.Resample(22050, 16000)(zoo.tensor(y)).numpy()
    ref = librosa.resample(y, orig_sr=22050, target_sr=16000, res_type="soxr_vhq")
    n = min(len(ours), len(ref))
    assert abs(len(ours) - len(ref)) <= 1
    np.testing.assert_allclose(ours[1000:n - 1000], ref[1000:n - 1000], atol=2e-3)
