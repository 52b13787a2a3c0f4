"""zoo.audio.transforms: audio transforms as zoo modules (≈ torchaudio.transforms), same names, parameters and
defaults. They work on ``[..., time]`` waveforms / ``[..., freq, frames]`` spectrograms on cpu or cuda (constant
windows and filterbanks are non-persistent buffers, so ``.to(device)`` moves them), and are differentiable,
except the integer-valued ``MuLawEncoding``.

Complex spectra are real tensors with a trailing dimension of 2 (real, imaginary); see zoo.audio.functional.
"""
import math

from ..core import dtypes
from ..core.nn import Module
from . import functional as F

__all__ = ["Spectrogram", "InverseSpectrogram", "MelScale", "MelSpectrogram", "MFCC", "AmplitudeToDB", "Resample",
           "FrequencyMasking", "TimeMasking", "MuLawEncoding", "MuLawDecoding", "GriffinLim", "Vol"]


def _window(window_fn, win_length, wkwargs):
    w = window_fn(win_length, **(wkwargs or {}))
    from ..core import tensor as make
    from ..core.tensor import Tensor
    if not isinstance(w, Tensor):
        w = make(w, dtype=dtypes.get_default_dtype())
    return w


class _Buffers(Module):
    """Keeps constant buffers in the dtype of the input they meet (float64 gradchecks, float32 models)."""

    def _buf(self, name, like):
        b = getattr(self, name)
        if b.dtype != like.dtype or b.device != like.device:
            b = b.to(device=like.device, dtype=like.dtype)
        return b


class Spectrogram(_Buffers):
    """``[..., time]`` -> ``[..., n_fft // 2 + 1, frames]``: |STFT| ** power (power=None: the complex spectrum
    ``[..., freq, frames, 2]``). Defaults as torchaudio: ``n_fft=400``, ``win_length=n_fft``,
    ``hop_length=win_length // 2``, Hann window, centered frames with reflect padding."""

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=F.hann_window, power=2.0,
                 normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True,
                 return_complex=None):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided
        if return_complex:
            raise NotImplementedError("Spectrogram: return_complex=True is not supported by zoo (no complex dtype); "
                                      "power=None returns the real view [..., freq, frames, 2]")
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs), persistent=False)

    def forward(self, waveform):
        return F.spectrogram(waveform, self.pad, self._buf("window", waveform), self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center, self.pad_mode,
                             self.onesided)


class InverseSpectrogram(_Buffers):
    """Complex spectrum ``[..., freq, frames, 2]`` -> ``[..., time]`` (the inverse of ``Spectrogram(power=None)``)."""

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=F.hann_window,
                 normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad = pad
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs), persistent=False)

    def forward(self, spectrogram, length=None):
        return F.inverse_spectrogram(spectrogram, length, self.pad, self._buf("window", spectrogram), self.n_fft,
                                     self.hop_length, self.win_length, self.normalized, self.center, self.pad_mode,
                                     self.onesided)


class MelScale(_Buffers):
    """``[..., n_stft, frames]`` -> ``[..., n_mels, frames]`` through a triangular mel filterbank
    (see ``functional.melscale_fbanks``; ``mel_scale`` "htk" or "slaney", ``norm`` None or "slaney")."""

    def __init__(self, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, n_stft=201, norm=None, mel_scale="htk"):
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min = f_min
        self.norm = norm
        self.mel_scale = mel_scale
        if f_min > self.f_max:
            raise ValueError(f"MelScale: f_min ({f_min}) must not exceed f_max ({self.f_max})")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels, sample_rate, norm,
                                                     mel_scale), persistent=False)

    def forward(self, specgram):
        if specgram.ndim < 2 or specgram.shape[-2] != self.fb.shape[0]:
            raise ValueError(f"MelScale: expected a [..., {self.fb.shape[0]}, frames] spectrogram (n_stft="
                             f"{self.fb.shape[0]}), got shape {tuple(specgram.shape)}")
        # [..., freq, time] -> [..., time, freq] @ [freq, mels] -> [..., mels, time]
        return (specgram.transpose(-1, -2) @ self._buf("fb", specgram)).transpose(-1, -2)


class MelSpectrogram(Module):
    """``[..., time]`` -> ``[..., n_mels, frames]``: Spectrogram then MelScale, torchaudio's parameters and
    defaults (``sample_rate=16000, n_fft=400, n_mels=128, power=2, mel_scale="htk", norm=None``)."""

    def __init__(self, sample_rate=16000, n_fft=400, win_length=None, hop_length=None, f_min=0.0, f_max=None,
                 pad=0, n_mels=128, window_fn=F.hann_window, power=2.0, normalized=False, wkwargs=None, center=True,
                 pad_mode="reflect", onesided=None, norm=None, mel_scale="htk"):
        super().__init__()
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.n_mels = n_mels
        self.f_min, self.f_max = f_min, f_max
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length, pad=pad,
                                       window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
                                       center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform):
        return self.mel_scale(self.spectrogram(waveform))


class AmplitudeToDB(Module):
    """Power (``stype="power"``, 10·log10) or magnitude (``"magnitude"``, 20·log10) to decibels, floored at
    ``amin=1e-10`` and, with ``top_db``, at ``max - top_db``."""

    def __init__(self, stype="power", top_db=None):
        super().__init__()
        if stype not in ("power", "magnitude"):
            raise ValueError(f"AmplitudeToDB: stype must be 'power' or 'magnitude', got {stype!r}")
        if top_db is not None and top_db < 0:
            raise ValueError(f"AmplitudeToDB: top_db must be non-negative, got {top_db}")
        self.stype = stype
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class MFCC(_Buffers):
    """``[..., time]`` -> ``[..., n_mfcc, frames]``: MelSpectrogram (``melkwargs``), then decibels
    (``AmplitudeToDB("power", top_db=80)``, or ``log(mel + 1e-6)`` with ``log_mels``), then an orthonormal DCT-II
    along the mel axis (torchaudio.transforms.MFCC; librosa.feature.mfcc for the same mel parameters)."""

    def __init__(self, sample_rate=16000, n_mfcc=40, dct_type=2, norm="ortho", log_mels=False, melkwargs=None):
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"MFCC: only DCT type 2 is supported, got dct_type={dct_type}")
        self.sample_rate = sample_rate
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.norm = norm
        self.log_mels = log_mels
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        if n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError(f"MFCC: n_mfcc ({n_mfcc}) cannot exceed n_mels ({self.MelSpectrogram.n_mels})")
        self.register_buffer("dct_mat", F.create_dct(n_mfcc, self.MelSpectrogram.n_mels, norm), persistent=False)

    def forward(self, waveform):
        mel = self.MelSpectrogram(waveform)
        mel = (mel + 1e-6).log() if self.log_mels else self.amplitude_to_DB(mel)
        return (mel.transpose(-1, -2) @ self._buf("dct_mat", mel)).transpose(-1, -2)


class Resample(Module):
    """Band-limited resampling from ``orig_freq`` to ``new_freq`` (see ``functional.resample``): torchaudio's
    windowed-sinc kernel, ``sinc_interp_hann``, ``lowpass_filter_width=6``, ``rolloff=0.99`` by default."""

    def __init__(self, orig_freq=16000, new_freq=16000, resampling_method="sinc_interp_hann", lowpass_filter_width=6,
                 rolloff=0.99, beta=None, *, dtype=None):
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.resampling_method = resampling_method
        self.lowpass_filter_width = lowpass_filter_width
        self.rolloff = rolloff
        self.beta = beta
        if resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
            raise ValueError(f"Resample: resampling_method must be 'sinc_interp_hann' or 'sinc_interp_kaiser', got "
                             f"{resampling_method!r}")

    def forward(self, waveform):
        return F.resample(waveform, self.orig_freq, self.new_freq, self.lowpass_filter_width, self.rolloff,
                          self.resampling_method, self.beta)


class _AxisMasking(Module):
    def __init__(self, mask_param, axis, iid_masks, p):
        super().__init__()
        self.mask_param = mask_param
        self.axis = axis
        self.iid_masks = iid_masks
        self.p = p

    def forward(self, specgram, mask_value=0.0):
        if self.iid_masks and specgram.ndim >= 3:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, specgram.ndim - 3 + self.axis,
                                         p=self.p)
        return F.mask_along_axis(specgram, self.mask_param, mask_value, self.axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """SpecAugment: zero a random band of ``uniform(0, freq_mask_param)`` frequency bins of ``[..., freq, time]``
    (one band per example with ``iid_masks`` and batched input). Applied on every call, as torchaudio does."""

    def __init__(self, freq_mask_param, iid_masks=False):
        super().__init__(freq_mask_param, 1, iid_masks, 1.0)


class TimeMasking(_AxisMasking):
    """SpecAugment: zero a random span of ``uniform(0, time_mask_param)`` frames (at most ``p`` × frames)."""

    def __init__(self, time_mask_param, iid_masks=False, p=1.0):
        super().__init__(time_mask_param, 2, iid_masks, p)


class MuLawEncoding(Module):
    """Mu-law companding of a [-1, 1] signal to ``quantization_channels`` integer levels (int64)."""

    def __init__(self, quantization_channels=256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x):
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(Module):
    """The inverse of :class:`MuLawEncoding`: levels back to a [-1, 1] signal."""

    def __init__(self, quantization_channels=256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu):
        return F.mu_law_decoding(x_mu, self.quantization_channels)


class GriffinLim(_Buffers):
    """Waveform from a magnitude ** power spectrogram ``[..., freq, frames]`` by Griffin-Lim phase recovery with
    momentum (torchaudio's defaults: ``n_fft=400, n_iter=32, momentum=0.99``, random initial phase)."""

    def __init__(self, n_fft=400, n_iter=32, win_length=None, hop_length=None, window_fn=F.hann_window, power=2.0,
                 wkwargs=None, momentum=0.99, length=None, rand_init=True):
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"GriffinLim: momentum must be in [0, 1), got {momentum}")
        self.n_fft = n_fft
        self.n_iter = n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.power = power
        self.momentum = momentum
        self.length = length
        self.rand_init = rand_init
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs), persistent=False)

    def forward(self, specgram):
        if specgram.ndim < 2 or specgram.shape[-2] != self.n_fft // 2 + 1:
            raise ValueError(f"GriffinLim: expected a [..., {self.n_fft // 2 + 1}, frames] spectrogram for n_fft="
                             f"{self.n_fft}, got shape {tuple(specgram.shape)}")
        return F.griffinlim(specgram, self._buf("window", specgram), self.n_fft, self.hop_length, self.win_length,
                            self.power, self.n_iter, self.momentum, self.length, self.rand_init)


class Vol(Module):
    """Scale the volume: ``gain_type`` "amplitude" (a factor), "power" (a power factor) or "db" (decibels);
    the result is clamped to [-1, 1]."""

    def __init__(self, gain, gain_type="amplitude"):
        super().__init__()
        if gain_type not in ("amplitude", "power", "db"):
            raise ValueError(f"Vol: gain_type must be 'amplitude', 'power' or 'db', got {gain_type!r}")
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError(f"Vol: an {gain_type} gain must be non-negative, got {gain}")
        self.gain, self.gain_type = gain, gain_type

    def forward(self, waveform):
        if self.gain_type == "amplitude":
            factor = self.gain
        elif self.gain_type == "db":
            factor = 10.0 ** (self.gain / 20.0)
        else:
            factor = 10.0 ** (10.0 * math.log10(self.gain) / 20.0) if self.gain > 0 else 0.0
        return (waveform * factor).clamp(-1.0, 1.0)
