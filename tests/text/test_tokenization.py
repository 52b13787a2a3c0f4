"""zoo.text.Tokenizer: loading tokenizer.json / vocab.txt / vocab.json + merges.txt, calling conventions (padding,
truncation, pairs, tensors, offsets), decoding, special tokens, saving, errors; and against transformers'
AutoTokenizer on the same folders (oracle tier)."""
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import zoo

tk = pytest.importorskip("tokenizers")

from zoo.text import BatchEncoding, Tokenizer  # noqa: E402

CORPUS = ["The quick brown fox jumps over the lazy dog.", "Hello, world! Héllo wörld naïve café",
          "Tokenizers are fun; unicode: 日本語 テキスト, emoji 😀 🎉", "I can't believe it's not butter!",
          "zoo is a deep learning library on numpy", "Pack my box with five dozen liquor jugs"] * 10
TEXTS = ["The quick brown fox!", "", "Héllo wörld naïve café 日本語 😀 🎉", "I can't believe it's not butter " * 4,
         "   spaces   around  ", "[MASK] is a [CLS] token"]
BERT_SPECIALS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                 "mask_token": "[MASK]"}


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)


def build_wordpiece(folder, lowercase=True, model_max_length=32):
    """A tiny BERT WordPiece tokenizer trained on CORPUS, saved twice: ``folder/json`` (tokenizer.json) and
    ``folder/vocab`` (vocab.txt), each with a tokenizer_config.json."""
    backend = tk.Tokenizer(tk.models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = tk.normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    trainer = tk.trainers.WordPieceTrainer(vocab_size=200, show_progress=False,
                                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    backend.train_from_iterator(CORPUS, trainer)
    backend.post_processor = tk.processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", backend.token_to_id("[CLS]")), ("[SEP]", backend.token_to_id("[SEP]"))])
    backend.decoder = tk.decoders.WordPiece(prefix="##")
    config = {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase, "model_max_length": model_max_length,
              **BERT_SPECIALS}
    for sub in ("json", "vocab"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        _write_json(os.path.join(folder, sub, "tokenizer_config.json"), config)
    backend.save(os.path.join(folder, "json", "tokenizer.json"))
    vocab = backend.get_vocab()
    with open(os.path.join(folder, "vocab", "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(vocab, key=vocab.get)) + "\n")
    return os.path.join(folder, "json"), os.path.join(folder, "vocab")


def build_byte_bpe(folder, roberta=False):
    """A tiny byte-level BPE tokenizer (GPT-2 style, or RoBERTa style) in both formats."""
    backend = tk.Tokenizer(tk.models.BPE())
    backend.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = tk.decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if roberta else ["<|endoftext|>"]
    trainer = tk.trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False,
                                     initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(CORPUS, trainer)
    if roberta:
        config = {"tokenizer_class": "RobertaTokenizer", "model_max_length": 64}
        backend.post_processor = tk.processors.RobertaProcessing(
            ("</s>", backend.token_to_id("</s>")), ("<s>", backend.token_to_id("<s>")), trim_offsets=True,
            add_prefix_space=False)
    else:
        config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 64, "bos_token": "<|endoftext|>",
                  "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    for sub in ("json", "vocab"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        _write_json(os.path.join(folder, sub, "tokenizer_config.json"), config)
    backend.save(os.path.join(folder, "json", "tokenizer.json"))
    backend.model.save(os.path.join(folder, "vocab"))
    return os.path.join(folder, "json"), os.path.join(folder, "vocab")


@pytest.fixture(scope="module")
def wordpiece(tmp_path_factory):
    return build_wordpiece(str(tmp_path_factory.mktemp("wordpiece")))


@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
    return build_byte_bpe(str(tmp_path_factory.mktemp("bpe")))


@pytest.fixture(scope="module")
def roberta(tmp_path_factory):
    return build_byte_bpe(str(tmp_path_factory.mktemp("roberta")), roberta=True)


# ---- loading ---------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Token indices sequence length")
@pytest.mark.parametrize("kind", ["wordpiece", "bpe", "roberta"])
def test_tokenizer_json_and_vocab_files_agree(kind, request):
    json_dir, vocab_dir = request.getfixturevalue(kind)
    a, b = Tokenizer.from_pretrained(json_dir), Tokenizer.from_pretrained(vocab_dir)
    assert len(a) == len(b) and a.special_tokens_map == b.special_tokens_map
    for kwargs in ({}, {"padding": True, "return_offsets_mapping": True}):
        if kind == "bpe" and kwargs:
            continue  # GPT-2 has no pad token
        assert dict(a(TEXTS, **kwargs)) == dict(b(TEXTS, **kwargs))
    assert dict(a(TEXTS[0], TEXTS[2])) == dict(b(TEXTS[0], TEXTS[2]))


def test_loading_a_tokenizer_json_file_and_guessing_specials(wordpiece, tmp_path):
    tok = Tokenizer.from_pretrained(os.path.join(wordpiece[0], "tokenizer.json"))
    assert tok.cls_token == "[CLS]" and tok.model_max_length == 32
    # without any config the special tokens come from the special added tokens with the usual names
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "tokenizer.json").write_text(open(os.path.join(wordpiece[0], "tokenizer.json")).read())
    guessed = Tokenizer.from_pretrained(bare)
    assert guessed.special_tokens_map == BERT_SPECIALS
    assert guessed.model_max_length == zoo.text.tokenization.VERY_LARGE_INTEGER
    assert guessed.model_input_names == ["input_ids", "token_type_ids", "attention_mask"]  # a WordPiece model


def test_special_tokens_map_overrides_config(wordpiece, tmp_path):
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer.json").write_text(open(os.path.join(wordpiece[0], "tokenizer.json")).read())
    _write_json(folder / "tokenizer_config.json", {"model_max_length": 16, "pad_token": "[UNK]"})
    _write_json(folder / "special_tokens_map.json", {"pad_token": "[PAD]", "mask_token": {"content": "[MASK]"}})
    tok = Tokenizer.from_pretrained(folder, padding_side="left")
    assert tok.pad_token == "[PAD]" and tok.mask_token == "[MASK]" and tok.padding_side == "left"
    assert tok.pad_token_id == tok.convert_tokens_to_ids("[PAD]") and tok.mask_token_id is not None


def test_vocab_txt_settings_from_config(wordpiece, tmp_path):
    folder = tmp_path / "cased"
    folder.mkdir()
    (folder / "vocab.txt").write_text(open(os.path.join(wordpiece[1], "vocab.txt"), encoding="utf-8").read(),
                                      encoding="utf-8")
    _write_json(folder / "tokenizer_config.json", {"do_lower_case": False})
    cased, lower = Tokenizer.from_pretrained(folder), Tokenizer.from_pretrained(wordpiece[1])
    assert lower.tokenize("THE Quick") == ["the", "quick"]
    assert "[UNK]" in cased.tokenize("THE")  # the vocabulary is lowercase: uppercase words are unknown
    assert Tokenizer.from_pretrained(folder, do_lower_case=True).tokenize("THE Quick") == ["the", "quick"]


# ---- calling -----------------------------------------------------------------------------------------------------
def test_single_text_batch_and_pair(wordpiece, bpe):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    one = tok("the quick fox")
    assert isinstance(one, BatchEncoding) and list(one) == ["input_ids", "token_type_ids", "attention_mask"]
    assert isinstance(one["input_ids"][0], int) and one.input_ids == one["input_ids"]
    assert one["input_ids"][0] == tok.cls_token_id and one["input_ids"][-1] == tok.sep_token_id
    assert one.tokens() == ["[CLS]", "the", "quick", "fox", "[SEP]"]
    assert one.word_ids() == [None, 0, 1, 2, None]
    batch = tok(["the fox", "the quick brown fox"])
    assert [len(x) for x in batch["input_ids"]] == [4, 6]
    pair = tok("the fox", "hello")
    assert pair["token_type_ids"] == [0, 0, 0, 0, 1, 1]
    assert pair.sequence_ids() == [None, 0, 0, None, 1, None]
    assert tok.encode("the fox") == tok("the fox")["input_ids"]
    assert tok("the fox", add_special_tokens=False)["input_ids"] == tok.convert_tokens_to_ids(["the", "fox"])
    assert tok.num_special_tokens_to_add() == 2 and tok.num_special_tokens_to_add(pair=True) == 3
    gpt = Tokenizer.from_pretrained(bpe[0])
    assert list(gpt("hello")) == ["input_ids", "attention_mask"]  # GPT-2: no token types


def test_padding_sides_and_lengths(wordpiece):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    texts = ["the fox", "hello world again and again", ""]
    enc = tok(texts, padding=True)
    lengths = [len(tok(t)["input_ids"]) for t in texts]
    assert {len(x) for x in enc["input_ids"]} == {max(lengths)}
    for ids, mask, n in zip(enc["input_ids"], enc["attention_mask"], lengths):
        assert mask == [1] * n + [0] * (max(lengths) - n)
        assert ids[n:] == [tok.pad_token_id] * (max(lengths) - n)
    left = tok(texts, padding="longest", padding_side="left", return_offsets_mapping=True)
    for ids, mask, offsets, n in zip(left["input_ids"], left["attention_mask"], left["offset_mapping"], lengths):
        pad = max(lengths) - n
        assert mask == [0] * pad + [1] * n and ids[:pad] == [tok.pad_token_id] * pad
        assert offsets[:pad] == [(0, 0)] * pad
    tok.padding_side = "left"
    assert dict(tok(texts, padding=True)) == {k: v for k, v in left.items() if k != "offset_mapping"}
    fixed = tok(texts, padding="max_length", max_length=12)
    assert {len(x) for x in fixed["input_ids"]} == {12}
    (width,) = {len(x) for x in tok(texts, padding=True, pad_to_multiple_of=8)["input_ids"]}
    assert width % 8 == 0 and max(lengths) <= width < max(lengths) + 8
    assert len(tok("the fox", padding="max_length")["input_ids"]) == tok.model_max_length
    with pytest.raises(ValueError, match="padding_side"):
        tok.padding_side = "middle"


def test_truncation(wordpiece):
    tok = Tokenizer.from_pretrained(wordpiece[0])  # model_max_length 32
    long_text = "the quick brown fox " * 40
    with pytest.warns(UserWarning, match="longer than the specified maximum sequence length"):
        assert len(tok(long_text)["input_ids"]) > 32
    ids = tok(long_text, truncation=True)["input_ids"]
    assert len(ids) == 32 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert len(tok(long_text, max_length=10)["input_ids"]) == 10  # max_length alone truncates
    pair = tok("the fox jumps over the lazy dog", long_text, truncation="only_second", max_length=20)
    assert len(pair["input_ids"]) == 20 and pair["token_type_ids"][:9] == [0] * 9
    longest_first = tok(long_text, long_text, truncation=True, max_length=21)
    assert longest_first["token_type_ids"].count(0) == 10 + 1 and len(longest_first["input_ids"]) == 21
    tok.truncation_side = "left"
    assert tok(long_text, truncation=True, max_length=6)["input_ids"][1:-1] == tok(
        "the quick brown fox", add_special_tokens=False)["input_ids"][-4:]
    with pytest.raises(ValueError, match="max_length"):
        tok("the fox", "the dog jumps", truncation="only_first", max_length=4)
    with pytest.raises(ValueError, match="only_second"):
        tok("the fox", truncation="only_second", max_length=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tok(["short", long_text], truncation=True, padding=True)


def test_tensors(wordpiece):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    np_enc = tok(["the fox", "hello"], padding=True, return_tensors="np", return_offsets_mapping=True,
                 return_special_tokens_mask=True, return_length=True)
    assert np_enc["input_ids"].dtype == np.int64 and np_enc["input_ids"].shape == (2, 4)
    assert np_enc["offset_mapping"].shape == (2, 4, 2) and np_enc["length"].tolist() == [4, 4]
    assert np_enc["special_tokens_mask"].tolist() == [[1, 0, 0, 1], [1, 0, 1, 1]]
    z = tok("the fox", return_tensors="zoo")
    assert isinstance(z["input_ids"], zoo.Tensor) and z["input_ids"].dtype == zoo.int64
    assert tuple(z["input_ids"].shape) == (1, 4)
    assert z.to("cpu")["attention_mask"].tolist() == [[1, 1, 1, 1]]
    assert tok("the fox", return_tensors="pt")["input_ids"].tolist() == z["input_ids"].tolist()
    with pytest.raises(ValueError, match="padding=True"):
        tok(["the fox", "hello world again"], return_tensors="np")
    with pytest.raises(ValueError, match="return_tensors"):
        tok("x", return_tensors="tf")


def test_offsets_point_at_the_text(wordpiece):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    text = "Héllo, the QUICK fox! 日本"
    enc = tok(text, return_offsets_mapping=True)
    for token, (start, end) in zip(enc.tokens(), enc["offset_mapping"]):
        if token in ("[CLS]", "[SEP]"):
            assert (start, end) == (0, 0)
        elif token != "[UNK]":
            piece = text[start:end].lower().replace("é", "e")
            assert piece == token.replace("##", ""), (token, piece)


def test_decode_and_ids(wordpiece):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    ids = tok("The quick brown fox, not butter!")["input_ids"]
    assert tok.decode(ids) == "[CLS] the quick brown fox, not butter! [SEP]"
    assert tok.decode(ids, skip_special_tokens=True) == "the quick brown fox, not butter!"
    assert tok.decode(np.array(ids)) == tok.decode(zoo.tensor(ids)) == tok.decode(ids)
    assert tok.batch_decode(zoo.tensor([ids, ids]), skip_special_tokens=True) == ["the quick brown fox, not "
                                                                                  "butter!"] * 2
    assert tok.convert_ids_to_tokens(ids[1]) == "the"
    assert tok.convert_ids_to_tokens(ids, skip_special_tokens=True)[0] == "the"
    assert tok.convert_tokens_to_ids("not-a-token") == tok.unk_token_id
    assert tok.convert_tokens_to_string(["qu", "##ick", "fox"]) == "quick fox"
    assert set(tok.all_special_tokens) == set(BERT_SPECIALS.values())
    assert sorted(tok.all_special_ids) == sorted(tok.convert_tokens_to_ids(list(BERT_SPECIALS.values())))
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([len(tok)])
    with pytest.raises(ValueError, match="batch_decode"):
        tok.decode([ids])
    with pytest.raises(TypeError, match="ints"):
        tok.decode(["a"])


def test_unicode_emoji_and_empty(wordpiece, bpe):
    wp, gpt = Tokenizer.from_pretrained(wordpiece[0]), Tokenizer.from_pretrained(bpe[0])
    assert wp("")["input_ids"] == [wp.cls_token_id, wp.sep_token_id]
    assert gpt("")["input_ids"] == []
    assert wp.tokenize("🦜") == ["[UNK]"]  # WordPiece: a character outside the vocabulary is unknown
    for text in ["Héllo wörld naïve café", "日本語のテキスト", "emoji 😀🎉👍🏽 and ZWJ 👩‍👩‍👧", "tabs\tand\nnewlines",
                 "\u00a0nbsp\u200bzero-width"]:
        # byte-level BPE round-trips every string exactly
        assert gpt.decode(gpt(text)["input_ids"]) == text
    assert wp.decode(wp("Héllo   WÖRLD")["input_ids"], skip_special_tokens=True) == "hello world"


def test_save_pretrained_round_trip(wordpiece, tmp_path):
    tok = Tokenizer.from_pretrained(wordpiece[1], padding_side="left", model_max_length=20)
    paths = tok.save_pretrained(tmp_path / "saved")
    assert sorted(os.path.basename(p) for p in paths) == ["special_tokens_map.json", "tokenizer.json",
                                                           "tokenizer_config.json"]
    back = Tokenizer.from_pretrained(tmp_path / "saved")
    assert back.padding_side == "left" and back.model_max_length == 20
    assert back.special_tokens_map == tok.special_tokens_map and back.model_input_names == tok.model_input_names
    assert dict(back(TEXTS, padding=True, truncation=True)) == dict(tok(TEXTS, padding=True, truncation=True))
    config = json.loads((tmp_path / "saved" / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "BertTokenizer" and config["padding_side"] == "left"


def test_pad_token_can_be_set(bpe):
    gpt = Tokenizer.from_pretrained(bpe[0])
    assert gpt.pad_token is None and gpt.pad_token_id is None
    with pytest.raises(ValueError, match="pad token"):
        gpt(["a", "bb"], padding=True)
    gpt.pad_token = gpt.eos_token
    enc = gpt(["hello world", "hi"], padding=True, padding_side="left", return_tensors="np")
    assert enc["input_ids"][1, 0] == gpt.eos_token_id and enc["attention_mask"][1, 0] == 0


def test_bad_inputs_raise_clear_errors(wordpiece, tmp_path):
    tok = Tokenizer.from_pretrained(wordpiece[0])
    with pytest.raises(TypeError, match=r"text\[1\] is a int"):
        tok(["ok", 3])
    with pytest.raises(TypeError, match="string or a list"):
        tok(3.5)
    with pytest.raises(ValueError, match="text is required"):
        tok(None)
    with pytest.raises(ValueError, match="2 text"):
        tok(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="padding must be"):
        tok("a", padding="sideways")
    with pytest.raises(ValueError, match="truncation must be"):
        tok("a", truncation="middle")
    with pytest.raises(ValueError, match="max_length must be a positive int"):
        tok("a", max_length=0)
    with pytest.raises(TypeError, match="tokenizers.Tokenizer"):
        Tokenizer("not a backend")
    with pytest.raises(FileNotFoundError, match="no tokenizer"):
        Tokenizer.from_pretrained(tmp_path)
    (tmp_path / "spiece.model").write_bytes(b"\x00")
    with pytest.raises(NotImplementedError, match="SentencePiece"):
        Tokenizer.from_pretrained(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "tokenizer.json").write_text("{not json")
    with pytest.raises(ValueError, match="tokenizer.json"):
        Tokenizer.from_pretrained(bad)


def test_hub_id_offline_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    from zoo.weights import WeightsNotFoundError
    with pytest.raises(WeightsNotFoundError, match="HF_HUB_OFFLINE"):
        Tokenizer.from_pretrained("zoo-test-org/no-such-tokenizer")


def test_zoo_text_is_lazy():
    code = ("import sys, zoo, zoo.text\n"
            "assert 'tokenizers' not in sys.modules and 'zoo.text.tokenization' not in sys.modules\n"
            "zoo.text.Tokenizer\n"
            "assert 'zoo.text.tokenization' in sys.modules\n"
            "assert 'zoo.text.models.bert' not in sys.modules\n"
            "zoo.text.models.BertModel\n"
            "assert 'zoo.text.models.bert' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- oracle: transformers' AutoTokenizer on the same folders ------------------------------------------------------
def _compare(hf, z, texts, **kwargs):
    a, b = hf(texts, **kwargs), z(texts, **kwargs)
    assert set(a.keys()) == set(b.keys()), (kwargs, a.keys(), b.keys())
    for key in a:
        av, bv = a[key], b[key]
        av = av.tolist() if hasattr(av, "tolist") else av
        bv = bv.tolist() if hasattr(bv, "tolist") else bv
        assert _lists(av) == _lists(bv), (key, kwargs)


def _lists(x):
    return [_lists(v) for v in x] if isinstance(x, (list, tuple)) else x


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["wordpiece", "bpe", "roberta"])
@pytest.mark.parametrize("fmt", [0, 1], ids=["tokenizer.json", "vocab-files"])
def test_matches_transformers(kind, fmt, request):
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    folder = request.getfixturevalue(kind)[fmt]
    hf = transformers.AutoTokenizer.from_pretrained(folder)
    z = Tokenizer.from_pretrained(folder)
    assert len(hf) == len(z) and hf.model_max_length == z.model_max_length
    assert hf.special_tokens_map == z.special_tokens_map and list(hf.model_input_names) == z.model_input_names
    calls = [{}, {"truncation": True}, {"max_length": 7}, {"add_special_tokens": False},
             {"return_offsets_mapping": True, "return_special_tokens_mask": True}]
    if hf.pad_token is None:
        hf.pad_token, z.pad_token = hf.eos_token, z.eos_token
    calls += [{"padding": True}, {"padding": "max_length", "truncation": True, "max_length": 12},
              {"padding": True, "return_tensors": "np", "truncation": True}, {"padding": True, "padding_side": "left"},
              {"padding": True, "pad_to_multiple_of": 8, "return_offsets_mapping": True}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in calls:
            _compare(hf, z, TEXTS, **kwargs)
            _compare(hf, z, TEXTS[2], **kwargs)
        _compare(hf, z, TEXTS[:3], text_pair=TEXTS[3:], truncation=True, max_length=16)
        _compare(hf, z, TEXTS[:3], text_pair=TEXTS[3:], truncation="only_second", max_length=24)
    for text in TEXTS:
        ids = hf(text)["input_ids"]
        assert z.tokenize(text) == hf.tokenize(text)
        assert z.convert_ids_to_tokens(ids) == hf.convert_ids_to_tokens(ids)
        for skip in (False, True):
            assert z.decode(ids, skip_special_tokens=skip) == hf.decode(ids, skip_special_tokens=skip)


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["wordpiece", "bpe"])
def test_saved_tokenizer_loads_in_transformers(kind, request, tmp_path):
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    z = Tokenizer.from_pretrained(request.getfixturevalue(kind)[1], padding_side="left")
    if z.pad_token is None:
        z.pad_token = z.eos_token
    z.save_pretrained(tmp_path)
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert hf.padding_side == "left" and hf.pad_token == z.pad_token
    assert list(hf.model_input_names) == z.model_input_names
    _compare(hf, z, TEXTS, padding=True, truncation=True, return_offsets_mapping=True)
