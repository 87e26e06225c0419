"""Kill-safety protocol: real ``ganlab train`` runs killed with SIGKILL at random moments, then resumed.

For each model (vanilla, dcgan, progressive, biggan), in the fast budget and offline:

1. one uninterrupted run measures how long a round (``steps_per_round`` steps,
   then its metrics row, sample grid and checkpoint) takes on this machine now;
2. five runs are killed with SIGKILL at random moments, one in each fifth of
   the run's rounds: the run is watched until its ``metrics.csv`` has the
   chosen number of rows, then killed a random part of a round later (so the
   kills land in training, in checkpoint writes and in the final samples,
   however long start-up takes on a busy machine); then it is resumed with
   ``--resume`` until it ends.

After each kill it notes what was on disk, and after each resume whether:

- the run ended at the requested step (``--steps``);
- ``metrics.csv`` has every round's step exactly once;
- no checkpoint was lost: a round's metrics row is written just before its
  checkpoint, so every row but the last had its checkpoint complete when the
  process died; the intact checkpoint found after the kill must be at least
  as new as the second-to-last row.

It prints one table. It is a correctness check, not a timing benchmark: the
kill times only spread the kills over a run, so running it on a busy machine
is fine. About 45 ``ganlab train`` processes: tens of minutes on 2 cores.

    python benchmarks/kill_resume.py                  # all four models, 5 kills each
    python benchmarks/kill_resume.py --models biggan --kills 2
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from commands import fast_offline_environment, ganlab_command  # noqa: E402

from ganlab import recipes, training  # noqa: E402

# Steps per model: a few rounds of 10 steps (the progressive GAN: its whole fast schedule).
STEPS = {"vanilla": 60, "dcgan": 60, "progressive": 33, "biggan": 40}
TIMEOUT_SECONDS = 1800


def metric_steps(run):
    path = run / "metrics.csv"
    if not path.exists():
        return []
    with open(path, newline="") as file:
        return [int(row["step"]) for row in csv.DictReader(file)]


def expected_steps(model, steps):
    every = recipes.get_recipe(model, "fast").steps_per_round
    return sorted({*range(every, steps + 1, every), steps})


def train_command(model, run, resume=False):
    arguments = ["train", model, "--out", str(run), "--steps", str(STEPS[model]), "--tracking", "off", "--seed", "1"]
    if resume:
        return ganlab_command() + arguments + ["--resume"]
    # Few final samples and no evaluation during training: the subject is the kill, not
    # the scores (a resume keeps these settings from the checkpoint).
    return ganlab_command() + arguments + ["--set", "number_of_samples=64", "--set", "evaluation_every_rounds=50"]


def start(command, folder):
    return subprocess.Popen(
        command, cwd=folder, env=fast_offline_environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def round_seconds(model, folder):
    """Seconds between two metrics rows of an uninterrupted run (how long one round takes here, now)."""
    process = start(train_command(model, folder / "whole"), folder)
    seen = {}  # rows -> when that many were first seen
    while process.poll() is None:
        seen.setdefault(len(metric_steps(folder / "whole")), time.perf_counter())
        time.sleep(0.1)
    if process.returncode != 0:
        raise SystemExit(f"{model}: the uninterrupted run failed:\n{process.stderr.read()[-3000:]}")
    times = [seen[rows] for rows in sorted(seen) if rows > 0]
    return (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 5.0


def killed_and_resumed(model, folder, after_rows, delay_seconds):
    """One run killed ``delay_seconds`` after its metrics.csv reached ``after_rows`` rows, then resumed."""
    run = folder / "run"
    process = start(train_command(model, run), folder)
    started = time.perf_counter()
    while process.poll() is None and len(metric_steps(run)) < after_rows:
        time.sleep(0.05)
    time.sleep(delay_seconds)
    killed = process.poll() is None  # False: it ended before the kill
    if killed:
        process.send_signal(signal.SIGKILL)
    process.communicate()
    kill_seconds = time.perf_counter() - started
    rows = metric_steps(run)
    found = training.find_checkpoint(run / "checkpoint", warn=False)
    found_step = training.read_checkpoint_state(found)["step"] if found is not None else None
    complete_before_kill = rows[-2] if len(rows) >= 2 else None
    lost = complete_before_kill is not None and (found_step is None or found_step < complete_before_kill)

    resumed = subprocess.run(
        train_command(model, run, resume=True), cwd=folder, env=fast_offline_environment(folder),
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )
    final = training.find_checkpoint(run / "checkpoint", warn=False)
    final_step = training.read_checkpoint_state(final)["step"] if final is not None else None
    return {
        "kill_seconds": kill_seconds,
        "killed": killed,
        "at_kill": f"rows {rows[-1] if rows else '-'}, checkpoint {found_step if found_step is not None else '-'}",
        "resume_ok": resumed.returncode == 0,
        "final_step": final_step,
        "every_step_once": metric_steps(run) == expected_steps(model, STEPS[model]),
        "checkpoint_lost": lost,
        "errors": "" if resumed.returncode == 0 else resumed.stderr[-2000:],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=recipes.MODELS, default=list(recipes.MODELS))
    parser.add_argument("--kills", type=int, default=5, help="kill points per model (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times (default: 0)")
    arguments = parser.parse_args(argv)
    if arguments.kills < 1:
        parser.error(f"--kills must be a positive integer. Received: {arguments.kills}")
    chooser = random.Random(arguments.seed)
    print("model        steps  kill at (s)  on disk at the kill            resumed  final step  every step once  checkpoint lost")
    failures = 0
    for model in arguments.models:
        with tempfile.TemporaryDirectory(prefix=f"kill_resume_{model}_") as scratch:
            folder = Path(scratch)
            seconds = round_seconds(model, folder)
            rounds = len(expected_steps(model, STEPS[model]))
            print(f"{model:<12} {STEPS[model]:>5}  (an uninterrupted run: {seconds:.1f} s a round)", flush=True)
            for index in range(arguments.kills):
                # A moment in each equal slice of the run's rounds and its final samples (one
                # round's time more): after `after_rows` rows, a random part of a round later.
                position = (rounds + 1) * (index + chooser.random()) / arguments.kills
                after_rows, delay_seconds = int(position), (position % 1) * seconds
                shutil.rmtree(folder / "run", ignore_errors=True)
                result = killed_and_resumed(model, folder, after_rows, delay_seconds)
                passed = (
                    result["resume_ok"] and result["final_step"] == STEPS[model] and result["every_step_once"]
                    and not result["checkpoint_lost"]
                )
                failures += not passed
                kill = f"{result['kill_seconds']:.1f}" + ("" if result["killed"] else " (ended)")
                print(
                    f"{model:<12} {STEPS[model]:>5}  {kill:>11}  {result['at_kill']:<29}  "
                    f"{'yes' if result['resume_ok'] else 'NO':>7}  {str(result['final_step']):>10}  "
                    f"{'yes' if result['every_step_once'] else 'NO':>15}  {'YES' if result['checkpoint_lost'] else 'no':>15}",
                    flush=True,
                )
                if result["errors"]:
                    print(result["errors"], flush=True)
    print(f"{failures} of {len(arguments.models) * arguments.kills} kill points failed")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("GANLAB_FAST", "1")
    sys.exit(main())
