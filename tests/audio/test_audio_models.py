"""M5, KWSCNN and Wav2Vec2 (Hugging Face names and numerics); the CTC tokenizer and the feature extractor."""
import json

import numpy as np
import pytest

import zoo
from zoo.audio.feature_extraction import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor
from zoo.audio.models import KWSCNN, M5, KWSCNNConfig, Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Model, fix_length

TINY = dict(vocab_size=12, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
            conv_dim=(16, 16, 16), conv_stride=(5, 2, 2), conv_kernel=(10, 3, 3), num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=4)


def test_m5_shapes_and_training_step():
    m = M5(n_input=1, n_output=10, n_channel=8)
    x = zoo.randn(3, 1, 8000)
    out = m(x)
    assert out.shape == (3, 10)
    loss = zoo.nn.functional.cross_entropy(out, zoo.tensor([1, 2, 3]))
    loss.backward()
    assert m.conv1.weight.grad is not None and m.conv1.weight.grad.shape == (8, 1, 80)
    with pytest.raises(ValueError, match="waveforms"):
        m(zoo.randn(8000))


def test_fix_length():
    x = np.arange(5, dtype=np.float32) + 1
    np.testing.assert_array_equal(fix_length(x, 9), [0, 0, 1, 2, 3, 4, 5, 0, 0])
    np.testing.assert_array_equal(fix_length(x, 3), [2, 3, 4])
    np.testing.assert_array_equal(fix_length(x, 9, offset=-10), [1, 2, 3, 4, 5, 0, 0, 0, 0])


def test_kws_cnn_round_trip(tmp_path):
    config = KWSCNNConfig(channels=[4, 8], id2label={i: str(i) for i in range(10)})
    m = KWSCNN(config).eval()
    x = zoo.randn(2, 8000) * 0.1
    ref = m(x).logits.detach().numpy()
    out = m(x, labels=zoo.tensor([3, 4]))
    assert out.logits.shape == (2, 10) and out.loss.ndim == 0
    m.save_pretrained(tmp_path)
    back = zoo.from_pretrained(tmp_path)
    assert isinstance(back, KWSCNN) and back.config.id2label[7] == "7"
    np.testing.assert_allclose(back(x).logits.detach().numpy(), ref, atol=1e-6)
    with pytest.raises(ValueError, match="mono"):
        m(zoo.randn(2, 2, 8000))


def test_wav2vec2_structure_and_names():
    config = Wav2Vec2Config(**TINY)
    m = Wav2Vec2ForCTC(config)
    keys = set(m.state_dict())
    for k in ("wav2vec2.feature_extractor.conv_layers.0.conv.weight",
              "wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight",
              "wav2vec2.feature_projection.projection.bias", "wav2vec2.encoder.pos_conv_embed.conv.weight_g",
              "wav2vec2.encoder.pos_conv_embed.conv.weight_v", "wav2vec2.encoder.layers.1.attention.q_proj.weight",
              "wav2vec2.encoder.layers.0.feed_forward.intermediate_dense.weight",
              "wav2vec2.encoder.layers.0.final_layer_norm.bias", "wav2vec2.masked_spec_embed", "lm_head.weight"):
        assert k in keys, k
    assert "wav2vec2.feature_extractor.conv_layers.1.layer_norm.weight" not in keys  # group norm: layer 0 only
    out = m.eval()(zoo.randn(2, 1600))
    assert out.logits.shape == (2, int(m._get_feat_extract_output_lengths(1600)), 12)
    with pytest.raises(ValueError, match="too short"):
        m(zoo.randn(1, 5))
    with pytest.raises(NotImplementedError, match="CTC loss"):
        m(zoo.randn(1, 1600), labels=zoo.tensor([[1, 2]]))
    with pytest.raises(NotImplementedError, match="adapter"):
        Wav2Vec2Model(Wav2Vec2Config(**TINY, add_adapter=True))
    with pytest.raises(ValueError, match="feat_extract_norm"):
        Wav2Vec2Config(feat_extract_norm="batch")


def test_wav2vec2_training_mode_masks_and_backprops():
    config = Wav2Vec2Config(**TINY, mask_time_prob=0.5, mask_time_length=2, layerdrop=0.0)
    m = Wav2Vec2ForCTC(config).train()
    np.random.seed(0)
    out = m(zoo.randn(2, 1600))
    out.logits.sum().backward()
    assert m.wav2vec2.masked_spec_embed.grad is not None
    assert float(np.abs(m.wav2vec2.encoder.pos_conv_embed.conv.weight_g.grad.numpy()).sum()) > 0


def test_ctc_tokenizer_decoding(tmp_path):
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "A": 5, "B": 6, "C": 7}
    tok = Wav2Vec2CTCTokenizer(vocab)
    ids = [0, 5, 5, 0, 5, 6, 4, 4, 0, 7, 7, 1, 0]
    assert tok.decode(ids) == "AAB C<s>"
    assert tok.decode(ids, skip_special_tokens=True) == "AAB C"
    assert tok.decode(ids, group_tokens=False) == "AAAB  CC<s>"
    tok.save_pretrained(tmp_path)
    again = Wav2Vec2CTCTokenizer.from_pretrained(tmp_path)
    assert again.vocab == vocab and again.pad_token_id == 0
    with pytest.raises(ValueError, match="pad token"):
        Wav2Vec2CTCTokenizer({"a": 0})


def test_feature_extractor(tmp_path):
    fe = Wav2Vec2FeatureExtractor(return_attention_mask=True)
    a, b = np.random.default_rng(0).standard_normal((2, 300)).astype(np.float32) * 3 + 1
    out = fe([a, b[:200]], sampling_rate=16000, return_tensors="np")
    v, mask = out["input_values"], out["attention_mask"]
    assert v.shape == (2, 300) and mask[1].sum() == 200 and (v[1, 200:] == 0).all()
    assert abs(v[0].mean()) < 1e-5 and abs(v[0].std() - 1) < 1e-3 and abs(v[1, :200].std() - 1) < 1e-3
    with pytest.raises(ValueError, match="8000 Hz but this feature extractor expects 16000"):
        fe(a, sampling_rate=8000)
    fe.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert cfg["feature_extractor_type"] == "Wav2Vec2FeatureExtractor" and cfg["do_normalize"] is True
    assert Wav2Vec2FeatureExtractor.from_pretrained(tmp_path).return_attention_mask is True


@pytest.mark.oracle
@pytest.mark.parametrize("stable", [False, True])
def test_wav2vec2_matches_transformers(tmp_path, stable):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    cfg = transformers.Wav2Vec2Config(**TINY, feat_extract_norm="layer" if stable else "group",
                                      do_stable_layer_norm=stable, conv_bias=stable)
    torch.manual_seed(0)
    ref_model = transformers.Wav2Vec2ForCTC(cfg).eval()
    ref_model.save_pretrained(tmp_path)
    x = np.random.default_rng(1).standard_normal((2, 2000)).astype(np.float32)
    mask = np.ones((2, 2000), dtype=np.int64)
    mask[1, 1300:] = 0
    with torch.no_grad():
        ref = ref_model(torch.tensor(x)).logits.numpy()
        ref_masked = ref_model(torch.tensor(x), attention_mask=torch.tensor(mask)).logits.numpy()
        ref_hidden = ref_model.wav2vec2(torch.tensor(x)).last_hidden_state.numpy()
    model = zoo.from_pretrained(tmp_path)
    assert isinstance(model, Wav2Vec2ForCTC)
    with zoo.no_grad():
        np.testing.assert_allclose(model(zoo.tensor(x)).logits.numpy(), ref, atol=1e-4)
        np.testing.assert_allclose(model(zoo.tensor(x), attention_mask=zoo.tensor(mask)).logits.numpy(),
                                   ref_masked, atol=1e-4)
        bare = zoo.from_pretrained(tmp_path, architecture="Wav2Vec2Model")
        np.testing.assert_allclose(bare(zoo.tensor(x)).last_hidden_state.numpy(), ref_hidden, atol=1e-4)


@pytest.mark.oracle
def test_feature_extractor_matches_transformers():
    transformers = pytest.importorskip("transformers")
    ref = transformers.Wav2Vec2FeatureExtractor(return_attention_mask=True)
    ours = Wav2Vec2FeatureExtractor(return_attention_mask=True)
    sigs = [np.random.default_rng(i).standard_normal(n).astype(np.float32) for i, n in ((0, 500), (1, 320))]
    r = ref(sigs, sampling_rate=16000, padding=True, return_tensors="np")
    o = ours(sigs, sampling_rate=16000, return_tensors="np")
    np.testing.assert_allclose(o["input_values"], r["input_values"], atol=1e-5)
    np.testing.assert_array_equal(o["attention_mask"], r["attention_mask"])
