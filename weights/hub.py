"""Hugging Face hub access through ``huggingface_hub`` (imported on first use, never at ``import zoo``).

Settings are read from the environment at each call, the way ``huggingface_hub`` documents them, so a change
made after start-up (a test's monkeypatch, a notebook cell) is honoured:

* cache: ``HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub`` (``~/.cache/...``);
  files are shared with ``transformers`` and every other hub client.
* offline: ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``): only the cache is used, nothing is fetched.
* token: ``HF_TOKEN``, else the one saved by ``hf auth login`` (for private and gated repos).
* revisions: a branch, tag or commit hash; pin a commit hash for reproducible weights.
"""
import os
import re

from .errors import WeightsNotFoundError

__all__ = ["hub_cache_dir", "hub_offline", "is_repo_id", "hub_file", "resolve_model_dir",
           "DEFAULT_MODEL_PATTERNS"]

# What from_pretrained needs: config, tokenizer / processor files and safetensors weights. PyTorch weights
# (FALLBACK_WEIGHT_PATTERNS) are fetched only when the repo has no safetensors, as transformers does.
DEFAULT_MODEL_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken")
FALLBACK_WEIGHT_PATTERNS = ("*.bin", "*.pth", "*.pt")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?")


def _truthy(value):
    return str(value).strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_cache_dir():
    """The Hugging Face hub cache folder in effect now."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return os.path.expanduser(os.path.expandvars(os.environ[var]))
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    return os.path.join(os.path.expanduser(os.path.expandvars(home)), "hub")


def hub_offline():
    """Whether HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) forbids network access now."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "0")


def _token():
    # None lets huggingface_hub fall back to the token saved by `hf auth login`.
    return os.environ.get("HF_TOKEN") or None


def is_repo_id(name):
    """Whether ``name`` has the shape of a hub repo id (``name`` or ``org/name``)."""
    return (isinstance(name, str) and bool(_REPO_ID.fullmatch(name)) and ".." not in name
            and "--" not in name and not name.endswith((".", "-")))


def _hf():
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError("zoo needs the huggingface_hub package to fetch weights from the Hugging Face hub: "
                          "pip install huggingface_hub") from None
    return huggingface_hub


def _describe(repo_id, revision, repo_type):
    kind = "" if repo_type in (None, "model") else f"{repo_type} "
    return f"{kind}repo {repo_id!r} at revision {revision or 'main'!r}"


def _hub_error(err, what, repo_id, revision, repo_type, fetch_hint):
    """Turn a huggingface_hub exception into a WeightsNotFoundError that says what is missing and what to do."""
    from huggingface_hub import errors as hf_errors
    where = _describe(repo_id, revision, repo_type)
    if isinstance(err, hf_errors.LocalEntryNotFoundError):
        if hub_offline():
            reason = (f"HF_HUB_OFFLINE is set and the Hugging Face cache ({hub_cache_dir()}) does not have {what} of "
                      f"{where}. Fetch it once with network access: {fetch_hint}, or unset HF_HUB_OFFLINE.")
        else:
            reason = (f"the Hugging Face hub could not be reached and the cache ({hub_cache_dir()}) does not have "
                      f"{what} of {where}. Check the network, then fetch it: {fetch_hint}.")
    elif isinstance(err, hf_errors.RevisionNotFoundError):
        reason = f"{where}: that revision does not exist on the hub."
    elif isinstance(err, hf_errors.RepositoryNotFoundError):  # also GatedRepoError
        reason = (f"{where}: no such repo on the hub, or it is private or gated: accept its terms on the hub and "
                  "set HF_TOKEN (or run `hf auth login`).")
    elif isinstance(err, hf_errors.EntryNotFoundError):
        reason = f"{where} has no {what}."
    else:
        reason = f"fetching {what} of {where} failed: {type(err).__name__}: {err}"
    return WeightsNotFoundError(reason)


def _hf_call(fn, what, repo_id, revision, repo_type, fetch_hint, **kwargs):
    from huggingface_hub import errors as hf_errors
    try:
        return fn(repo_id, revision=revision, repo_type=repo_type, cache_dir=hub_cache_dir(), token=_token(),
                  local_files_only=hub_offline(), **kwargs)
    except hf_errors.HFValidationError as e:
        raise ValueError(f"{repo_id!r} is not a valid Hugging Face repo id: {e}") from None
    except (OSError, hf_errors.EntryNotFoundError, hf_errors.OfflineModeIsEnabled) as e:
        raise _hub_error(e, what, repo_id, revision, repo_type, fetch_hint) from e


def hub_file(repo_id, filename, *, revision=None, subfolder=None, repo_type="model", force_download=False,
             fetch_hint=None):
    """Local path of ``filename`` from a hub repo: the cache when it has it, else a download (``hf_hub_download``).

    Raises :class:`WeightsNotFoundError` naming the file, repo and revision, and how to get it (``fetch_hint``,
    by default the ``hf download`` command), when it is neither cached nor downloadable.
    """
    hf = _hf()
    path_in_repo = f"{subfolder.strip('/')}/{filename}" if subfolder else filename
    if fetch_hint is None:
        rev = f" --revision {revision}" if revision else ""
        kind = f" --repo-type {repo_type}" if repo_type not in (None, "model") else ""
        fetch_hint = f"`hf download {repo_id} {path_in_repo}{rev}{kind}`"
    return _hf_call(hf.hf_hub_download, f"file {path_in_repo!r}", repo_id, revision, repo_type, fetch_hint,
                    filename=path_in_repo, force_download=force_download)


def resolve_model_dir(id_or_path, revision=None, allow_patterns=None, *, force_download=False):
    """A local directory holding a model's ``config.json`` and weights, for ``from_pretrained``.

    A local directory is returned as is. Otherwise ``id_or_path`` is a hub repo id and its files are taken from
    the hub cache or downloaded (``snapshot_download``, honouring ``revision`` and ``HF_HUB_OFFLINE``). With the
    default ``allow_patterns`` only config, tokenizer/processor and safetensors files are fetched, plus PyTorch
    ``*.bin`` / ``*.pth`` weights when the repo has no safetensors; the snapshot must hold ``config.json``.
    Explicit ``allow_patterns`` are used as given, with no such checks.
    """
    path = os.fspath(id_or_path)
    if os.path.isdir(path):
        return path
    if os.path.exists(path):
        raise NotADirectoryError(f"{path} is a file: from_pretrained expects a model directory (holding "
                                 "config.json) or a Hugging Face hub repo id")
    if not is_repo_id(path):
        raise WeightsNotFoundError(f"no model directory {path!r}, and it is not a Hugging Face hub repo id "
                                   "('name' or 'org/name') either")
    hf = _hf()
    rev = f" --revision {revision}" if revision else ""
    hint = f"`zoo download {path}{rev}` (or `hf download {path}{rev}`)"

    def snapshot(patterns):
        return _hf_call(hf.snapshot_download, "a snapshot", path, revision, "model", hint,
                        allow_patterns=list(patterns), force_download=force_download)

    folder = snapshot(DEFAULT_MODEL_PATTERNS if allow_patterns is None else allow_patterns)
    if allow_patterns is None:
        if not _has_weights(folder):
            folder = snapshot(FALLBACK_WEIGHT_PATTERNS)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise WeightsNotFoundError(f"{_describe(path, revision, 'model')}: the snapshot in {folder} has no "
                                       f"config.json. Fetch the full model with {hint}"
                                       + (", with HF_HUB_OFFLINE unset." if hub_offline() else "."))
    return folder


def _has_weights(folder):
    for _root, _dirs, files in os.walk(folder):
        if any(f.endswith(_WEIGHT_SUFFIXES) for f in files):
            return True
    return False
