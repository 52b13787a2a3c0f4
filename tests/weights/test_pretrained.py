"""PretrainedConfig, PreTrainedModel.from_pretrained / save_pretrained and the architecture registry.

A tiny architecture is defined here and registered through the public API. Checkpoints come from
save_pretrained, from torch.save (oracle tier) and from transformers itself (oracle tier); the hub path runs
huggingface_hub's real code against a hub cache built in tmp_path (HF_HUB_CACHE, HF_HUB_OFFLINE=1).
"""
import json
import os
import pathlib

import numpy as np
import pytest
from helpers import add_snapshot

import zoo
from zoo import nn
from zoo.weights.pretrained import (PretrainedConfig, PreTrainedModel, from_pretrained, get_model_class,
                                    list_architectures, register_model, unregister_model)


class TinyConfig(PretrainedConfig):
    model_type = "zoo-tiny"

    def __init__(self, vocab_size=11, hidden_size=6, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class TinyModel(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "tiny"

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.register_buffer("scale", zoo.tensor([2.0]))

    def forward(self, ids):
        return self.norm(self.dense(self.embeddings(ids))) * self.scale


class TinyForClassification(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "tiny"

    def __init__(self, config):
        super().__init__(config)
        self.tiny = TinyModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels or 2)

    def forward(self, ids):
        return self.classifier(self.tiny(ids)[:, 0])


class TinyLM(PreTrainedModel):
    """Output projection tied to the input embeddings (one parameter under two names)."""
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.lm_head.weight = self.embed.weight


@pytest.fixture(autouse=True)
def registered():
    register_model("zoo-tiny", "TinyModel", TinyModel)
    register_model("zoo-tiny", "TinyForClassification", f"{__name__}:TinyForClassification")
    yield
    unregister_model("TinyModel")
    unregister_model("TinyForClassification")


def state_arrays(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    sa, sb = state_arrays(a), state_arrays(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


def tiny(**kwargs):
    return TinyModel(TinyConfig(**kwargs))


# ---- config ---------------------------------------------------------------------------------------------------
def test_config_round_trip_keeps_unknown_keys(tmp_path):
    cfg = TinyConfig(hidden_size=8, id2label={0: "cat", 1: "dog"}, custom_setting={"a": [1, 2]}, rope=None)
    cfg.save_pretrained(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    assert raw["model_type"] == "zoo-tiny" and raw["custom_setting"] == {"a": [1, 2]} and "rope" in raw
    assert raw["id2label"] == {"0": "cat", "1": "dog"}
    back = TinyConfig.from_pretrained(tmp_path)
    assert back == cfg and back.hidden_size == 8 and back.custom_setting == {"a": [1, 2]}
    assert back.id2label == {0: "cat", 1: "dog"} and back.label2id == {"cat": 0, "dog": 1}
    assert back.num_labels == 2
    assert TinyConfig.from_pretrained(tmp_path / "config.json", hidden_size=3).hidden_size == 3
    plain = PretrainedConfig.from_json_file(tmp_path / "config.json")  # a plain config keeps the file's type
    assert plain.model_type == "zoo-tiny" and plain.to_dict() == back.to_dict()


def test_config_labels_and_aliases():
    cfg = TinyConfig(num_labels=3)
    assert cfg.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"} and cfg.num_labels == 3
    with pytest.raises(ValueError, match="num_labels=3 but id2label has 2"):
        TinyConfig(num_labels=3, id2label={0: "a", 1: "b"})

    class AliasConfig(PretrainedConfig):
        model_type = "alias"
        attribute_map = {"hidden_size": "n_embd"}

        def __init__(self, n_embd=4, **kwargs):
            self.n_embd = n_embd
            super().__init__(**kwargs)

    cfg = AliasConfig()
    assert cfg.hidden_size == 4
    cfg.hidden_size = 9
    assert cfg.n_embd == 9 and "hidden_size" not in cfg.to_dict()
    assert AliasConfig.from_dict({"hidden_size": 5}).n_embd == 5


def test_config_errors(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: the config is not valid JSON"):
        TinyConfig.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        TinyConfig.from_pretrained(tmp_path / "..")
    with pytest.warns(UserWarning, match="model type 'bert' is read by TinyConfig"):
        TinyConfig.from_dict({"model_type": "bert"})


# ---- save / load round trip ---------------------------------------------------------------------------------------
def test_round_trip_is_bit_exact(tmp_path):
    model = tiny(extra_key="kept")
    model.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["architectures"] == ["TinyModel"] and cfg["model_type"] == "zoo-tiny"
    assert cfg["torch_dtype"] == "float32" and cfg["extra_key"] == "kept"
    back = TinyModel.from_pretrained(tmp_path)
    assert type(back) is TinyModel and not back.training
    assert back.config == model.config
    assert_same_state(back, model)
    ids = zoo.tensor([[1, 2, 3]])
    with zoo.no_grad():
        np.testing.assert_array_equal(back(ids).numpy(), model.eval()(ids).numpy())


def test_saved_file_is_a_flat_pt_safetensors_file(tmp_path):
    st = pytest.importorskip("safetensors")
    from safetensors.numpy import load_file
    model = tiny()
    model.save_pretrained(tmp_path)
    arrays = load_file(str(tmp_path / "model.safetensors"))
    assert arrays.keys() == set(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(arrays[k], v.numpy())
    with st.safe_open(str(tmp_path / "model.safetensors"), framework="numpy") as f:
        assert f.metadata()["format"] == "pt"


def test_zoo_from_pretrained_picks_the_class_from_config(tmp_path):
    head = TinyForClassification(TinyConfig(num_labels=3))
    head.save_pretrained(tmp_path / "head")
    model = zoo.weights.pretrained.from_pretrained(str(tmp_path / "head"))
    assert type(model) is TinyForClassification
    assert_same_state(model, head)
    # architecture= picks another class: the bare model out of a head checkpoint (its head weights unused)
    with pytest.warns(UserWarning, match="were not used when initializing TinyModel: classifier.weight"):
        bare = from_pretrained(tmp_path / "head", architecture="TinyModel", strict=False)
    assert type(bare) is TinyModel
    assert_same_state(bare, head.tiny)
    # no "architectures": the first class registered for the model type
    cfg = json.loads((tmp_path / "head" / "config.json").read_text())
    del cfg["architectures"]
    (tmp_path / "head" / "config.json").write_text(json.dumps(cfg))
    with pytest.warns(UserWarning, match="were not used"):
        assert type(from_pretrained(tmp_path / "head", strict=False)) is TinyModel
    assert list_architectures()["TinyForClassification"] == "zoo-tiny"
    assert get_model_class(model_type="zoo-tiny") is TinyModel


def test_unknown_architecture_lists_supported(tmp_path):
    tiny().save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["architectures"] = ["TinyModl"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError) as info:
        from_pretrained(tmp_path)
    msg = str(info.value)
    assert "'TinyModl'" in msg and "Did you mean 'TinyModel'" in msg and "TinyForClassification" in msg
    with pytest.raises(ValueError, match="model type 'nope'"):
        get_model_class(model_type="nope")


def test_register_model_validates():
    with pytest.raises(ValueError, match="module.path:ClassName"):
        register_model("x", "X", "no_colon")
    with pytest.raises(TypeError, match="PreTrainedModel subclass"):
        register_model("x", "X", nn.Linear)
    with pytest.raises(ValueError, match="already registered"):
        register_model("zoo-tiny", "TinyModel", TinyLM)
    register_model("zoo-tiny", "TinyModel", TinyModel)  # the same registration again is fine
    register_model("zoo-broken", "Broken", f"{__name__}:TinyConfig")
    try:
        with pytest.raises(TypeError, match="not a PreTrainedModel subclass"):
            get_model_class("Broken")
    finally:
        unregister_model("Broken")


def test_tied_weights_are_saved_once_and_stay_tied(tmp_path):
    model = TinyLM(TinyConfig())
    model.save_pretrained(tmp_path)
    assert set(zoo.load(str(tmp_path / "model.safetensors"))) == {"embed.weight"}
    back = TinyLM.from_pretrained(tmp_path)  # strict: the tied name is not missing
    assert back.lm_head.weight is back.embed.weight
    np.testing.assert_array_equal(back.lm_head.weight.detach().numpy(), model.embed.weight.detach().numpy())


# ---- sources: local cache, torch .bin, shards -------------------------------------------------------------------
COMMIT = "c" * 40


def add_to_hub_cache(cache, repo_id, commit, folder):
    """Put a saved model folder into the hub cache as one commit on main."""
    add_snapshot(cache, repo_id, commit, {f.name: f.read_bytes() for f in sorted(pathlib.Path(folder).iterdir())})


def test_load_from_local_hub_cache(tmp_path, hub_cache):
    model = TinyForClassification(TinyConfig(num_labels=2))
    model.save_pretrained(tmp_path / "saved")
    add_to_hub_cache(hub_cache, "zoo-test/tiny-cls", COMMIT, tmp_path / "saved")
    back = zoo.weights.pretrained.from_pretrained("zoo-test/tiny-cls")
    assert type(back) is TinyForClassification
    assert_same_state(back, model)
    assert_same_state(TinyForClassification.from_pretrained("zoo-test/tiny-cls", revision=COMMIT), model)
    assert TinyConfig.from_pretrained("zoo-test/tiny-cls").num_labels == 2
    with pytest.raises(zoo.weights.errors.WeightsNotFoundError, match="HF_HUB_OFFLINE"):
        TinyModel.from_pretrained("zoo-test/not-cached")


def test_sharded_safetensors(tmp_path):
    model = tiny(vocab_size=40, hidden_size=16)  # embeddings 2560 bytes, dense 1088 bytes
    model.save_pretrained(tmp_path, max_shard_size=2000)
    files = sorted(os.listdir(tmp_path))
    assert files == ["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                     "model-00003-of-00003.safetensors", "model.safetensors.index.json"]
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"]) == set(model.state_dict())
    assert index["metadata"]["total_size"] == sum(v.numpy().nbytes for v in model.state_dict().values())
    assert_same_state(TinyModel.from_pretrained(tmp_path), model)
    # saving again unsharded replaces the shards: no stale shard or index is left to be read back
    other = tiny(vocab_size=40, hidden_size=16)
    other.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]
    assert_same_state(TinyModel.from_pretrained(tmp_path), other)


def test_shard_listed_but_absent(tmp_path):
    tiny(vocab_size=40, hidden_size=16).save_pretrained(tmp_path, max_shard_size="2KB")
    os.remove(tmp_path / "model-00002-of-00003.safetensors")
    with pytest.raises(FileNotFoundError, match="lists shard 'model-00002-of-00003.safetensors'"):
        TinyModel.from_pretrained(tmp_path)


def test_no_weights_file_is_a_clear_error(tmp_path):
    TinyConfig().save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="has no model weights: expected model.safetensors"):
        TinyModel.from_pretrained(tmp_path)


@pytest.mark.oracle
def test_pytorch_model_bin_written_by_torch(tmp_path):
    torch = pytest.importorskip("torch")
    model = tiny()
    model.config.save_pretrained(tmp_path)
    torch.save({k: torch.from_numpy(v) for k, v in state_arrays(model).items()}, tmp_path / "pytorch_model.bin")
    assert_same_state(TinyModel.from_pretrained(tmp_path), model)
    # sharded .bin checkpoints, as older Transformers wrote them
    shard_dir = tmp_path / "sharded"
    model.config.save_pretrained(shard_dir)
    arrays = state_arrays(model)
    keys = sorted(arrays)
    weight_map = {}
    for i, part in enumerate((keys[:3], keys[3:]), 1):
        name = f"pytorch_model-0000{i}-of-00002.bin"
        torch.save({k: torch.from_numpy(arrays[k]) for k in part}, shard_dir / name)
        weight_map.update({k: name for k in part})
    (shard_dir / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert_same_state(TinyModel.from_pretrained(shard_dir), model)


# ---- keys: prefixes, renames, missing / unexpected / mismatched --------------------------------------------------
def test_bare_checkpoint_into_head_model(tmp_path):
    base = tiny(num_labels=3)
    base.save_pretrained(tmp_path)
    with pytest.raises(RuntimeError) as info:
        TinyForClassification.from_pretrained(tmp_path)
    msg = str(info.value)
    assert "missing keys (2): classifier.weight, classifier.bias" in msg and "strict=False" in msg
    with pytest.warns(UserWarning, match="newly initialized: classifier.weight, classifier.bias"):
        head, info = TinyForClassification.from_pretrained(tmp_path, strict=False, output_loading_info=True)
    assert info == {"missing_keys": ["classifier.weight", "classifier.bias"], "unexpected_keys": [],
                    "mismatched_keys": []}
    assert_same_state(head.tiny, base)  # the prefix "tiny." was added to every checkpoint key


def test_head_checkpoint_into_bare_model_strips_prefix(tmp_path):
    head = TinyForClassification(TinyConfig())
    head.save_pretrained(tmp_path)
    with pytest.raises(RuntimeError, match=r"unexpected keys \(2\): classifier.weight, classifier.bias"):
        TinyModel.from_pretrained(tmp_path)
    with pytest.warns(UserWarning):
        bare = TinyModel.from_pretrained(tmp_path, strict=False)
    assert_same_state(bare, head.tiny)


def test_old_layernorm_names_and_custom_conversion(tmp_path):
    model = tiny()
    state = model.state_dict()
    state["norm.gamma"] = state.pop("norm.weight")
    state["norm.beta"] = state.pop("norm.bias")
    model.config.save_pretrained(tmp_path)
    zoo.save(dict(state), str(tmp_path / "model.safetensors"))
    assert_same_state(TinyModel.from_pretrained(tmp_path), model)

    class Renamed(TinyModel):
        def _convert_state_dict(self, state_dict):
            return super()._convert_state_dict({k.replace("proj.", "dense."): v for k, v in state_dict.items()})

    state = model.state_dict()
    state["proj.weight"], state["proj.bias"] = state.pop("dense.weight"), state.pop("dense.bias")
    zoo.save(dict(state), str(tmp_path / "model.safetensors"))
    assert_same_state(Renamed.from_pretrained(tmp_path), model)


def test_mismatched_shapes(tmp_path):
    tiny(hidden_size=6).save_pretrained(tmp_path)
    with pytest.raises(RuntimeError, match=r"size mismatch for dense.weight: checkpoint \(6, 6\), model \(4, 4\)"):
        TinyModel.from_pretrained(tmp_path, hidden_size=4)
    with pytest.raises(RuntimeError, match="ignore_mismatched_sizes=True"):
        TinyModel.from_pretrained(tmp_path, hidden_size=4, strict=False)
    with pytest.warns(UserWarning, match="newly initialized"):
        model, info = TinyModel.from_pretrained(tmp_path, hidden_size=4, strict=False, ignore_mismatched_sizes=True,
                                                output_loading_info=True)
    assert ("dense.weight", (6, 6), (4, 4)) in info["mismatched_keys"]
    assert model.config.hidden_size == 4


def test_keys_to_ignore(tmp_path):
    model = tiny()
    state = model.state_dict()
    state["rotary.inv_freq"] = zoo.ones(3)
    del state["scale"]
    model.config.save_pretrained(tmp_path)
    zoo.save(dict(state), str(tmp_path / "model.safetensors"))

    class Ignoring(TinyModel):
        _keys_to_ignore_on_load_missing = [r"^scale$"]
        _keys_to_ignore_on_load_unexpected = [r"inv_freq$"]

    loaded = Ignoring.from_pretrained(tmp_path)  # strict, but nothing left to report
    np.testing.assert_array_equal(loaded.dense.weight.detach().numpy(), model.dense.weight.detach().numpy())


# ---- dtype and device -------------------------------------------------------------------------------------------
def test_dtype_argument(tmp_path):
    model = tiny()
    model.save_pretrained(tmp_path)
    m64 = TinyModel.from_pretrained(tmp_path, dtype=zoo.float64)
    assert m64.dense.weight.dtype == zoo.float64 and m64.dtype == zoo.float64
    np.testing.assert_array_equal(m64.dense.weight.detach().numpy(), model.dense.weight.detach().numpy().astype(np.float64))
    assert TinyModel.from_pretrained(tmp_path, torch_dtype="float16").dense.weight.dtype == zoo.float16

    model.half().save_pretrained(tmp_path / "half")
    assert json.loads((tmp_path / "half" / "config.json").read_text())["torch_dtype"] == "float16"
    assert TinyModel.from_pretrained(tmp_path / "half").dense.weight.dtype == zoo.float32  # default: float32
    auto = TinyModel.from_pretrained(tmp_path / "half", dtype="auto")
    assert auto.dense.weight.dtype == zoo.float16
    np.testing.assert_array_equal(auto.dense.weight.detach().numpy(), model.dense.weight.detach().numpy())
    with pytest.raises(TypeError, match="floating point"):
        TinyModel.from_pretrained(tmp_path, dtype=zoo.int64)


def test_device_argument(tmp_path, device):
    model = tiny()
    model.save_pretrained(tmp_path)
    loaded = TinyModel.from_pretrained(tmp_path, device=device)
    assert loaded.device == zoo.device(device)
    assert all(p.device == zoo.device(device) for p in loaded.parameters())
    np.testing.assert_array_equal(loaded.dense.weight.detach().cpu().numpy(), model.dense.weight.detach().numpy())
    if device == "cuda":
        loaded.save_pretrained(tmp_path / "from-gpu")  # weights are copied back to the host to be saved
        assert_same_state(TinyModel.from_pretrained(tmp_path / "from-gpu"), model)


# ---- transformers reads what zoo writes, and the other way round (oracle) ---------------------------------------
class ParamHolderConfig(PretrainedConfig):
    model_type = "bert"


class ParamHolder(PreTrainedModel):
    """A model made only of parameters named and shaped as given: enough to check checkpoint interchange."""
    config_class = ParamHolderConfig
    base_model_prefix = "bert"

    def __init__(self, config, shapes):
        super().__init__(config)
        for name, shape in shapes.items():
            *path, leaf = name.split(".")
            module = self
            for part in path:
                if part not in module._modules:
                    module.add_module(part, nn.Module())
                module = module._modules[part]
            module.register_parameter(leaf, nn.Parameter(zoo.zeros(*shape)))


def tiny_bert_config(transformers):
    return transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=24, max_position_embeddings=32)


@pytest.mark.oracle
def test_transformers_loads_what_zoo_saves(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    hf_config = tiny_bert_config(transformers)
    torch.manual_seed(0)
    reference = {k: v.detach().numpy().copy() for k, v in transformers.BertModel(hf_config).state_dict().items()}
    model = ParamHolder(ParamHolderConfig.from_dict(hf_config.to_dict()), {k: v.shape for k, v in reference.items()})
    rng = np.random.default_rng(0)
    values = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in reference.items()}
    model.load_state_dict({k: zoo.tensor(v) for k, v in values.items()})
    model.save_pretrained(tmp_path)
    hf, info = transformers.BertModel.from_pretrained(str(tmp_path), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    for k, v in hf.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), values[k], err_msg=k)


@pytest.mark.oracle
def test_zoo_loads_what_transformers_saves(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    hf_config = tiny_bert_config(transformers)
    torch.manual_seed(0)
    hf = transformers.BertForMaskedLM(hf_config)  # a head model: its bare-model weights sit under "bert."
    hf.save_pretrained(str(tmp_path))
    bare = {k[len("bert."):]: v.detach().numpy() for k, v in hf.state_dict().items() if k.startswith("bert.")}
    shapes = {k: v.shape for k, v in bare.items() if not k.startswith("pooler.")}  # BertForMaskedLM has no pooler
    with pytest.warns(UserWarning, match="were not used"):  # its MLM head
        model = ParamHolder.from_pretrained(tmp_path, shapes, strict=False)
    for k in shapes:
        np.testing.assert_array_equal(model.state_dict()[k].numpy(), bare[k], err_msg=k)
    assert model.config.hidden_size == 16 and model.config.architectures == ["BertForMaskedLM"]
