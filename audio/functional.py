"""zoo.audio.functional: the signal-processing functions behind zoo.audio.transforms (≈ torchaudio.functional).

Everything here works on zoo tensors on cpu (NumPy) or cuda (CuPy) and is differentiable where the math is:

* windows: :func:`hann_window`, :func:`hamming_window`, :func:`blackman_window` (PyTorch's periodic windows);
* :func:`stft` / :func:`istft`: short-time Fourier transform and its inverse. zoo has no complex dtype, so a
  complex spectrum is a real tensor with a trailing dimension of 2 (real, imaginary), the layout of
  ``torch.view_as_real(torch.stft(..., return_complex=True))``: ``[..., freq, frames, 2]``;
* :func:`spectrogram` (power / magnitude spectrograms through one fused FFT node), :func:`inverse_spectrogram`,
  :func:`griffinlim`;
* mel scale: :func:`hz_to_mel`, :func:`mel_to_hz`, :func:`melscale_fbanks` (htk or slaney scale, slaney area
  norm; the same matrices as torchaudio's and librosa's), :func:`create_dct`, :func:`amplitude_to_DB`;
* :func:`resample`: band-limited windowed-sinc resampling with torchaudio's kernel (``sinc_interp_hann`` or
  ``sinc_interp_kaiser``, ``lowpass_filter_width=6``, ``rolloff=0.99`` by default);
* :func:`mu_law_encoding` / :func:`mu_law_decoding`, :func:`mask_along_axis` (SpecAugment masks).
"""
import math
from functools import lru_cache

import numpy as np

from ..core import dtypes
from ..core.autograd.function import Function
from ..core.device import array_module
from ..core.tensor import Tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "stft", "istft", "spectrogram", "inverse_spectrogram",
           "griffinlim", "hz_to_mel", "mel_to_hz", "melscale_fbanks", "create_dct", "amplitude_to_DB",
           "DB_to_amplitude", "resample", "mu_law_encoding", "mu_law_decoding", "mask_along_axis",
           "mask_along_axis_iid", "complex_norm", "magphase"]


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------
def _tensor(x, name, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: {name} must be a zoo Tensor, got {type(x).__name__}")
    return x


def _float_tensor(x, name, fn):
    _tensor(x, name, fn)
    if not x.is_floating_point():
        raise TypeError(f"{fn}: {name} must be a floating point tensor, got {x.dtype}")
    return x


def _const(array, like):
    """A constant zoo tensor from a NumPy array, with ``like``'s dtype and device."""
    from ..core import tensor as make
    return make(np.asarray(array), dtype=like.dtype, device=like.device)


def _positive_int(value, name, fn):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{fn}: {name} must be a positive integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------------------------
def _cosine_window(coeffs, window_length, periodic, dtype, device, fn):
    from ..core import tensor as make
    if not isinstance(window_length, (int, np.integer)) or window_length < 0:
        raise ValueError(f"{fn}: window_length must be a non-negative integer, got {window_length!r}")
    n = int(window_length)
    if n == 0:
        w = np.zeros(0)
    elif n == 1:
        w = np.ones(1)
    else:
        denom = n if periodic else n - 1
        k = np.arange(n) * (2.0 * np.pi / denom)
        w = sum(((-1) ** i) * c * np.cos(i * k) for i, c in enumerate(coeffs))
    return make(w, dtype=dtype or dtypes.get_default_dtype(), device=device)


def hann_window(window_length, periodic=True, *, dtype=None, device=None):
    """Hann window ``0.5 - 0.5 cos(2πn/N)`` (periodic: N = length, as ``torch.hann_window``)."""
    return _cosine_window((0.5, 0.5), window_length, periodic, dtype, device, "hann_window")


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, device=None):
    """Hamming window ``alpha - beta cos(2πn/N)``."""
    return _cosine_window((alpha, beta), window_length, periodic, dtype, device, "hamming_window")


def blackman_window(window_length, periodic=True, *, dtype=None, device=None):
    """Blackman window ``0.42 - 0.5 cos(2πn/N) + 0.08 cos(4πn/N)``."""
    return _cosine_window((0.42, 0.5, 0.08), window_length, periodic, dtype, device, "blackman_window")


# ---------------------------------------------------------------------------------------------------------------
# FFT nodes (real input <-> half spectrum as [..., F, 2])
# ---------------------------------------------------------------------------------------------------------------
def _half_weights(xp, n_fft, n_freq, dtype):
    """1 for the DC (and Nyquist, n_fft even) bins, 1/2 for the others: irfft(w * G) * n_fft is the adjoint of
    rfft, since irfft counts each inner bin twice (as itself and its conjugate)."""
    w = xp.full(n_freq, 0.5, dtype=dtype)
    w[0] = 1.0
    if n_fft % 2 == 0:
        w[-1] = 1.0
    return w


def _as_complex(xp, g):
    return g[..., 0] + 1j * g[..., 1]


class _RFFT(Function):
    """[..., N] real -> [..., N//2+1, 2] (real, imaginary) of the one-sided DFT."""

    def forward(self, x):
        xp = array_module(x)
        self.n = x.shape[-1]
        spec = xp.fft.rfft(x, axis=-1)
        return xp.stack([spec.real, spec.imag], axis=-1).astype(x.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        n_freq = g.shape[-2]
        G = _as_complex(xp, g) * _half_weights(xp, self.n, n_freq, g.dtype)
        return (xp.fft.irfft(G, n=self.n, axis=-1) * self.n).astype(g.dtype, copy=False)


class _IRFFT(Function):
    """[..., N//2+1, 2] half spectrum -> [..., N] real signal (imaginary parts of DC / Nyquist are ignored)."""

    def __init__(self, n):
        self.n = n

    def forward(self, spec):
        xp = array_module(spec)
        return xp.fft.irfft(_as_complex(xp, spec), n=self.n, axis=-1).astype(spec.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        G = xp.fft.rfft(g, axis=-1)
        n_freq = G.shape[-1]
        c = 1.0 / (self.n * _half_weights(xp, self.n, n_freq, g.dtype))  # 1/N at DC and Nyquist, 2/N between
        out = xp.stack([G.real * c, G.imag * c], axis=-1)
        out[..., 0, 1] = 0
        if self.n % 2 == 0:
            out[..., -1, 1] = 0
        return out.astype(g.dtype, copy=False)


class _RFFTPower(Function):
    """[..., N] real -> [..., N//2+1] of |rfft(x)| ** power (power > 0): the spectrogram in one node."""

    def __init__(self, power):
        self.power = power

    def forward(self, x):
        xp = array_module(x)
        self.n = x.shape[-1]
        spec = xp.fft.rfft(x, axis=-1)
        self.spec = spec
        p2 = spec.real * spec.real + spec.imag * spec.imag
        if self.power == 2.0:
            out = p2
        elif self.power == 1.0:
            out = xp.sqrt(p2)
        else:
            out = p2 ** (self.power / 2.0)
        return out.astype(x.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        spec = self.spec
        if self.power == 2.0:
            scale = 2.0 * g
        else:
            p2 = spec.real * spec.real + spec.imag * spec.imag
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = xp.where(p2 > 0, self.power * p2 ** (self.power / 2.0 - 1.0), 0.0) * g
        G = spec * scale * _half_weights(xp, self.n, spec.shape[-1], g.dtype)
        return (xp.fft.irfft(G, n=self.n, axis=-1) * self.n).astype(g.dtype, copy=False)


class _OverlapAdd(Function):
    """[B, T, N] frames -> [B, (T-1)*hop + N]: each frame added at its hop offset (the adjoint of framing)."""

    def __init__(self, hop):
        self.hop = hop

    def forward(self, frames):
        xp = array_module(frames)
        B, T, N = frames.shape
        hop = self.hop
        K = -(-N // hop)  # blocks of one hop per frame
        out = xp.zeros((B, T + K, hop), dtype=frames.dtype)
        for k in range(K):
            w = min(hop, N - k * hop)
            out[:, k:k + T, :w] += frames[:, :, k * hop:k * hop + w]
        self.shape = (B, T, N)
        return out.reshape(B, -1)[:, :(T - 1) * hop + N]

    def backward(self, g):
        xp = array_module(g)
        B, T, N = self.shape
        hop = self.hop
        K = -(-N // hop)
        full = xp.zeros((B, (T + K) * hop), dtype=g.dtype)
        full[:, :g.shape[1]] = g
        blocks = full.reshape(B, T + K, hop)
        out = xp.empty((B, T, N), dtype=g.dtype)
        for k in range(K):
            w = min(hop, N - k * hop)
            out[:, :, k * hop:k * hop + w] = blocks[:, k:k + T, :w]
        return out


def _window_for(window, win_length, n_fft, like, fn):
    """The analysis window as a length-n_fft constant tensor (zero-padded on both sides, as torch.stft)."""
    if window is None:
        w = np.ones(win_length)
        w = _const(w, like)
    else:
        if isinstance(window, np.ndarray):
            window = _const(window, like)
        _tensor(window, "window", fn)
        if window.ndim != 1 or window.shape[0] != win_length:
            raise ValueError(f"{fn}: expected a 1-D window of size win_length={win_length}, got shape "
                             f"{tuple(window.shape)}")
        if window.device != like.device:
            raise RuntimeError(f"{fn}: the window is on {window.device} but the input is on {like.device}")
        w = window.to(like.dtype)
    if win_length < n_fft:
        from ..core.nn.functional import pad
        left = (n_fft - win_length) // 2
        w = pad(w.unsqueeze(0), (left, n_fft - win_length - left)).squeeze(0)
    return w


def _stft_args(n_fft, hop_length, win_length, fn):
    n_fft = _positive_int(n_fft, "n_fft", fn)
    win_length = n_fft if win_length is None else _positive_int(win_length, "win_length", fn)
    hop_length = win_length // 4 if hop_length is None else _positive_int(hop_length, "hop_length", fn)
    if win_length > n_fft:
        raise ValueError(f"{fn}: win_length ({win_length}) must not exceed n_fft ({n_fft})")
    if hop_length <= 0:
        raise ValueError(f"{fn}: hop_length must be positive, got {hop_length}")
    return n_fft, hop_length, win_length


def _frames(input, n_fft, hop_length, win_length, window, center, pad_mode, fn):
    """[..., time] -> (windowed frames [B, T, n_fft], leading shape)."""
    from ..core.nn.functional import pad
    _float_tensor(input, "input", fn)
    if input.ndim < 1:
        raise ValueError(f"{fn}: expected a [..., time] signal, got a 0-d tensor")
    lead = tuple(input.shape[:-1])
    x = input.reshape(-1, input.shape[-1])
    if center:
        p = n_fft // 2
        if pad_mode not in ("reflect", "constant", "replicate", "circular"):
            raise ValueError(f"{fn}: pad_mode must be 'reflect', 'constant', 'replicate' or 'circular', got "
                             f"{pad_mode!r}")
        if pad_mode == "reflect" and x.shape[-1] <= p:
            raise ValueError(f"{fn}: reflect padding of {p} needs a signal longer than {p} samples, got "
                             f"{x.shape[-1]}; pass a longer signal or pad_mode='constant'")
        x = pad(x, (p, p), mode=pad_mode)
    if x.shape[-1] < n_fft:
        raise ValueError(f"{fn}: the signal ({x.shape[-1]} samples{' after padding' if center else ''}) is shorter "
                         f"than n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length)  # [B, T, n_fft]
    w = _window_for(window, win_length, n_fft, input, fn)
    return frames * w, lead


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=True, return_complex=False):
    """Short-time Fourier transform, ``torch.stft``'s parameters: ``[..., time]`` -> ``[..., n_fft//2+1, frames, 2]``
    (real and imaginary parts; zoo has no complex dtype, so ``return_complex=True`` is not supported).

    ``hop_length`` defaults to ``win_length // 4``, ``win_length`` to ``n_fft``; ``window`` (length win_length,
    zero-padded to n_fft in the middle) defaults to a rectangular window; ``center`` pads ``n_fft // 2`` on both
    sides with ``pad_mode``; ``normalized`` scales by ``n_fft ** -0.5``.
    """
    if return_complex:
        raise NotImplementedError("stft: return_complex=True is not supported by zoo (no complex dtype); the "
                                  "result is the real view [..., freq, frames, 2] (return_complex=False)")
    if not onesided:
        raise NotImplementedError("stft: onesided=False (the two-sided spectrum) is not supported by zoo")
    n_fft, hop_length, win_length = _stft_args(n_fft, hop_length, win_length, "stft")
    frames, lead = _frames(input, n_fft, hop_length, win_length, window, center, pad_mode, "stft")
    spec = _RFFT().apply(frames)  # [B, T, F, 2]
    if normalized:
        spec = spec * (1.0 / math.sqrt(n_fft))
    spec = spec.permute(0, 2, 1, 3)
    return spec.reshape(lead + tuple(spec.shape[1:]))


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=True, length=None, return_complex=False):
    """Inverse STFT (``torch.istft``): ``[..., n_fft//2+1, frames, 2]`` -> ``[..., time]``, overlap-add of the
    inverse FFT of each frame times the window, divided by the summed squared window (the least-squares inverse
    of :func:`stft`). ``length`` trims or zero-pads the output to that many samples."""
    if return_complex:
        raise NotImplementedError("istft: return_complex=True is not supported by zoo (no complex dtype)")
    if not onesided:
        raise NotImplementedError("istft: onesided=False is not supported by zoo")
    fn = "istft"
    _float_tensor(input, "input", fn)
    if input.ndim < 3 or input.shape[-1] != 2:
        raise ValueError(f"{fn}: expected a real view of a complex spectrum [..., freq, frames, 2], got shape "
                         f"{tuple(input.shape)}")
    n_fft, hop_length, win_length = _stft_args(n_fft, hop_length, win_length, fn)
    n_freq = n_fft // 2 + 1
    if input.shape[-3] != n_freq:
        raise ValueError(f"{fn}: the spectrum has {input.shape[-3]} frequency bins but n_fft={n_fft} needs {n_freq}")
    lead = tuple(input.shape[:-3])
    n_frames = input.shape[-2]
    spec = input.reshape((-1,) + tuple(input.shape[-3:])).permute(0, 2, 1, 3)  # [B, T, F, 2]
    if normalized:
        spec = spec * math.sqrt(n_fft)
    w = _window_for(window, win_length, n_fft, input, fn)
    frames = _IRFFT(n_fft).apply(spec) * w  # [B, T, n_fft]
    y = _OverlapAdd(hop_length).apply(frames)
    # the window envelope: overlap-add of w^2 (a constant)
    w2 = (w.detach() * w.detach()).reshape(1, 1, n_fft).expand(1, n_frames, n_fft)
    env = _OverlapAdd(hop_length).apply(w2.contiguous())[0]
    expected = n_fft + hop_length * (n_frames - 1)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + int(length)
    else:
        end = expected - n_fft // 2 if center else expected
    end = min(end, expected)
    y = y[:, start:end]
    env = env[start:end]
    xp = array_module(env._data)
    if bool(xp.any(xp.abs(env._data) < 1e-11)):
        raise RuntimeError("istft: the window overlap-add is zero somewhere (the window and hop_length do not "
                           "satisfy the nonzero overlap-add constraint)")
    y = y / env
    if length is not None and y.shape[-1] < length:
        from ..core.nn.functional import pad
        y = pad(y, (0, int(length) - y.shape[-1]))
    return y.reshape(lead + (y.shape[-1],))


def spectrogram(waveform, pad, window, n_fft, hop_length, win_length, power, normalized, center=True,
                pad_mode="reflect", onesided=True):
    """torchaudio.functional.spectrogram: ``[..., time]`` -> ``[..., freq, frames]`` (``power`` > 0: |X|**power)
    or the complex spectrum ``[..., freq, frames, 2]`` (``power=None``). ``normalized``: True or ``"window"``
    divides by the window's L2 norm, ``"frame_length"`` by ``sqrt(n_fft)``."""
    from ..core.nn.functional import pad as _pad
    fn = "spectrogram"
    _float_tensor(waveform, "waveform", fn)
    if pad:
        waveform = _pad(waveform.reshape(-1, waveform.shape[-1]), (pad, pad)).reshape(
            tuple(waveform.shape[:-1]) + (waveform.shape[-1] + 2 * pad,))
    if normalized is True:
        normalized = "window"
    if normalized not in (False, None, "window", "frame_length"):
        raise ValueError(f"{fn}: normalized must be a bool, 'window' or 'frame_length', got {normalized!r}")
    if power is not None and (not isinstance(power, (int, float)) or power <= 0):
        raise ValueError(f"{fn}: power must be a positive number or None, got {power!r}")
    if not onesided:
        raise NotImplementedError("spectrogram: onesided=False is not supported by zoo")
    n_fft, hop_length, win_length = _stft_args(n_fft, hop_length, win_length, fn)
    frames, lead = _frames(waveform, n_fft, hop_length, win_length, window, center, pad_mode, fn)
    if normalized == "window":
        w = _window_for(window, win_length, n_fft, waveform, fn)
        scale = 1.0 / float(array_module(w._data).sqrt((w._data.astype(np.float64) ** 2).sum()))
    elif normalized == "frame_length":
        scale = 1.0 / math.sqrt(n_fft)
    else:
        scale = 1.0
    if power is None:
        spec = _RFFT().apply(frames if scale == 1.0 else frames * scale).permute(0, 2, 1, 3)
        return spec.reshape(lead + tuple(spec.shape[1:]))
    if scale != 1.0:
        frames = frames * scale
    spec = _RFFTPower(float(power)).apply(frames).transpose(1, 2)  # [B, F, T]
    return spec.reshape(lead + tuple(spec.shape[1:]))


def inverse_spectrogram(spectrogram, length, pad, window, n_fft, hop_length, win_length, normalized, center=True,
                        pad_mode="reflect", onesided=True):
    """torchaudio.functional.inverse_spectrogram: complex ``[..., freq, frames, 2]`` -> ``[..., time]``."""
    fn = "inverse_spectrogram"
    _float_tensor(spectrogram, "spectrogram", fn)
    if normalized is True:
        normalized = "window"
    n_fft, hop_length, win_length = _stft_args(n_fft, hop_length, win_length, fn)
    if normalized == "window":
        w = _window_for(window, win_length, n_fft, spectrogram, fn)
        spectrogram = spectrogram * float(np.sqrt((np.asarray(w.detach().cpu().numpy(), np.float64) ** 2).sum()))
    elif normalized == "frame_length":
        spectrogram = spectrogram * math.sqrt(n_fft)
    elif normalized not in (False, None):
        raise ValueError(f"{fn}: normalized must be a bool, 'window' or 'frame_length', got {normalized!r}")
    if length is not None:
        length = length + 2 * pad
    y = istft(spectrogram, n_fft, hop_length, win_length, window, center=center, normalized=False,
              onesided=onesided, length=length)
    if pad > 0:
        y = y[..., pad:-pad]
    return y


def complex_norm(complex_tensor, power=1.0):
    """|z| ** power of a real view ``[..., 2]``."""
    _float_tensor(complex_tensor, "complex_tensor", "complex_norm")
    sq = (complex_tensor * complex_tensor).sum(-1)
    return sq.pow(0.5 * power)


def magphase(complex_tensor, power=1.0):
    """(magnitude ** power, unit phasor ``[..., 2]``) of a real view ``[..., 2]``."""
    mag = complex_norm(complex_tensor, 1.0)
    phase = complex_tensor / (mag.unsqueeze(-1) + 1e-16)
    return (mag if power == 1.0 else mag.pow(power)), phase


def griffinlim(specgram, window, n_fft, hop_length, win_length, power, n_iter, momentum, length, rand_init,
               generator=None):
    """Griffin-Lim phase reconstruction (torchaudio.functional.griffinlim, with its fast momentum update):
    ``[..., freq, frames]`` magnitude ** power -> ``[..., time]``. Built from zoo ops: differentiable with respect
    to ``specgram``."""
    from ..core import rand
    fn = "griffinlim"
    _float_tensor(specgram, "specgram", fn)
    if not 0 <= momentum < 1:
        raise ValueError(f"{fn}: momentum must be in [0, 1), got {momentum}")
    n_iter = _positive_int(n_iter, "n_iter", fn) if n_iter else 0
    lead = tuple(specgram.shape[:-2])
    spec = specgram.reshape((-1,) + tuple(specgram.shape[-2:]))
    spec = spec.pow(1.0 / power)
    shape = tuple(spec.shape) + (2,)
    if rand_init:
        angles = rand(*shape, dtype=spec.dtype, device=spec.device, generator=generator)
    else:
        angles = _const(np.stack([np.ones(shape[:-1]), np.zeros(shape[:-1])], -1), spec)
    mag = spec.unsqueeze(-1)
    tprev = None
    for _ in range(n_iter):
        inverse = istft(mag * angles, n_fft, hop_length, win_length, window, length=length)
        rebuilt = stft(inverse, n_fft, hop_length, win_length, window, center=True, pad_mode="reflect")
        angles = rebuilt
        if momentum and tprev is not None:
            angles = angles - tprev * (momentum / (1 + momentum))
        norm = complex_norm(angles).unsqueeze(-1)
        angles = angles / (norm + 1e-16)
        tprev = rebuilt
    y = istft(mag * angles, n_fft, hop_length, win_length, window, length=length)
    return y.reshape(lead + (y.shape[-1],))


# ---------------------------------------------------------------------------------------------------------------
# mel scale
# ---------------------------------------------------------------------------------------------------------------
_SLANEY_F_SP = 200.0 / 3
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


def _check_scale(mel_scale, fn):
    if mel_scale not in ("htk", "slaney"):
        raise ValueError(f"{fn}: mel_scale must be 'htk' or 'slaney', got {mel_scale!r}")


def hz_to_mel(freq, mel_scale="htk"):
    """Frequency (Hz, a number or NumPy array) to mels: HTK ``2595 log10(1 + f/700)`` or Slaney's (linear below
    1 kHz, logarithmic above; librosa's default)."""
    _check_scale(mel_scale, "hz_to_mel")
    f = np.asarray(freq, dtype=np.float64)
    if mel_scale == "htk":
        m = 2595.0 * np.log10(1.0 + f / 700.0)
    else:
        m = f / _SLANEY_F_SP
        with np.errstate(divide="ignore"):
            log_part = _SLANEY_MIN_LOG_MEL + np.log(np.maximum(f, 1e-300) / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
        m = np.where(f >= _SLANEY_MIN_LOG_HZ, log_part, m)
    return float(m) if np.ndim(freq) == 0 else m


def mel_to_hz(mels, mel_scale="htk"):
    """Mels to Hz (the inverse of :func:`hz_to_mel`)."""
    _check_scale(mel_scale, "mel_to_hz")
    m = np.asarray(mels, dtype=np.float64)
    if mel_scale == "htk":
        f = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    else:
        f = np.where(m >= _SLANEY_MIN_LOG_MEL,
                     _SLANEY_MIN_LOG_HZ * np.exp(_SLANEY_LOGSTEP * (m - _SLANEY_MIN_LOG_MEL)), _SLANEY_F_SP * m)
    return float(f) if np.ndim(mels) == 0 else f


@lru_cache(maxsize=64)
def _fbanks_np(n_freqs, f_min, f_max, n_mels, sample_rate, norm, mel_scale):
    all_freqs = np.linspace(0, sample_rate / 2.0, n_freqs)
    m_pts = np.linspace(hz_to_mel(f_min, mel_scale), hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = mel_to_hz(m_pts, mel_scale)
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - all_freqs[:, None]  # [n_freqs, n_mels + 2]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels]))[None, :]
    fb.setflags(write=False)
    return fb


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk", *, dtype=None,
                    device=None):
    """Triangular mel filterbank ``[n_freqs, n_mels]`` (torchaudio.functional.melscale_fbanks; the transpose of
    ``librosa.filters.mel``): filters spaced evenly on the mel scale between f_min and f_max, over the
    ``n_freqs`` STFT bins from 0 to sample_rate / 2. ``norm="slaney"`` scales each filter to unit area."""
    from ..core import tensor as make
    fn = "melscale_fbanks"
    _check_scale(mel_scale, fn)
    if norm not in (None, "slaney"):
        raise ValueError(f"{fn}: norm must be None or 'slaney', got {norm!r}")
    n_freqs = _positive_int(n_freqs, "n_freqs", fn)
    n_mels = _positive_int(n_mels, "n_mels", fn)
    if not 0 <= f_min < f_max:
        raise ValueError(f"{fn}: need 0 <= f_min < f_max, got f_min={f_min}, f_max={f_max}")
    if f_max > sample_rate / 2.0 + 1e-9:
        raise ValueError(f"{fn}: f_max={f_max} is above the Nyquist frequency {sample_rate / 2.0} of sample_rate="
                         f"{sample_rate}")
    fb = _fbanks_np(n_freqs, float(f_min), float(f_max), n_mels, float(sample_rate), norm, mel_scale)
    if (fb.max(axis=0) == 0.0).any():
        import warnings
        warnings.warn(f"{fn}: at least one mel filterbank has all zero values; n_mels={n_mels} may be too high "
                      f"for n_freqs={n_freqs}", stacklevel=2)
    return make(fb.copy(), dtype=dtype or dtypes.get_default_dtype(), device=device)


def create_dct(n_mfcc, n_mels, norm="ortho", *, dtype=None, device=None):
    """DCT-II matrix ``[n_mels, n_mfcc]`` (torchaudio.functional.create_dct): ``x @ dct`` is the DCT of x along
    its last dim; ``norm="ortho"`` makes it orthonormal (scipy / librosa's ``norm='ortho'``)."""
    from ..core import tensor as make
    if norm not in (None, "ortho"):
        raise ValueError(f"create_dct: norm must be None or 'ortho', got {norm!r}")
    n_mfcc = _positive_int(n_mfcc, "n_mfcc", "create_dct")
    n_mels = _positive_int(n_mels, "n_mels", "create_dct")
    n = np.arange(n_mels, dtype=np.float64)
    k = np.arange(n_mfcc, dtype=np.float64)[:, None]
    dct = np.cos(np.pi / n_mels * (n + 0.5) * k)  # [n_mfcc, n_mels]
    if norm is None:
        dct *= 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct *= math.sqrt(2.0 / n_mels)
    return make(dct.T.copy(), dtype=dtype or dtypes.get_default_dtype(), device=device)


def amplitude_to_DB(x, multiplier, amin, db_multiplier, top_db=None):
    """``multiplier * log10(max(x, amin)) - multiplier * db_multiplier``, floored at ``max - top_db`` (the max over
    each item's last three dims for a batch of 4-D input, over the whole tensor otherwise; torchaudio's rule)."""
    _float_tensor(x, "x", "amplitude_to_DB")
    x_db = multiplier * x.clamp_min(amin).log10()
    if db_multiplier:
        x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"amplitude_to_DB: top_db must be non-negative, got {top_db}")
        shape = tuple(x_db.shape)
        packed = x_db.reshape((-1,) + shape[-3:]) if x_db.ndim > 2 else x_db.reshape((1,) + shape)
        peak = packed.detach().amax(dim=tuple(range(1, packed.ndim)), keepdim=True)
        packed = packed.maximum(peak - top_db)
        x_db = packed.reshape(shape)
    return x_db


def DB_to_amplitude(x, ref, power):
    """The inverse of :func:`amplitude_to_DB`: ``ref * (10 ** (x / 10)) ** power``."""
    _float_tensor(x, "x", "DB_to_amplitude")
    return ref * (x * 0.1 * math.log(10.0)).exp().pow(power)


# ---------------------------------------------------------------------------------------------------------------
# resampling
# ---------------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _sinc_kernel(orig, new, lowpass_filter_width, rolloff, method, beta):
    """torchaudio's polyphase windowed-sinc kernel, [new, 1, 2 * width + orig] (float64), and its ``width``."""
    base = min(orig, new) * rolloff
    width = int(math.ceil(lowpass_filter_width * orig / base))
    idx = np.arange(-width, width + orig, dtype=np.float64)[None, :] / orig
    t = np.arange(0, -new, -1, dtype=np.float64)[:, None] / new + idx
    t = np.clip(t * base, -lowpass_filter_width, lowpass_filter_width)
    if method == "sinc_interp_hann":
        window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        beta = 14.769656459379492 if beta is None else float(beta)
        window = np.i0(beta * np.sqrt(1 - (t / lowpass_filter_width) ** 2)) / np.i0(beta)
    t = t * math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(t == 0, 1.0, np.sin(t) / np.where(t == 0, 1.0, t))
    k = k * window * (base / orig)
    k = k[:, None, :]
    k.setflags(write=False)
    return k, width


def resample(waveform, orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99,
             resampling_method="sinc_interp_hann", beta=None):
    """Band-limited resampling ``[..., time]`` from ``orig_freq`` to ``new_freq`` Hz (torchaudio.functional.resample):
    a windowed-sinc low-pass at ``rolloff`` × the lower Nyquist frequency, ``lowpass_filter_width`` zero crossings
    each side, applied as one strided conv1d with ``new / gcd`` polyphase kernels. Output length
    ``ceil(new * time / orig)``. Differentiable."""
    from ..core.nn.functional import conv1d, pad
    fn = "resample"
    _float_tensor(waveform, "waveform", fn)
    for name, v in (("orig_freq", orig_freq), ("new_freq", new_freq)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or v <= 0 or int(v) != v:
            raise ValueError(f"{fn}: {name} must be a positive integer frequency, got {v!r}")
    if resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"{fn}: resampling_method must be 'sinc_interp_hann' or 'sinc_interp_kaiser', got "
                         f"{resampling_method!r}")
    _positive_int(lowpass_filter_width, "lowpass_filter_width", fn)
    if not 0 < rolloff <= 1:
        raise ValueError(f"{fn}: rolloff must be in (0, 1], got {rolloff}")
    orig_freq, new_freq = int(orig_freq), int(new_freq)
    if orig_freq == new_freq:
        return waveform
    g = math.gcd(orig_freq, new_freq)
    orig, new = orig_freq // g, new_freq // g
    kernel, width = _sinc_kernel(orig, new, int(lowpass_filter_width), float(rolloff), resampling_method,
                                 None if beta is None else float(beta))
    shape = tuple(waveform.shape)
    length = shape[-1]
    x = waveform.reshape(-1, 1, length)
    x = pad(x, (width, width + orig))
    y = conv1d(x, _const(kernel, waveform), stride=orig)  # [B, new, frames]
    y = y.transpose(1, 2).reshape(x.shape[0], -1)
    target = int(math.ceil(new * length / orig))
    return y[:, :target].reshape(shape[:-1] + (target,))


# ---------------------------------------------------------------------------------------------------------------
# mu-law, masking
# ---------------------------------------------------------------------------------------------------------------
def mu_law_encoding(x, quantization_channels):
    """Mu-law companding of a signal in [-1, 1] to integers 0 .. quantization_channels - 1 (int64)."""
    _float_tensor(x, "x", "mu_law_encoding")
    mu = _positive_int(quantization_channels, "quantization_channels", "mu_law_encoding") - 1.0
    x_mu = x.sign() * (mu * x.abs()).log1p() / math.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).floor().long()


def mu_law_decoding(x_mu, quantization_channels):
    """The inverse of :func:`mu_law_encoding`: integers 0 .. quantization_channels - 1 to floats in [-1, 1]."""
    _tensor(x_mu, "x_mu", "mu_law_decoding")
    mu = _positive_int(quantization_channels, "quantization_channels", "mu_law_decoding") - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(dtypes.get_default_dtype())
    x = (x_mu / mu) * 2 - 1.0
    return x.sign() * ((x.abs() * math.log1p(mu)).exp() - 1.0) / mu


def mask_along_axis_iid(specgrams, mask_param, mask_value, axis, p=1.0, generator=None):
    """SpecAugment masking of ``[batch, ..., freq, time]`` with an independent mask per example (torchaudio's
    ``mask_along_axis_iid``): width ``uniform(0, mask_param)``, start ``uniform(0, size - width)``; ``axis`` is
    the dim of the masked axis (``ndim - 2`` frequency, ``ndim - 1`` time)."""
    from ..core import rand, tensor as make
    fn = "mask_along_axis_iid"
    _float_tensor(specgrams, "specgrams", fn)
    dim = axis if axis >= 0 else specgrams.ndim + axis
    if dim not in (specgrams.ndim - 2, specgrams.ndim - 1) or specgrams.ndim < 3:
        raise ValueError(f"{fn}: axis must be one of the last two dims of a [batch, ..., freq, time] input, got "
                         f"axis={axis} for shape {tuple(specgrams.shape)}")
    size = specgrams.shape[dim]
    mask_param = _mask_param(mask_param, size, p, fn)
    lead = tuple(specgrams.shape[:2]) if specgrams.ndim == 4 else tuple(specgrams.shape[:1])
    value = rand(*lead, generator=generator).numpy().astype(np.float64) * mask_param
    start = rand(*lead, generator=generator).numpy().astype(np.float64) * (size - value)
    starts, ends = np.floor(start).astype(np.int64), np.floor(start + value).astype(np.int64)
    pos = np.arange(size)
    mask = (pos >= starts[..., None]) & (pos < ends[..., None])  # lead + [size]
    extra = specgrams.ndim - len(lead) - 1
    shape = lead + (1,) * extra + (size,) if dim == specgrams.ndim - 1 else lead + (1,) * (extra - 1) + (size, 1)
    mask = make(mask.reshape(shape), device=specgrams.device)
    return specgrams.masked_fill(mask, mask_value)


def mask_along_axis(specgram, mask_param, mask_value, axis, p=1.0, generator=None):
    """SpecAugment masking with one mask shared by the whole (batch of) spectrogram ``[..., freq, time]``
    (torchaudio's ``mask_along_axis``; ``axis`` 1 masks frequency, 2 time, counted as in a 3-D input)."""
    from ..core import rand, tensor as make
    fn = "mask_along_axis"
    _float_tensor(specgram, "specgram", fn)
    if axis not in (1, 2) or specgram.ndim < 2:
        raise ValueError(f"{fn}: axis must be 1 (frequency) or 2 (time), got {axis}")
    dim = specgram.ndim - 3 + axis
    size = specgram.shape[dim]
    mask_param = _mask_param(mask_param, size, p, fn)
    value = float(rand(1, generator=generator).item()) * mask_param
    start = float(rand(1, generator=generator).item()) * (size - value)
    s, e = int(start), int(start + value)
    m = np.zeros(size, dtype=bool)
    m[s:e] = True
    shape = (size,) if axis == 2 else (size, 1)
    mask = make(m.reshape(shape), device=specgram.device)
    return specgram.masked_fill(mask, mask_value)


def _mask_param(mask_param, size, p, fn):
    if not isinstance(mask_param, (int, np.integer)) or mask_param < 0:
        raise ValueError(f"{fn}: mask_param must be a non-negative integer, got {mask_param!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: p must be in [0, 1], got {p}")
    if p < 1.0:
        mask_param = min(mask_param, int(size * p))
    return mask_param
