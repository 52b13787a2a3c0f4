"""Audio pipelines (Hugging Face's tasks and outputs):

* ``audio-classification``: ``[{"label", "score"}]`` per clip, the ``top_k`` (default 5) classes by softmax score.
  Default model: ``kws_cnn_fsdd``, the spoken-digit KWSCNN this project trains (examples/train_spoken_digits.py)
  and ships in the install (labels "0" - "9"; runs offline).
* ``automatic-speech-recognition``: ``{"text"}`` from a Wav2Vec2ForCTC checkpoint (model directory or hub id)
  with greedy CTC decoding; long audio in overlapping chunks (``chunk_length_s``, ``stride_length_s``, as
  Transformers).
* ``audio-feature-extraction``: Wav2Vec2 hidden states, ``pooling="mean"`` (default: one vector per clip) or
  ``"none"`` (``[frames, hidden]``); a KWSCNN gives its pooled CNN features.

Inputs, as in Transformers: a file path (any format soundfile reads), the file's bytes, a NumPy array / zoo
tensor of samples (at ``sampling_rate``, by default the model's), or a dict ``{"array" or "raw": samples,
"sampling_rate": rate}``; a list of them gives a list of results. Multi-channel audio is mixed down to mono and
every input is resampled (band-limited, zoo.audio.functional.resample) to the model's rate.
"""
import io
import os

import numpy as np

from ..pipelines.base import Pipeline

__all__ = ["AudioClassificationPipeline", "AutomaticSpeechRecognitionPipeline", "AudioFeatureExtractionPipeline",
           "read_audio"]


def read_audio(inputs, target_rate, sampling_rate=None):
    """Mono float32 samples (1-D NumPy) at ``target_rate`` from any accepted pipeline input."""
    from ..core.tensor import Tensor
    from .functional import resample
    from .io import load
    if isinstance(inputs, dict):
        unknown = set(inputs) - {"array", "raw", "sampling_rate", "path"}
        if unknown:
            raise ValueError(f"an audio dict takes 'array' (or 'raw') and 'sampling_rate', got keys {sorted(inputs)}")
        arr = inputs.get("array", inputs.get("raw"))
        if arr is None:
            raise ValueError("an audio dict needs its samples under 'array' (or 'raw')")
        if "sampling_rate" not in inputs:
            raise ValueError("an audio dict needs 'sampling_rate'")
        return read_audio(arr, target_rate, inputs["sampling_rate"])
    if isinstance(inputs, (str, os.PathLike)):
        if isinstance(inputs, str) and inputs.startswith(("http://", "https://")):
            raise ValueError(f"audio URLs are not fetched by the pipeline; download {inputs} and pass the file")
        wave, sr = load(inputs)
        x, sampling_rate = wave.numpy(), sr
    elif isinstance(inputs, (bytes, bytearray)):
        wave, sr = load(io.BytesIO(bytes(inputs)))
        x, sampling_rate = wave.numpy(), sr
    elif isinstance(inputs, (np.ndarray, Tensor, list)):
        x = inputs.detach().cpu().numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"audio samples must be numbers, got an array of {x.dtype}")
        if x.dtype.kind in "iu":  # integer PCM
            x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
        if sampling_rate is None:
            sampling_rate = target_rate
    else:
        raise TypeError(f"unsupported audio input {type(inputs).__name__}: pass a file path, bytes, an array of "
                        "samples (with sampling_rate) or {'array': ..., 'sampling_rate': ...}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:  # [channels, frames] (the smaller dim is channels)
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1)
    if x.ndim != 1:
        raise ValueError(f"expected audio as [frames] or [channels, frames], got shape {x.shape}")
    if x.size == 0:
        raise ValueError("the audio input is empty")
    if not np.isfinite(x).all():
        raise ValueError("the audio input holds NaN or infinite samples")
    if not isinstance(sampling_rate, (int, np.integer, float)) or sampling_rate <= 0 or int(sampling_rate) != sampling_rate:
        raise ValueError(f"sampling_rate must be a positive integer, got {sampling_rate!r}")
    if int(sampling_rate) != int(target_rate):
        from ..core import from_numpy
        x = resample(from_numpy(np.ascontiguousarray(x)), int(sampling_rate), int(target_rate)).numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


def _is_path_like(name):
    return os.path.isdir(os.fspath(name)) or os.sep in os.fspath(name) and os.path.exists(os.fspath(name))


def _load_registered(name):
    """(model, entry) for registered weights ``name``, or (None, None) when no entry has that name. Every file of
    the entry is resolved (and sha256-checked); the model is built from the folder holding its config.json."""
    from ..weights.errors import UnknownWeightsError
    from ..weights.pretrained import get_model_class
    from ..weights.registry import get_entry
    from ..weights.sources import resolve
    try:
        entry = get_entry(name)
    except UnknownWeightsError:
        return None, None
    paths = {f: resolve(entry, f) for f in entry.files}
    if "config.json" not in paths:
        raise ValueError(f"weights {name!r} have no config.json; the audio pipelines build models from a model "
                         "directory")
    folder = os.path.dirname(paths["config.json"])
    cls = get_model_class(entry.architecture)
    return cls.from_pretrained(folder), entry


class _AudioPipeline(Pipeline):
    def _sampling_rate(self):
        fe = getattr(self, "feature_extractor", None)
        if fe is not None:
            return fe.sampling_rate
        config = getattr(self.model, "config", None)
        for key in ("sample_rate", "sampling_rate"):
            if config is not None and getattr(config, key, None):
                return int(getattr(config, key))
        raise ValueError(f"{type(self).__name__}: cannot tell the sampling rate {type(self.model).__name__} expects "
                         "(its config has no sample_rate and no feature extractor was given)")

    def load_model(self, name, revision=None):
        if not _is_path_like(name):
            model, entry = _load_registered(name)
            if model is not None:
                if revision is not None:
                    raise ValueError(f"revision applies to hub models, not to the registered weights {name!r}")
                return model
        from ..weights.pretrained import from_pretrained
        model = from_pretrained(name, revision=revision)
        self._attach_processors(name, revision, model)
        return model

    def _attach_processors(self, name, revision, model):
        if getattr(model.config, "model_type", None) == "wav2vec2" and getattr(self, "feature_extractor", None) is None:
            from .feature_extraction import Wav2Vec2FeatureExtractor
            try:
                self.feature_extractor = Wav2Vec2FeatureExtractor.from_pretrained(name, revision=revision)
            except FileNotFoundError:
                self.feature_extractor = Wav2Vec2FeatureExtractor()

    def __init__(self, model, *, feature_extractor=None, **kwargs):
        if feature_extractor is not None:
            self.feature_extractor = feature_extractor
        super().__init__(model, **kwargs)
        if getattr(self, "feature_extractor", None) is None and \
                getattr(getattr(self.model, "config", None), "model_type", None) == "wav2vec2":
            from .feature_extraction import Wav2Vec2FeatureExtractor
            self.feature_extractor = Wav2Vec2FeatureExtractor()

    def _sanitize_sampling_rate(self, sampling_rate, pre):
        if sampling_rate is not None:
            pre["sampling_rate"] = sampling_rate
        return pre

    def _model_inputs(self, samples):
        """Model inputs for one clip of samples at the model's rate."""
        from ..core import from_numpy
        fe = getattr(self, "feature_extractor", None)
        if fe is not None:
            return {k: v for k, v in fe(samples, sampling_rate=fe.sampling_rate).items()}
        config = self.model.config
        clip = getattr(config, "clip_samples", None)
        if clip:
            from .models.kws_cnn import fix_length
            samples = fix_length(samples, int(clip))
        return {"input_values": from_numpy(np.ascontiguousarray(samples[None, :], dtype=np.float32))}


class AudioClassificationPipeline(_AudioPipeline):
    """``[{"label", "score"}]`` per clip (the ``top_k`` best classes, softmax scores)."""

    def _sanitize_parameters(self, top_k=None, sampling_rate=None, function_to_apply=None):
        post = {}
        if top_k is not None:
            if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
                raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
            post["top_k"] = top_k
        if function_to_apply is not None:
            if function_to_apply not in ("softmax", "sigmoid", "none"):
                raise ValueError(f"function_to_apply must be 'softmax', 'sigmoid' or 'none', got {function_to_apply!r}")
            post["function_to_apply"] = function_to_apply
        return self._sanitize_sampling_rate(sampling_rate, {}), {}, post

    def preprocess(self, inputs, sampling_rate=None):
        return self._model_inputs(read_audio(inputs, self._sampling_rate(), sampling_rate))

    def _forward(self, model_inputs):
        out = self.model(**model_inputs)
        logits = out["logits"] if isinstance(out, dict) else out
        return {"logits": logits}

    def postprocess(self, model_outputs, top_k=5, function_to_apply="softmax"):
        logits = model_outputs["logits"].float().numpy()[0].astype(np.float64)
        if function_to_apply == "softmax":
            e = np.exp(logits - logits.max())
            scores = e / e.sum()
        elif function_to_apply == "sigmoid":
            scores = 1.0 / (1.0 + np.exp(-logits))
        else:
            scores = logits
        id2label = getattr(getattr(self.model, "config", None), "id2label", None) or {}
        order = np.argsort(-scores, kind="stable")[:min(top_k, len(scores))]
        return [{"label": id2label.get(int(i), f"LABEL_{i}"), "score": float(scores[i])} for i in order]


class AutomaticSpeechRecognitionPipeline(_AudioPipeline):
    """``{"text"}`` per clip from a CTC model (Wav2Vec2ForCTC), greedy decoding. ``chunk_length_s`` splits long
    audio into chunks of that many seconds overlapping by ``stride_length_s`` (a number or ``(left, right)``,
    default ``chunk_length_s / 6``) on each side; the logits of the overlaps are dropped and the rest joined
    before decoding, as Transformers does."""

    def _attach_processors(self, name, revision, model):
        super()._attach_processors(name, revision, model)
        if getattr(self, "tokenizer", None) is None:
            from .feature_extraction import Wav2Vec2CTCTokenizer
            self.tokenizer = Wav2Vec2CTCTokenizer.from_pretrained(name, revision=revision)

    def __init__(self, model, *, tokenizer=None, **kwargs):
        if tokenizer is not None:
            self.tokenizer = tokenizer
        super().__init__(model, **kwargs)
        if getattr(self, "tokenizer", None) is None:
            raise ValueError("automatic-speech-recognition needs a tokenizer: pass a model directory or hub id "
                             "that has vocab.json, or tokenizer=Wav2Vec2CTCTokenizer(...)")
        if not hasattr(self.model, "lm_head"):
            raise ValueError(f"automatic-speech-recognition needs a CTC model (Wav2Vec2ForCTC), got "
                             f"{type(self.model).__name__}")

    def _sanitize_parameters(self, chunk_length_s=None, stride_length_s=None, sampling_rate=None,
                             return_timestamps=None):
        if return_timestamps:
            raise NotImplementedError("automatic-speech-recognition: return_timestamps is not supported by zoo")
        pre = self._sanitize_sampling_rate(sampling_rate, {})
        if chunk_length_s is not None:
            if chunk_length_s <= 0:
                raise ValueError(f"chunk_length_s must be positive, got {chunk_length_s}")
            pre["chunk_length_s"] = float(chunk_length_s)
        if stride_length_s is not None:
            pre["stride_length_s"] = stride_length_s
        return pre, {}, {}

    def _align(self):
        return int(getattr(self.model.config, "inputs_to_logits_ratio", 1))

    def _chunks(self, n, rate, chunk_length_s, stride_length_s):
        """[(start, end, stride_left, stride_right)] in samples (Transformers' chunk_iter)."""
        if stride_length_s is None:
            stride_length_s = chunk_length_s / 6
        if isinstance(stride_length_s, (int, float)):
            stride_length_s = (stride_length_s, stride_length_s)
        left_s, right_s = stride_length_s
        align = self._align()
        chunk = int(round(chunk_length_s * rate / align) * align)
        left = int(round(left_s * rate / align) * align)
        right = int(round(right_s * rate / align) * align)
        if chunk < left + right:
            raise ValueError(f"chunk_length_s ({chunk_length_s}) must be longer than the strides together "
                             f"({left_s} + {right_s} s)")
        step = chunk - left - right
        if step <= 0:
            raise ValueError("chunk_length_s must exceed the two strides")
        out = []
        for start in range(0, n, step):
            end = start + chunk
            is_last = end >= n
            stride_left = 0 if start == 0 else left
            if min(end, n) - start > stride_left:  # a tail lying wholly in the previous chunk's stride adds nothing
                out.append((start, min(end, n), stride_left, 0 if is_last else right))
            if is_last:
                break
        return out

    def preprocess(self, inputs, sampling_rate=None, chunk_length_s=None, stride_length_s=None):
        rate = self._sampling_rate()
        x = read_audio(inputs, rate, sampling_rate)
        if chunk_length_s is None:
            return {"chunks": [(self._model_inputs(x), 0, 0)]}
        return {"chunks": [(self._model_inputs(x[s:e]), sl, sr)
                           for s, e, sl, sr in self._chunks(len(x), rate, chunk_length_s, stride_length_s)]}

    def _collate(self, items):
        return items  # chunks of different lengths: every clip runs on its own

    def _uncollate(self, outputs, n):
        return outputs

    def _forward(self, batch):
        from ..core import cat
        results = []
        for item in batch:
            pieces = []
            for inputs, stride_left, stride_right in item["chunks"]:
                logits = self.model(**inputs)["logits"]
                # Transformers' rescale_stride: strides in frames of the nominal count n_in / inputs_to_logits_ratio
                n_in = inputs["input_values"].shape[-1]
                token_n = int(round(n_in / self._align()))
                lo = int(round(stride_left / n_in * token_n))
                hi = token_n - int(round(stride_right / n_in * token_n))
                pieces.append(logits[:, lo:hi])
            results.append({"logits": cat(pieces, 1) if len(pieces) > 1 else pieces[0]})
        return results

    def postprocess(self, model_outputs):
        from .feature_extraction import ctc_greedy_ids
        ids = ctc_greedy_ids(model_outputs["logits"][0])
        return {"text": self.tokenizer.decode(ids, skip_special_tokens=False)}


class AudioFeatureExtractionPipeline(_AudioPipeline):
    """Features of each clip: Wav2Vec2's last hidden state, mean-pooled over frames (``pooling="mean"``, a
    ``[hidden]`` array) or per frame (``pooling="none"``, ``[frames, hidden]``); KWSCNN's pooled CNN features."""

    def _sanitize_parameters(self, pooling=None, sampling_rate=None):
        post = {}
        if pooling is not None:
            if pooling not in ("mean", "none"):
                raise ValueError(f"pooling must be 'mean' or 'none', got {pooling!r}")
            post["pooling"] = pooling
        return self._sanitize_sampling_rate(sampling_rate, {}), {}, post

    def preprocess(self, inputs, sampling_rate=None):
        return self._model_inputs(read_audio(inputs, self._sampling_rate(), sampling_rate))

    def _collate(self, items):
        return items

    def _uncollate(self, outputs, n):
        return outputs

    def _forward(self, batch):
        from .models.kws_cnn import KWSCNN
        from .models.wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Model
        out = []
        for inputs in batch:
            m = self.model
            if isinstance(m, Wav2Vec2ForCTC):
                m = m.wav2vec2
            if isinstance(m, Wav2Vec2Model):
                out.append({"hidden": m(**inputs).last_hidden_state})
            elif isinstance(m, KWSCNN):
                feats = m.features(m.log_mel(inputs["input_values"]))
                out.append({"hidden": feats.mean(dim=(2, 3)).unsqueeze(1)})
            else:
                raise ValueError(f"audio-feature-extraction does not know how to take features from "
                                 f"{type(m).__name__}")
        return out

    def postprocess(self, model_outputs, pooling="mean"):
        h = model_outputs["hidden"].float().numpy()[0]
        return h.mean(axis=0) if pooling == "mean" else h
