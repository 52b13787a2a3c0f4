"""The text-generation and text2text-generation pipelines (offline: the shipped char GPT and tiny local models)."""
import json

import pytest

import zoo
from zoo.text.models.gpt2 import GPT2Config, GPT2LMHeadModel
from zoo.text.models.t5 import T5Config, T5ForConditionalGeneration

CORPUS = ["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine",
          "all that glitters is not gold", "translate English to German: the house is wonderful"] * 5


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def write_bpe_tokenizer(folder, specials, post_eos=None, config=None):
    """A tiny byte-level BPE tokenizer trained here (GPT-2 style), saved as tokenizer.json + tokenizer_config.json."""
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    if post_eos is not None:
        tok.post_processor = tokenizers.processors.TemplateProcessing(
            single=f"$A {post_eos}", special_tokens=[(post_eos, tok.token_to_id(post_eos))])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(config or {}))
    return tok


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt2_pipe")
    tok = write_bpe_tokenizer(folder, ["<|endoftext|>"],
                              config={"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"})
    eos = tok.token_to_id("<|endoftext|>")
    zoo.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=32, n_layer=2,
                                       n_head=4, initializer_range=0.2, bos_token_id=eos, eos_token_id=eos))
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("t5_pipe")
    tok = write_bpe_tokenizer(folder, ["<pad>", "</s>", "<unk>"], post_eos="</s>",
                              config={"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})
    zoo.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(vocab_size=tok.get_vocab_size(), d_model=16, d_kv=4, d_ff=32,
                                                num_layers=2, num_heads=4, pad_token_id=0, eos_token_id=1,
                                                decoder_start_token_id=0))
    model.save_pretrained(folder)
    return folder


# ---- the default model: the char GPT shipped with zoo -----------------------------------------------------------
def test_tasks_are_registered_with_their_defaults():
    assert zoo.pipelines.get_task("text-generation").default_model == "char_gpt_shakespeare"
    assert zoo.pipelines.get_task("text2text-generation").default_model == "google-t5/t5-small"
    assert "char_gpt_shakespeare" in zoo.list_models(task="text-generation")


def test_default_text_generation_runs_offline():
    pipe = zoo.pipeline("text-generation")
    zoo.manual_seed(0)
    out = pipe("ROMEO:", max_new_tokens=40)
    assert isinstance(out, list) and len(out) == 1 and set(out[0]) == {"generated_text"}
    text = out[0]["generated_text"]
    assert text.startswith("ROMEO:") and len(text) == 46
    assert set(text) <= set(pipe.tokenizer.chars)
    zoo.manual_seed(0)
    assert pipe("ROMEO:", max_new_tokens=40) == out  # sampling is reproducible under zoo.manual_seed
    only_new = pipe("ROMEO:", max_new_tokens=10, return_full_text=False)[0]["generated_text"]
    assert len(only_new) == 10 and not only_new.startswith("ROMEO:")
    several = pipe("JULIET:", max_new_tokens=5, num_return_sequences=3)
    assert len(several) == 3 and all(d["generated_text"].startswith("JULIET:") for d in several)


def test_batched_prompts_equal_one_by_one():
    pipe = zoo.pipeline("text-generation", do_sample=False, max_new_tokens=12)
    prompts = ["ROMEO:", "First Citizen:\nWe are", "O"]
    alone = [pipe(p) for p in prompts]
    assert pipe(prompts, batch_size=3) == alone
    assert alone[0][0]["generated_text"] != alone[2][0]["generated_text"]


# ---- local Hugging Face directories -----------------------------------------------------------------------------
def test_text_generation_with_a_gpt2_directory(gpt2_dir):
    pipe = zoo.pipeline("text-generation", model=str(gpt2_dir))
    assert type(pipe.model).__name__ == "GPT2LMHeadModel"
    prompts = ["the quick brown", "a stitch in time saves nine and", "all"]
    alone = [pipe(p, max_new_tokens=8) for p in prompts]
    assert pipe(prompts, batch_size=3, max_new_tokens=8) == alone  # left padding in the batch
    for p, out in zip(prompts, alone):
        assert out[0]["generated_text"].startswith(p)
    # greedy by default (no generation_config.json): the continuation is the model's argmax path
    model, tok = pipe.model, pipe.tokenizer
    ids = tok(prompts[0])["input_ids"]
    ref = model.generate(zoo.tensor([ids]), max_new_tokens=8).numpy()[0]
    assert alone[0][0]["generated_text"] == tok.decode(ref, skip_special_tokens=True)


def test_text2text_generation_with_a_t5_directory(t5_dir):
    pipe = zoo.pipeline("text2text-generation", model=str(t5_dir))
    texts = ["translate English to German: the house", "a stitch in time"]
    alone = [pipe(t, max_new_tokens=6) for t in texts]
    assert pipe(texts, batch_size=2, max_new_tokens=6) == alone
    assert all(isinstance(o[0]["generated_text"], str) for o in alone)
    ids = pipe.tokenizer(texts[0])["input_ids"]
    assert ids[-1] == 1  # </s> added
    ref = pipe.model.generate(zoo.tensor([ids]), max_new_tokens=6).numpy()[0]
    assert alone[0][0]["generated_text"] == pipe.tokenizer.decode(ref, skip_special_tokens=True)
    beams = pipe(texts[0], max_new_tokens=6, num_beams=3, num_return_sequences=2)
    assert len(beams) == 2


def test_model_objects_and_errors(gpt2_dir, t5_dir):
    from zoo.text.tokenization import Tokenizer
    model = GPT2LMHeadModel.from_pretrained(gpt2_dir)
    pipe = zoo.pipeline("text-generation", model=model, tokenizer=Tokenizer.from_pretrained(gpt2_dir))
    assert pipe("the", max_new_tokens=3)[0]["generated_text"].startswith("the")
    with pytest.raises(ValueError, match="tokenizer"):
        zoo.pipeline("text-generation", model=model)
    with pytest.raises(ValueError, match="text2text-generation"):
        zoo.pipeline("text-generation", model=str(t5_dir))
    with pytest.raises(ValueError, match="'text-generation'"):
        zoo.pipeline("text2text-generation", model=str(gpt2_dir))
    with pytest.raises(TypeError, match="unknown option"):
        pipe("the", max_new_token=3)
    with pytest.raises(TypeError, match="str prompt"):
        pipe(3)
