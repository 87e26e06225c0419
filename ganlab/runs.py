"""A training run: data, networks, callbacks and tracking, all in one folder.

``train_run`` is what ``ganlab train`` calls, and what a notebook can call to get
the same result. It writes into ``out``:

```
out/
  checkpoint/             gan.weights.h5 + state.json: resume from here
  checkpoint.previous/    the checkpoint before it, in case the newest is damaged
  samples.png             8x8 grid from the final generator (fixed latent vectors)
  samples_step_NNNNNN.png the same grid after every round (progress GIF frames)
  samples.npz             key "images": float32 samples in [-1, 1]
  metrics.csv             step, losses, accuracies, images/s per round; FID, KID,
                          IS, precision, recall every few rounds and at the end
  evaluation.json         the final samples' scores (ganlab.evaluation.evaluate_images)
  comet/                  the offline Comet archive (offline tracking)
```

``train_run`` knows no kind of GAN: it builds the networks and the GAN class
that the model's declaration names (``ganlab.registry``), and asks that GAN for
everything that differs between kinds through the run protocol of
``ganlab.training.GAN`` (its dataset, its callbacks, its checkpoint state, its
samples). A new model is its own files (networks, a ``GAN`` subclass where the
train step differs) and one declaration (``ganlab.registry.register_model``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ganlab import callbacks as gan_callbacks
from ganlab import checkpoints, data, distribute, precision, recipes, registry, tracking, viz
from ganlab import evaluation as evaluation_pipeline

CHECKPOINT_FOLDER = checkpoints.CHECKPOINT_FOLDER
SAMPLE_SEED = 2024  # fixed, so samples.npz of two runs are drawn from the same z
# The number of rounds given to Keras' fit when only a time limit ends training.
UNLIMITED_ROUNDS = 1_000_000

@dataclass
class RunResult:
    """What a finished (or stopped) run produced."""

    out: Path
    step: int
    seconds: float
    stopped_because: str
    gan: object
    history: list
    tracker: object

    @property
    def samples_png(self):
        return self.out / "samples.png"

    @property
    def samples_npz(self):
        return self.out / "samples.npz"

    @property
    def metrics_csv(self):
        return self.out / "metrics.csv"


def build_gan(recipe, seed=0, strategy=None):
    """Networks and GAN of a recipe, compiled with its optimizers and loss (``GAN.from_recipe``).

    Built in the recipe's precision (``ganlab.precision``) and, when a
    ``tf.distribute`` strategy is given, inside its scope: variables created
    there are mirrored on every device, and ``fit`` splits each batch across them.
    """
    with distribute.scope(strategy), precision.precision_scope(recipe.precision):
        return _build_gan(recipe, seed)


def _build_gan(recipe, seed):
    keras.utils.set_random_seed(seed)
    declaration = registry.declaration_of(recipe.model)
    network = recipes.network_for(recipe)
    return declaration.gan_class.from_recipe(
        recipe, declaration.build_generator(network), declaration.build_discriminator(network), seed=seed
    )


def train_run(
    recipe,
    out,
    seed=0,
    resume=False,
    tracking_mode="auto",
    source="auto",
    command=None,
    verbose="auto",
    show_samples=None,
    strategy=None,
):
    """Trains ``recipe`` into the folder ``out``; resumes from its checkpoint if asked.

    Args:
        recipe: a ``ganlab.recipes.Recipe``.
        out: the run folder.
        seed: seeds the weights, the data order and the latent vectors.
        resume: continue from ``out/checkpoint``. Without it, a folder that
            already holds a checkpoint is refused, so no run is overwritten.
        tracking_mode: ``"auto"``, ``"online"``, ``"offline"``, ``"off"``.
        source: the data source (see ``ganlab.data.load_images``).
        command: the command line to log (defaults to ``sys.argv``).
        verbose: Keras' ``fit`` verbosity.
        show_samples: show the sample grid inline after every round; by
            default only inside a notebook (the PNGs are written either way).
        strategy: a ``tf.distribute`` strategy to train under (such as
            ``ganlab.distribute.strategy_for(devices=2)``); None for
            ``strategy_for()``: all GPUs when there are several, else one device.

    Returns:
        A ``RunResult``.
    """
    if tracking_mode not in tracking.TRACKING_MODES:
        raise ValueError(
            f"Unknown tracking mode. Expected one of {tracking.TRACKING_MODES}. "
            f"Received: tracking={tracking_mode!r}"
        )
    out = Path(out)
    recipe, seed, checkpoint, saved = _open_run(recipe, out, seed, resume)
    resume = checkpoint is not None

    images, labels = data.load_images(recipe.dataset, size=recipe.image_size, source=source)
    strategy = strategy if strategy is not None else distribute.strategy_for()
    distribute.check_batch_sizes(recipe, strategy)
    gan = build_gan(recipe, seed, strategy)
    state = checkpoints.restore_checkpoint(gan, checkpoint) if resume else {}
    first_step = int(gan.step.numpy())
    # Rows past the checkpoint (or all rows, when starting over) are trained
    # again now: drop them, so that every step appears once in metrics.csv.
    gan_callbacks.drop_metrics_rows_after(out / "metrics.csv", first_step)
    if resume:
        target = f" of {recipe.steps}" if recipe.steps is not None else ""
        print(f"ganlab: resuming {out} at step {first_step}{target}")

    tracker = tracking.start_experiment(
        tracking_mode,
        run_directory=out,
        project_name="ganlab",
        experiment_name=f"{recipe.model}-{out.name}",
        parameters={**recipe.to_dict(), "seed": seed},
        experiment_key=state.get("experiment_key"),
    )
    command = list(command if command is not None else sys.argv)
    if resume and saved.get("command"):
        command = saved["command"]  # the command that started the run, for records of how it was made
    tracker.log_command(command)

    # The data order depends on the seed and on how far training got, so that
    # a resumed run does not replay the batches it has already seen.
    dataset = gan.training_dataset(images, labels, recipe.batch_size, seed=seed, first_step=first_step)
    callback_list, metrics_logger, limits = _callbacks(gan, recipe, seed, out, tracker, command, show_samples)
    started = time.perf_counter()
    _fit(gan, dataset, recipe, first_step, callback_list, tracker, verbose)
    seconds = time.perf_counter() - started
    step = int(gan.step.numpy())
    stopped_because = limits.stopped_because or f"reached {recipe.steps} steps"

    _finish_run(gan, recipe, seed, tracker, command, out, step, stopped_because, seconds)
    return RunResult(out, step, seconds, stopped_because, gan, metrics_logger.history, tracker)


def _callbacks(gan, recipe, seed, out, tracker, command, show_samples):
    """``(callbacks, metrics_logger, limits)``: what runs around ``fit``, in the order it must run."""
    checkpoint_directory = out / CHECKPOINT_FOLDER
    metrics_logger = gan_callbacks.MetricsLogger(recipe.batch_size, out / "metrics.csv", tracker)
    limits = gan_callbacks.TrainingLimits(max_steps=recipe.steps, max_minutes=recipe.minutes)
    callback_list = [
        *gan.run_callbacks(),  # first: the kind's own (the progressive GAN's phase for each step)
        # Before anything records the round: a NaN round's checkpoint must not replace the last good one.
        gan_callbacks.StopOnNonFiniteLoss(checkpoint_directory),
        limits,
        # Before the logger: it adds its scores to the round's logs, which the
        # logger then writes in the same row.
        gan_callbacks.EvaluationCallback(
            recipe.dataset,
            every_epochs=recipe.evaluation_every_rounds,
            number_of_samples=recipe.evaluation_samples,
            tracker=tracker,
        ),
        metrics_logger,
        gan_callbacks.SampleGrid(out, show=show_samples, tracker=tracker),
        gan_callbacks.Checkpoint(checkpoint_directory, extra_state=lambda: run_state(gan, recipe, seed, tracker, command)),
    ]
    return callback_list, metrics_logger, limits


def _open_run(recipe, out, seed, resume):
    """``(recipe, seed, checkpoint, saved_state)`` of the run in ``out``; checkpoint None when starting afresh.

    Refuses a folder that already holds a run unless ``resume``; a resumed run
    takes the saved recipe and seed (the networks must be rebuilt exactly as
    saved) and only the new limits (steps, minutes) of ``recipe``.
    """
    checkpoint_directory = out / CHECKPOINT_FOLDER
    # The newest intact checkpoint: a kill while one was being replaced can
    # leave it beside the folder, and a damaged newest one is skipped with a
    # warning (see ganlab.checkpoints.save_checkpoint). Checkpoints that are all
    # damaged end here, in a ValueError naming them.
    checkpoint = checkpoints.require_checkpoint(checkpoint_directory)
    if not resume and checkpoint is not None:
        raise ValueError(
            f"{out} already holds a training run. Continue it with --resume, "
            "or choose another --out folder."
        )
    if resume and checkpoint is None:
        # Stopped before its first checkpoint: there is nothing to continue, but the
        # student asked to go on, so train from the start (and say so).
        print(f"ganlab: --resume: {out} holds no checkpoint yet (stopped before the first one); starting from step 0.")
        resume = False
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        return recipe, seed, None, {}
    checkpoint = checkpoints.settle_checkpoint(checkpoint_directory)
    saved = checkpoints.read_checkpoint_state(checkpoint)
    recipe = dataclasses.replace(
        recipes.recipe_from_json(saved["recipe"]), steps=recipe.steps, minutes=recipe.minutes
    )
    return recipe, saved.get("seed", seed), checkpoint, saved


def _fit(gan, dataset, recipe, first_step, callback_list, tracker, verbose):
    """Keras' ``fit`` from ``first_step`` to the recipe's limit, one round (epoch) per ``steps_per_round``."""
    first_round = first_step // recipe.steps_per_round
    if recipe.steps is None:
        # Only --minutes limits this run: TrainingLimits stops it on time.
        remaining, rounds = 1, UNLIMITED_ROUNDS
    else:
        remaining = max(recipe.steps - first_step, 0)
        rounds = math.ceil(remaining / recipe.steps_per_round)
    if remaining <= 0:
        return
    try:
        gan.fit(
            dataset,
            steps_per_epoch=recipe.steps_per_round,
            initial_epoch=first_round,
            epochs=first_round + rounds,
            callbacks=callback_list,
            shuffle=False,
            verbose=verbose,
        )
    except gan_callbacks.NonFiniteLossError:
        tracker.end()  # what was logged so far is kept
        raise


def _finish_run(gan, recipe, seed, tracker, command, out, step, stopped_because, seconds):
    """The end of a run: final samples and their scores, the last checkpoint, and what was written where."""
    checkpoint_directory = out / CHECKPOINT_FOLDER
    samples, sample_labels = write_samples(gan, out / "samples.npz", recipe.number_of_samples)
    # A class-conditional model's grid has one column per class.
    final_grid = viz.save_image_grid(samples[:64], out / "samples.png", columns=gan.num_classes)
    tracker.log_image(str(final_grid), name="final samples", step=step)
    evaluation = evaluate_final_samples(samples, recipe, step, out, tracker, labels=sample_labels)
    # The last checkpoint comes after the final samples: whatever sampling
    # measured (BigGAN's standing statistics of its EMA generator) is kept, for
    # `ganlab sample`.
    checkpoints.save_checkpoint(gan, checkpoint_directory, run_state(gan, recipe, seed, tracker, command))
    tracker.end()
    class_accuracy = (
        f"  classes:    {evaluation['class_accuracy']:.1%} of the samples are of the class asked for "
        f"(domain classifier)\n"
        if "class_accuracy" in evaluation else ""
    )
    print(
        f"ganlab: {recipe.model} trained to step {step} ({stopped_because}) in {seconds / 60:.1f} min.\n"
        f"  samples:    {out / 'samples.png'} (grid), {out / 'samples.npz'} ({recipe.number_of_samples} images)\n"
        f"  scores:     FID {evaluation['fid']:.1f}, Inception-style score {evaluation['inception_score']:.2f} "
        f"(real test images: {evaluation['real_inception_score']:.2f}) on {evaluation['number_of_samples']} samples, "
        f"in {out / 'evaluation.json'}\n"
        f"{class_accuracy}"
        f"  metrics:    {out / 'metrics.csv'}\n"
        f"  checkpoint: {checkpoint_directory} (continue with --resume)"
    )


def run_state(gan, recipe, seed, tracker, command=None):
    """What a checkpoint's ``state.json`` holds besides the step: enough to rebuild and continue the run."""
    # The command is scrubbed of the Comet API key, should one have been typed into it.
    state = {"experiment_key": tracker.key, "recipe": recipe.to_json(), "seed": seed, "command": tracker.scrub(command)}
    state.update(gan.checkpoint_state())  # such as the progressive GAN's resolution, phase and alpha
    return state


def write_samples(gan, path, number_of_samples, seed=SAMPLE_SEED):
    """Writes ``number_of_samples`` generated images to an ``.npz`` and returns ``(images, labels)``.

    The file's key ``images`` holds float32 images in [-1, 1]; a class-conditional
    model's file also has ``labels``, the class each image was asked for (the
    classes in turn, 0, 1, ..., 9, 0, ...), and ``labels`` is None otherwise
    (``GAN.evaluation_samples``).
    """
    images, labels = gan.evaluation_samples(number_of_samples, seed=seed)
    images = images.astype(np.float32)
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    np.savez_compressed(path, **arrays)
    return images, labels


def evaluate_final_samples(samples, recipe, step, out, tracker, labels=None):
    """Scores the final samples, as one last row of ``metrics.csv`` and ``evaluation.json``."""
    evaluation = evaluation_pipeline.evaluate_images(samples, recipe.dataset, labels=labels)
    scores = evaluation_pipeline.logged_scores(evaluation)
    # Into the last round's row (same step), so that each step has one row.
    gan_callbacks.record_metrics(out / "metrics.csv", step, scores)
    (out / "evaluation.json").write_text(json.dumps({"step": step, **evaluation}, indent=2))
    tracker.log_metrics({f"final_{name}": value for name, value in scores.items()}, step=step)
    return evaluation


def command_line():
    """The current command as one shell-quoted string (for logging)."""
    return " ".join(shlex.quote(part) for part in sys.argv)
