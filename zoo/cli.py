"""The ``zoo`` command.

    zoo run TASK INPUT... [--model M] [--device cuda] [--batch-size N] [--top-k K] [--option KEY=VALUE]
                          [--json] [--output-dir DIR]
    zoo models [--task T] [--json]      registered pretrained weights
    zoo tasks [--json]                  registered pipeline tasks
    zoo download MODEL [--revision R] [--force]
    zoo info                            version, devices, BLAS threads
    zoo --version

``zoo run`` prints one result per input, readable by default or as JSON with ``--json``. An INPUT of ``-`` reads
inputs from stdin, one per line. Results that are images (PIL images) are written as PNG files into
``--output-dir`` (the current folder by default; several images of one input as one grid), never over an
existing file, and their paths are printed in their place.

Errors print one line, ``zoo: error: ...``, on stderr and exit with status 2; ``--debug`` shows the traceback.
Modules named in the ``ZOO_PLUGINS`` environment variable (comma separated, importable from ``sys.path``) are
imported first, so they can register their own tasks, architectures and weights.
"""
import argparse
import importlib
import json
import math
import os
import platform
import sys

__all__ = ["main"]


# ---- output formatting ----------------------------------------------------------------------------------------
def _is_image(x):
    image = sys.modules.get("PIL.Image")  # an image result means PIL is loaded already
    return image is not None and isinstance(x, image.Image)


def _grid(images):
    """One image tiling ``images`` in a near-square grid of equal cells (the largest image's size)."""
    from PIL import Image
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    sheet = Image.new("RGB", (cols * w, rows * h), "white")
    for i, im in enumerate(images):
        sheet.paste(im.convert("RGB"), ((i % cols) * w, (i // cols) * h))
    return sheet


def _save_png(image, folder, stem):
    """Write ``image`` as ``folder/stem-N.png`` with the first free N (never replacing a file); its path."""
    os.makedirs(folder, exist_ok=True)
    n = 0
    while True:
        path = os.path.join(folder, f"{stem}-{n}.png")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # claims the name
            break
        except FileExistsError:
            n += 1
    with os.fdopen(fd, "wb") as f:
        image.save(f, format="PNG")
        f.flush()
        os.fsync(f.fileno())
    return path


def _save_images(result, folder, stem):
    """``result`` with every image (and every list of several images, as a grid) replaced by its PNG path."""
    if _is_image(result):
        return _save_png(result, folder, stem)
    if isinstance(result, list) and len(result) > 1 and all(_is_image(x) for x in result):
        return _save_png(_grid(result), folder, stem + "-grid")
    if isinstance(result, dict):
        return {k: _save_images(v, folder, stem) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [_save_images(v, folder, stem) for v in result]
    return result


def _plain(x):
    """``x`` as JSON-ready Python: tensors and NumPy arrays become lists, NumPy scalars numbers."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "tolist") and hasattr(x, "shape"):  # zoo tensors, NumPy arrays and scalars
        return x.tolist()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, list) and len(v) > 8:
        return f"[{', '.join(_fmt(x) for x in v[:8])}, ... ({len(v)} items)]"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _pretty(result, indent=""):
    """Readable lines for one result: a dict per line as ``key: value`` pairs, a list one item per line."""
    if isinstance(result, dict):
        return [indent + "  ".join(f"{k}: {_fmt(v)}" for k, v in result.items())]
    if isinstance(result, list) and any(isinstance(x, (dict, list)) for x in result):
        return [line for x in result for line in _pretty(x, indent)]
    if isinstance(result, str):
        return [indent + line for line in result.splitlines() or [""]]
    return [indent + _fmt(result)]


# ---- commands -------------------------------------------------------------------------------------------------
def _parse_option(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a plain string


def _inputs(args):
    inputs = []
    for item in args.inputs:
        if item == "-":
            inputs.extend(line.rstrip("\n") for line in sys.stdin if line.strip())
        else:
            inputs.append(item)
    if not inputs:
        raise ValueError("no inputs: give at least one INPUT (or '-' with inputs on stdin)")
    return inputs


def _run(args):
    from .pipelines import pipeline
    options = dict(args.option or [])
    pipe = pipeline(args.task, model=args.model, device=args.device, batch_size=args.batch_size,
                    **({"revision": args.revision} if args.revision else {}))
    if args.top_k is not None:
        options["top_k"] = args.top_k
    inputs = _inputs(args)
    results = pipe(inputs, **options)
    stem = args.task.replace("/", "-")
    results = [_save_images(r, args.output_dir, stem) for r in results]
    if args.json:
        print(json.dumps(_plain(results if len(results) > 1 else results[0]), indent=2, ensure_ascii=False))
        return 0
    results = _plain(results)
    for i, (x, r) in enumerate(zip(inputs, results)):
        if len(inputs) > 1:
            print(("\n" if i else "") + f"{x}:")
        print("\n".join(_pretty(r, "  " if len(inputs) > 1 else "")))
    return 0


def _models(args):
    from zoo.weights.registry import list_entries
    entries = list_entries(task=args.task)
    if args.json:
        print(json.dumps([{"name": e.name, "task": e.task, "architecture": e.architecture,
                           "metrics": dict(e.metrics), "files": list(e.files)} for e in entries], indent=2))
        return 0
    if not entries:
        print("no pretrained weights registered" + (f" for task {args.task!r}" if args.task else ""))
        return 0
    rows = [(e.name, e.task, e.architecture, "  ".join(f"{k}={v}" for k, v in e.metrics.items()))
            for e in entries]
    widths = [max(len(r[i]) for r in rows + [("NAME", "TASK", "ARCHITECTURE", "")]) for i in range(3)]
    for r in [("NAME", "TASK", "ARCHITECTURE", "METRICS")] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
    return 0


def _tasks(args):
    from .pipelines import get_task, list_tasks
    specs = [get_task(t) for t in list_tasks()]
    if args.json:
        print(json.dumps([{"task": s.task, "default_model": s.default_model, "aliases": list(s.aliases)}
                          for s in specs], indent=2))
        return 0
    if not specs:
        print("no pipeline tasks registered")
    for s in specs:
        extra = f"  (aliases: {', '.join(s.aliases)})" if s.aliases else ""
        print(f"{s.task}  default model: {s.default_model or '-'}{extra}")
    return 0


def _download(args):
    from zoo.weights.sources import download
    files = download(args.model, args.revision, force_download=args.force)
    for name, path in files.items():
        print(f"{name}  {path}")
    return 0


def _info(_args):
    import numpy as np

    import zoo
    print(f"zoo {zoo.__version__}  (Python {platform.python_version()}, NumPy {np.__version__})")
    print(f"BLAS threads: {zoo.get_num_threads()}")
    if zoo.cuda.is_available():
        for i in range(zoo.cuda.device_count()):
            print(f"cuda:{i}: {zoo.cuda.get_device_name(i)}")
    else:
        print("cuda: not available (install the 'gpu' extra on a machine with an NVIDIA GPU)")
    return 0


# ---- entry point ----------------------------------------------------------------------------------------------
def _positive_int(text):
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _parser():
    import zoo
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    parser = argparse.ArgumentParser(prog="zoo", description="zoo: deep learning on NumPy and CuPy")
    parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run a pipeline on inputs and print the results")
    run.add_argument("task", metavar="TASK", help="a task name, e.g. image-classification (`zoo tasks` lists them)")
    run.add_argument("inputs", metavar="INPUT", nargs="+", help="inputs (file paths, texts ...); '-' reads stdin")
    run.add_argument("--model", help="registered weights name, model directory or hub repo id (default: the "
                                     "task's default model)")
    run.add_argument("--revision", help="hub revision (branch, tag or commit) of --model")
    run.add_argument("--device", help="cpu, cuda or cuda:N")
    run.add_argument("--batch-size", type=_positive_int, help="inputs per model call")
    run.add_argument("--top-k", type=_positive_int, help="number of top results (tasks that rank results)")
    run.add_argument("--option", action="append", type=_parse_option, metavar="KEY=VALUE",
                     help="a task option (VALUE read as JSON when it parses, else as text); repeatable")
    run.add_argument("--json", action="store_true", help="print the results as JSON")
    run.add_argument("--output-dir", default=".", help="where image results are written (default: .)")
    run.set_defaults(func=_run)

    models = sub.add_parser("models", parents=[common], help="list registered pretrained weights")
    models.add_argument("--task", help="only weights for this task")
    models.add_argument("--json", action="store_true", help="print as JSON")
    models.set_defaults(func=_models)

    tasks = sub.add_parser("tasks", parents=[common], help="list pipeline tasks")
    tasks.add_argument("--json", action="store_true", help="print as JSON")
    tasks.set_defaults(func=_tasks)

    download = sub.add_parser("download", parents=[common], help="fetch a model's files into the cache")
    download.add_argument("model", metavar="MODEL", help="registered weights name or hub repo id")
    download.add_argument("--revision", help="hub revision (branch, tag or commit)")
    download.add_argument("--force", action="store_true", help="fetch again even if cached")
    download.set_defaults(func=_download)

    sub.add_parser("info", parents=[common], help="version, devices and threads").set_defaults(func=_info)
    return parser


def _load_plugins():
    for name in os.environ.get("ZOO_PLUGINS", "").split(","):
        name = name.strip()
        if name:
            try:
                importlib.import_module(name)
            except Exception as e:
                raise ImportError(f"cannot import plugin module {name!r} named in ZOO_PLUGINS: "
                                  f"{type(e).__name__}: {e}") from e


def _one_line(err):
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    return text or type(err).__name__


def main(argv=None):
    """Run the ``zoo`` command with ``argv`` (default: the process arguments); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        _load_plugins()
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`zoo models | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush cannot fail
        return 1
    except Exception as e:
        if args.debug:
            raise
        print(f"zoo: error: {_one_line(e)}", file=sys.stderr)
        return 2
