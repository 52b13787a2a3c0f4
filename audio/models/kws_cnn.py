"""A small keyword spotter: log-mel spectrogram -> four 3x3 conv blocks -> global average pool -> linear.

The mel front end is part of the model (``KWSCNN.forward`` takes waveforms ``[batch, time]`` or
``[batch, 1, time]`` at ``config.sample_rate``), so a saved model directory is all a pipeline needs. Inputs of a
fixed ``config.clip_samples`` length are what the model was trained on; :func:`fix_length` centers or crops a
clip to that length (the audio-classification pipeline does this for you).

Hugging Face layout: ``KWSCNNConfig`` (model_type ``"kws_cnn"``) and ``KWSCNN.from_pretrained(dir)`` /
``save_pretrained(dir)``; ``zoo.from_pretrained`` picks the class from config.json.
"""
import numpy as np

from ...core import nn
from ...core.nn import functional as F
from ...weights.pretrained import PretrainedConfig, PreTrainedModel
from ..transforms import AmplitudeToDB, MelSpectrogram

__all__ = ["KWSCNNConfig", "KWSCNN", "fix_length", "AudioClassifierOutput"]


class KWSCNNConfig(PretrainedConfig):
    model_type = "kws_cnn"

    def __init__(self, sample_rate=8000, clip_samples=8000, n_fft=256, hop_length=80, n_mels=40, f_min=20.0,
                 f_max=None, channels=(16, 32, 64, 64), dropout=0.2, top_db=80.0, **kwargs):
        self.sample_rate = sample_rate
        self.clip_samples = clip_samples
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.f_min = f_min
        self.f_max = f_max
        self.channels = list(channels)
        self.dropout = dropout
        self.top_db = top_db
        kwargs.setdefault("num_labels", 10)
        super().__init__(**kwargs)


class AudioClassifierOutput(dict):
    """``{"loss", "logits"}`` with attribute access (as Transformers' SequenceClassifierOutput)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def fix_length(waveform, length, offset=None):
    """A NumPy signal ``[..., time]`` centered in ``length`` samples (zero padded), or its centered ``length``-sample
    crop; ``offset`` (an int) shifts where it lands (padding) or what is kept (cropping), for augmentation."""
    x = np.asarray(waveform)
    n = x.shape[-1]
    if n == length and not offset:
        return x
    if n >= length:
        start = (n - length) // 2 + (offset or 0)
        start = min(max(start, 0), n - length)
        return x[..., start:start + length]
    start = (length - n) // 2 + (offset or 0)
    start = min(max(start, 0), length - n)
    out = np.zeros(x.shape[:-1] + (length,), dtype=x.dtype)
    out[..., start:start + n] = x
    return out


class KWSCNN(PreTrainedModel):
    """Mel-spectrogram CNN keyword spotter; ``forward(input_values, labels=None)`` returns
    ``{"logits": [batch, num_labels]}`` plus ``"loss"`` (cross-entropy) when labels are given."""

    config_class = KWSCNNConfig
    main_input_name = "input_values"

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.melspec = MelSpectrogram(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                                      n_mels=c.n_mels, f_min=c.f_min, f_max=c.f_max)
        self.to_db = AmplitudeToDB("power", top_db=c.top_db)
        layers = []
        cin = 1
        for i, cout in enumerate(c.channels):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
            if i < len(c.channels) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(cin, c.num_labels)

    def log_mel(self, input_values):
        """Per-utterance standardized log-mel features ``[batch, 1, n_mels, frames]``."""
        x = input_values
        if x.ndim == 3:
            if x.shape[1] != 1:
                raise ValueError(f"KWSCNN expects mono audio [batch, time] or [batch, 1, time], got shape "
                                 f"{tuple(x.shape)}")
            x = x[:, 0]
        if x.ndim != 2:
            raise ValueError(f"KWSCNN expects waveforms [batch, time], got shape {tuple(x.shape)}")
        feats = self.to_db(self.melspec(x)).unsqueeze(1)
        mean = feats.mean(dim=(2, 3), keepdim=True)
        std = feats.std(dim=(2, 3), keepdim=True)
        return (feats - mean) / (std + 1e-5)

    def forward(self, input_values, labels=None):
        h = self.features(self.log_mel(input_values))
        h = h.mean(dim=(2, 3))
        logits = self.classifier(self.dropout(h))
        out = AudioClassifierOutput(logits=logits)
        if labels is not None:
            out["loss"] = F.cross_entropy(logits, labels)
        return out
