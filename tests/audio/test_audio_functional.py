"""zoo.audio.functional: STFT / ISTFT, spectrograms, mel filterbanks, DCT, decibels, resampling, mu-law and
masking; gradients checked numerically in float64, numerics against torch.stft and librosa in the oracle tier."""
import math

import numpy as np
import pytest

import zoo
from zoo.audio import functional as AF

from helpers import arr, check_grad


def sig(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- windows -------------------------------------------------------------------------------------------------
def test_hann_window_periodic_and_symmetric():
    w = AF.hann_window(8).numpy()
    np.testing.assert_allclose(w, 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8), atol=1e-7)
    s = AF.hann_window(9, periodic=False).numpy()
    np.testing.assert_allclose(s, s[::-1], atol=1e-7)
    assert s[0] == 0 and abs(s[4] - 1) < 1e-7
    assert AF.hamming_window(5).dtype == zoo.float32


# ---- stft / istft ---------------------------------------------------------------------------------------------
def test_stft_matches_direct_dft():
    x = sig(50).astype(np.float64)
    spec = AF.stft(zoo.tensor(x), 16, hop_length=4, center=False).numpy()  # [9, frames, 2]
    frames = np.lib.stride_tricks.sliding_window_view(x, 16)[::4]
    ref = np.fft.rfft(frames, axis=-1).T
    np.testing.assert_allclose(spec[..., 0], ref.real, atol=1e-10)
    np.testing.assert_allclose(spec[..., 1], ref.imag, atol=1e-10)


@pytest.mark.parametrize("n_fft,hop,win", [(64, 16, 64), (63, 20, 50), (32, 8, 24)])
def test_istft_inverts_stft(n_fft, hop, win):
    x = sig(3, 400)
    w = AF.hann_window(win)
    spec = AF.stft(zoo.tensor(x), n_fft, hop, win, window=w)
    y = AF.istft(spec, n_fft, hop, win, window=w, length=400).numpy()
    np.testing.assert_allclose(y, x, atol=2e-5)


def test_stft_errors_name_the_problem():
    x = zoo.tensor(sig(100))
    with pytest.raises(NotImplementedError, match="complex"):
        AF.stft(x, 32, return_complex=True)
    with pytest.raises(ValueError, match="win_length"):
        AF.stft(x, 32, win_length=64)
    with pytest.raises(ValueError, match="shorter than n_fft"):
        AF.stft(zoo.tensor(sig(10)), 32, center=False)
    with pytest.raises(ValueError, match="window"):
        AF.stft(x, 32, window=AF.hann_window(16))
    with pytest.raises(TypeError, match="floating point"):
        AF.stft(zoo.tensor(np.arange(100)), 32)


def test_stft_grad():
    w = AF.hann_window(8, dtype=zoo.float64)
    check_grad(lambda x: AF.stft(x, 8, 3, window=w), arr(2, 21))
    check_grad(lambda x: AF.stft(x, 7, 2, center=False, normalized=True), arr(19))


def test_istft_grad():
    w = AF.hann_window(8, dtype=zoo.float64)
    spec = AF.stft(zoo.tensor(arr(1, 30)), 8, 2, window=w).numpy()
    check_grad(lambda s: AF.istft(s, 8, 2, window=w, length=30), spec)


@pytest.mark.parametrize("power", [2.0, 1.0, 0.5])
def test_spectrogram_power_grad(power):
    w = AF.hann_window(8, dtype=zoo.float64)
    check_grad(lambda x: AF.spectrogram(x, 0, w, 8, 2, 8, power, False), arr(2, 24, low=0.1, high=1.0))


def test_spectrogram_normalized_window():
    x = zoo.tensor(sig(200))
    w = AF.hann_window(64)
    plain = AF.spectrogram(x, 0, w, 64, 16, 64, 2.0, False).numpy()
    norm = AF.spectrogram(x, 0, w, 64, 16, 64, 2.0, True).numpy()
    np.testing.assert_allclose(norm, plain / float((w.numpy() ** 2).sum()), rtol=1e-5)
    complex_ = AF.spectrogram(x, 0, w, 64, 16, 64, None, False).numpy()
    np.testing.assert_allclose((complex_ ** 2).sum(-1), plain, rtol=1e-4, atol=1e-5)


@pytest.mark.oracle
def test_stft_matches_torch():
    torch = pytest.importorskip("torch")
    x = sig(2, 1000)
    for n_fft, hop, win, center, mode, normalized in [(256, 64, 200, True, "reflect", False),
                                                      (255, 100, 255, False, "reflect", True),
                                                      (128, 32, 128, True, "constant", False)]:
        tw = torch.hann_window(win)
        ref = torch.view_as_real(torch.stft(torch.tensor(x), n_fft, hop, win, tw, center=center, pad_mode=mode,
                                            normalized=normalized, return_complex=True)).numpy()
        out = AF.stft(zoo.tensor(x), n_fft, hop, win, AF.hann_window(win), center=center, pad_mode=mode,
                      normalized=normalized).numpy()
        np.testing.assert_allclose(out, ref, atol=2e-4, rtol=1e-4)
        if not center:  # a Hann window's overlap-add is 0 at the uncentered ends: both refuse to invert
            with pytest.raises(RuntimeError, match="overlap-add"):
                AF.istft(zoo.tensor(ref), n_fft, hop, win, AF.hann_window(win), center=False)
            continue
        back = torch.istft(torch.view_as_complex(torch.tensor(ref)), n_fft, hop, win, tw, center=center,
                           normalized=normalized, length=1000).numpy()
        mine = AF.istft(zoo.tensor(ref), n_fft, hop, win, AF.hann_window(win), center=center, normalized=normalized,
                        length=1000).numpy()
        np.testing.assert_allclose(mine, back, atol=1e-4)


# ---- mel scale -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", ["htk", "slaney"])
def test_mel_scale_round_trip(scale):
    f = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 11025.0])
    np.testing.assert_allclose(AF.mel_to_hz(AF.hz_to_mel(f, scale), scale), f, atol=1e-6)
    assert isinstance(AF.hz_to_mel(440.0, scale), float)


def test_htk_mel_value():
    assert abs(AF.hz_to_mel(700.0) - 2595 * math.log10(2)) < 1e-9


def test_fbanks_shape_and_slaney_area():
    fb = AF.melscale_fbanks(257, 0, 8000, 40, 16000, norm="slaney", mel_scale="slaney").numpy()
    assert fb.shape == (257, 40) and (fb >= 0).all()
    plain = AF.melscale_fbanks(257, 0, 8000, 40, 16000).numpy()
    assert plain.max() <= 1.0 + 1e-6 and plain.max(0).mean() > 0.8  # unnormalized triangles peak at or below 1
    with pytest.raises(ValueError, match="Nyquist"):
        AF.melscale_fbanks(257, 0, 9000, 40, 16000)
    with pytest.raises(ValueError, match="mel_scale"):
        AF.melscale_fbanks(257, 0, 8000, 40, 16000, mel_scale="bark")
    with pytest.warns(UserWarning, match="all zero"):
        AF.melscale_fbanks(9, 0, 8000, 40, 16000)


@pytest.mark.oracle
@pytest.mark.parametrize("htk,norm", [(True, None), (False, "slaney"), (True, "slaney"), (False, None)])
def test_fbanks_match_librosa(htk, norm):
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=64, fmin=30.0, fmax=10000.0, htk=htk, norm=norm)
    fb = AF.melscale_fbanks(513, 30.0, 10000.0, 64, 22050, norm=norm, mel_scale="htk" if htk else "slaney",
                            dtype=zoo.float64).numpy()
    np.testing.assert_allclose(fb.T, ref, atol=1e-6 * ref.max())


def test_create_dct_orthonormal():
    d = AF.create_dct(20, 20, "ortho", dtype=zoo.float64).numpy()
    np.testing.assert_allclose(d.T @ d, np.eye(20), atol=1e-12)
    scipy_fft = pytest.importorskip("scipy.fft")
    x = np.random.default_rng(0).standard_normal(32)
    np.testing.assert_allclose(x @ AF.create_dct(13, 32, "ortho", dtype=zoo.float64).numpy(),
                               scipy_fft.dct(x, type=2, norm="ortho")[:13], atol=1e-12)


def test_amplitude_to_db_top_db_and_inverse():
    x = zoo.tensor(np.array([[1e-12, 1e-3, 1.0, 10.0]]), dtype=zoo.float64)
    db = AF.amplitude_to_DB(x, 10.0, 1e-10, 0.0, top_db=50.0).numpy()
    np.testing.assert_allclose(db, [[-40.0, -30.0, 0.0, 10.0]])
    back = AF.DB_to_amplitude(zoo.tensor(np.array([-30.0, 0.0, 10.0])), 1.0, 1.0).numpy()
    np.testing.assert_allclose(back, [1e-3, 1.0, 10.0], rtol=1e-12)
    check_grad(lambda t: AF.amplitude_to_DB(t, 20.0, 1e-10, 0.0), arr(3, 4, low=0.1, high=2.0))


# ---- resampling ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("orig,new", [(16000, 8000), (8000, 16000), (44100, 16000), (16000, 22050)])
def test_resample_band_limited_sine(orig, new):
    f = 440.0
    n = orig // 4
    x = np.sin(2 * np.pi * f * np.arange(n) / orig)
    y = AF.resample(zoo.tensor(x), orig, new).numpy()
    assert y.shape == (math.ceil(new * n / orig),)
    ref = np.sin(2 * np.pi * f * np.arange(len(y)) / new)
    edge = len(y) // 8  # the kernel sees zeros beyond the ends
    np.testing.assert_allclose(y[edge:-edge], ref[edge:-edge], atol=2e-3)


def test_resample_removes_content_above_new_nyquist():
    orig, new = 16000, 8000
    x = np.sin(2 * np.pi * 6000 * np.arange(8000) / orig)  # above 4 kHz
    y = AF.resample(zoo.tensor(x), orig, new).numpy()
    assert np.abs(y[500:-500]).max() < 0.01


def test_resample_batch_shape_identity_and_grad():
    x = zoo.tensor(sig(2, 3, 100))
    assert AF.resample(x, 3, 2).shape == (2, 3, 67)
    assert AF.resample(x, 8000, 8000) is x
    check_grad(lambda t: AF.resample(t, 4, 3, lowpass_filter_width=2), arr(2, 12))
    check_grad(lambda t: AF.resample(t, 2, 3, resampling_method="sinc_interp_kaiser"), arr(10))
    with pytest.raises(ValueError, match="orig_freq"):
        AF.resample(x, 0, 8000)
    with pytest.raises(ValueError, match="resampling_method"):
        AF.resample(x, 16000, 8000, resampling_method="linear")


# ---- mu-law, masks, griffin-lim --------------------------------------------------------------------------------
def test_mu_law_round_trip():
    x = np.linspace(-1, 1, 101).astype(np.float32)
    enc = AF.mu_law_encoding(zoo.tensor(x), 256)
    assert enc.dtype == zoo.int64 and int(enc.min()) == 0 and int(enc.max()) == 255
    back = AF.mu_law_decoding(enc, 256).numpy()
    np.testing.assert_allclose(back, x, atol=0.02)
    mu = 255.0
    ref = np.floor((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) + 1) / 2 * mu + 0.5)
    np.testing.assert_array_equal(enc.numpy(), ref)


def test_masks():
    zoo.manual_seed(1)
    spec = zoo.ones(4, 1, 20, 30)
    out = AF.mask_along_axis_iid(spec, 10, 0.0, 3).numpy()
    cols = (out == 0).all(axis=2)[:, 0]  # [batch, time]: fully masked frames
    assert (out[(out != 0)] == 1).all()
    for b in range(4):  # one contiguous span per example, shorter than mask_param
        idx = np.flatnonzero(cols[b])
        assert len(idx) <= 10 and (len(idx) == 0 or idx[-1] - idx[0] + 1 == len(idx))
    shared = AF.mask_along_axis(zoo.ones(2, 20, 30), 8, 0.0, 1).numpy()
    assert (shared[0] == shared[1]).all()
    with pytest.raises(ValueError, match="axis"):
        AF.mask_along_axis(zoo.ones(2, 20, 30), 8, 0.0, 0)


def test_griffinlim_recovers_a_consistent_phase():
    n_fft, hop = 64, 16
    t = np.arange(2000) / 8000
    x = (np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1250 * t)).astype(np.float32)
    w = AF.hann_window(n_fft)
    mag = AF.spectrogram(zoo.tensor(x), 0, w, n_fft, hop, n_fft, 2.0, False)
    zoo.manual_seed(0)
    y = AF.griffinlim(mag, w, n_fft, hop, n_fft, 2.0, 32, 0.99, 2000, True)
    rebuilt = AF.spectrogram(y, 0, w, n_fft, hop, n_fft, 2.0, False).numpy()
    m = mag.numpy()
    conv = np.linalg.norm(np.sqrt(rebuilt) - np.sqrt(m)) / np.linalg.norm(np.sqrt(m))
    assert y.shape == (2000,) and conv < 0.1
