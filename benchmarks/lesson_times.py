"""How long each lesson takes a student: every solution notebook run top to bottom.

    python benchmarks/lesson_times.py [--out runs/lesson_times] [--no-figures] [NOTEBOOK ...]

Runs the notebooks of ``solutions/`` (all of them, or the ones named, such as
``04_progressive_gan.ipynb``) one after the other in one folder, as a student
runs them in Jupyter: one kernel each, every cell in order, in the same working
folder (so lesson 03 finds lesson 02's run there, as it would for a student
who did lesson 02 first; name 03 alone, in a fresh ``--out``, for the time
without it). The budget is the one each set-up cell chooses (``BUDGET =
"default"`` as shipped; ``GANLAB_FAST`` is unset here, so the cell decides).
The offline data and no Comet key, so runs compare across machines.

Prints, per notebook, the minutes for the whole notebook and the lines the
notebook itself printed about its training time, then writes the executed
notebook into ``--out``. ``--no-figures`` sets ``MPLBACKEND=Agg``: figures are
drawn but not sent to the notebook (docs/results.md, "Lessons at the default
budget", was measured that way). Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from ganlab import lessons

ROOT = Path(__file__).resolve().parent.parent


def training_lines(notebook):
    """The lines a notebook printed about its training time (its training cells print 'took ... minutes')."""
    return [line for line in lessons.printed_lines(notebook) if "took" in line or " minutes" in line]


def run_notebook(path, folder):
    """Executes the notebook at ``path`` with ``folder`` as its working folder; returns (minutes, notebook, error)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure).splitlines()[-1] if str(failure) else type(failure).__name__
    return (time.perf_counter() - started) / 60, notebook, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names in solutions/ (default: all, in order)")
    parser.add_argument("--out", type=Path, default=Path("runs/lesson_times"), help="the working folder")
    parser.add_argument("--no-figures", action="store_true", help="MPLBACKEND=Agg: figures not sent to the notebook")
    arguments = parser.parse_args(argv)

    available = sorted(path.name for path in (ROOT / "solutions").glob("*.ipynb"))
    unknown = [name for name in arguments.notebooks if name not in available]
    if unknown:
        parser.error(f"notebooks must be names in solutions/: {', '.join(available)}. Received: {', '.join(unknown)}")

    # What the kernels inherit: no fast mode (the set-up cells choose the budget), offline, no Comet key.
    for variable in ("GANLAB_FAST", "GANLAB_BUDGET"):
        os.environ.pop(variable, None)
    os.environ.update(GANLAB_OFFLINE="1", COMET_API_KEY="", TF_CPP_MIN_LOG_LEVEL="2")
    if arguments.no_figures:
        os.environ["MPLBACKEND"] = "Agg"
    arguments.out.mkdir(parents=True, exist_ok=True)
    folder = arguments.out.resolve()

    print(f"working folder {folder}, {os.cpu_count()} CPUs")
    for name in arguments.notebooks or available:
        minutes, notebook, error = run_notebook(ROOT / "solutions" / name, folder)
        nbformat.write(notebook, folder / name)
        status = f"failed: {error}" if error else "ok"
        print(f"{name}: {minutes:.1f} min for the whole notebook, {status}", flush=True)
        for line in training_lines(notebook):
            print(f"    {line}")


if __name__ == "__main__":
    main()
