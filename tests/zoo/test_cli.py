"""The ``zoo`` command: run (readable and JSON output, stdin inputs, options, image results saved as PNG),
models, tasks, download, info, --version, plugins and one-line errors."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

import zoo
from zoo.cli import main
from zoo.pipelines import unregister_task
from zoo.weights import unregister

PLUGIN = textwrap.dedent('''
    import zoo.nn as nn
    from PIL import Image
    from zoo.pipelines import Pipeline, register_task
    from zoo.weights import Hub, WeightsEntry, register


    class Echo(Pipeline):
        """Scores the length of a text; top_k and an upper-casing option."""
        def load_model(self, name, revision=None):
            return nn.Identity()
        def _sanitize_parameters(self, top_k=None, shout=None):
            return ({} if shout is None else {"shout": shout}), {}, ({} if top_k is None else {"top_k": top_k})
        def preprocess(self, text, shout=False):
            return {"text": text.upper() if shout else text}
        def _forward(self, inputs):
            return inputs
        def postprocess(self, outputs, top_k=2):
            text = outputs["text"]
            return [{"label": text, "score": 1.0 / (1 + i)} for i in range(top_k)]


    class Painter(Pipeline):
        """Returns n solid-colour images for a colour name."""
        def load_model(self, name, revision=None):
            return nn.Identity()
        def _sanitize_parameters(self, n=None):
            return {}, {}, ({} if n is None else {"n": n})
        def preprocess(self, colour):
            return {"colour": colour}
        def _forward(self, inputs):
            return inputs
        def postprocess(self, outputs, n=1):
            images = [Image.new("RGB", (8, 6), outputs["colour"]) for _ in range(n)]
            return images[0] if n == 1 else images


    register_task("cli-echo", Echo, default_model="echo-model")
    register_task("cli-paint", Painter, default_model="paint-model")
    register(WeightsEntry(name="cli-test-weights", architecture="zoo.nn:Identity", task="cli-echo",
                          files={"model.safetensors": None}, sources=[Hub("zoo-test/cli-missing")],
                          metrics={"acc@1": 12.5}))
''')


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    name = "zoo_cli_test_plugin"
    (tmp_path / f"{name}.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ZOO_PLUGINS", name)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield tmp_path
    unregister_task("cli-echo")
    unregister_task("cli-paint")
    unregister("cli-test-weights")
    sys.modules.pop(name, None)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_readable_results(plugin, capsys):
    code, out, err = run(["run", "cli-echo", "hello", "--top-k", "3"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == ["label: hello  score: 1.0000", "label: hello  score: 0.5000",
                                "label: hello  score: 0.3333"]


def test_run_json_several_inputs_and_options(plugin, capsys):
    code, out, _ = run(["run", "cli-echo", "a", "b", "--json", "--option", "shout=true", "--batch-size", "2"], capsys)
    assert code == 0
    assert json.loads(out) == [[{"label": "A", "score": 1.0}, {"label": "A", "score": 0.5}],
                               [{"label": "B", "score": 1.0}, {"label": "B", "score": 0.5}]]


def test_run_reads_stdin(plugin, capsys, monkeypatch):
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO("first\n\nsecond\n"))
    code, out, _ = run(["run", "cli-echo", "-", "--top-k", "1"], capsys)
    assert code == 0
    assert out.splitlines() == ["first:", "  label: first  score: 1.0000", "", "second:",
                                "  label: second  score: 1.0000"]


def test_run_saves_images_as_png_never_overwriting(plugin, capsys, tmp_path):
    out_dir = tmp_path / "out"
    code, out, _ = run(["run", "cli-paint", "red", "--output-dir", str(out_dir)], capsys)
    assert code == 0
    first = out.strip()
    assert first == str(out_dir / "cli-paint-0.png")
    assert Image.open(first).getpixel((0, 0)) == (255, 0, 0)
    code, out, _ = run(["run", "cli-paint", "blue", "--option", "n=4", "--output-dir", str(out_dir), "--json"], capsys)
    grid = json.loads(out)
    assert grid == str(out_dir / "cli-paint-grid-0.png")
    with Image.open(grid) as im:
        assert im.size == (16, 12)  # 4 images of 8 x 6 in a 2 x 2 grid
    assert Image.open(first).getpixel((0, 0)) == (255, 0, 0)  # the first file was not replaced


def test_models_and_tasks_listings(plugin, capsys):
    code, out, _ = run(["models", "--task", "cli-echo"], capsys)
    assert code == 0
    assert out.split() == ["NAME", "TASK", "ARCHITECTURE", "METRICS", "cli-test-weights", "cli-echo",
                           "zoo.nn:Identity", "acc@1=12.5"]
    code, out, _ = run(["models", "--task", "cli-echo", "--json"], capsys)
    assert json.loads(out)[0]["name"] == "cli-test-weights"
    code, out, _ = run(["tasks", "--json"], capsys)
    assert {"task": "cli-echo", "default_model": "echo-model", "aliases": []} in json.loads(out)
    assert "cli-test-weights" in zoo.list_models(task="cli-echo")


def test_download_offline_says_what_is_missing_and_how(plugin, capsys):
    pytest.importorskip("huggingface_hub")
    code, out, err = run(["download", "cli-test-weights"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("zoo: error: cannot find 'model.safetensors' of weights 'cli-test-weights'")
    assert "HF_HUB_OFFLINE is set" in err and "zoo download cli-test-weights" in err
    assert len(err.strip().splitlines()) == 1


def test_errors_are_one_line_with_status_2(plugin, capsys):
    code, out, err = run(["run", "no-such-task", "x"], capsys)
    assert code == 2 and err.startswith("zoo: error: unknown task 'no-such-task'")
    code, out, err = run(["run", "cli-echo", "x", "--option", "bogus=1"], capsys)
    assert code == 2 and "unknown option(s) bogus" in err
    with pytest.raises(SystemExit) as info:
        main(["run", "cli-echo", "x", "--top-k", "0"])
    assert info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_broken_plugin_is_named(tmp_path, monkeypatch, capsys):
    (tmp_path / "zoo_cli_broken_plugin.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ZOO_PLUGINS", "zoo_cli_broken_plugin")
    code, _, err = run(["tasks"], capsys)
    assert code == 2 and "cannot import plugin module 'zoo_cli_broken_plugin'" in err and "boom" in err


def test_version_and_info_as_a_process():
    env = {k: v for k, v in os.environ.items() if k != "ZOO_PLUGINS"}
    proc = subprocess.run([sys.executable, "-m", "zoo", "--version"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == f"zoo {zoo.__version__}"
    proc = subprocess.run([sys.executable, "-m", "zoo", "info"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith(f"zoo {zoo.__version__}")
    assert "BLAS threads:" in proc.stdout
