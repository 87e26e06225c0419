"""``ganlab train biggan``, ``ganlab sample`` of class-conditional models, ``ganlab export``, shipped models.

One real ``ganlab train biggan`` process (fast budget, offline) is run once for
the module; sampling and exporting are checked in-process through
``ganlab.cli.main``, which is what the console script calls. The shipped
models are the real ones in ``ganlab/assets``.
"""

import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from commands import fast_offline_environment, ganlab_command

from ganlab import cli, data, shipped

SUBPROCESS_TIMEOUT_SECONDS = 900


@pytest.fixture(scope="module")
def biggan_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("biggan")
    finished = subprocess.run(
        ganlab_command() + ["train", "biggan", "--out", "run", "--tracking", "offline"],
        cwd=folder, env=fast_offline_environment(folder), capture_output=True, text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return folder / "run", finished


def read_npz(path):
    with np.load(path) as contents:
        return {key: contents[key] for key in contents.files}


def run_cli(arguments, capsys):
    """``ganlab ARGUMENTS`` in-process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(arguments)
    except SystemExit as stopped:
        status = stopped.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- ganlab train biggan ----------------------------------------------------------------


def test_train_biggan_writes_samples_with_the_classes_asked_for_in_turn(biggan_run):
    run, finished = biggan_run

    samples = read_npz(run / "samples.npz")
    assert samples["images"].shape == (500, 32, 32, 1) and samples["images"].dtype == np.float32
    assert samples["images"].min() >= -1.0 and samples["images"].max() <= 1.0
    np.testing.assert_array_equal(samples["labels"], np.arange(500) % 10)
    assert "of the samples are of the class asked for" in finished.stdout


def test_train_biggan_records_class_accuracy_in_metrics_and_evaluation(biggan_run):
    run, _ = biggan_run

    lines = (run / "metrics.csv").read_text().splitlines()
    header, last = lines[0].split(","), lines[-1].split(",")
    assert "class_accuracy" in header and "orthogonal_penalty" in header
    assert 0.0 <= float(last[header.index("class_accuracy")]) <= 1.0
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert 0.0 <= evaluation["class_accuracy"] <= 1.0


def test_train_biggan_sample_grids_have_one_column_per_class(biggan_run):
    run, _ = biggan_run

    # 60 images in 10 columns and 6 rows of 34 pixels (32 + a gap of 2), minus the last gap, doubled.
    assert Image.open(run / "samples_step_000010.png").size == (2 * (10 * 34 - 2), 2 * (6 * 34 - 2))


# --- ganlab sample of a class-conditional run --------------------------------------------


def test_sample_of_one_class_writes_only_that_class(biggan_run, tmp_path, capsys):
    run, _ = biggan_run

    status, out, _ = run_cli(["sample", str(run), "--class", "7", "--number", "12", "--out", str(tmp_path / "s")], capsys)

    assert status == 0 and "12 samples of class 7" in out
    samples = read_npz(tmp_path / "s.npz")
    assert samples["images"].shape == (12, 32, 32, 1)
    np.testing.assert_array_equal(samples["labels"], np.full(12, 7))


def test_sample_with_the_same_seed_and_truncation_gives_the_same_images(biggan_run, tmp_path, capsys):
    run, _ = biggan_run
    common = ["sample", str(run), "--number", "6", "--truncation", "0.5", "--seed", "3"]

    run_cli(common + ["--out", str(tmp_path / "a")], capsys)
    run_cli(common + ["--out", str(tmp_path / "b")], capsys)
    run_cli(["sample", str(run), "--number", "6", "--seed", "4", "--out", str(tmp_path / "c")], capsys)

    a, b, c = (read_npz(tmp_path / f"{name}.npz")["images"] for name in "abc")
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0


def test_sample_interpolate_writes_one_row_per_interpolation_and_a_gif_of_the_steps(biggan_run, tmp_path, capsys):
    run, _ = biggan_run

    status, out, _ = run_cli(
        ["sample", str(run), "--interpolate", "1", "7", "--steps", "5", "--number", "3", "--out", str(tmp_path / "i")],
        capsys,
    )

    assert status == 0 and "3 interpolations from 1 to 7 in 5 steps" in out
    samples = read_npz(tmp_path / "i.npz")
    assert samples["images"].shape == (15, 32, 32, 1)
    assert (int(samples["class_a"]), int(samples["class_b"]), int(samples["steps"])) == (1, 7, 5)
    assert Image.open(tmp_path / "i.png").size == (2 * (5 * 34 - 2), 2 * (3 * 34 - 2))
    assert Image.open(tmp_path / "i.gif").n_frames == 5


def test_sample_truncation_sweep_writes_one_row_per_truncation(biggan_run, tmp_path, capsys):
    run, _ = biggan_run

    status, _, _ = run_cli(
        ["sample", str(run), "--truncation-sweep", "2", "1", "0.04", "--number", "10", "--out", str(tmp_path / "t")],
        capsys,
    )

    assert status == 0
    samples = read_npz(tmp_path / "t.npz")
    assert samples["images"].shape == (30, 32, 32, 1)
    np.testing.assert_allclose(samples["truncations"], np.repeat([2.0, 1.0, 0.04], 10))
    np.testing.assert_array_equal(samples["labels"], np.tile(np.arange(10), 3))


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--class", "12"], "Expected a class index from 0 to 9"),
        (["--class", "sneaker"], "0) 0, 1) 1"),
        (["--truncation", "0"], "--truncation must be positive. Received: 0.0"),
        (["--interpolate", "1", "7", "--steps", "12"], "steps must be an integer from 2 to 10"),
        (["--interpolate", "1", "7", "--number", "6"], "number_of_samples must be an integer from 1 to 5"),
        (["--truncation-sweep", "1", "-1"], "--truncation-sweep values must be positive"),
        (["--interpolate", "1", "7", "--truncation-sweep", "1"], "not both"),
    ],
)
def test_a_bad_sample_option_is_a_one_line_error_naming_the_accepted_values(biggan_run, arguments, message, capsys):
    run, _ = biggan_run

    status, _, err = run_cli(["sample", str(run), *arguments, "--out", "unused"], capsys)

    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_class_options_on_a_model_that_is_not_conditional_are_refused_naming_them(tmp_path, capsys):
    from ganlab import recipes, runs, training

    recipe = recipes.get_recipe("dcgan", "fast")
    gan = runs.build_gan(recipe)
    training.save_checkpoint(gan, tmp_path / "checkpoint", {"recipe": recipe.to_json(), "seed": 0})

    status, _, err = run_cli(["sample", str(tmp_path), "--class", "3", "--truncation", "0.5"], capsys)

    assert status == 2 and "--class, --truncation: for class-conditional models (biggan) only" in err


# --- shipped models and ganlab export ---------------------------------------------------


@pytest.mark.parametrize("name, dataset", [("biggan-mnist", "mnist"), ("biggan-fashion-mnist", "fashion_mnist")])
def test_a_shipped_model_samples_offline_by_class_name_or_index(name, dataset, tmp_path, capsys):
    category = "sneaker" if dataset == "fashion_mnist" else "3"
    status, out, err = run_cli(["sample", name, "--class", category, "--number", "4", "--out", str(tmp_path / "s")], capsys)

    assert status == 0, err
    label = data.class_index(dataset, category)
    assert f"of class {data.CLASS_NAMES[dataset][label]}" in out
    samples = read_npz(tmp_path / "s.npz")
    assert samples["images"].shape == (4, 32, 32, 1)
    np.testing.assert_array_equal(samples["labels"], np.full(4, label))


@pytest.mark.parametrize("name", sorted(shipped.SHIPPED_MODELS))
def test_a_shipped_model_records_how_it_was_made_and_stays_small(name):
    record = shipped.read_record(name)
    weights, _ = shipped._paths(name)

    assert record["command"].startswith("ganlab train biggan")
    for key in ("dataset", "class_names", "config", "step", "machine", "wall_minutes", "class_accuracy_per_class"):
        assert key in record, key
    assert weights.stat().st_size < 5_000_000


def test_an_unknown_model_name_is_a_one_line_error_listing_the_shipped_ones(capsys):
    status, _, err = run_cli(["sample", "biggan-cifar"], capsys)

    assert status == 2
    assert "Expected a run folder or one of ('biggan-mnist', 'biggan-fashion-mnist')" in err


def test_export_ships_the_runs_sampling_generator_with_its_record(biggan_run, tmp_path, capsys):
    run, _ = biggan_run

    status, out, _ = run_cli(["export", str(run), "biggan-mnist", "--directory", str(tmp_path)], capsys)

    assert status == 0 and "shipped biggan-mnist" in out
    record = json.loads((tmp_path / "biggan_mnist.json").read_text())
    assert record["dataset"] == "mnist" and record["class_names"][7] == "7"
    exported, dataset = shipped.load_model("biggan-mnist", directory=tmp_path)
    original, _ = shipped.load_model(run)
    assert dataset == "mnist"
    np.testing.assert_allclose(
        exported.generate(8, truncation=0.7, seed=1), original.generate(8, truncation=0.7, seed=1), atol=1e-5
    )
