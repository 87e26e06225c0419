"""Tests of ganlab.callbacks with the fast recipe's tiny DCGAN.

The train step runs eagerly here (``run_eagerly=True``): these tests are about
what the callbacks do between steps, and skipping the graph tracing keeps them
quick. The compiled step is exercised by test_training.py and test_cli.py.
"""

import csv
import json
import types

import keras
import numpy as np
import pytest
from PIL import Image

from ganlab import callbacks as gan_callbacks
from ganlab import training, viz
from ganlab.callbacks import Checkpoint, MetricsLogger, SampleGrid, TrainingLimits

BATCH_SIZE = 16


def fit(gan, dataset, callbacks, steps_per_epoch, epochs):
    return gan.fit(
        dataset, steps_per_epoch=steps_per_epoch, epochs=epochs, callbacks=callbacks, verbose=0, shuffle=False
    )


# --- TrainingLimits -----------------------------------------------------------------


def test_training_limits_stop_at_max_steps_in_the_middle_of_a_round(fast_gan, fixed_batches):
    gan = fast_gan(run_eagerly=True)
    limits = TrainingLimits(max_steps=7)

    history = fit(gan, fixed_batches(BATCH_SIZE), [limits], steps_per_epoch=3, epochs=100)

    assert int(gan.step.numpy()) == 7  # rounds of 3: 3, 6, then 1 step into the third
    assert len(history.history["d_loss"]) == 3
    assert limits.stopped_because == "reached 7 steps"


def test_training_limits_count_from_the_step_the_gan_is_at(fast_gan, fixed_batches):
    gan = fast_gan(run_eagerly=True)
    gan.step.assign(7)  # as after restoring a checkpoint of step 7

    fit(gan, fixed_batches(BATCH_SIZE), [TrainingLimits(max_steps=10)], steps_per_epoch=5, epochs=100)

    assert int(gan.step.numpy()) == 10


def test_training_limits_stop_after_the_first_step_once_the_time_is_up(fast_gan, fixed_batches):
    gan = fast_gan(run_eagerly=True)
    # 1e-9 minutes is 60 ns: over by the end of any step.
    limits = TrainingLimits(max_steps=1000, max_minutes=1e-9)

    fit(gan, fixed_batches(BATCH_SIZE), [limits], steps_per_epoch=5, epochs=100)

    assert int(gan.step.numpy()) == 1
    assert limits.stopped_because == "reached the time limit of 1e-09 minutes"


def test_training_limits_reject_negative_steps_and_non_positive_minutes():
    with pytest.raises(ValueError, match="max_steps must be at least 0. Received: max_steps=-1"):
        TrainingLimits(max_steps=-1)
    with pytest.raises(ValueError, match="max_minutes must be positive. Received: max_minutes=0"):
        TrainingLimits(max_minutes=0)


# --- MetricsLogger ------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_metrics_logger_writes_one_csv_row_per_round_with_the_round_means(fast_gan, fixed_batches, tmp_path):
    gan = fast_gan(run_eagerly=True)
    path = tmp_path / "logs" / "metrics.csv"
    logger = MetricsLogger(BATCH_SIZE, csv_path=path)

    history = fit(gan, fixed_batches(BATCH_SIZE), [logger], steps_per_epoch=2, epochs=3).history

    header, *rows = read_csv(path)
    assert header[:7] == [
        "step", "d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy", "images_per_second", "elapsed_seconds",
    ]
    # Any further columns (evaluation scores) stay empty in rounds nothing scored.
    assert header == list(MetricsLogger.columns)
    assert all(value == "" for row in rows for value in row[7:])
    assert [row[0] for row in rows] == ["2", "4", "6"]
    for index, row in enumerate(rows):
        # The same round means that fit reports, to the 6 digits written.
        for column, name in enumerate(header[1:5], start=1):
            assert float(row[column]) == pytest.approx(history[name][index], rel=1e-5)
        assert float(row[5]) > 0.0  # 2 steps of 16 images in a positive time
    elapsed = [float(row[6]) for row in rows]
    assert elapsed == sorted(elapsed)
    assert [entry["step"] for entry in logger.history] == [2, 4, 6]


def test_metrics_logger_appends_to_an_existing_csv_so_a_resumed_run_continues_it(
    fast_gan, fixed_batches, tmp_path
):
    gan = fast_gan(run_eagerly=True)
    path = tmp_path / "metrics.csv"
    fit(gan, fixed_batches(BATCH_SIZE), [MetricsLogger(BATCH_SIZE, path)], steps_per_epoch=2, epochs=1)

    fit(gan, fixed_batches(BATCH_SIZE), [MetricsLogger(BATCH_SIZE, path)], steps_per_epoch=2, epochs=1)

    rows = read_csv(path)
    assert rows[0][0] == "step" and [row[0] for row in rows[1:]] == ["2", "4"]  # one header


def test_metrics_logger_sends_each_row_to_the_tracker_at_its_step(fast_gan, fixed_batches):
    class RecordingTracker:
        def __init__(self):
            self.calls = []

        def log_metrics(self, metrics, step=None):
            self.calls.append((step, sorted(metrics)))

    tracker = RecordingTracker()
    gan = fast_gan(run_eagerly=True)

    fit(gan, fixed_batches(BATCH_SIZE), [MetricsLogger(BATCH_SIZE, tracker=tracker)], steps_per_epoch=2, epochs=2)

    names = sorted(["d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy", "images_per_second", "elapsed_seconds"])
    assert tracker.calls == [(2, names), (4, names)]


# --- SampleGrid ---------------------------------------------------------------------


def test_sample_grid_saves_a_frame_per_round_and_the_latest_as_samples_png(fast_gan, fixed_batches, tmp_path):
    gan = fast_gan(run_eagerly=True)
    grid = SampleGrid(tmp_path, number_of_images=16, seed=0, show=False)

    fit(gan, fixed_batches(BATCH_SIZE), [grid], steps_per_epoch=2, epochs=2)

    assert sorted(path.name for path in tmp_path.glob("*.png")) == [
        "samples.png", "samples_step_000002.png", "samples_step_000004.png",
    ]
    assert grid.frames == [tmp_path / "samples_step_000002.png", tmp_path / "samples_step_000004.png"]
    latest = np.asarray(Image.open(tmp_path / "samples.png"))
    # 16 images of 28x28 in a 4x4 grid with 2-pixel gaps, doubled: 2 * (4 * 30 - 2) = 236.
    assert latest.shape == (236, 236)
    np.testing.assert_array_equal(latest, np.asarray(Image.open(tmp_path / "samples_step_000004.png")))
    # The grid decodes the fixed latent vectors of seed 0 with the sampling (EMA) generator.
    latent = np.random.default_rng(0).standard_normal((16, 64)).astype("float32")
    expected = np.asarray(viz.grid_to_pil(viz.image_grid(gan.generate(latent))))
    np.testing.assert_array_equal(latest, expected)


def test_sample_grid_every_two_rounds_skips_the_odd_rounds(fast_gan, fixed_batches, tmp_path):
    gan = fast_gan(run_eagerly=True)
    grid = SampleGrid(tmp_path, number_of_images=4, show=False, every_epochs=2)

    fit(gan, fixed_batches(BATCH_SIZE), [grid], steps_per_epoch=1, epochs=3)

    assert sorted(path.name for path in tmp_path.glob("samples_step_*.png")) == ["samples_step_000002.png"]


# --- Checkpoint ---------------------------------------------------------------------


def test_checkpoint_callback_writes_a_checkpoint_that_restores_the_trained_gan(fast_gan, fixed_batches, tmp_path):
    gan = fast_gan(run_eagerly=True)
    directory = tmp_path / "checkpoint"
    checkpoint = Checkpoint(directory, extra_state=lambda: {"experiment_key": "key-at-%d" % int(gan.step.numpy())})

    fit(gan, fixed_batches(BATCH_SIZE), [checkpoint], steps_per_epoch=2, epochs=2)

    state = json.loads((directory / "state.json").read_text())
    assert state["step"] == 4 and state["experiment_key"] == "key-at-4"
    fresh = fast_gan(seed=1)
    training.restore_checkpoint(fresh, directory)
    assert int(fresh.step.numpy()) == 4
    for restored, trained in (
        (fresh.generator, gan.generator),
        (fresh.discriminator, gan.discriminator),
        (fresh.ema_generator, gan.ema_generator),
    ):
        for a, b in zip(restored.weights, trained.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_checkpoint_callback_saves_when_training_ends_between_its_rounds(fast_gan, fixed_batches, tmp_path):
    gan = fast_gan(run_eagerly=True)
    directory = tmp_path / "checkpoint"

    fit(
        gan, fixed_batches(BATCH_SIZE),
        [TrainingLimits(max_steps=3), Checkpoint(directory, every_epochs=100, extra_state={"seed": 0})],
        steps_per_epoch=2, epochs=10,
    )

    assert training.read_checkpoint_state(directory)["step"] == 3
    assert training.read_checkpoint_state(directory)["seed"] == 0


def test_a_time_limit_alone_stops_on_the_clock_after_many_steps_whatever_the_recipes_step_count(monkeypatch):
    # A clock that advances one second per reading: the limit of one minute is
    # reached at the 60th reading, whatever the machine's speed.
    seconds = iter(range(10_000))
    monkeypatch.setattr(gan_callbacks.time, "perf_counter", lambda: float(next(seconds)))
    limits = gan_callbacks.TrainingLimits(max_steps=None, max_minutes=1)
    model = types.SimpleNamespace(step=keras.Variable(0, dtype="int64"), stop_training=False)
    limits.set_model(model)

    limits.on_train_begin()  # reading 0
    batches = 0
    while not model.stop_training:
        limits.on_train_batch_end(batches)  # readings 1, 2, ...
        batches += 1

    assert batches == 60  # far past the fast recipes' 20-30 steps: no step limit applied
    assert limits.stopped_because == "reached the time limit of 1 minutes"
