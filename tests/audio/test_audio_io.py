"""zoo.audio.load / save / info through soundfile, and the errors for bad files."""
import subprocess
import sys

import numpy as np
import pytest

import zoo
import zoo.audio

pytest.importorskip("soundfile")


def tone(channels=2, n=800, sr=8000):
    t = np.arange(n) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * (300 + 100 * c) * t) for c in range(channels)]).astype(np.float32)


@pytest.mark.parametrize("ext,tol", [("wav", 1e-4), ("flac", 1e-4), ("ogg", 0.1)])
def test_save_load_round_trip(tmp_path, ext, tol):
    x = tone()
    path = tmp_path / f"a.{ext}"
    zoo.audio.save(path, zoo.tensor(x), 8000)
    wave, sr = zoo.audio.load(path)
    assert sr == 8000 and wave.dtype == zoo.float32 and wave.shape[0] == 2
    assert abs(wave.shape[1] - 800) <= (0 if ext != "ogg" else 64)
    n = min(wave.shape[1], 800)
    np.testing.assert_allclose(wave.numpy()[:, :n], x[:, :n], atol=tol)
    meta = zoo.audio.info(path)
    assert (meta.sample_rate, meta.num_channels) == (8000, 2)
    assert meta.encoding == {"wav": "PCM_S", "flac": "FLAC", "ogg": "VORBIS"}[ext]


def test_load_options(tmp_path):
    x = tone(1, 1000)
    path = tmp_path / "f.wav"
    zoo.audio.save(path, x, 16000, encoding="PCM_F", bits_per_sample=32)
    part, _ = zoo.audio.load(path, frame_offset=100, num_frames=50)
    np.testing.assert_array_equal(part.numpy(), x[:, 100:150])
    last, _ = zoo.audio.load(path, channels_first=False)
    assert last.shape == (1000, 1)
    assert zoo.audio.info(path).bits_per_sample == 32
    zoo.audio.save(tmp_path / "i.wav", x, 16000)
    ints, _ = zoo.audio.load(tmp_path / "i.wav", normalize=False)
    assert ints.dtype == zoo.int16
    np.testing.assert_allclose(ints.numpy() / 32768.0, x, atol=1e-4)


def test_to_mono():
    x = zoo.tensor(tone(2))
    m = zoo.audio.to_mono(x)
    assert m.shape == (1, 800)
    np.testing.assert_allclose(m.numpy()[0], tone(2).mean(0), atol=1e-7)


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        zoo.audio.load(tmp_path / "nope.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(zoo.audio.AudioFileError, match="empty.wav.*empty"):
        zoo.audio.load(empty)
    junk = tmp_path / "notes.wav"
    junk.write_text("these are not samples " * 20)
    with pytest.raises(zoo.audio.AudioFileError, match="notes.wav.*not a readable audio file"):
        zoo.audio.load(junk)
    with pytest.raises(zoo.audio.AudioFileError, match="notes.wav"):
        zoo.audio.info(junk)
    good = tmp_path / "good.wav"
    zoo.audio.save(good, tone(1, 4000), 8000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(zoo.audio.AudioFileError, match="cut.wav.*truncated"):
        zoo.audio.load(cut)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(good.read_bytes()[:30])
    with pytest.raises(zoo.audio.AudioFileError, match="header.wav"):
        zoo.audio.load(header_only)
    with pytest.raises(IsADirectoryError):
        zoo.audio.load(tmp_path)


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="sample_rate"):
        zoo.audio.save(tmp_path / "a.wav", tone(), 0)
    with pytest.raises(ValueError, match="format"):
        zoo.audio.save(tmp_path / "a.xyz", tone(), 8000)
    with pytest.raises(ValueError, match="shape"):
        zoo.audio.save(tmp_path / "a.wav", np.zeros((2, 2, 2)), 8000)


def test_import_zoo_does_not_import_soundfile():
    code = ("import sys, zoo, zoo.audio; assert 'soundfile' not in sys.modules; "
            "zoo.audio.transforms; assert 'soundfile' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
