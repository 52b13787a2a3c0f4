"""The README's example runs and learns."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_fit_sine_learns():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "fit_sine.py"), "--steps", "1500"], check=True,
                         capture_output=True, text=True).stdout
    first = float(out.splitlines()[0].split()[-1])
    final = float(out.splitlines()[-1].split()[-1])
    assert final < 0.05 and final < first / 10, out
