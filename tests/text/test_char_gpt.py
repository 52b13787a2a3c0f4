"""The char-level tokenizer, the char GPT, its training recipe and the checkpoint zoo ships."""
import importlib.util
import json
import os
import pathlib
import shutil

import numpy as np
import pytest

import zoo
from zoo.text.char_tokenizer import CharTokenizer
from zoo.text.models.char_gpt import CharGPTConfig, CharGPTLMHeadModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "train_char_gpt.py"
STORE = ROOT / "weights" / "store" / "char_gpt_shakespeare"
DATA = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
DATA = DATA if DATA.is_file() else None


def recipe_module():
    spec = importlib.util.spec_from_file_location("train_char_gpt", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- tokenizer -------------------------------------------------------------------------------------------------
def test_char_tokenizer_round_trip(tmp_path):
    text = "First Citizen:\nBefore we proceed any further, hear me speak."
    tok = zoo.text.CharTokenizer.from_text(text)
    assert tok.chars == sorted(set(text)) and len(tok) == len(set(text)) == tok.vocab_size
    ids = tok.encode(text)
    assert all(isinstance(i, int) for i in ids) and tok.decode(ids) == text
    assert tok.decode(np.asarray(ids)) == text and tok.decode(zoo.tensor(ids)) == text
    path = tok.save_pretrained(tmp_path)
    assert json.loads(pathlib.Path(path).read_text())["chars"] == tok.chars
    again = CharTokenizer.from_pretrained(tmp_path)
    assert again == tok and again.encode("hear me") == tok.encode("hear me")
    assert CharTokenizer.load(path) == tok


def test_char_tokenizer_batches_with_left_padding():
    tok = CharTokenizer.from_text("abcdef", pad_token_id=0)
    enc = tok(["abc", "f"], padding=True, return_tensors="np")
    np.testing.assert_array_equal(enc["input_ids"], [[0, 1, 2], [0, 0, 5]])
    np.testing.assert_array_equal(enc["attention_mask"], [[1, 1, 1], [0, 0, 1]])
    right = tok(["abc", "f"], padding=True, padding_side="right", return_tensors="zoo")
    np.testing.assert_array_equal(right["attention_mask"].numpy(), [[1, 1, 1], [1, 0, 0]])
    assert tok("abcdef", truncation=True, max_length=2)["input_ids"] == [4, 5]  # keeps the most recent context
    assert tok.batch_decode(enc["input_ids"][:, 1:]) == ["bc", "af"]


def test_char_tokenizer_errors(tmp_path):
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"\['z'\]"):
        tok.encode("abz")
    assert CharTokenizer(tok.chars, unknown="skip").encode("abz") == [0, 1]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([0, 7])
    with pytest.raises(ValueError, match="repeats"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="one character"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="padding=True"):
        tok(["a", "ab"], return_tensors="np")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bpe"}')
    with pytest.raises(ValueError, match="not a CharTokenizer file"):
        CharTokenizer.load(bad)


# ---- model -----------------------------------------------------------------------------------------------------
def test_char_gpt_is_a_registered_architecture(tmp_path):
    config = CharGPTConfig(vocab_size=11, n_positions=16, n_embd=16, n_layer=1, n_head=2)
    assert config.model_type == "char_gpt" and config.eos_token_id is None and config.resid_pdrop == 0.0
    model = CharGPTLMHeadModel(config)
    model.save_pretrained(tmp_path)
    again = zoo.from_pretrained(tmp_path)
    assert type(again) is CharGPTLMHeadModel
    ids = zoo.tensor([[1, 2, 3]])
    with zoo.no_grad():
        np.testing.assert_array_equal(again(ids).logits.numpy(), model.eval()(ids).logits.numpy())


def test_generation_slides_past_the_context_window(monkeypatch):
    zoo.manual_seed(0)
    model = CharGPTLMHeadModel(CharGPTConfig(vocab_size=11, n_positions=16, n_embd=16, n_layer=1, n_head=2,
                                             initializer_range=0.5)).eval()
    calls = []
    forward = model.forward

    def spy(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[1])
        return forward(*args, **kwargs)
    monkeypatch.setattr(model, "forward", spy)
    out = model.generate(zoo.tensor([[1, 2, 3]]), max_new_tokens=40).numpy()
    assert out.shape == (1, 43)
    assert max(calls) <= 16 and calls.count(1) > 30  # re-encodes a window now and then, else one position
    # the first steps (inside the window) are plain cached greedy decoding
    ref = model.generate(zoo.tensor([[1, 2, 3]]), max_new_tokens=13).numpy()
    np.testing.assert_array_equal(out[:, :16], ref)
    with pytest.raises(ValueError, match="beam search"):
        model.generate(zoo.tensor([[1, 2, 3]]), max_new_tokens=40, num_beams=2)


def test_recipe_trains_saves_and_records(tmp_path):
    recipe = recipe_module()
    text = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 40)
    data = tmp_path / "tiny.txt"
    data.write_text(text)
    out = tmp_path / "out"
    loss = recipe.main(["--data", str(data), "--iterations", "6", "--batch-size", "4", "--block-size", "16",
                        "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--eval-interval", "3",
                        "--eval-windows", "4", "--warmup", "2", "--output-dir", str(out),
                        "--log-dir", str(tmp_path / "logs")])
    record = json.loads((out / "record.json").read_text())
    assert record["seed"] == 1337 and record["metric"]["val_loss"] == round(loss, 4)
    assert record["command"].startswith("python examples/train_char_gpt.py --data")
    assert (tmp_path / "logs" / "metrics.csv").read_text().startswith("step,epoch")
    assert (tmp_path / "logs" / "curves.png").stat().st_size > 0
    model = zoo.from_pretrained(out)
    tok = CharTokenizer.from_pretrained(out)
    assert type(model) is CharGPTLMHeadModel and len(tok) == len(set(text)) == model.config.vocab_size
    assert np.isfinite(loss) and loss < np.log(len(tok)) + 0.5


def test_recipe_learning_rate_schedule():
    f = recipe_module().lr_lambda(10, 110, 1e-3, 1e-4)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(60) == pytest.approx(0.55) and f(110) == pytest.approx(0.1)


# ---- the shipped checkpoint ------------------------------------------------------------------------------------
def test_shipped_checkpoint_is_registered_verified_and_loads(tmp_path):
    from zoo.weights import ChecksumError, Store, file_sha256, get_entry, resolve
    entry = get_entry("char_gpt_shakespeare")
    assert entry.task == "text-generation" and entry.architecture == "CharGPTLMHeadModel"
    assert any(isinstance(s, Store) for s in entry.sources)
    assert (ROOT / entry.recipe).is_file()
    record = json.loads((STORE / "record.json").read_text())
    assert record["metric"] == dict(entry.record.metric) and record["seed"] == entry.record.seed
    assert record["command"] == entry.record.command and record["data"] == entry.record.data
    assert entry.record.metric["val_loss"] <= 1.9
    total = 0
    for name, spec in entry.files.items():
        path = resolve(entry, name)  # checks the sha256
        assert file_sha256(path) == spec.sha256
        total += os.path.getsize(path)
    assert total < 5e6
    # a corrupted copy is refused
    for name in entry.files:
        shutil.copy(STORE / name, tmp_path / name)
    with open(tmp_path / "model.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(ChecksumError):
        resolve(entry, "model.safetensors", local=tmp_path)
    from zoo.text.pipelines.generation import load_generation_model
    model, tok, _ = load_generation_model("char_gpt_shakespeare")
    assert type(model) is CharGPTLMHeadModel and isinstance(tok, CharTokenizer)
    zoo.manual_seed(0)
    out = model.generate(zoo.tensor([tok.encode("ROMEO:\n")]), max_new_tokens=60, do_sample=True)
    text = tok.decode(out[0])
    assert text.startswith("ROMEO:\n") and len(text) == 67


@pytest.mark.real
def test_shipped_char_gpt_validation_loss_on_real_data():
    if DATA is None:
        pytest.skip("Tiny Shakespeare (shared/data/tinyshakespeare.txt) is not available")
    from zoo.text.pipelines.generation import load_generation_model
    model, tok, _ = load_generation_model("char_gpt_shakespeare")
    text = DATA.read_text(encoding="utf-8")
    ids = np.asarray(tok.encode(text), dtype=np.int64)
    val = ids[int(0.9 * len(ids)):][:20000]  # a slice of the validation split
    loss = recipe_module().full_split_loss(model, val, model.config.n_positions)
    assert loss < 1.95, loss
