"""AudioFolder, FSDD and SpeechCommands on small files written in the real layouts; downloads from file:// URLs
(no network)."""
import os
import pathlib
import tarfile
import zipfile

import numpy as np
import pytest

import zoo
from zoo.audio.datasets import FSDD, AudioFolder, SpeechCommands

pytest.importorskip("soundfile")


def write_wav(path, seed, n=400, sr=8000):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    x = np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32)
    zoo.audio.save(path, x, sr)
    return x


def make_fsdd(folder, speakers=("george", "lucas"), indices=range(7)):
    seed = 0
    for d in range(10):
        for s in speakers:
            for i in indices:
                write_wav(os.path.join(folder, f"{d}_{s}_{i}.wav"), seed, n=200 + seed % 50)
                seed += 1


def test_fsdd_splits(tmp_path):
    make_fsdd(tmp_path / "recordings")
    (tmp_path / "recordings" / "README.txt").write_text("not a recording")
    test = FSDD(tmp_path, split="test")
    train = FSDD(tmp_path, split="train")
    every = FSDD(tmp_path / "recordings", split=None)
    assert len(test) == 10 * 2 * 5 and len(train) == 10 * 2 * 2 and len(every) == 140
    assert {s[3] for s in test.samples} == set(range(5))
    assert {s[3] for s in train.samples} == {5, 6}
    wave, sr, digit, speaker, index = test[0]
    assert sr == 8000 and wave.shape[0] == 1 and digit == 0 and speaker in ("george", "lucas")
    assert test.targets.count(3) == 10
    shifted = FSDD(tmp_path, split="test", transform=lambda w: w * 2, target_transform=str)
    assert shifted[0][2] == "0"
    np.testing.assert_allclose(shifted[0][0].numpy(), wave.numpy() * 2)


def test_fsdd_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        FSDD(tmp_path)
    with pytest.raises(ValueError, match="split"):
        FSDD(tmp_path, split="valid")


def test_fsdd_download_from_a_zip(tmp_path):
    src = tmp_path / "src"
    make_fsdd(src / "free-spoken-digit-dataset-master" / "recordings", speakers=("theo",), indices=range(6))
    archive = tmp_path / "fsdd.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(src.rglob("*.wav")):
            z.write(p, p.relative_to(src).as_posix())
        z.writestr("free-spoken-digit-dataset-master/README.md", "readme")
    root = tmp_path / "data"
    ds = FSDD(root, split="test", download=True, url=archive.as_uri())
    assert len(ds) == 50 and len(os.listdir(root / "recordings")) == 60
    assert not any(n.endswith(".zip") or n.startswith(".download") for n in os.listdir(root))
    with pytest.raises(RuntimeError, match="missing.zip"):
        FSDD(tmp_path / "other", download=True, url=(tmp_path / "missing.zip").as_uri())
    assert not (tmp_path / "other" / "fsdd-archive.zip").exists()


def test_audio_folder(tmp_path):
    for cls, n in (("dog", 3), ("cat", 2)):
        for i in range(n):
            write_wav(tmp_path / cls / f"{i}.wav", i)
    (tmp_path / "cat" / "notes.txt").write_text("skip me")
    ds = AudioFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and len(ds) == 5 and ds.targets == [0, 0, 1, 1, 1]
    wave, sr, target = ds[4]
    assert sr == 8000 and target == 1 and wave.shape == (1, 400)
    with pytest.raises(FileNotFoundError, match="class folders"):
        AudioFolder(tmp_path / "cat")


def make_speech_commands(base):
    files = {"yes": ["aaa_nohash_0", "aaa_nohash_1", "bbb_nohash_0"], "no": ["aaa_nohash_0", "ccc_nohash_2"]}
    for i, (label, stems) in enumerate(files.items()):
        for j, stem in enumerate(stems):
            write_wav(os.path.join(base, label, stem + ".wav"), 10 * i + j, sr=16000)
    write_wav(os.path.join(base, "_background_noise_", "noise.wav"), 99, sr=16000)
    (pathlib.Path(base) / "validation_list.txt").write_text("yes/bbb_nohash_0.wav\n")
    (pathlib.Path(base) / "testing_list.txt").write_text("no/ccc_nohash_2.wav\n")


def test_speech_commands_subsets(tmp_path):
    base = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    make_speech_commands(base)
    every = SpeechCommands(tmp_path)
    train = SpeechCommands(tmp_path, subset="training")
    val = SpeechCommands(tmp_path, subset="validation")
    test = SpeechCommands(tmp_path, subset="testing")
    assert (len(every), len(train), len(val), len(test)) == (5, 3, 1, 1)
    wave, sr, label, speaker, utt = test[0]
    assert (sr, label, speaker, utt) == (16000, "no", "ccc", 2) and wave.shape == (1, 400)
    assert val.get_metadata(0)[2:] == ("yes", "bbb", 0)
    with pytest.raises(ValueError, match="subset"):
        SpeechCommands(tmp_path, subset="train")


def test_speech_commands_download_tar(tmp_path):
    src = tmp_path / "src"
    make_speech_commands(src)
    archive = tmp_path / "sc.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                t.add(p, "./" + p.relative_to(src).as_posix())
    ds = SpeechCommands(tmp_path / "root", url=archive.as_uri(), download=True, subset="training")
    assert len(ds) == 3
    assert ds[0][1] == 16000


@pytest.mark.real
def test_real_fsdd_split_sizes():
    root = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fsdd"
    if not (root / "recordings").is_dir():
        pytest.skip(f"FSDD recordings are not at {root}")
    assert len(FSDD(root, split="test")) == 300 and len(FSDD(root, split="train")) == 2700
