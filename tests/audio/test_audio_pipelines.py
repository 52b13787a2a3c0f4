"""The audio pipelines: audio-classification with the shipped spoken-digit model (offline), automatic speech
recognition with chunking (against Transformers' pipeline in the oracle tier), audio feature extraction."""
import json
import pathlib

import numpy as np
import pytest

import zoo
from zoo.audio.feature_extraction import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor
from zoo.audio.models import Wav2Vec2Config, Wav2Vec2ForCTC
from zoo.audio.pipelines import read_audio

FSDD = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fsdd"
VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, **{c: 5 + i for i, c in enumerate("ABCDEFG")}}
TINY = dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
            conv_dim=(16, 16, 16), conv_stride=(5, 2, 2), conv_kernel=(10, 3, 3), num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=4)


def tone(n=6000, sr=8000, f=500.0):
    return (0.3 * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


# ---- audio-classification: the shipped digit model -------------------------------------------------------------
def test_default_audio_classification_runs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe = zoo.pipeline("audio-classification")
    out = pipe(tone())
    assert len(out) == 5 and {o["label"] for o in out} <= set("0123456789")
    scores = [o["score"] for o in out]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-6
    zoo.audio.save(tmp_path / "t.wav", tone(12000, 16000), 16000)
    by_path = pipe(str(tmp_path / "t.wav"), top_k=10)
    assert len(by_path) == 10 and abs(sum(o["score"] for o in by_path) - 1) < 1e-5
    resampled = pipe(tone(12000, 16000), sampling_rate=16000, top_k=10)
    as_dict = pipe({"array": tone(12000, 16000), "sampling_rate": 16000}, top_k=10)
    as_bytes = pipe((tmp_path / "t.wav").read_bytes(), top_k=10)
    for other in (resampled, as_dict, as_bytes):
        assert [o["label"] for o in other][:3] == [o["label"] for o in by_path][:3]
        np.testing.assert_allclose([o["score"] for o in other], [o["score"] for o in by_path], atol=2e-3)
    batch = pipe([tone(), tone(f=300.0)], top_k=1)
    assert len(batch) == 2 and all(len(b) == 1 for b in batch)


def test_audio_input_errors():
    with pytest.raises(ValueError, match="sampling_rate"):
        read_audio({"array": tone()}, 8000)
    with pytest.raises(ValueError, match="empty"):
        read_audio(np.zeros(0, np.float32), 8000)
    with pytest.raises(TypeError, match="unsupported audio input"):
        read_audio(3.5, 8000)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        read_audio("missing.wav", 8000)
    stereo = np.stack([tone(), -tone()])
    assert np.abs(read_audio(stereo, 8000)).max() < 1e-6  # mixed down
    ints = (tone() * 32767).astype(np.int16)
    np.testing.assert_allclose(read_audio(ints, 8000), tone(), atol=1e-4)


@pytest.mark.real
def test_shipped_digit_model_accuracy_on_fsdd_test_split():
    if not (FSDD / "recordings").is_dir():
        pytest.skip(f"FSDD recordings are not at {FSDD}")
    from zoo.audio.datasets import FSDD as Dataset
    test = Dataset(FSDD, split="test")
    pipe = zoo.pipeline("audio-classification")
    paths = [s[0] for s in test.samples]
    preds = [r[0]["label"] for r in pipe(paths, top_k=1)]
    acc = np.mean([p == str(t) for p, t in zip(preds, test.targets)])
    assert len(paths) == 300 and acc >= 0.97, acc
    entry = zoo.weights.get_entry("kws_cnn_fsdd")
    assert abs(acc - entry.record.metric["accuracy"]) < 0.01


def test_store_record_matches_entry():
    import importlib.resources
    entry = zoo.weights.get_entry("kws_cnn_fsdd")
    folder = importlib.resources.files("zoo.weights").joinpath("store", "kws_cnn_fsdd")
    record = json.loads(folder.joinpath("record.json").read_text())
    assert record == {"data": entry.record.data, "command": entry.record.command, "seed": entry.record.seed,
                      "metric": dict(entry.record.metric)}
    assert record["metric"]["accuracy"] >= 0.97 and entry.metrics["fsdd-test/accuracy"] == record["metric"]["accuracy"]
    assert entry.recipe == "examples/train_spoken_digits.py"
    assert (pathlib.Path(__file__).resolve().parents[2] / entry.recipe).is_file()
    assert entry.get_labels() == [str(d) for d in range(10)]


# ---- automatic-speech-recognition ------------------------------------------------------------------------------
def tiny_asr_dir(path, seed=0):
    zoo.manual_seed(seed)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**TINY)).eval()
    model.save_pretrained(path)
    Wav2Vec2CTCTokenizer(VOCAB).save_pretrained(path)
    Wav2Vec2FeatureExtractor().save_pretrained(path)
    return model


def test_asr_pipeline_decodes_the_model_logits(tmp_path):
    model = tiny_asr_dir(tmp_path)
    pipe = zoo.pipeline("automatic-speech-recognition", model=str(tmp_path))
    speech = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    text = pipe(speech, sampling_rate=16000)["text"]
    fe = Wav2Vec2FeatureExtractor()
    with zoo.no_grad():
        logits = model(fe(speech)["input_values"]).logits[0]
    assert text == Wav2Vec2CTCTokenizer(VOCAB).decode(logits.numpy().argmax(-1))
    assert set(text) <= set("ABCDEFG <>/sunk")  # letters, spaces, <s> </s> <unk>
    # one chunk longer than the audio is the unchunked result
    assert pipe(speech, sampling_rate=16000, chunk_length_s=1.0)["text"] == text
    assert zoo.pipeline("asr", model=str(tmp_path))(speech, sampling_rate=16000)["text"] == text
    with pytest.raises(ValueError, match="strides"):
        pipe(speech, chunk_length_s=0.1, stride_length_s=0.06)
    with pytest.raises(NotImplementedError, match="return_timestamps"):
        pipe(speech, return_timestamps="word")


def test_asr_chunks_cover_the_audio_once(tmp_path):
    tiny_asr_dir(tmp_path)
    pipe = zoo.pipeline("automatic-speech-recognition", model=str(tmp_path))
    n, rate = 50000, 16000
    chunks = pipe._chunks(n, rate, 1.0, (0.2, 0.1))
    kept = np.zeros(n, dtype=int)
    for start, end, left, right in chunks:
        assert end - start <= 16000 and (start == 0) == (left == 0)
        kept[start + left:end - right] += 1
    assert (kept == 1).all()


@pytest.mark.oracle
@pytest.mark.parametrize("chunk", [None, 0.25])
def test_asr_matches_transformers_pipeline(tmp_path, chunk):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tiny_asr_dir(tmp_path)
    ref_pipe = transformers.pipeline("automatic-speech-recognition", model=str(tmp_path), device=-1)
    speech = np.random.default_rng(3).standard_normal(12000).astype(np.float32)
    kwargs = {} if chunk is None else {"chunk_length_s": chunk, "stride_length_s": 0.05}
    with torch.no_grad():
        ref = ref_pipe({"raw": speech.copy(), "sampling_rate": 16000}, **kwargs)["text"]
    ours = zoo.pipeline("automatic-speech-recognition", model=str(tmp_path))(
        {"raw": speech, "sampling_rate": 16000}, **kwargs)["text"]
    assert ours == ref


# ---- audio-feature-extraction ----------------------------------------------------------------------------------
def test_audio_feature_extraction(tmp_path):
    tiny_asr_dir(tmp_path)
    pipe = zoo.pipeline("audio-feature-extraction", model=str(tmp_path))
    speech = np.random.default_rng(0).standard_normal(3200).astype(np.float32)
    pooled = pipe(speech)
    frames = pipe(speech, pooling="none")
    assert pooled.shape == (32,) and frames.ndim == 2 and frames.shape[1] == 32
    np.testing.assert_allclose(frames.mean(0), pooled, atol=1e-5)
    digits = zoo.pipeline("audio-feature-extraction", model="kws_cnn_fsdd")
    assert digits(tone()).shape == (64,)
    with pytest.raises(ValueError, match="pooling"):
        pipe(speech, pooling="max")
