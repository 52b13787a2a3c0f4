"""PyTorch scripts port by renaming: run bench/port/*.py unchanged (PyTorch) and with `torch` renamed to `zoo`,
side by side in one run; print median step time, peak memory and the zoo/torch ratios.

    python bench/bench_port.py                 # both scripts, three alternating timing runs of each library
    python bench/bench_port.py --threads 1     # both libraries on one thread (default: two)
    python bench/bench_port.py --rounds 1      # one run of each
    python bench/bench_port.py --no-helper-process  # zoo on two BLAS threads instead of its helper process
    python bench/bench_port.py --train-char    # also train the char transformer with zoo (2000 iterations)
                                               # and write bench/char_transformer_curve.png

Peak memory is the process's peak resident set size above its size right after importing the library
(so the libraries' own footprints do not hide the working memory); the total peak is printed as well. zoo's
figures add the private memory of its helper process (zoo.core.parallel: its interpreter and temporaries; the
arrays it shares live in the measured process).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "tinyshakespeare.txt"

# VmHWM (the peak resident set of this process's memory map), not getrusage's ru_maxrss: a child's ru_maxrss
# starts at its parent's size when it was started, which would hide a child that stays below it.
RUNNER = """
import json, runpy, sys
def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
def helper_mb():
    parallel = sys.modules.get("zoo.core.parallel")
    helper = parallel and parallel._state["helper"]
    if not helper:
        return 0.0
    with open(f"/proc/{{helper.proc.pid}}/status") as f:
        kb = {{line.split(":")[0]: int(line.split()[1]) for line in f if line.startswith(("RssAnon", "RssFile"))}}
    return (kb["RssAnon"] + kb["RssFile"]) / 1024
import {lib}
base = peak_mb()
sys.argv = {argv!r}
runpy.run_path({path!r}, run_name="__main__")
peak, helper = peak_mb(), helper_mb()
print(json.dumps({{"peak_mb": peak + helper, "work_mb": peak - base + helper, "helper_mb": helper}}))
"""


def zoo_version(script, workdir):
    """The script with every `torch` renamed to `zoo` (nothing else changed)."""
    dst = pathlib.Path(workdir) / script.name
    dst.write_text(script.read_text().replace("torch", "zoo"))
    return dst


def run(lib, path, args, env=None):
    code = RUNNER.format(lib=lib, argv=[str(path)] + args, path=str(path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} run of {path.name} failed:\n{proc.stderr[-3000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    summary = next(x for x in lines if x.get("summary"))
    memory = lines[-1]
    evals = [x for x in lines if "val_loss" in x]
    return {"step": statistics.median(summary["step_times"][3:] or summary["step_times"]), **memory,
            "evals": evals, "final_loss": summary["final_loss"]}


def compare(name, script, args, workdir, torch_available, rounds, zoo_env=None):
    """``rounds`` runs of each library, alternating (the machine's speed drifts between minutes): the median
    step of each, their ratio and each round's ratio; the largest working memory of each."""
    zoo_script = zoo_version(script, workdir)
    zs, ts = [], []
    for _ in range(rounds):
        zs.append(run("zoo", zoo_script, args, zoo_env))
        if torch_available:
            ts.append(run("torch", script, args))
    z_step, z_work, z_peak = (statistics.median(r["step"] for r in zs), max(r["work_mb"] for r in zs),
                              max(r["peak_mb"] for r in zs))
    if not ts:
        print(f"{name:18s} zoo step {z_step * 1e3:8.1f} ms  peak {z_peak:7.0f} MB (work {z_work:6.0f} MB)")
        return
    t_step, t_work, t_peak = (statistics.median(r["step"] for r in ts), max(r["work_mb"] for r in ts),
                              max(r["peak_mb"] for r in ts))
    each = " ".join(f"{z['step'] / t['step']:.2f}" for z, t in zip(zs, ts))
    print(f"{name:18s} step  zoo {z_step * 1e3:8.1f} ms  torch {t_step * 1e3:8.1f} ms  ratio "
          f"{z_step / t_step:5.2f}" + (f"   (rounds: {each})" if rounds > 1 else ""))
    helper = max(r["helper_mb"] for r in zs)
    print(f"{'':18s} work  zoo {z_work:8.0f} MB  torch {t_work:8.0f} MB  ratio "
          f"{z_work / max(t_work, 1):5.2f}   (total peak {z_peak:.0f} vs {t_peak:.0f} MB"
          + (f"; zoo's helper process {helper:.0f} MB of it)" if helper else ")"))


def train_char(workdir, steps):
    z = run("zoo", zoo_version(HERE / "port" / "char_transformer.py", workdir),
            [str(DATA), "--steps", str(steps), "--eval-every", "100", "--eval-iters", "50"])
    write_curve(z["evals"], steps)


def write_curve(evals, steps):
    """The char transformer's train/val loss curve as bench/char_transformer_curve.png."""
    from zoo.core.plot import line_plot
    out = HERE / "char_transformer_curve.png"
    line_plot({"train": ([e["step"] for e in evals], [e["train_loss"] for e in evals]),
               "val": ([e["step"] for e in evals], [e["val_loss"] for e in evals])}, out,
              title=f"zoo char transformer on Tiny Shakespeare ({steps} iterations)", xlabel="iteration",
              ylabel="loss")
    print(f"char transformer, zoo, {steps} iterations: final val loss {evals[-1]['val_loss']:.3f} "
          f"(train {evals[-1]['train_loss']:.3f}); curve: {out.name}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2, help="threads of both libraries in the timing runs")
    p.add_argument("--rounds", type=int, default=3, help="alternating runs of each library per script")
    p.add_argument("--no-helper-process", action="store_true",
                   help="run zoo on two BLAS threads (ZOO_HELPER_PROCESS=0) instead of its helper process, which "
                        "training on two threads starts by itself")
    p.add_argument("--train-char", action="store_true")
    p.add_argument("--train-steps", type=int, default=2000)
    p.add_argument("--curve-from-log", help="plot the curve from a log of char_transformer.py --eval-every runs")
    args = p.parse_args()
    if args.curve_from_log:
        lines = [json.loads(x) for x in open(args.curve_from_log) if x.startswith("{")]
        evals = [x for x in lines if "val_loss" in x]
        write_curve(evals, evals[-1]["step"] + 1)
        return
    try:
        import torch
        torch_available = True
        print(f"PyTorch {torch.__version__}")
    except ImportError:
        torch_available = False
        print("PyTorch not installed: zoo figures only")
    zoo_env = dict(os.environ, ZOO_HELPER_PROCESS="0") if args.no_helper_process else None
    with tempfile.TemporaryDirectory() as workdir:
        if DATA.exists():
            compare("char transformer", HERE / "port" / "char_transformer.py", [str(DATA), "--steps", str(args.steps),
                    "--threads", str(args.threads)], workdir, torch_available, args.rounds, zoo_env)
        else:
            print(f"char transformer: skipped ({DATA} not found)")
        compare("resnet-20", HERE / "port" / "resnet20.py", ["--steps", str(max(5, args.steps // 3)),
                "--threads", str(args.threads)], workdir, torch_available, args.rounds, zoo_env)
        if args.train_char:
            train_char(workdir, args.train_steps)


if __name__ == "__main__":
    main()
