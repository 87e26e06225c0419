"""Keras callbacks for GAN training.

``fit`` calls these between steps. In ganlab an *epoch* is a round of
``steps_per_epoch`` training steps (the data set repeats forever), so "every
epoch" means "every N steps", and the Keras progress bar shows one line per round.

- ``SampleGrid``: the same latent vectors decoded after every round, saved as
  PNG (and shown inline in a notebook): watching one fixed grid shows learning,
  not sampling noise.
- ``MetricsLogger``: losses, accuracies and images/s per round, to a CSV, to
  ``history`` and to a Comet tracker.
- ``Checkpoint``: everything needed to resume, every few rounds and at the end.
- ``TrainingLimits``: stop after a number of steps or minutes, whichever first.
- ``EvaluationCallback``: FID, KID, Inception-style score, precision and recall
  every few rounds (lesson 03), into the same rows and to Comet.
- ``StopOnNonFiniteLoss``: ends training at the first round whose losses are
  NaN or infinite, before its checkpoint replaces the last good one.

They work with any ``ganlab.training.GAN``: what differs between kinds of GAN
(images counted, classes of the samples) they ask through its run protocol.
"""

from __future__ import annotations

import csv
import math
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from ganlab import metrics, training, viz

METRIC_COLUMNS = ("d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy")
EVALUATION_COLUMNS = metrics.EVALUATION_COLUMNS


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ in ("ZMQInteractiveShell", "Shell")


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of samples from fixed latent vectors after every round.

    Writes ``samples_step_NNNNNN.png`` (the frames of a progress GIF) and
    ``samples.png`` (always the latest) into ``directory``.

    Args:
        directory: where the PNGs go.
        number_of_images: images in the grid (64 gives an 8x8 grid).
        seed: seed of the fixed latent vectors.
        show: display the grid inline; by default only inside a notebook.
        tracker: a ``ganlab.tracking`` tracker to log the grid to, or None.
        every_epochs: save every this many rounds.
    """

    def __init__(self, directory, number_of_images=64, seed=0, show=None, tracker=None, every_epochs=1):
        super().__init__()
        self.directory = Path(directory)
        self.number_of_images = number_of_images
        self.seed = seed
        self.show = _in_notebook() if show is None else show
        self.tracker = tracker
        self.every_epochs = every_epochs
        self.frames = []

    def on_train_begin(self, logs=None):
        # A class-conditional model's grid has one column per class (generate
        # cycles through the classes), so each column shows one class.
        self.columns = self.model.num_classes
        number = self.number_of_images
        if self.columns:
            number = max(self.columns, number // self.columns * self.columns)
        self.latent = np.random.default_rng(self.seed).standard_normal((number, self.model.latent_dim)).astype(
            "float32"
        )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs == 0:
            self.save()

    def save(self):
        step = int(self.model.step.numpy())
        images = self.model.generate(self.latent)
        frame = viz.save_image_grid(images, self.directory / f"samples_step_{step:06d}.png", columns=self.columns)
        shutil.copyfile(frame, self.directory / "samples.png")  # the latest grid, under a fixed name
        self.frames.append(frame)
        if self.tracker is not None:
            self.tracker.log_image(str(frame), name="samples", step=step)
        if self.show:
            from IPython.display import display

            print(f"step {step}")
            display(viz.grid_to_pil(viz.image_grid(images, columns=self.columns)))
        return frame


class MetricsLogger(keras.callbacks.Callback):
    """Records the round's mean losses and accuracies and the training speed.

    Each row: ``step``, ``d_loss``, ``g_loss``, ``d_real_accuracy``,
    ``d_fake_accuracy``, ``images_per_second``, ``elapsed_seconds``, then the
    model's ``extra_log_columns`` if it has any. Rows go to
    ``history`` (a list of dicts), to ``csv_path`` when given (appended to, so a
    resumed run continues the same file) and to ``tracker`` when given.

    Args:
        batch_size: images per step, to compute images/s.
        csv_path: the CSV file, or None.
        tracker: a ``ganlab.tracking`` tracker, or None.
    """

    # The evaluation columns stay empty except in rounds an EvaluationCallback scored.
    columns = ("step",) + METRIC_COLUMNS + ("images_per_second", "elapsed_seconds") + EVALUATION_COLUMNS

    def __init__(self, batch_size, csv_path=None, tracker=None):
        super().__init__()
        self.batch_size = batch_size
        self.csv_path = Path(csv_path) if csv_path else None
        self.tracker = tracker
        self.history = []

    def on_train_begin(self, logs=None):
        self.training_started = time.perf_counter()
        # A model may log more per round (the progressive GAN: resolution and alpha).
        self.extra_columns = tuple(self.model.extra_log_columns)
        if self.csv_path and not self.csv_path.exists():
            self.csv_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.csv_path, "w", newline="") as file:
                csv.writer(file).writerow(self.columns + self.extra_columns)

    def _images_seen(self):
        # The progressive GAN's batch size changes with the phase: the model counts.
        return self.model.images_trained_on(self.batch_size)

    def on_epoch_begin(self, epoch, logs=None):
        self.round_started = time.perf_counter()
        self.round_first_images = self._images_seen()

    def on_train_batch_end(self, batch, logs=None):
        # The round's clock stops at its last step, so that the time of other
        # callbacks' work at the round's end (evaluation, sample grids) is not
        # counted as training time.
        self.round_last_step_ended = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        step = int(self.model.step.numpy())
        seconds = getattr(self, "round_last_step_ended", time.perf_counter()) - self.round_started
        images = self._images_seen() - self.round_first_images
        row = {"step": step}
        row.update({name: float(logs[name]) for name in METRIC_COLUMNS if name in (logs or {})})
        row["images_per_second"] = images / seconds if seconds > 0 else 0.0
        row["elapsed_seconds"] = time.perf_counter() - self.training_started
        row.update({name: float(logs[name]) for name in EVALUATION_COLUMNS if name in (logs or {})})
        row.update({name: float(logs[name]) for name in self.extra_columns if name in (logs or {})})
        self.history.append(row)
        if self.csv_path:
            append_metrics_row(self.csv_path, row)
        if self.tracker is not None:
            self.tracker.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)


def metrics_columns(csv_path):
    """The columns of a ``metrics.csv`` (its header), or ``MetricsLogger.columns`` for a new file."""
    csv_path = Path(csv_path)
    if csv_path.exists():
        with open(csv_path, newline="") as file:
            header = next(csv.reader(file), None)
        if header:
            return tuple(header)
    return MetricsLogger.columns


def append_metrics_row(csv_path, row):
    """Appends one row (a dict of some of the file's columns) to a ``metrics.csv``."""
    columns = metrics_columns(csv_path)
    with open(csv_path, "a", newline="") as file:
        csv.writer(file).writerow([_format(row.get(column, "")) for column in columns])


def read_metrics_rows(csv_path):
    """The rows of a ``metrics.csv`` as dicts of strings (empty cells as ``""``); [] when there is no file."""
    csv_path = Path(csv_path)
    if not csv_path.exists():
        return []
    with open(csv_path, newline="") as file:
        return list(csv.DictReader(file))


def _rewrite_metrics(csv_path, rows):
    """Writes ``rows`` (dicts) as the whole ``metrics.csv``, atomically (a kill leaves the old file or the new)."""
    csv_path = Path(csv_path)
    columns = metrics_columns(csv_path)
    temporary = csv_path.with_name(csv_path.name + ".partial")
    with open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows([[_format(row.get(column, "")) for column in columns] for row in rows])
    temporary.replace(csv_path)


def drop_metrics_rows_after(csv_path, step):
    """Removes the rows of ``metrics.csv`` past ``step``, the step of the checkpoint a run resumes from.

    Rows written between the last checkpoint and an interruption are trained
    again after a resume; dropping them first keeps every step in the file once.

    Returns:
        The number of rows removed.
    """
    rows = read_metrics_rows(csv_path)
    kept = [row for row in rows if row.get("step", "") != "" and int(row["step"]) <= step]
    if len(kept) != len(rows):
        _rewrite_metrics(csv_path, kept)
    return len(rows) - len(kept)


def record_metrics(csv_path, step, values):
    """Puts ``values`` into the row of ``step`` (filling its empty cells), or appends a new row.

    Used for the final evaluation, so that its scores join the last training
    round's row instead of repeating its step.
    """
    rows = read_metrics_rows(csv_path)
    for row in rows:
        if row.get("step") == str(step):
            row.update({name: value for name, value in values.items() if name != "step"})
            _rewrite_metrics(csv_path, rows)
            return
    append_metrics_row(csv_path, {"step": step, **values})


def _format(value):
    return f"{value:.6g}" if isinstance(value, float) else value


class Checkpoint(keras.callbacks.Callback):
    """Saves a resumable checkpoint every few rounds and when training ends.

    The checkpoint (see ``ganlab.training.save_checkpoint``) always goes to the
    same folder, replaced atomically, so the latest one is the one to resume.

    Args:
        directory: the checkpoint folder (such as ``run/checkpoint``).
        every_epochs: save every this many rounds.
        extra_state: a dict, or a function returning one, saved in ``state.json``
            (such as the Comet experiment key).
    """

    def __init__(self, directory, every_epochs=1, extra_state=None):
        super().__init__()
        self.directory = Path(directory)
        self.every_epochs = every_epochs
        self.extra_state = extra_state
        self.saved_step = None  # the step of the last checkpoint this callback wrote

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs == 0:
            self.save()

    def on_train_end(self, logs=None):
        if self.saved_step != int(self.model.step.numpy()):  # not saved at this step yet
            self.save()

    def save(self):
        extra = self.extra_state() if callable(self.extra_state) else self.extra_state
        self.saved_step = int(self.model.step.numpy())
        return training.save_checkpoint(self.model, self.directory, extra)


class TrainingLimits(keras.callbacks.Callback):
    """Stops training at ``max_steps`` generator steps or after ``max_minutes``.

    Whichever comes first. The step is the GAN's own counter, so a resumed run
    stops at the same total as an uninterrupted one.
    """

    def __init__(self, max_steps=None, max_minutes=None):
        super().__init__()
        if max_steps is not None and max_steps < 0:
            raise ValueError(f"max_steps must be at least 0. Received: max_steps={max_steps}")
        if max_minutes is not None and max_minutes <= 0:
            raise ValueError(f"max_minutes must be positive. Received: max_minutes={max_minutes}")
        self.max_steps = max_steps
        self.max_minutes = max_minutes
        self.stopped_because = None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.step = int(self.model.step.numpy())

    def on_train_batch_end(self, batch, logs=None):
        # A Python counter: reading the step variable on every batch would cost
        # a device-to-host copy per step.
        self.step += 1
        if self.max_steps is not None and self.step >= self.max_steps:
            self.stopped_because = f"reached {self.max_steps} steps"
            self.model.stop_training = True
        elif self.max_minutes is not None and time.perf_counter() - self.started >= 60 * self.max_minutes:
            self.stopped_because = f"reached the time limit of {self.max_minutes:g} minutes"
            self.model.stop_training = True


class EvaluationCallback(keras.callbacks.Callback):
    """Scores the generator every few rounds: FID, KID, Inception-style score, precision, recall.

    The scores come from ``ganlab.metrics.evaluate_images`` (the course's domain
    classifier against the real test images). They are added to the round's
    ``logs``, so a ``MetricsLogger`` placed *after* this callback writes them in
    the same row of ``metrics.csv``; they also go to ``tracker`` when given.

    Args:
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``: whose classifier and real images.
        every_epochs: evaluate every this many rounds (and never between).
        number_of_samples: generated images per evaluation. FID falls as the
            sample grows (lesson 03), so compare only scores of equal sample size.
        seed: seed of the evaluated latent vectors (the same every time).
        tracker: a ``ganlab.tracking`` tracker, or None.
        kid_subsets: subsets averaged by KID; fewer than the default 100 keeps
            evaluation during training quick.
    """

    def __init__(self, dataset_name, every_epochs=8, number_of_samples=1000, seed=0, tracker=None, kid_subsets=10):
        super().__init__()
        if not isinstance(every_epochs, int) or every_epochs < 1:
            raise ValueError(f"every_epochs must be a positive integer. Received: every_epochs={every_epochs!r}")
        self.dataset_name = dataset_name
        self.every_epochs = every_epochs
        self.number_of_samples = number_of_samples
        self.seed = seed
        self.tracker = tracker
        self.kid_subsets = kid_subsets
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs != 0:
            return
        scores = self.evaluate()
        if logs is not None:
            logs.update(scores)

    def evaluate(self):
        # A class-conditional model's samples come with their classes: the
        # scores then also say how often the classifier sees the class asked for.
        images, labels = self.model.evaluation_samples(self.number_of_samples, seed=self.seed)
        results = metrics.evaluate_images(images, self.dataset_name, labels=labels, kid_subsets=self.kid_subsets)
        scores = metrics.logged_scores(results)
        step = int(self.model.step.numpy())
        self.history.append({"step": step, **scores})
        if self.tracker is not None:
            self.tracker.log_metrics(scores, step=step)
        return scores


class NonFiniteLossError(ValueError):
    """Training stopped because a loss became NaN or infinite (``StopOnNonFiniteLoss``)."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Ends training at the end of the first round whose logged losses are NaN or infinite.

    One NaN gradient makes NaN weights, and NaN weights never recover: every
    later step is NaN too, and a checkpoint of them is worthless. A round's
    logged values are means over its steps, so one bad step shows. Placed
    before the callbacks that record a round (``MetricsLogger``,
    ``SampleGrid``, ``Checkpoint``), it raises ``NonFiniteLossError`` (a
    ``ValueError``) before they run: the bad round's checkpoint is never
    written, and the last good one stays the one to resume.

    Args:
        checkpoint_directory: the run's checkpoint folder, named in the
            message with the step of its last good checkpoint; or None.
    """

    def __init__(self, checkpoint_directory=None):
        super().__init__()
        self.checkpoint_directory = Path(checkpoint_directory) if checkpoint_directory is not None else None

    def on_epoch_end(self, epoch, logs=None):
        bad = {name: value for name, value in (logs or {}).items() if not math.isfinite(float(value))}
        if not bad:
            return
        values = ", ".join(f"{name}={value}" for name, value in bad.items())
        kept = "No checkpoint was written before it."
        found = training.find_checkpoint(self.checkpoint_directory, warn=False) if self.checkpoint_directory else None
        if found is not None:
            step = training.read_checkpoint_state(found)["step"]
            kept = f"The last good checkpoint, step {step}, is kept in {self.checkpoint_directory}."
        raise NonFiniteLossError(
            f"training stopped at step {int(self.model.step.numpy())}: the round ending there has {values}. "
            f"{kept} Resuming with the same settings would diverge again: start a new run with lower "
            "learning rates (such as --set d_learning_rate=1e-4 --set g_learning_rate=1e-4)."
        )
