"""Audio datasets (≈ torchaudio.datasets): :class:`AudioFolder`, :class:`FSDD` (Free Spoken Digit Dataset) and
:class:`SpeechCommands` (Google Speech Commands v0.02). Items are tuples, as torchaudio's datasets return them,
with the waveform as a float32 zoo tensor ``[channels, frames]``; ``transform`` is applied to the waveform and
``target_transform`` to the label.

Downloads go through ``urllib`` (any ``http(s)://`` or ``file://`` URL), into a temporary file that is renamed
only when complete, then extracted with safe member paths.
"""
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile

from ..core.data import Dataset
from .io import load

__all__ = ["AudioFolder", "FSDD", "SpeechCommands", "download_url", "AUDIO_EXTENSIONS"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".au")


def download_url(url, dest, timeout=60.0, progress=True):
    """Download ``url`` to the file ``dest`` (atomically: a partial download never takes its name)."""
    folder = os.path.dirname(os.path.abspath(dest))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                resp = urllib.request.urlopen(url, timeout=timeout)
            except Exception as e:
                raise RuntimeError(f"downloading {url} failed: {e}") from e
            with resp:
                total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                bar = None
                if progress:
                    from tqdm.auto import tqdm
                    bar = tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                               desc=os.path.basename(dest), disable=None, leave=False)
                while True:
                    block = resp.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
                    if bar is not None:
                        bar.update(len(block))
                if bar is not None:
                    bar.close()
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return dest


def _safe_target(root, name):
    target = os.path.realpath(os.path.join(root, name))
    if not (target == os.path.realpath(root) or target.startswith(os.path.realpath(root) + os.sep)):
        raise RuntimeError(f"the archive member {name!r} would be extracted outside {root}; refusing it")
    return target


def _extract(archive, root, select=None):
    """Extract the members of a zip or tar archive that ``select(name)`` maps to a relative path (None: skip)."""
    select = select or (lambda name: name)
    n = 0
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for m in z.infolist():
                rel = None if m.is_dir() else select(m.filename)
                if rel is None:
                    continue
                target = _safe_target(root, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with z.open(m) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                n += 1
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for m in t:
                rel = select(m.name) if m.isfile() else None
                if rel is None:
                    continue
                target = _safe_target(root, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with t.extractfile(m) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                n += 1
    else:
        raise RuntimeError(f"{archive} is neither a zip nor a tar archive")
    return n


class AudioFolder(Dataset):
    """Audio files sorted into one folder per class (``root/<class>/<file>.wav``), like torchvision's
    ImageFolder: items are ``(waveform, sample_rate, class_index)``; ``classes`` and ``class_to_idx`` give the
    (sorted) class names. ``extensions`` picks the files; ``transform`` maps the waveform, ``target_transform``
    the class index."""

    def __init__(self, root, transform=None, target_transform=None, extensions=AUDIO_EXTENSIONS):
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"AudioFolder: {self.root} is not a directory")
        self.classes = sorted(d.name for d in os.scandir(self.root) if d.is_dir() and not d.name.startswith("."))
        if not self.classes:
            raise FileNotFoundError(f"AudioFolder: {self.root} has no class folders (expected root/<class>/<file>)")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        exts = tuple(e.lower() for e in extensions)
        self.samples = []
        for c in self.classes:
            for dirpath, _, files in sorted(os.walk(os.path.join(self.root, c))):
                for f in sorted(files):
                    if f.lower().endswith(exts):
                        self.samples.append((os.path.join(dirpath, f), self.class_to_idx[c]))
        if not self.samples:
            raise FileNotFoundError(f"AudioFolder: no audio files ({', '.join(exts)}) under {self.root}")
        self.targets = [t for _, t in self.samples]
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        waveform, sr = load(path)
        if self.transform is not None:
            waveform = self.transform(waveform)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return waveform, sr, target


_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")


class FSDD(Dataset):
    """Free Spoken Digit Dataset (github.com/Jakobovski/free-spoken-digit-dataset): 8 kHz mono recordings of the
    digits 0-9, files ``recordings/{digit}_{speaker}_{index}.wav``.

    ``split``: ``"test"`` is the dataset's own test split (recordings with index 0-4), ``"train"`` the rest
    (index >= 5), None all. ``root`` holds ``recordings/`` (or is that folder). Items are
    ``(waveform, sample_rate, digit, speaker, index)``. ``download=True`` fetches the repository archive from
    ``url`` (GitHub by default) when the recordings are not there yet.
    """

    url = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
    classes = [str(d) for d in range(10)]

    def __init__(self, root, split="train", download=False, transform=None, target_transform=None, url=None,
                 timeout=60.0):
        if split not in ("train", "test", None):
            raise ValueError(f"FSDD: split must be 'train', 'test' or None, got {split!r}")
        self.root = os.fspath(root)
        self.split = split
        self.transform, self.target_transform = transform, target_transform
        folder = self._folder()
        if folder is None and download:
            self.download(url or self.url, timeout)
            folder = self._folder()
        if folder is None:
            raise FileNotFoundError(f"FSDD: no recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {self.root} or "
                                    f"{os.path.join(self.root, 'recordings')}; pass download=True to fetch them")
        self.folder = folder
        self.samples = []
        for name in sorted(os.listdir(folder)):
            m = _FSDD_NAME.match(name)
            if not m:
                continue
            digit, speaker, index = int(m.group(1)), m.group(2), int(m.group(3))
            if split == "test" and index > 4 or split == "train" and index <= 4:
                continue
            self.samples.append((os.path.join(folder, name), digit, speaker, index))
        self.samples.sort(key=lambda s: (s[1], s[2], s[3]))
        if not self.samples:
            raise FileNotFoundError(f"FSDD: no recordings of the {split} split in {folder}")
        self.targets = [s[1] for s in self.samples]

    def _folder(self):
        for cand in (os.path.join(self.root, "recordings"), self.root):
            if os.path.isdir(cand) and any(_FSDD_NAME.match(n) for n in os.listdir(cand)):
                return cand
        return None

    def download(self, url, timeout=60.0):
        os.makedirs(self.root, exist_ok=True)
        archive = os.path.join(self.root, "fsdd-archive.zip")
        download_url(url, archive, timeout=timeout)

        def select(name):
            parts = name.split("/")
            if len(parts) >= 2 and parts[-2] == "recordings" and _FSDD_NAME.match(parts[-1]):
                return os.path.join("recordings", parts[-1])
            return None

        try:
            n = _extract(archive, self.root, select)
        finally:
            os.remove(archive)
        if n == 0:
            raise RuntimeError(f"FSDD: the archive from {url} holds no recordings/*.wav files")

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, digit, speaker, idx = self.samples[index]
        waveform, sr = load(path)
        if self.transform is not None:
            waveform = self.transform(waveform)
        if self.target_transform is not None:
            digit = self.target_transform(digit)
        return waveform, sr, digit, speaker, idx


_HASH = "_nohash_"


class SpeechCommands(Dataset):
    """Google Speech Commands v0.02 (torchaudio's SPEECHCOMMANDS layout): ``root/SpeechCommands/
    speech_commands_v0.02/<label>/<speaker>_nohash_<n>.wav``, with ``validation_list.txt`` and
    ``testing_list.txt`` naming the validation and test files. ``subset``: None (everything), ``"training"``
    (files in neither list), ``"validation"`` or ``"testing"``. The ``_background_noise_`` folder is left out.
    Items are ``(waveform, sample_rate, label, speaker_id, utterance_number)``."""

    url = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"

    def __init__(self, root, url="speech_commands_v0.02", folder_in_archive="SpeechCommands", download=False,
                 subset=None, transform=None, target_transform=None, timeout=600.0):
        if subset not in (None, "training", "validation", "testing"):
            raise ValueError(f"SpeechCommands: subset must be None, 'training', 'validation' or 'testing', got "
                             f"{subset!r}")
        self.root = os.fspath(root)
        if url in ("speech_commands_v0.01", "speech_commands_v0.02"):
            base = url
            url = f"http://download.tensorflow.org/data/{url}.tar.gz"
        else:
            base = os.path.basename(url.split("?")[0])
            for ext in (".tar.gz", ".tgz", ".tar", ".zip"):
                if base.endswith(ext):
                    base = base[:-len(ext)]
        self.path = os.path.join(self.root, folder_in_archive, base)
        self.transform, self.target_transform = transform, target_transform
        if not os.path.isdir(self.path) and download:
            os.makedirs(self.path, exist_ok=True)
            archive = os.path.join(self.root, folder_in_archive, base + ".archive")
            download_url(url, archive, timeout=timeout)
            try:
                _extract(archive, self.path, lambda name: name[2:] if name.startswith("./") else name)
            finally:
                os.remove(archive)
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"SpeechCommands: {self.path} does not exist; pass download=True to fetch it")

        def read_list(name):
            p = os.path.join(self.path, name)
            if not os.path.isfile(p):
                raise FileNotFoundError(f"SpeechCommands: {p} is missing (the v0.02 layout has validation_list.txt "
                                        "and testing_list.txt)")
            with open(p, encoding="utf-8") as f:
                return [os.path.normpath(line.strip()) for line in f if line.strip()]

        if subset in ("validation", "testing"):
            files = read_list("validation_list.txt" if subset == "validation" else "testing_list.txt")
        else:
            files = []
            for label in sorted(os.listdir(self.path)):
                d = os.path.join(self.path, label)
                if not os.path.isdir(d) or label.startswith("_") or label.startswith("."):
                    continue
                files.extend(os.path.join(label, f) for f in sorted(os.listdir(d)) if f.lower().endswith(".wav"))
            if subset == "training":
                held_out = set(read_list("validation_list.txt")) | set(read_list("testing_list.txt"))
                files = [f for f in files if os.path.normpath(f) not in held_out]
        self._walker = [os.path.join(self.path, f) for f in files]
        missing = [p for p in self._walker[:1000] if not os.path.isfile(p)]
        if missing:
            raise FileNotFoundError(f"SpeechCommands: {len(missing)} file(s) named by the {subset} list are missing, "
                                    f"e.g. {missing[0]}")

    def get_metadata(self, n):
        """``(relative path, sample_rate, label, speaker_id, utterance_number)`` without reading the audio
        (the sample rate is read from the header)."""
        from .io import info
        path = self._walker[n]
        rel = os.path.relpath(path, self.path)
        label = os.path.basename(os.path.dirname(path))
        stem = os.path.splitext(os.path.basename(path))[0]
        speaker, _, utt = stem.partition(_HASH)
        return rel, info(path).sample_rate, label, speaker, int(utt) if utt.isdigit() else 0

    def __len__(self):
        return len(self._walker)

    def __getitem__(self, n):
        path = self._walker[n]
        waveform, sr = load(path)
        label = os.path.basename(os.path.dirname(path))
        stem = os.path.splitext(os.path.basename(path))[0]
        speaker, _, utt = stem.partition(_HASH)
        if self.transform is not None:
            waveform = self.transform(waveform)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return waveform, sr, label, speaker, int(utt) if utt.isdigit() else 0
