"""The GAN as one ``keras.Model``: ``compile`` takes two optimizers, ``fit`` trains.

One training step, as in Goodfellow et al. (2014), Algorithm 1:

1. Sample random points in the latent space and generate fake images.
2. Train the discriminator: real images should score "real", fakes "fake".
3. Sample new latent points and train the generator to make the
   discriminator call its fakes real (only G's weights move).
4. Optionally update an exponential moving average (EMA) of G's weights,
   which gives smoother, sharper samples than the raw G (Karras et al. 2018,
   Yazici et al. 2019).

Because it is a ``keras.Model``, students get Keras' progress bar, callbacks and
``fit`` for free. Checkpoints (``save_checkpoint`` / ``restore_checkpoint``) hold
both networks, both optimizers, the EMA generator, the step counter, the
random-number state and a small JSON of extra state (such as the Comet
experiment key), so ``resume`` continues exactly where training stopped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganlab import distribute, losses, precision

CHECKPOINT_WEIGHTS_FILE = "gan.weights.h5"
CHECKPOINT_STATE_FILE = "state.json"
# Siblings of a checkpoint folder while a new checkpoint replaces it (see save_checkpoint).
PARTIAL_SUFFIX = ".partial"
PREVIOUS_SUFFIX = ".previous"


class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Args:
        generator: a Keras model from latent vectors ``(N, latent_dim)`` to images.
        discriminator: a Keras model from images to logits ``(N, 1)``.
        latent_dim: length of z; read from the generator's input when None.
        ema_decay: keep an exponential moving average of G's weights with this
            decay (such as 0.999), used for sampling; None for no EMA.
        seed: seed for the latent vectors drawn during training.

    Example:

    ```python
    gan = GAN(build_dcgan_generator(), build_dcgan_discriminator(), ema_decay=0.999)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss="bce",
    )
    gan.fit(make_dataset(images), steps_per_epoch=100, epochs=10)
    samples = gan.generate(16)
    ```
    """

    def __init__(self, generator, discriminator, latent_dim=None, ema_decay=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be None or in (0, 1). Received: ema_decay={ema_decay}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.input_shape[-1])
        self.ema_decay = ema_decay
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Counts generator updates; saved in checkpoints, read by callbacks.
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="step")
        if ema_decay is not None:
            self.ema_generator = self.copy_generator(generator)
        else:
            self.ema_generator = None
        self.built = True

    def copy_generator(self, generator):
        """A second generator with the same architecture and weights (the EMA copy starts as this)."""
        copy = keras.models.clone_model(generator)
        copy.set_weights(generator.get_weights())
        return copy

    def compile(self, d_optimizer, g_optimizer, loss="bce", d_steps=1, label_smoothing=0.0, **kwargs):
        """Configures the two optimizers and the loss.

        Args:
            d_optimizer: optimizer of the discriminator.
            g_optimizer: optimizer of the generator. Two separate optimizers,
                because each network keeps its own Adam moments.
            loss: a loss family of ``ganlab.losses.LOSS_FAMILIES``:
                ``"bce"`` (non-saturating), ``"minimax"``, ``"hinge"``,
                ``"wasserstein"`` (add a penalty to make it meaningful).
            d_steps: discriminator updates per generator update.
            label_smoothing: one-sided label smoothing of real labels ("bce" only).
        """
        if loss not in losses.LOSS_FAMILIES:
            raise ValueError(
                f"Unknown loss. Expected one of {tuple(losses.LOSS_FAMILIES)}. Received: loss={loss!r}"
            )
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer. Received: d_steps={d_steps!r}")
        for name, optimizer in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise ValueError(
                    f"{name} must be a keras.optimizers.Optimizer, such as keras.optimizers.Adam(2e-4). "
                    f"Received: {name}={optimizer!r}"
                )
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1). Received: label_smoothing={label_smoothing}")
        if label_smoothing and loss not in ("bce", "minimax"):
            raise ValueError(
                f"label_smoothing applies to the 'bce' and 'minimax' losses only. Received: loss={loss!r}, "
                f"label_smoothing={label_smoothing}"
            )
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two different optimizer objects.")
        super().compile(**kwargs)
        if precision.needs_loss_scaling(self.generator, self.discriminator):
            # float16 gradients of small losses round to zero; a loss-scale
            # optimizer multiplies the loss up before differentiating and divides
            # the gradients back down (Micikevicius et al. 2018). Decided by the
            # networks' own policy (set when they were built), not the global one.
            d_optimizer = _with_loss_scaling(d_optimizer)
            g_optimizer = _with_loss_scaling(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_name = loss
        self.generator_loss, discriminator_loss = losses.LOSS_FAMILIES[loss]
        if loss in ("bce", "minimax"):
            self.discriminator_loss = lambda real, fake: discriminator_loss(real, fake, label_smoothing)
        else:
            self.discriminator_loss = discriminator_loss
        self.d_steps = d_steps
        # Build both optimizers now, so that a checkpoint can be restored into them
        # before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_accuracy_tracker = keras.metrics.Mean(name="d_real_accuracy")
        self.d_fake_accuracy_tracker = keras.metrics.Mean(name="d_fake_accuracy")

    def fit(self, *args, shuffle=False, **kwargs):
        # ganlab's datasets are shuffled by make_dataset; Keras' own default
        # (shuffle=True) does nothing on a tf.data.Dataset but print a warning.
        return super().fit(*args, shuffle=shuffle, **kwargs)

    @property
    def metrics(self):
        # Listed here so that Keras resets them at the start of every epoch.
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_accuracy_tracker,
            self.d_fake_accuracy_tracker,
        ]

    def sample_latent(self, batch_size):
        """Standard normal latent vectors ``(batch_size, latent_dim)`` from the model's seed.

        Under a ``tf.distribute`` strategy, this replica's share of the global
        batch's vectors (``ganlab.distribute.replica_share``): distinct on every replica.
        """
        return distribute.replica_share(
            lambda rows: keras.random.normal((rows, self.latent_dim), seed=self.seed_generator), batch_size
        )

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = ops.shape(real_images)[0]
        # Under a tf.distribute strategy each replica sees part of the batch and the
        # optimizer sums the replicas' gradients: dividing by the number of replicas
        # makes that sum the gradient of the mean loss over the whole batch.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        for _ in range(self.d_steps):
            # Sample random points in the latent space and decode them to fake images.
            latent = self.sample_latent(batch_size)
            fake_images = self.generator(latent, training=True)

            # Train the discriminator: real images should score high, fakes low.
            with tf.GradientTape() as tape:
                # Losses in float32 even when the networks compute in float16.
                real_logits = ops.cast(self.discriminator(real_images, training=True), "float32")
                fake_logits = ops.cast(self.discriminator(fake_images, training=True), "float32")
                d_loss = self.discriminator_loss(real_logits, fake_logits)
                d_loss_for_gradients = self.d_optimizer.scale_loss(d_loss / replicas)
            gradients = tape.gradient(d_loss_for_gradients, self.discriminator.trainable_weights)
            self.d_optimizer.apply(gradients, self.discriminator.trainable_weights)

        # Train the generator through the discriminator, with new latent points.
        # Only G's weights are updated: D is a fixed judge for this half-step.
        latent = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            generated = self.generator(latent, training=True)
            generated_logits = ops.cast(self.discriminator(generated, training=True), "float32")
            g_loss = self.generator_loss(generated_logits)
            g_loss_for_gradients = self.g_optimizer.scale_loss(g_loss / replicas)
        gradients = tape.gradient(g_loss_for_gradients, self.generator.trainable_weights)
        self.g_optimizer.apply(gradients, self.generator.trainable_weights)

        return self.finish_step(d_loss, g_loss, real_logits, fake_logits)

    def finish_step(self, d_loss, g_loss, real_logits, fake_logits):
        """The end of every train step: count it, update the EMA of G, record the metrics.

        Subclasses with their own ``train_step`` (``ganlab.growing``,
        ``ganlab.conditional``) end it here too, after updating their own trackers.

        Returns:
            The logs of the step: every tracker's running mean.
        """
        self.step.assign_add(1)
        if self.ema_generator is not None:
            self._update_ema()
        real_accuracy, fake_accuracy = losses.discriminator_accuracy(real_logits, fake_logits)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_accuracy_tracker.update_state(real_accuracy)
        self.d_fake_accuracy_tracker.update_state(fake_accuracy)
        return {metric.name: metric.result() for metric in self.metrics}

    def _update_ema(self):
        """w_ema <- decay * w_ema + (1 - decay) * w, for every weight of G.

        The decay is warmed up as ``min(decay, (1 + step) / (10 + step))`` (as in
        ``tf.train.ExponentialMovingAverage`` with ``num_updates``), so that the
        average is not dominated by the random initial weights in short runs.
        Batch-norm moving statistics are averaged the same way.
        """
        step = ops.cast(self.step, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, current in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * current)

    def sampling_generator(self):
        """The generator to sample from: the EMA copy when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def generate(self, number_or_latent, batch_size=500, seed=None):
        """Generates images in [-1, 1] with the sampling generator (inference mode).

        Args:
            number_or_latent: how many images, or an array of latent vectors.
            batch_size: generate in batches of this size, to bound memory.
            seed: seed for the latent vectors when a number is given; the same
                seed gives the same images.

        Returns:
            A float32 NumPy array ``(N, H, W, C)``.
        """
        if isinstance(number_or_latent, (int, np.integer)):
            if number_or_latent < 1:
                raise ValueError(f"number of images must be positive. Received: {number_or_latent}")
            latent = np.random.default_rng(seed).standard_normal(
                (int(number_or_latent), self.latent_dim)
            ).astype("float32")
        else:
            latent = np.asarray(number_or_latent, dtype="float32")
            if latent.ndim != 2 or latent.shape[1] != self.latent_dim:
                raise ValueError(
                    f"latent vectors must have shape (N, {self.latent_dim}). Received: {latent.shape}"
                )
        batches = [self.decode(latent[start : start + batch_size]) for start in range(0, len(latent), batch_size)]
        return np.concatenate(batches).astype("float32")

    def decode(self, latent):
        """Images of one batch of latent vectors from the sampling generator, as a NumPy array."""
        return keras.ops.convert_to_numpy(self.sampling_generator()(latent, training=False))

    def get_config(self):
        return {"latent_dim": self.latent_dim, "ema_decay": self.ema_decay}


def _with_loss_scaling(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


# --- checkpoints ---------------------------------------------------------------------


def save_checkpoint(gan, directory, extra_state=None):
    """Saves everything needed to continue training into ``directory``.

    Writes ``gan.weights.h5`` (G, D, EMA G, both optimizers, the step counter
    and the seed generator's state, through Keras' weight saving, which walks
    the model's attributes) and ``state.json`` (the step and ``extra_state``).

    A kill at any moment leaves at least one complete checkpoint behind:

    1. the new one is written to ``<directory>.partial`` (``state.json`` last,
       so a folder holding it is complete);
    2. the old one is renamed to ``<directory>.previous``, not deleted;
    3. the new one is renamed to ``<directory>``;
    4. only then is ``<directory>.previous`` deleted.

    ``find_checkpoint`` picks the newest complete one of the three.

    Returns:
        The checkpoint directory as a ``Path``.
    """
    directory = Path(directory)
    temporary = directory.with_name(directory.name + PARTIAL_SUFFIX)
    previous = directory.with_name(directory.name + PREVIOUS_SUFFIX)
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    gan.save_weights(temporary / CHECKPOINT_WEIGHTS_FILE)
    state = {
        "step": int(gan.step.numpy()),
        # The seed generator's state is not among the saved weights; keeping it
        # makes a resumed run draw the same latent vectors as an uninterrupted one.
        "seed_generator_state": keras.ops.convert_to_numpy(gan.seed_generator.state).tolist(),
        **(extra_state or {}),
    }
    (temporary / CHECKPOINT_STATE_FILE).write_text(json.dumps(state, indent=2))
    if directory.exists():
        shutil.rmtree(previous, ignore_errors=True)
        directory.rename(previous)
    temporary.rename(directory)
    shutil.rmtree(previous, ignore_errors=True)
    return directory


def find_checkpoint(directory):
    """The newest complete checkpoint among ``directory`` and its ``.previous`` / ``.partial`` siblings.

    A checkpoint is complete when its weights file exists and its ``state.json``
    reads as JSON (``save_checkpoint`` writes it last). Of several complete ones
    (a kill during ``save_checkpoint`` can leave two), the one with the highest
    step wins.

    Returns:
        The folder as a ``Path``, or None when there is no complete checkpoint.
    """
    directory = Path(directory)
    best, best_step = None, -1
    siblings = [directory.with_name(directory.name + suffix) for suffix in (PREVIOUS_SUFFIX, PARTIAL_SUFFIX)]
    for candidate in [directory, *siblings]:
        try:
            step = int(read_checkpoint_state(candidate)["step"])
        except (ValueError, KeyError, TypeError):
            continue  # missing, or cut off in the middle of writing
        if (candidate / CHECKPOINT_WEIGHTS_FILE).exists() and step > best_step:
            best, best_step = candidate, step
    return best


def settle_checkpoint(directory):
    """Puts the newest complete checkpoint back under ``directory``'s own name and returns it.

    After a kill inside ``save_checkpoint`` the newest complete checkpoint may
    be ``<directory>.partial`` or ``<directory>.previous``. Renaming it into
    place before training continues means the next save replaces it the safe
    way (and does not delete it as a stale ``.partial``).

    Returns:
        ``directory`` as a ``Path``, or None when there is no complete checkpoint.
    """
    directory = Path(directory)
    newest = find_checkpoint(directory)
    if newest is None or newest == directory:
        return newest
    # A kill here leaves `newest` where it is, still found by find_checkpoint.
    shutil.rmtree(directory, ignore_errors=True)
    newest.rename(directory)
    return directory


def restore_checkpoint(gan, directory):
    """Restores a checkpoint written by ``save_checkpoint`` into a compiled ``gan``.

    Returns:
        The saved state dictionary (``step`` and any extra state).
    """
    directory = Path(directory)
    weights = directory / CHECKPOINT_WEIGHTS_FILE
    if not weights.exists():
        raise ValueError(f"No checkpoint in {directory}: {CHECKPOINT_WEIGHTS_FILE} is missing.")
    if not hasattr(gan, "d_optimizer"):
        raise ValueError("Compile the GAN before restoring a checkpoint: the optimizers are part of it.")
    gan.load_weights(weights)
    state = read_checkpoint_state(directory)
    if "seed_generator_state" in state:
        gan.seed_generator.state.assign(
            np.asarray(state["seed_generator_state"], dtype=gan.seed_generator.state.dtype)
        )
    return state


def read_checkpoint_state(directory):
    """The ``state.json`` of a checkpoint as a dict."""
    path = Path(directory) / CHECKPOINT_STATE_FILE
    if not path.exists():
        raise ValueError(f"No checkpoint in {directory}: {CHECKPOINT_STATE_FILE} is missing.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"The checkpoint in {directory} is incomplete: {path} is not valid JSON ({error}).") from None
