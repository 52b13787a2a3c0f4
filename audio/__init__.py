"""zoo.audio: audio I/O, transforms, datasets, models and pipelines (≈ torchaudio + Transformers' audio models).

* ``zoo.audio.load / save / info`` (through soundfile, imported on first use), ``zoo.audio.functional``
  (stft / istft, mel filterbanks, resampling ...), ``zoo.audio.transforms`` (Spectrogram, MelSpectrogram, MFCC
  ...), ``zoo.audio.datasets`` (AudioFolder, FSDD, SpeechCommands), ``zoo.audio.models`` (M5, KWSCNN,
  Wav2Vec2Model, Wav2Vec2ForCTC), ``zoo.audio.Wav2Vec2FeatureExtractor``;
* pipelines ``audio-classification`` (default: a spoken-digit model trained by this project, shipped in the
  install), ``automatic-speech-recognition`` and ``audio-feature-extraction`` (registered in
  ``zoo.audio.pretrained``).

Submodules load lazily on first attribute access, so ``import zoo.audio`` is cheap.
"""
import importlib

_SUBMODULES = {"io", "functional", "transforms", "datasets", "models", "pipelines", "pretrained",
               "feature_extraction"}
_ATTRS = {"load": "io", "save": "io", "info": "io", "AudioMetaData": "io", "AudioFileError": "io",
          "to_mono": "io", "Wav2Vec2FeatureExtractor": "feature_extraction"}

__all__ = sorted(_SUBMODULES | set(_ATTRS))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ATTRS:
        return getattr(importlib.import_module(f"{__name__}.{_ATTRS[name]}"), name)
    raise AttributeError(f"module 'zoo.audio' has no attribute '{name}'")


def __dir__():
    return __all__
