"""The ``zoo`` command: ``zoo info`` prints the version, devices and BLAS threads."""
import argparse
import platform
import sys


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="zoo", description="zoo: deep learning on NumPy and CuPy")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, devices and threads").set_defaults(func=_info)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
