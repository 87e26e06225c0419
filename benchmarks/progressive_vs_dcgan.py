"""Lesson 04's question on your machine: is the Progressive GAN better than the DCGAN per CPU-minute?

    python benchmarks/progressive_vs_dcgan.py [--dataset mnist] [--dcgan-minutes 5] [--progressive-minutes 10]
        [--out runs/progressive_vs_dcgan] [--precision float32] [--set NAME=VALUE ...]

Runs, one after the other, as a student would type them:

    ganlab train dcgan --minutes 5 --tracking off --seed 0 --out OUT/dcgan
    ganlab train progressive --minutes 10 --tracking off --seed 0 --out OUT/progressive [--set ...]

then scores both runs' ``samples.npz`` with ``benchmarks/independent_score.py``
(a classifier that shares no code with ``ganlab.metrics``) and prints the two
scores, the steps each run made and the machine. Run it alone on the machine:
a second process sharing the cores changes how many steps fit in the minutes.
``--set`` passes recipe settings to the progressive run only (to try a recipe);
``--precision`` goes to both runs (``mixed_bfloat16`` pays on CPUs with native
bfloat16, and comparing the two models fairly means giving it to both).
"""

import argparse
import csv
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def last_step(run):
    with open(run / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    return int(rows[-1]["step"]) if rows else 0


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--dcgan-minutes", type=float, default=5)
    parser.add_argument("--progressive-minutes", type=float, default=10)
    parser.add_argument("--out", default="runs/progressive_vs_dcgan")
    parser.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"))
    parser.add_argument("--set", action="append", default=[], dest="settings", metavar="NAME=VALUE")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    precision = ["--precision", arguments.precision] if arguments.precision != "float32" else []
    runs = {
        "dcgan": ["--minutes", str(arguments.dcgan_minutes), *precision],
        "progressive": ["--minutes", str(arguments.progressive_minutes), *precision]
        + [option for setting in arguments.settings for option in ("--set", setting)],
    }
    for model, options in runs.items():
        command = [
            "ganlab", "train", model, "--dataset", arguments.dataset, "--tracking", "off", "--seed", "0",
            "--quiet", "--out", str(out / model), *options,
        ]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores")
    for model, options in runs.items():
        scored = subprocess.run(
            [sys.executable, str(HERE / "independent_score.py"), "--dataset", arguments.dataset,
             str(out / model / "samples.npz")],
            check=True, capture_output=True, text=True,
        )
        score_line = [line for line in scored.stdout.splitlines() if "samples.npz" in line][-1]
        print(f"{model} ({' '.join(options)}): {last_step(out / model)} steps; {score_line.split(': ', 1)[1]}")


if __name__ == "__main__":
    main()
