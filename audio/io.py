"""Audio files: :func:`load`, :func:`save`, :func:`info` through ``soundfile`` (libsndfile: WAV, FLAC, OGG/Vorbis
and the other formats it reads), with torchaudio's signatures; plus :func:`to_mono`.

``soundfile`` is imported on the first call, never at ``import zoo``. Missing, empty, truncated and non-audio files
raise errors that name the file: ``FileNotFoundError`` for a missing one, :class:`AudioFileError` (a ValueError)
for the others. libsndfile reads a WAV file whose data was cut short without complaint; :func:`load` checks the
RIFF header's declared data size against the file's length and refuses truncated files.
"""
import dataclasses
import os
import struct

import numpy as np

__all__ = ["load", "save", "info", "AudioMetaData", "AudioFileError", "to_mono", "list_audio_formats"]


class AudioFileError(ValueError):
    """An audio file that cannot be read: empty, truncated, not audio, or in an unsupported format."""


def _soundfile():
    try:
        import soundfile
    except ImportError as e:  # pragma: no cover - soundfile is a dependency
        raise ImportError("zoo.audio reads and writes audio files through the 'soundfile' package: "
                          "pip install soundfile") from e
    return soundfile


def list_audio_formats():
    """The container formats libsndfile can read and write here (``{"WAV": ..., "FLAC": ..., ...}``)."""
    return dict(_soundfile().available_formats())


@dataclasses.dataclass(frozen=True)
class AudioMetaData:
    """What :func:`info` reports (torchaudio's fields): sample rate, frames, channels, bits per sample (0 for
    compressed formats), encoding (``"PCM_S"``, ``"PCM_F"``, ``"FLAC"``, ``"VORBIS"`` ...) and the container."""
    sample_rate: int
    num_frames: int
    num_channels: int
    bits_per_sample: int
    encoding: str
    format: str = ""


_ENCODINGS = {"PCM_16": ("PCM_S", 16), "PCM_24": ("PCM_S", 24), "PCM_32": ("PCM_S", 32), "PCM_S8": ("PCM_S", 8),
              "PCM_U8": ("PCM_U", 8), "FLOAT": ("PCM_F", 32), "DOUBLE": ("PCM_F", 64), "ULAW": ("ULAW", 8),
              "ALAW": ("ALAW", 8), "VORBIS": ("VORBIS", 0), "OPUS": ("OPUS", 0), "MPEG_LAYER_III": ("MP3", 0)}


def _path(path):
    if hasattr(path, "read"):
        return path
    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(f"expected a path or a file object, got {type(path).__name__}") from None
    if not os.path.exists(p):
        raise FileNotFoundError(f"no such audio file: {p}")
    if os.path.isdir(p):
        raise IsADirectoryError(f"{p} is a directory, not an audio file")
    if os.path.getsize(p) == 0:
        raise AudioFileError(f"{p}: the file is empty (0 bytes), not an audio file")
    return p


def _check_riff(path):
    """Refuse a WAV file shorter than its header says (libsndfile would silently read what is there)."""
    if not isinstance(path, str):
        return
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return
        big = head[:4] == b"RIFX"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            cid, n = chunk[:4], struct.unpack(">I" if big else "<I", chunk[4:])[0]
            if cid == b"data":
                if n != 0xFFFFFFFF and pos + 8 + n > size:
                    raise AudioFileError(f"{path}: the file is truncated: its WAV header declares {n} bytes of "
                                         f"audio data but only {size - pos - 8} are present")
                return
            pos += 8 + n + (n & 1)
        raise AudioFileError(f"{path}: the WAV file is truncated or damaged: it has no complete 'data' chunk")


def _open_error(path, err):
    name = path if isinstance(path, str) else getattr(path, "name", repr(path))
    return AudioFileError(f"{name}: not a readable audio file ({err}). zoo.audio reads the formats libsndfile "
                          "supports (WAV, FLAC, OGG/Vorbis, ...)")


def info(path):
    """:class:`AudioMetaData` of an audio file (header only, nothing decoded)."""
    sf = _soundfile()
    p = _path(path)
    try:
        i = sf.info(p)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise _open_error(p, e) from None
    enc, bits = _ENCODINGS.get(i.subtype, (i.subtype, 0))
    if i.format == "FLAC":
        enc = "FLAC"
    return AudioMetaData(sample_rate=int(i.samplerate), num_frames=int(i.frames), num_channels=int(i.channels),
                         bits_per_sample=bits, encoding=enc, format=i.format)


def load(path, frame_offset=0, num_frames=-1, normalize=True, channels_first=True, *, device=None):
    """``(waveform, sample_rate)`` of an audio file, as ``torchaudio.load``: waveform is a float32 zoo tensor
    ``[channels, frames]`` (``[frames, channels]`` with ``channels_first=False``) in [-1, 1]. ``frame_offset`` /
    ``num_frames`` read a part. ``normalize=False`` keeps integer PCM samples as their integer dtype (int16 /
    int32) for WAV files."""
    from ..core import tensor as make
    sf = _soundfile()
    p = _path(path)
    if not isinstance(frame_offset, (int, np.integer)) or frame_offset < 0:
        raise ValueError(f"load: frame_offset must be a non-negative integer, got {frame_offset!r}")
    if not isinstance(num_frames, (int, np.integer)) or (num_frames < 0 and num_frames != -1):
        raise ValueError(f"load: num_frames must be a non-negative integer or -1 (all), got {num_frames!r}")
    _check_riff(p)
    dtype = "float32"
    if not normalize:
        sub = sf.info(p).subtype if isinstance(p, str) else ""
        dtype = {"PCM_16": "int16", "PCM_32": "int32", "PCM_24": "int32"}.get(sub, "float32")
    try:
        data, sr = sf.read(p, frames=int(num_frames), start=int(frame_offset), dtype=dtype, always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise _open_error(p, e) from None
    if channels_first:
        data = data.T
    return make(np.ascontiguousarray(data), device=device), int(sr)


_SUBTYPES = {("PCM_S", 8): "PCM_S8", ("PCM_S", 16): "PCM_16", ("PCM_S", 24): "PCM_24", ("PCM_S", 32): "PCM_32",
             ("PCM_U", 8): "PCM_U8", ("PCM_F", 32): "FLOAT", ("PCM_F", 64): "DOUBLE", ("ULAW", 8): "ULAW",
             ("ALAW", 8): "ALAW"}


def save(path, src, sample_rate, channels_first=True, format=None, encoding=None, bits_per_sample=None):
    """Write ``src`` (a zoo tensor or array ``[channels, frames]``, or ``[frames, channels]`` with
    ``channels_first=False``; a 1-D signal is mono) to an audio file, as ``torchaudio.save``. The format comes
    from ``format`` or the file extension (wav, flac, ogg ...); ``encoding`` ("PCM_S", "PCM_F" ...) and
    ``bits_per_sample`` pick the sample type (default: 16-bit PCM for WAV and FLAC, Vorbis for OGG). Float
    samples outside [-1, 1] are clipped by integer encodings."""
    sf = _soundfile()
    from ..core.tensor import Tensor
    if isinstance(src, Tensor):
        data = src.detach().cpu().numpy()
    else:
        data = np.asarray(src)
    if data.ndim == 1:
        data = data[None, :] if channels_first else data[:, None]
    if data.ndim != 2:
        raise ValueError(f"save: expected a [channels, frames] signal, got shape {data.shape}")
    if channels_first:
        data = data.T
    if data.shape[1] == 0:
        raise ValueError("save: the signal has no channels")
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"save: sample_rate must be a positive integer, got {sample_rate!r}")
    p = os.fspath(path)
    fmt = (format or os.path.splitext(p)[1].lstrip(".")).upper()
    if fmt == "OGG" or fmt == "VORBIS":
        fmt, subtype = "OGG", "VORBIS"
    else:
        subtype = None
    if not fmt:
        raise ValueError(f"save: cannot tell the format of {p!r}; pass format= ('wav', 'flac', 'ogg')")
    if fmt not in sf.available_formats():
        raise ValueError(f"save: unsupported format {fmt!r}; available: {', '.join(sorted(sf.available_formats()))}")
    if encoding is not None or bits_per_sample is not None:
        enc = encoding or ("PCM_F" if bits_per_sample in (32, 64) and data.dtype.kind == "f" else "PCM_S")
        bits = bits_per_sample or {"PCM_S": 16, "PCM_F": 32, "PCM_U": 8, "ULAW": 8, "ALAW": 8}.get(enc, 16)
        if (enc, bits) not in _SUBTYPES:
            raise ValueError(f"save: unsupported encoding {enc!r} with {bits} bits per sample")
        subtype = _SUBTYPES[(enc, bits)]
    elif subtype is None:
        subtype = "PCM_16" if fmt in ("WAV", "FLAC", "AIFF") else None
    if data.dtype.kind == "f":
        data = data.astype(np.float32 if data.dtype != np.float64 else np.float64, copy=False)
    try:
        sf.write(p, data, int(sample_rate), subtype=subtype, format=fmt)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioFileError(f"save: writing {p} as {fmt}/{subtype} failed: {e}") from None


def to_mono(waveform, dim=0):
    """Mix a multi-channel waveform down to one channel (the mean over ``dim``, kept as a size-1 dim)."""
    from ..core.tensor import Tensor
    if not isinstance(waveform, Tensor):
        raise TypeError(f"to_mono: expected a zoo Tensor, got {type(waveform).__name__}")
    if waveform.ndim == 1:
        return waveform.unsqueeze(0)
    return waveform.mean(dim=dim, keepdim=True)
