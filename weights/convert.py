"""Declarative state-dict conversion: map a checkpoint's key names and layouts onto a zoo model's.

A :class:`Rules` object is data: exact renames, regex substitutions, drop patterns, splits of fused tensors
and per-key transforms. :func:`convert_state_dict` applies it to a source state dict, checks the result against
the target (a module or a ``{name: tensor | shape}`` dict) and returns the converted dict with a
:class:`ConversionReport` of everything that did not line up. :func:`load_converted` does both and loads.

For every source key, in this order:

1. ``drop``: source keys matching one of these regexes (whole key) are left out (``report.dropped``);
2. ``rename`` (exact source name → target name); keys not renamed go through every ``substitute``
   ``(pattern, replacement)`` in turn (``re.sub``; the replacement may be a function of the match);
3. ``base_prefix`` (Hugging Face ``base_model_prefix``, e.g. ``"bert"``): when the source has
   ``bert.``-prefixed keys and the target has none, the prefix is stripped; in the opposite case it is added
   to keys the target has under it;
4. ``split``: a key matching a :class:`Split` becomes several keys holding equal (or given) chunks;
5. ``transform``: a key matching a :class:`Transform` pattern gets ``fn(value, target_shape)``.

Then, with a target: converted keys the target lacks are *unmatched* (unless they match ``ignore_unexpected``),
target keys nothing maps to are *missing* (unless they match ``ignore_missing``), and keys whose shapes differ are
*shape mismatches*; two source keys landing on one name are *duplicates*. Only keys the target has, with the
right shape, stay in the converted dict. Values may be zoo tensors, NumPy arrays or anything with their
``reshape`` / ``permute`` (or ``transpose``) / slicing methods; they are not copied unless a transform must.
"""
import dataclasses
import re
from collections import OrderedDict
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["Rules", "Split", "Transform", "transpose", "reshape", "ConversionReport", "convert_state_dict",
           "load_converted", "hf_transformers", "torchvision_resnet", "hf_resnet", "lukemelas_efficientnet",
           "sb3_policy"]


@dataclasses.dataclass(frozen=True)
class Split:
    """Split the tensor under keys matching ``pattern`` along ``dim`` into one tensor per ``targets`` template
    (``re`` match templates such as ``r"\\1.q.weight"``); equal chunks unless ``sizes`` are given."""
    pattern: str
    targets: Tuple[str, ...]
    dim: int = 0
    sizes: Optional[Tuple[int, ...]] = None

    def __post_init__(self):
        object.__setattr__(self, "targets", tuple(self.targets))
        if self.sizes is not None:
            object.__setattr__(self, "sizes", tuple(self.sizes))
            if len(self.sizes) != len(self.targets):
                raise ValueError(f"Split {self.pattern!r}: {len(self.sizes)} sizes for {len(self.targets)} targets")


@dataclasses.dataclass(frozen=True)
class Transform:
    """Replace the value under (converted) keys matching ``pattern`` by ``fn(value, target_shape)``;
    ``target_shape`` is the target's shape for that key, or None when there is no target."""
    pattern: str
    fn: Callable


def _permute(value, axes):
    if hasattr(value, "permute"):
        return value.permute(*axes)
    return np.transpose(value, axes)


def transpose(*axes):
    """A transform reordering axes (default: reverse them, i.e. ``.T`` for matrices, e.g. GPT-2 Conv1D)."""
    def fn(value, target_shape):
        return _permute(value, axes or tuple(reversed(range(len(value.shape)))))
    fn.__qualname__ = f"transpose{axes or ''}"
    return fn


def reshape(*shape):
    """A transform reshaping to ``shape``, or to the target's shape when no shape is given."""
    def fn(value, target_shape):
        new = shape or target_shape
        if new is None:
            raise ValueError("reshape() with no shape needs a target to take the shape from")
        return value.reshape(tuple(new))
    fn.__qualname__ = f"reshape{shape or '(to target)'}"
    return fn


def _tuple(items):
    return tuple(tuple(i) if isinstance(i, list) else i for i in items)


@dataclasses.dataclass(frozen=True)
class Rules:
    """A key-mapping rule set (see the module docstring for the order rules apply in). ``a + b`` applies
    ``a``'s renames/substitutions/drops, then ``b``'s (later renames win; ``b``'s base_prefix if it has one)."""
    name: str = ""
    rename: Mapping[str, str] = dataclasses.field(default_factory=dict)
    substitute: Sequence[Tuple[str, Union[str, Callable]]] = ()
    drop: Sequence[str] = ()
    split: Sequence[Split] = ()
    transform: Sequence[Transform] = ()
    base_prefix: Optional[str] = None
    ignore_unexpected: Sequence[str] = ()
    ignore_missing: Sequence[str] = ()

    def __post_init__(self):
        for field in ("substitute", "drop", "split", "transform", "ignore_unexpected", "ignore_missing"):
            object.__setattr__(self, field, _tuple(getattr(self, field)))
        object.__setattr__(self, "rename", dict(self.rename))

    def __add__(self, other):
        if not isinstance(other, Rules):
            return NotImplemented
        return Rules(name=" + ".join(n for n in (self.name, other.name) if n),
                     rename={**self.rename, **other.rename},
                     substitute=self.substitute + other.substitute, drop=self.drop + other.drop,
                     split=self.split + other.split, transform=self.transform + other.transform,
                     base_prefix=other.base_prefix or self.base_prefix,
                     ignore_unexpected=self.ignore_unexpected + other.ignore_unexpected,
                     ignore_missing=self.ignore_missing + other.ignore_missing)

    def map_key(self, key):
        """The target name of one source key after drop / rename / substitute (None when dropped)."""
        if any(re.fullmatch(p, key) for p in self.drop):
            return None
        if key in self.rename:
            return self.rename[key]
        for pattern, repl in self.substitute:
            key = re.sub(pattern, repl, key)
        return key


@dataclasses.dataclass
class ConversionReport:
    """What a conversion did and what did not line up; ``ok`` when nothing needs attention."""
    rules: str = ""
    converted: int = 0
    dropped: list = dataclasses.field(default_factory=list)              # source keys removed by drop rules
    unexpected: list = dataclasses.field(default_factory=list)           # (source key, converted key)
    missing: list = dataclasses.field(default_factory=list)              # target keys
    mismatched: list = dataclasses.field(default_factory=list)           # (key, source key, got, expected)
    duplicates: list = dataclasses.field(default_factory=list)           # (converted key, [source keys])
    errors: list = dataclasses.field(default_factory=list)               # (source key, message)
    ignored_unexpected: list = dataclasses.field(default_factory=list)   # (source key, converted key)
    ignored_missing: list = dataclasses.field(default_factory=list)      # target keys

    @property
    def unmatched(self):
        """Source keys that map to nothing in the target."""
        return [s for s, _ in self.unexpected]

    @property
    def ok(self):
        return not (self.unexpected or self.missing or self.mismatched or self.duplicates or self.errors)

    def __str__(self):
        head = f"conversion{f' {self.rules!r}' if self.rules else ''}: {self.converted} tensors converted"
        extras = [f"{len(v)} {label}" for label, v in (("dropped by rule", self.dropped),
                                                      ("unexpected ignored", self.ignored_unexpected),
                                                      ("missing ignored", self.ignored_missing)) if v]
        head += (", " + ", ".join(extras) if extras else "") + (" - OK" if self.ok else " - PROBLEMS:")
        lines = [head]
        sections = [
            ("unmatched source keys", [f"{s} -> {c}" if s != c else s for s, c in self.unexpected]),
            ("missing target keys", list(self.missing)),
            ("shape mismatches", [f"{k}: source {s} has {tuple(g)}, target wants {tuple(e)}"
                                  for k, s, g, e in self.mismatched]),
            ("duplicates", [f"{k} <- {', '.join(srcs)}" for k, srcs in self.duplicates]),
            ("errors", [f"{s}: {m}" for s, m in self.errors]),
        ]
        for title, items in sections:
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(f"    {item}" for item in items[:20])
                if len(items) > 20:
                    lines.append(f"    ... and {len(items) - 20} more")
        return "\n".join(lines)


def _target_shapes(target):
    if target is None:
        return None
    if hasattr(target, "state_dict") and callable(target.state_dict):
        target = target.state_dict()
    shapes = OrderedDict()
    for k, v in target.items():
        shapes[k] = tuple(v.shape) if hasattr(v, "shape") else tuple(v)
    return shapes


def _align_prefix(items, prefix, shapes):
    """Hugging Face base_model_prefix handling: strip or add ``prefix.`` to match the target."""
    p = prefix + "."
    source_has = any(k.startswith(p) for _, k, _ in items)
    target_has = any(k.startswith(p) for k in shapes)
    if source_has and not target_has:
        return [(s, k[len(p):] if k.startswith(p) else k, v) for s, k, v in items]
    if target_has and not source_has:
        return [(s, p + k if p + k in shapes else k, v) for s, k, v in items]
    return items


def _chunk(value, dim, sizes):
    out, start = [], 0
    for n in sizes:
        index = (slice(None),) * dim + (slice(start, start + n),)
        out.append(value[index])
        start += n
    return out


def _apply_splits(items, splits, report):
    out = []
    for source, key, value in items:
        rule = next((r for r in splits if re.fullmatch(r.pattern, key)), None)
        if rule is None:
            out.append((source, key, value))
            continue
        m = re.fullmatch(rule.pattern, key)
        dim = rule.dim % len(value.shape)
        length = value.shape[dim]
        sizes = rule.sizes or ((length // len(rule.targets),) * len(rule.targets))
        if sum(sizes) != length:
            report.errors.append((source, f"cannot split dim {dim} of size {length} into {list(sizes)}"))
            continue
        for template, part in zip(rule.targets, _chunk(value, dim, sizes)):
            out.append((source, m.expand(template), part))
    return out


def convert_state_dict(src_state_dict, rules, target_module_or_state_dict=None):
    """Apply ``rules`` to ``src_state_dict``; returns ``(converted OrderedDict, ConversionReport)``.

    ``target_module_or_state_dict`` (a module, a state dict, or ``{name: shape}``) enables the checks and limits
    the converted dict to keys the target has with matching shapes. Without it every converted key is kept and
    only drops, duplicates and rule errors are reported.
    """
    rules = rules if rules is not None else Rules()
    report = ConversionReport(rules=rules.name)
    shapes = _target_shapes(target_module_or_state_dict)
    items = []
    for key, value in src_state_dict.items():
        new = rules.map_key(key)
        if new is None:
            report.dropped.append(key)
        else:
            items.append((key, new, value))
    if rules.base_prefix and shapes is not None:
        items = _align_prefix(items, rules.base_prefix, shapes)
    items = _apply_splits(items, rules.split, report)

    sources_of = OrderedDict()
    for source, key, _ in items:
        sources_of.setdefault(key, []).append(source)
    report.duplicates = [(k, s) for k, s in sources_of.items() if len(s) > 1]

    converted = OrderedDict()
    for source, key, value in items:
        if len(sources_of[key]) > 1:
            continue
        expected = shapes.get(key) if shapes is not None else None
        if shapes is not None and key not in shapes:
            if any(re.fullmatch(p, key) for p in rules.ignore_unexpected):
                report.ignored_unexpected.append((source, key))
            else:
                report.unexpected.append((source, key))
            continue
        rule = next((t for t in rules.transform if re.fullmatch(t.pattern, key)), None)
        if rule is not None:
            try:
                value = rule.fn(value, expected)
            except Exception as e:  # a rule that does not fit this tensor: report it, keep converting
                report.errors.append((source, f"transform {getattr(rule.fn, '__qualname__', rule.fn)} on {key} "
                                              f"failed: {type(e).__name__}: {e}"))
                continue
        if expected is not None and tuple(value.shape) != tuple(expected):
            report.mismatched.append((key, source, tuple(value.shape), tuple(expected)))
            continue
        converted[key] = value
    if shapes is not None:
        for key in shapes:
            if key not in sources_of:
                if any(re.fullmatch(p, key) for p in rules.ignore_missing):
                    report.ignored_missing.append(key)
                else:
                    report.missing.append(key)
    report.converted = len(converted)
    return converted, report


def load_converted(module, state_dict, rules, strict=True):
    """Convert ``state_dict`` for ``module`` and load it; returns the :class:`ConversionReport`.

    With ``strict`` any problem in the report raises a RuntimeError carrying the report, before anything is
    loaded. Without it, everything that lines up is loaded and the rest stays as initialised.
    """
    converted, report = convert_state_dict(state_dict, rules, module)
    if strict and not report.ok:
        raise RuntimeError(f"cannot load the converted state dict into {type(module).__name__}:\n{report}")
    module.load_state_dict(converted, strict=False)
    return report


# ---- rule sets for checkpoints zoo loads ------------------------------------------------------------------
_BN_COUNT = r"(.*\.)?num_batches_tracked"


def hf_transformers(base_model_prefix=None):
    """Hugging Face transformers checkpoints → zoo's transformers-named models.

    Names are identical, so the rules only do what ``from_pretrained`` does: align the ``base_model_prefix``
    (``"bert"``, ``"model"``, ``"transformer"``, ...) between a bare model and one with a head, rename the
    legacy ``LayerNorm.gamma`` / ``LayerNorm.beta``, and ignore the ``position_ids`` buffers older checkpoints
    carry when the target has none.
    """
    return Rules(name=f"hf-transformers{f'({base_model_prefix})' if base_model_prefix else ''}",
                 substitute=((r"LayerNorm\.gamma$", "LayerNorm.weight"), (r"LayerNorm\.beta$", "LayerNorm.bias")),
                 base_prefix=base_model_prefix,
                 ignore_unexpected=(r"(.*\.)?position_ids",))


def torchvision_resnet():
    """torchvision and timm ResNet checkpoints → zoo ResNet, which uses the same names (``conv1``, ``bn1``,
    ``layerN.B.convK`` / ``bnK``, ``layerN.B.downsample.0/1``, ``fc``). Strips a DataParallel ``module.``
    prefix and tolerates BatchNorm ``num_batches_tracked`` on either side only (pre-1.0 torchvision files)."""
    return Rules(name="torchvision-resnet", substitute=((r"^module\.", ""),),
                 ignore_unexpected=(_BN_COUNT,), ignore_missing=(_BN_COUNT,))


def _hf_resnet_stage(m):
    return f"layer{int(m.group(2)) + 1}.{m.group(3)}."


def _hf_resnet_conv(m):
    i = int(m.group(1)) + 1
    return f"conv{i}." if m.group(2) == "convolution" else f"bn{i}."


def hf_resnet():
    """Hugging Face ``ResNetForImageClassification`` (``microsoft/resnet-*``) → torchvision names:

    ``resnet.embedder.embedder.convolution`` → ``conv1``, ``...embedder.normalization`` → ``bn1``,
    ``resnet.encoder.stages.S.layers.B.layer.I.convolution`` / ``.normalization`` → ``layer{S+1}.B.conv{I+1}`` /
    ``bn{I+1}``, ``...shortcut.convolution`` / ``.normalization`` → ``layer{S+1}.B.downsample.0`` / ``.1``,
    ``classifier.1`` → ``fc``. A bare ``ResNetModel`` (no ``resnet.`` prefix) maps the same way.
    """
    return Rules(name="hf-resnet", substitute=(
        (r"^(resnet\.)?embedder\.embedder\.convolution\.", "conv1."),
        (r"^(resnet\.)?embedder\.embedder\.normalization\.", "bn1."),
        (r"^(resnet\.)?encoder\.stages\.(\d+)\.layers\.(\d+)\.", _hf_resnet_stage),
        (r"(?<=\.)layer\.(\d+)\.(convolution|normalization)\.", _hf_resnet_conv),
        (r"(?<=\.)shortcut\.convolution\.", "downsample.0."),
        (r"(?<=\.)shortcut\.normalization\.", "downsample.1."),
        (r"^classifier\.1\.", "fc."),
    ), ignore_unexpected=(_BN_COUNT,), ignore_missing=(_BN_COUNT,))


# lukemelas block layers -> timm names, for blocks with an expansion conv (MBConv) and without (depthwise-separable)
_EFFNET_EXPAND = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                  "_se_reduce": "se.conv_reduce", "_se_expand": "se.conv_expand", "_project_conv": "conv_pwl",
                  "_bn2": "bn3"}
_EFFNET_DS = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_se_reduce": "se.conv_reduce",
              "_se_expand": "se.conv_expand", "_project_conv": "conv_pw", "_bn2": "bn2"}


def _effnet_stages(source):
    """Block count per stage of a lukemelas EfficientNet, read from its state dict: a stage starts where a
    block's output channels (``_project_conv.weight`` rows) change, which holds for B0-B7 and Lite0-4."""
    outs = []
    n = 0
    while f"_blocks.{n}._project_conv.weight" in source:
        outs.append(source[f"_blocks.{n}._project_conv.weight"].shape[0])
        n += 1
    if not outs:
        raise ValueError("not a lukemelas EfficientNet state dict: no _blocks.N._project_conv.weight keys")
    stages = [1]
    for prev, cur in zip(outs, outs[1:]):
        if cur == prev:
            stages[-1] += 1
        else:
            stages.append(1)
    return tuple(stages)


def _effnet_layer(stage, block, table):
    def repl(m):
        return f"blocks.{stage}.{block}.{table.get(m.group(1), m.group(1))}."
    return repl


def lukemelas_efficientnet(source_state_dict=None, stage_repeats=None):
    """lukemelas ``EfficientNet-PyTorch`` (and EfficientNet-Lite ports) → timm-style names, zoo's choice:

    * ``_conv_stem`` → ``conv_stem``, ``_bn0`` → ``bn1``, ``_conv_head`` → ``conv_head``, ``_bn1`` → ``bn2``,
      ``_fc`` → ``classifier``;
    * ``_blocks.N.<layer>`` (one flat index) → ``blocks.S.B.<layer>`` (block B of stage S), where <layer> is
      for a block with an expansion conv (MBConv): ``_expand_conv`` → ``conv_pw``, ``_bn0`` → ``bn1``,
      ``_depthwise_conv`` → ``conv_dw``, ``_bn1`` → ``bn2``, ``_se_reduce`` / ``_se_expand`` →
      ``se.conv_reduce`` / ``se.conv_expand``, ``_project_conv`` → ``conv_pwl``, ``_bn2`` → ``bn3``;
      and for one without (depthwise-separable): ``_depthwise_conv`` → ``conv_dw``, ``_bn1`` → ``bn1``,
      ``_se_*`` as above, ``_project_conv`` → ``conv_pw``, ``_bn2`` → ``bn2``.

    The stage of block N comes from ``stage_repeats`` (e.g. ``(1, 2, 2, 3, 3, 4, 1)`` for B0 / Lite0) or is
    read from ``source_state_dict``, which also tells which blocks have an expansion conv; without a source,
    every block except those of stage 0 is taken to have one (true for B0-B7 and Lite0-4).
    """
    if stage_repeats is None:
        if source_state_dict is None:
            raise ValueError("lukemelas_efficientnet needs the source state dict or stage_repeats")
        stage_repeats = _effnet_stages(source_state_dict)
    substitute = [(r"^_conv_stem\.", "conv_stem."), (r"^_bn0\.", "bn1."), (r"^_conv_head\.", "conv_head."),
                  (r"^_bn1\.", "bn2."), (r"^_fc\.", "classifier.")]
    n = 0
    for stage, repeats in enumerate(stage_repeats):
        for block in range(repeats):
            if source_state_dict is not None:
                expands = f"_blocks.{n}._expand_conv.weight" in source_state_dict
            else:
                expands = stage > 0
            substitute.append((rf"^_blocks\.{n}\.(_\w+?)\.",
                               _effnet_layer(stage, block, _EFFNET_EXPAND if expands else _EFFNET_DS)))
            n += 1
    return Rules(name="lukemelas-efficientnet", substitute=substitute,
                 ignore_unexpected=(_BN_COUNT,), ignore_missing=(_BN_COUNT,))


def sb3_policy():
    """Stable-Baselines3 ``policy.pth`` → zoo.rl policies, which keep SB3's module names:
    ``mlp_extractor.policy_net.N`` / ``value_net.N``, ``action_net``, ``value_net``, ``log_std`` (PPO / A2C),
    ``q_net.q_net.N`` (DQN), ``actor.latent_pi.N`` / ``actor.mu`` / ``critic.qf0.N`` (SAC / TD3),
    ``features_extractor.*``. The target networks SB3 saves with the policy (``q_net_target``,
    ``critic_target``, ``actor_target``) are ignored when the zoo policy has none (inference only)."""
    return Rules(name="sb3-policy", ignore_unexpected=(r"(q_net_target|critic_target|actor_target)\..*",))
