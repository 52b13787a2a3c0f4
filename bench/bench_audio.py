"""zoo.audio: mel-spectrogram throughput against librosa (and PyTorch's stft + the same filterbank, when
installed), and the inference latency of the shipped spoken-digit model (kws_cnn_fsdd).

Prints a table: milliseconds per call (median of repeats after warmup) and seconds of audio processed per second
of compute. ``--device cuda`` also times zoo on the GPU.

    python bench/bench_audio.py [--device cuda] [--threads N]
"""
import argparse

import numpy as np

import zoo
from timing import median_seconds

# (name, sample rate, seconds, batch, n_fft, hop, n_mels)
MEL_CASES = [
    ("1 x 10 s @ 22.05 kHz, n_fft 2048, hop 512, 128 mels", 22050, 10.0, 1, 2048, 512, 128),
    ("1 x 10 s @ 16 kHz, n_fft 400, hop 160, 80 mels", 16000, 10.0, 1, 400, 160, 80),
    ("32 x 1 s @ 8 kHz, n_fft 256, hop 80, 40 mels", 8000, 1.0, 32, 256, 80, 40),
]


def median_ms(fn, sync=None, repeat=7):
    return median_seconds(fn, sync, repeat=repeat) * 1e3


def cuda_sync():
    import cupy
    cupy.cuda.Device().synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        zoo.set_num_threads(args.threads)
    from zoo.audio import transforms as T
    try:
        import librosa
    except ImportError:
        librosa = None
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    rows = []
    for name, sr, secs, batch, n_fft, hop, n_mels in MEL_CASES:
        x = np.random.default_rng(0).standard_normal((batch, int(sr * secs))).astype(np.float32) * 0.1
        audio_s = batch * secs
        mel = T.MelSpectrogram(sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, norm="slaney",
                               mel_scale="slaney")
        xz = zoo.tensor(x)
        with zoo.no_grad():
            ms = median_ms(lambda: mel(xz))
        rows.append((name, "zoo cpu", ms, audio_s))
        if args.device.startswith("cuda"):
            mel_gpu = mel.to(args.device)
            xg = zoo.tensor(x, device=args.device)
            with zoo.no_grad():
                rows.append((name, f"zoo {args.device}", median_ms(lambda: mel_gpu(xg), cuda_sync), audio_s))
        if librosa is not None:
            def run_librosa():
                for row in x:
                    librosa.feature.melspectrogram(y=row, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels,
                                                   pad_mode="reflect")
            rows.append((name, "librosa", median_ms(run_librosa), audio_s))
        if torch is not None:
            fb = torch.tensor(mel.mel_scale.fb.numpy())
            win = torch.hann_window(n_fft)
            xt = torch.tensor(x)

            def run_torch():
                with torch.no_grad():
                    s = torch.stft(xt, n_fft, hop, window=win, return_complex=True).abs().pow(2)
                    return (s.transpose(-1, -2) @ fb).transpose(-1, -2)
            rows.append((name, "torch stft + fb", median_ms(run_torch), audio_s))

    print(f"{'mel spectrogram':55s} {'impl':18s} {'ms':>9s} {'audio s / s':>12s}")
    for name, impl, ms, audio_s in rows:
        print(f"{name:55s} {impl:18s} {ms:9.2f} {audio_s / (ms / 1e3):12.0f}")

    print()
    from zoo.audio.pipelines import _load_registered
    model, _ = _load_registered("kws_cnn_fsdd")
    model.eval()
    clip = model.config.clip_samples
    print(f"{'kws_cnn_fsdd inference (1 s clips @ 8 kHz)':55s} {'device':18s} {'ms':>9s} {'clips / s':>12s}")
    devices = ["cpu"] + ([args.device] if args.device.startswith("cuda") else [])
    for dev in devices:
        model.to(dev)
        sync = cuda_sync if dev.startswith("cuda") else (lambda: None)
        for batch in (1, 32):
            x = zoo.tensor(np.random.default_rng(1).standard_normal((batch, clip)).astype(np.float32) * 0.1,
                           device=dev)
            with zoo.inference_mode():
                ms = median_ms(lambda: model(x), sync, repeat=15)
            print(f"{'batch ' + str(batch):55s} {dev:18s} {ms:9.2f} {batch / (ms / 1e3):12.0f}")
    pipe = zoo.pipeline("audio-classification", model=model.to("cpu"))
    wave = np.random.default_rng(2).standard_normal(6000).astype(np.float32) * 0.1
    ms = median_ms(lambda: pipe(wave), repeat=15)
    print(f"{'pipeline, one 0.75 s array (resample-free, top 5)':55s} {'cpu':18s} {ms:9.2f} {1 / (ms / 1e3):12.0f}")


if __name__ == "__main__":
    main()
