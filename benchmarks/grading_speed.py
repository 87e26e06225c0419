"""How long ``ganlab grade`` takes for a class: 30 submissions of lesson 01.

    python benchmarks/grading_speed.py [--copies 30] [--jobs N] [--keep DIR]

The submissions are the full solutions notebook of lesson 01, every fifth one
with an exercise broken (a different one in turn: the grader cannot tell a
copy from an original, each is run and tested in full) and every tenth one
untouched (the lesson as handed out). They are graded exactly as
``ganlab grade DIR --lesson 01 --out grades.csv --feedback feedback/ --jobs N``
does, with the default limits. Prints the wall-clock time of the batch, the
seconds per notebook and per exercise (wall clock divided by the number of
notebooks, and of exercises), the mean time a notebook's kernel ran, and the
rows' totals, so that a wrong figure cannot hide behind a fast one.
"""

import argparse
import collections
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nbformat  # noqa: E402

from ganlab import grading  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# One wrong line per exercise: replaced in the solution's source.
BREAKS = [
    ("hidden = layers.Dense(units)(hidden)\n        hidden = layers.LeakyReLU(0.2)(hidden)\n    # tanh",
     "hidden = layers.Dense(16)(hidden)\n        hidden = layers.LeakyReLU(0.2)(hidden)\n    # tanh"),
    ("logit = layers.Dense(1)(hidden)", "logit = layers.Dense(1, activation='sigmoid')(hidden)"),
    ("fake_loss = ops.mean(ops.softplus(fake_logits))", "fake_loss = ops.mean(ops.softplus(-fake_logits))"),
    ("return ops.mean(ops.softplus(-fake_logits))", "return -ops.mean(ops.softplus(fake_logits))"),
    ("fake_logits = discriminator(generator(latent, training=True), training=True)",
     "fake_logits = discriminator(fake_images, training=True)"),
]


def make_submissions(folder, copies):
    solution = (ROOT / "solutions" / "01_vanilla_gan.ipynb").read_text()
    untouched = (ROOT / "lessons" / "01_vanilla_gan.ipynb").read_text()
    kinds = collections.Counter()
    for number in range(copies):
        if number % 10 == 9:
            text, kind = untouched, "untouched"
        elif number % 5 == 4:
            old, new = BREAKS[(number // 5) % len(BREAKS)]
            notebook = nbformat.reads(solution, as_version=4)
            assert any(old in cell.source for cell in notebook.cells), old
            for cell in notebook.cells:
                cell.source = cell.source.replace(old, new)
            text, kind = nbformat.writes(notebook), "one exercise broken"
        else:
            text, kind = solution, "solution"
        (folder / f"student_{number:02d}.ipynb").write_text(text)
        kinds[kind] += 1
    return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=None, help="default: the number of cores")
    parser.add_argument("--keep", default=None, help="write the submissions, table and feedback here")
    arguments = parser.parse_args()
    folder = Path(arguments.keep or tempfile.mkdtemp(prefix="grading_speed_"))
    submissions = folder / "submissions"
    submissions.mkdir(parents=True, exist_ok=True)
    kinds = make_submissions(submissions, arguments.copies)
    jobs = arguments.jobs or os.cpu_count()
    print(f"{arguments.copies} submissions of lesson 01 ({dict(kinds)}), {jobs} at a time, on {os.cpu_count()} cores")
    started = time.perf_counter()
    rows = grading.grade([submissions], "01", folder / "grades.csv", feedback=folder / "feedback", jobs=jobs,
                         regrade=True)
    wall = time.perf_counter() - started
    exercises = len(rows[0].exercises)
    totals = collections.Counter(f"{row.total:g}/{row.maximum:g}" for row in rows)
    print(f"batch: {wall:.0f} s wall clock")
    print(f"per notebook: {wall / len(rows):.1f} s; per exercise: {wall / (len(rows) * exercises):.2f} s "
          f"({exercises} exercises per notebook)")
    print(f"a notebook's kernel ran {sum(row.seconds for row in rows) / len(rows):.1f} s on average "
          f"({jobs} at a time)")
    print(f"totals: {dict(totals)}; statuses: {dict(collections.Counter(row.status for row in rows))}")
    print(f"table and feedback in {folder}")


if __name__ == "__main__":
    main()
