"""Reading Stable-Baselines3 model zips without torch and without unpickling.

An SB3 zip holds ``data`` (JSON; values JSON cannot hold are cloudpickled under ``":serialized:"``, usually with
readable fields next to them), ``policy.pth`` (a ``torch.save`` state dict, read by ``zoo.load``'s restricted
unpickler) and optimizer / version files. From ``data`` only the plain JSON fields are used; the few facts that
exist only inside a pickle (the policy class name, ``train_freq``) are read by *disassembling* it with
:mod:`pickletools` (``genops`` lists opcodes and constants; nothing is imported or executed). Layer widths are read
from the weights' shapes.
"""
import base64
import json
import pickletools
import re
import warnings

import numpy as np

from .. import core as zoo

__all__ = ["read_sb3_zip", "pickle_constants"]

_POLICIES = {  # SB3 policy class -> (zoo policy class, algorithm family)
    "ActorCriticPolicy": "ActorCriticPolicy", "ActorCriticCnnPolicy": "ActorCriticCnnPolicy",
    "DQNPolicy": "DQNPolicy", "CnnPolicy": "CnnDQNPolicy", "MlpPolicy": "DQNPolicy",
}
_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "ELU": "elu", "LeakyReLU": "leaky_relu", "GELU": "gelu",
                "SiLU": "silu", "Sigmoid": "sigmoid"}


# opcodes whose argument is pickle bookkeeping (protocol, frame size, memo index), not a value of the object
_BOOKKEEPING = {"PROTO", "FRAME", "PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}


def pickle_constants(b64):
    """The string and number constants of a base64 pickle, in order, found by disassembly (never executed)."""
    try:
        raw = base64.b64decode(b64)
        return [arg for op, arg, _ in pickletools.genops(raw) if op.name not in _BOOKKEEPING
                and isinstance(arg, (str, int, float)) and not isinstance(arg, bool)]
    except Exception:
        return []


def _class_name(field):
    """``"<class 'torch.nn.modules.activation.ReLU'>"`` -> ``"ReLU"``."""
    if isinstance(field, dict):
        field = field.get(":type:", "")
    m = re.search(r"'([\w.]+)'", str(field))
    return m.group(1).rsplit(".", 1)[-1] if m else None


def _parse_array(text, shape, dtype):
    if not isinstance(text, str) or "..." in text:
        return None
    tokens = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    try:
        values = np.array([float(t) for t in tokens], np.float64)
    except ValueError:
        return None
    if values.size == 1 and int(np.prod(shape)) != 1:
        values = np.full(shape, values[0])
    if values.size != int(np.prod(shape)):
        return None
    return values.reshape(shape)


def _space(field, name, path):
    kind = _class_name(field)
    if kind == "Discrete":
        return {"type": "Discrete", "n": int(field["n"]), "start": int(field.get("start", 0))}
    if kind == "Box":
        shape = tuple(field["_shape"])
        dtype = str(field["dtype"])
        low = _parse_array(field.get("low"), shape, dtype)
        high = _parse_array(field.get("high"), shape, dtype)
        if low is None or high is None:  # numpy summarised a big array ("...")
            if dtype == "uint8":
                low, high = np.zeros(shape), np.full(shape, 255.0)
            else:
                low, high = np.full(shape, -np.inf), np.full(shape, np.inf)
        from .common import _floats_to_json
        return {"type": "Box", "shape": list(shape), "dtype": dtype, "low": _floats_to_json(low),
                "high": _floats_to_json(high)}
    raise NotImplementedError(f"{path}: {name} is a {kind} space; zoo.rl supports Box and Discrete")


def _schedule(field, fallback, name, path):
    """A zoo schedule description from an SB3 float or FloatSchedule / LinearSchedule entry."""
    if isinstance(field, (int, float)) and not isinstance(field, bool):
        return {"type": "constant", "value": float(field)}
    if isinstance(field, dict):
        text = str(field.get("value_schedule", ""))
        m = re.fullmatch(r"ConstantSchedule\(val=([-+0-9.eE]+)\)", text)
        if m:
            return {"type": "constant", "value": float(m.group(1))}
        m = re.fullmatch(r"LinearSchedule\(start=([-+0-9.eE]+), end=([-+0-9.eE]+), end_fraction=([-+0-9.eE]+)\)",
                         text)
        if m:
            return {"type": "linear", "start": float(m.group(1)), "end": float(m.group(2)),
                    "end_fraction": float(m.group(3))}
        if all(k in field for k in ("start", "end", "end_fraction")):
            return {"type": "linear", "start": float(field["start"]), "end": float(field["end"]),
                    "end_fraction": float(field["end_fraction"])}
    if fallback is None:
        return None
    warnings.warn(f"{path}: {name} is a pickled function zoo cannot read without running it; using "
                  f"{fallback} (pass custom_objects={{{name!r}: ...}} to load() to set it)")
    return {"type": "constant", "value": float(fallback)}


def _policy_class(data, path):
    field = data.get("policy_class")
    names = pickle_constants(field.get(":serialized:", "")) if isinstance(field, dict) else []
    for name in names:
        if isinstance(name, str) and name in _POLICIES:
            return name
    raise NotImplementedError(f"{path}: the SB3 policy class ({[n for n in names if isinstance(n, str)]}) is not "
                              f"one zoo.rl supports ({', '.join(_POLICIES)})")


def _algorithm(data):
    if "exploration_rate" in data or "target_update_interval" in data:
        return "DQN"
    if "clip_range" in data:
        return "PPO"
    if "n_steps" in data and "gae_lambda" in data:
        return "A2C"
    return None


def _layer_widths(state, prefix):
    """Output widths of the Linear layers ``<prefix>.<i>.weight``, in order."""
    layers = sorted((int(m.group(1)), tuple(v.shape)) for k, v in state.items()
                    for m in [re.fullmatch(re.escape(prefix) + r"\.(\d+)\.weight", k)] if m)
    return [shape[0] for _, shape in layers]


def _policy_kwargs(data, state, family, sb3_policy):
    plain = data.get("policy_kwargs") or {}
    plain = {k: v for k, v in plain.items() if not k.startswith(":")}
    kwargs = {}
    act = plain.get("activation_fn")
    if act is not None:
        name = _class_name(act)
        if name not in _ACTIVATIONS:
            raise NotImplementedError(f"activation {name} is not supported by zoo.rl ({', '.join(_ACTIVATIONS)})")
        kwargs["activation_fn"] = _ACTIVATIONS[name]
    if "normalize_images" in plain:
        kwargs["normalize_images"] = bool(plain["normalize_images"])
    extractor = _class_name(plain["features_extractor_class"]) if "features_extractor_class" in plain else None
    if extractor not in (None, "FlattenExtractor", "NatureCNN"):
        raise NotImplementedError(f"features extractor {extractor} is not supported by zoo.rl")
    if "features_extractor_kwargs" in plain and isinstance(plain["features_extractor_kwargs"], dict):
        fek = {k: v for k, v in plain["features_extractor_kwargs"].items() if not k.startswith(":")}
        if fek:
            kwargs["features_extractor_kwargs"] = fek
    if "optimizer_class" in plain:
        kwargs["optimizer_class"] = _class_name(plain["optimizer_class"])
    if isinstance(plain.get("optimizer_kwargs"), dict):
        kwargs["optimizer_kwargs"] = {k: v for k, v in plain["optimizer_kwargs"].items() if not k.startswith(":")}
    if family == "DQN":
        widths = _layer_widths(state, "q_net.q_net")
        kwargs["net_arch"] = widths[:-1]
    else:
        kwargs["net_arch"] = dict(pi=_layer_widths(state, "mlp_extractor.policy_net"),
                                  vf=_layer_widths(state, "mlp_extractor.value_net"))
        kwargs["share_features_extractor"] = bool(plain.get("share_features_extractor", True))
        kwargs["ortho_init"] = False
        if "log_std" in state and tuple(state["log_std"].shape) != (int(np.prod(state["action_net.weight"].shape[:1])),):
            raise NotImplementedError("this SB3 model uses gSDE (a log_std matrix), which zoo.rl does not support")
    return kwargs


def read_sb3_zip(zf, path, expected=None):
    """``(data, state_dict)`` from an open SB3 ``ZipFile``: ``data`` in zoo.rl's ``data.json`` layout."""
    try:
        raw = json.loads(zf.read("data"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the SB3 'data' entry is not JSON ({e}); models saved by SB3 < 1.0 are not "
                         "supported") from None
    family = _algorithm(raw)
    if family is None:
        raise NotImplementedError(f"{path}: not a PPO, A2C or DQN model (zoo.rl reads these SB3 algorithms)")
    if expected is not None and family != expected:
        raise ValueError(f"{path} holds an SB3 {family} model; load it with zoo.rl.{family}.load")
    if raw.get("use_sde"):
        raise NotImplementedError(f"{path}: the model was trained with gSDE (use_sde=True), which zoo.rl does not "
                                  "support")
    sb3_policy = _policy_class(raw, path)
    state = zoo.load(_BytesIO(zf.read("policy.pth")))
    data = {"format": "zoo.rl", "version": 1, "algorithm": family, "policy_class": _POLICIES[sb3_policy],
            "observation_space": _space(raw["observation_space"], "observation_space", path),
            "action_space": _space(raw["action_space"], "action_space", path),
            "n_envs": int(raw.get("n_envs", 1)), "env_id": None, "seed": raw.get("seed"),
            "num_timesteps": int(raw.get("num_timesteps", 0)), "_n_updates": int(raw.get("_n_updates", 0)),
            "source": "stable-baselines3"}
    data["policy_kwargs"] = _policy_kwargs(raw, state, family, sb3_policy)
    lr = raw.get("learning_rate")
    data["learning_rate"] = _schedule(lr if isinstance(lr, (int, float)) else raw.get("lr_schedule"), 3e-4,
                                      "learning_rate", path)
    plain = lambda *names: {n: raw[n] for n in names if n in raw and not isinstance(raw[n], dict)}  # noqa: E731
    if family == "PPO":
        data.update(plain("n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "normalize_advantage",
                          "ent_coef", "vf_coef", "max_grad_norm", "target_kl"))
        data["clip_range"] = _schedule(raw.get("clip_range"), 0.2, "clip_range", path)
        if raw.get("clip_range_vf") is not None:
            data["clip_range_vf"] = _schedule(raw["clip_range_vf"], None, "clip_range_vf", path)
    elif family == "A2C":
        data.update(plain("n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm",
                          "normalize_advantage"))
        opt = data["policy_kwargs"].get("optimizer_class")
        data["use_rms_prop"] = opt == "RMSprop"
        eps = data["policy_kwargs"].get("optimizer_kwargs", {}).get("eps")
        if eps is not None:
            data["rms_prop_eps"] = eps
    else:
        data.update(plain("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "gradient_steps",
                          "target_update_interval", "exploration_fraction", "exploration_initial_eps",
                          "exploration_final_eps", "max_grad_norm"))
        consts = pickle_constants(raw["train_freq"].get(":serialized:", "")) if isinstance(raw.get("train_freq"),
                                                                                            dict) else []
        freq = next((c for c in consts if isinstance(c, int)), None)
        unit = next((c for c in consts if c in ("step", "episode")), "step")
        if freq is not None:
            data["train_freq"] = [freq, unit]
    return data, state


def _BytesIO(payload):  # noqa: N802
    import io
    return io.BytesIO(payload)
