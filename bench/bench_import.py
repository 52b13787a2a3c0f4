"""`import zoo` wall time (median of fresh interpreters, bytecode cached) next to `import torch`."""
import os
import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def import_seconds(mod, repeat=7):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure what users see: with .pyc caches
    subprocess.run([sys.executable, "-c", f"import {mod}"], env=env, check=True)  # warm the caches
    return statistics.median(float(subprocess.run([sys.executable, "-c", CODE.format(mod=mod)], env=env,
                                                  check=True, capture_output=True, text=True).stdout)
                             for _ in range(repeat))


def main():
    z = import_seconds("zoo")
    print(f"import zoo:   {z:.3f} s")
    try:
        t = import_seconds("torch")
        print(f"import torch: {t:.3f} s  (zoo/torch = {z / t:.2f})")
    except subprocess.CalledProcessError:
        print("import torch: not installed")


if __name__ == "__main__":
    main()
