"""zoo.audio.models: M5 (raw-waveform CNN), KWSCNN (mel-spectrogram CNN keyword spotter) and Hugging Face's
Wav2Vec2Model / Wav2Vec2ForCTC."""
from .kws_cnn import KWSCNN, KWSCNNConfig, fix_length
from .m5 import M5
from .wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Model

__all__ = ["M5", "KWSCNN", "KWSCNNConfig", "fix_length", "Wav2Vec2Config", "Wav2Vec2Model", "Wav2Vec2ForCTC"]
