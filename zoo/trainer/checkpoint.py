"""Trainer checkpoints: RNG snapshots, atomic file writes, and reading a checkpoint back with clear errors.

A checkpoint is a nested dict written with ``zoo.save`` (safetensors; the plain values travel in its JSON
metadata), so it can be opened with ``zoo.load`` anywhere. Its keys:

``format``           ``"zoo.trainer/1"``
``epoch``            the epoch to resume in, ``batch_idx`` the number of its batches already trained on
``global_step``      optimizer steps taken so far
``state_dict``       the model's weights (the only entry besides the counters when ``weights_only``)
``optimizer_states`` / ``lr_schedulers``  lists of state dicts (one optimizer, zero or one scheduler)
``grad_scaler``      the GradScaler state ("16-mixed" only)
``rng``              the random states at the moment of saving (see :func:`capture_rng`)
``epoch_rng``        the random states at the start of the current epoch, present when ``batch_idx > 0``: a
                     resumed run replays them to rebuild the same shuffled order, skips the consumed batches,
                     then restores ``rng``
``loop``             the trainer's running sums of the current epoch and how many metric rows were logged
``callbacks``        ``{callback.state_key: callback.state_dict()}``
"""
import hashlib
import os
import random
import shutil

import numpy as np

import zoo
from zoo.core.random import Generator, generator_for
from zoo.core.serialization import atomic_write

__all__ = ["FORMAT", "capture_rng", "restore_rng", "loader_generators", "atomic_write", "atomic_copy",
           "load_checkpoint"]

FORMAT = "zoo.trainer/1"


# --- random states ----------------------------------------------------------------------------------------------

def loader_generators(loader):
    """The cpu ``zoo.Generator`` objects a DataLoader draws its order from (its own, its sampler's), if any."""
    found = []
    batch_sampler = getattr(loader, "batch_sampler", None)
    for owner in (loader, getattr(loader, "sampler", None), getattr(batch_sampler, "sampler", None)):
        g = getattr(owner, "generator", None)
        if isinstance(g, Generator) and g.device.type == "cpu" and all(g is not f for f in found):
            found.append(g)
    return found


def capture_rng(generators=(), device=None):
    """Every random state a training step can draw from: zoo's default cpu generator, NumPy's and Python's global
    ones, and ``generators`` (those of the train DataLoader).

    The state of a CUDA generator cannot be read, so on a cuda ``device`` its generator is re-seeded here from a
    hash of the cpu state; restoring re-seeds it the same way, and the resumed stream matches the original one
    from the checkpoint on (both runs re-seed at every checkpoint they write)."""
    np_state = np.random.get_state(legacy=False)
    py_version, py_words, py_gauss = random.getstate()
    state = {
        "zoo": zoo.get_rng_state(),
        "numpy": {"bit_generator": np_state["bit_generator"],
                  "key": zoo.from_numpy(np.asarray(np_state["state"]["key"], dtype=np.int64)),
                  "pos": int(np_state["state"]["pos"]), "has_gauss": int(np_state["has_gauss"]),
                  "gauss": float(np_state["gauss"])},
        "python": {"version": py_version, "state": zoo.from_numpy(np.asarray(py_words, dtype=np.int64)),
                   "gauss_next": py_gauss},
        "loader": [g.get_state() for g in generators],
    }
    if device is not None and zoo.device(device).type == "cuda":
        digest = hashlib.sha256(state["zoo"].numpy().tobytes()).digest()
        state["cuda_seed"] = int.from_bytes(digest[:8], "little") >> 1
        generator_for(zoo.device(device)).manual_seed(state["cuda_seed"])
    return state


def restore_rng(state, generators=(), device=None):
    """Put back what :func:`capture_rng` took."""
    zoo.set_rng_state(state["zoo"])
    npst = state["numpy"]
    np.random.set_state({"bit_generator": npst["bit_generator"],
                         "state": {"key": np.asarray(npst["key"].numpy(), dtype=np.uint32), "pos": npst["pos"]},
                         "has_gauss": npst["has_gauss"], "gauss": npst["gauss"]})
    py = state["python"]
    random.setstate((py["version"], tuple(int(w) for w in py["state"].numpy()), py["gauss_next"]))
    saved = state.get("loader", [])
    if len(saved) != len(generators):
        raise RuntimeError(f"the checkpoint holds the states of {len(saved)} DataLoader generator(s), but the train "
                           f"DataLoader given to fit() has {len(generators)}: resume with the same kind of "
                           f"DataLoader (same shuffle / generator / sampler) as the original run")
    for g, s in zip(generators, saved):
        g.set_state(s)
    if "cuda_seed" in state and device is not None and zoo.device(device).type == "cuda":
        generator_for(zoo.device(device)).manual_seed(state["cuda_seed"])


# --- files ------------------------------------------------------------------------------------------------------

def atomic_copy(src, dst):
    """Copy ``src`` to ``dst`` atomically (used for ``last.ckpt`` when the same state was just written)."""
    with open(src, "rb") as fin:
        atomic_write(dst, lambda fout: shutil.copyfileobj(fin, fout, 1 << 20))


def load_checkpoint(path):
    """Read a trainer checkpoint (on the cpu); errors name the file and what is wrong with it."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    ckpt = zoo.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        keys = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{path} is not a zoo.Trainer checkpoint (no 'state_dict' entry; found {keys})")
    fmt = ckpt.get("format")
    if fmt is not None and fmt != FORMAT:
        raise ValueError(f"{path}: checkpoint format {fmt!r} is not supported (this zoo reads {FORMAT!r})")
    return ckpt
