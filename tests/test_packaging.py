"""Packaging: every package folder is listed in pyproject.toml, PyTorch-named modules import, `import zoo` stays
light (no heavy optional imports at import time)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found == set(config["packages"]), "pyproject.toml [tool.setuptools] packages is out of date"


def test_pytorch_named_modules_import():
    code = ("import zoo.nn as nn, zoo.nn.functional as F, zoo.optim, zoo.utils.data\n"
            "from zoo.utils.data import DataLoader, TensorDataset\n"
            "import zoo.core.nn.functional as CF\n"
            "assert F.relu is CF.relu\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_import_zoo_loads_no_heavy_optional_module():
    code = ("import sys, zoo\n"
            "heavy = {'cupy', 'torch', 'gymnasium', 'tokenizers', 'huggingface_hub', 'PIL', 'soundfile', "
            "'threadpoolctl', 'zoo.vision', 'zoo.text', 'zoo.audio', 'zoo.rl'}\n"
            "loaded = sorted(heavy & set(sys.modules))\n"
            "assert not loaded, loaded\n")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def test_domains_load_lazily_on_access():
    code = "import sys, zoo\nassert 'zoo.rl' not in sys.modules\nzoo.rl\nassert 'zoo.rl' in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_zoo_command():
    out = subprocess.run([sys.executable, "-m", "zoo", "info"], check=True, cwd=ROOT, capture_output=True,
                         text=True).stdout
    assert "zoo 0.1.0" in out and "BLAS threads" in out
