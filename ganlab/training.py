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
``fit`` for free. Checkpoints (``save_checkpoint`` / ``restore_checkpoint``, in
``ganlab.checkpoints`` and importable from here) hold both networks, both
optimizers, the EMA generator, the step counter, the random-number state and a
small JSON of extra state (such as the Comet experiment key), so ``resume``
continues exactly where training stopped.

``GAN`` also defines the *run protocol*: the few methods through which
``ganlab.runs.train_run`` builds, feeds, checkpoints and samples any kind of
GAN without knowing which kind it is (see ``GAN.from_recipe``).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganlab import distribute, losses, precision

# Checkpoints are ganlab.checkpoints' (file handling, not this lesson's concept);
# lesson 02 and earlier code import them from here.
from ganlab.checkpoints import (  # noqa: F401 (re-exported)
    CHECKPOINT_FOLDER,
    CHECKPOINT_STATE_FILE,
    CHECKPOINT_WEIGHTS_FILE,
    DAMAGED_SUFFIX,
    PARTIAL_SUFFIX,
    PREVIOUS_SUFFIX,
    CheckpointWarning,
    checkpoint_problem,
    damaged_checkpoints,
    find_checkpoint,
    read_checkpoint_state,
    require_checkpoint,
    restore_checkpoint,
    save_checkpoint,
    settle_checkpoint,
)


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

    The run protocol: ``ganlab.runs.train_run`` knows no kind of GAN; it asks
    the GAN for all that differs between kinds through the members below,
    whose defaults here suit an unconditional GAN with one batch size. A new
    kind of GAN is one subclass overriding those it needs
    (``ganlab.models.progressive.ProgressiveGAN`` and ``ganlab.models.biggan.BigGAN``
    are the examples) and one declaration (``ganlab.registry.ModelDeclaration``).
    Most members are overridden by one built-in kind only; they are here
    because every model of that sort (any class-conditional GAN, any whose
    batch size or state changes during training) needs them, and the loop that
    runs training must not ask which kind it holds. Each member, and why a kind
    would override it:

    - ``from_recipe(recipe, generator, discriminator, seed)``: the GAN of a
      recipe, compiled; a kind whose constructor or ``compile`` takes settings
      of its own (a schedule, a fixed loss) reads them from the recipe here
      (from its ``options``, ``ganlab.recipes.ModelOptions``);
    - ``training_dataset(images, labels, batch_size, seed, first_step)``: the
      batches ``fit`` trains on from step ``first_step``; a kind trained on
      (image, class) pairs, or whose batch size changes, makes its own;
    - ``run_callbacks()``: callbacks run before all others during ``fit``; a
      kind whose train step needs per-step state set from outside (the
      progressive GAN's phase) supplies them;
    - ``checkpoint_state()``: plain values written into ``state.json`` for a
      reader of the file (the weights hold what resuming needs); a kind with
      state worth reading there (the phase and alpha of growth) adds it;
    - ``evaluation_samples(number, seed)``: ``(images, labels)`` to score and
      write to ``samples.npz``; a class-conditional kind returns the classes asked for;
    - ``images_trained_on(batch_size)``: real images seen so far (for images/s);
      a kind whose batch size changes during training counts them itself;
    - ``num_classes``: None, or the classes of a class-conditional GAN (one
      sample-grid column per class);
    - ``extra_log_columns``: names of the step's logs that ``metrics.csv``
      records besides the losses and accuracies, for a kind with terms of its own.
    """

    # An unconditional GAN: its samples have no class. A class-conditional kind sets its number
    # of classes (ganlab.models.biggan.BigGAN), which sample grids (one column per class), the
    # samples' labels and `ganlab sample --class` read.
    num_classes = None
    # No logged terms besides the losses and accuracies. A kind whose step computes terms of its
    # own worth following (a penalty, growth's resolution and alpha) names them here.
    extra_log_columns = ()

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

        Subclasses with their own ``train_step`` (``ganlab.models.progressive``,
        ``ganlab.models.biggan``) end it here too, after updating their own trackers.

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

    # --- the run protocol (ganlab.runs.train_run) ----------------------------------------

    @classmethod
    def from_recipe(cls, recipe, generator, discriminator, seed=0):
        """The GAN of a ``ganlab.recipes.Recipe`` around two built networks, compiled.

        Both optimizers are Adam with the recipe's settings
        (``recipe_optimizers``); the loss family and the number of D steps are the
        recipe's. Every kind whose constructor or ``compile`` takes settings of
        its own overrides this, reading them from the recipe (its ``options``;
        the progressive GAN's schedule, BigGAN's fixed hinge loss).
        """
        gan = cls(generator, discriminator, ema_decay=recipe.ema_decay, seed=seed)
        d_optimizer, g_optimizer = recipe_optimizers(recipe)
        gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=recipe.loss, d_steps=recipe.d_steps)
        return gan

    def training_dataset(self, images, labels, batch_size, seed=0, first_step=0):
        """The real batches to train on from step ``first_step`` (images only: an unconditional GAN).

        The order depends on the seed and on ``first_step``, so that a resumed
        run does not replay the batches it has already seen. A kind trained on
        (image, class) pairs overrides this to keep ``labels``; one whose batch
        size changes during training, to batch by its own sizes (and then
        ignores ``batch_size``, the recipe's one size).
        """
        from ganlab import data

        return data.make_dataset(images, None, batch_size=batch_size, seed=seed + first_step)

    def run_callbacks(self):
        """Callbacks this kind of GAN needs during ``fit``; ``train_run`` runs them before all others.

        None here. A kind overrides this when its train step needs state that
        only the loop around it knows (the progressive GAN's phase and alpha,
        set from the step count before each step, ``GrowthCallback``).
        """
        return []

    def checkpoint_state(self):
        """Plain values a checkpoint's ``state.json`` keeps for this kind of GAN (for a reader of the file).

        None here: the weights file holds all that resuming needs. A kind
        overrides this when it has state a person (or a tool) reading the
        checkpoint wants without loading the networks (the progressive GAN's
        resolution, phase and alpha, which the design asks checkpoints to show).
        """
        return {}

    def evaluation_samples(self, number, seed=None):
        """``(images, labels)``: ``number`` samples to score or keep, and their classes (None: no classes).

        A class-conditional kind overrides this to ask for every class in turn
        and return those classes, so that the scores can check them.
        """
        return self.generate(number, seed=seed), None

    def images_trained_on(self, batch_size):
        """Real images shown to D so far: ``step * batch_size`` when every step has the same batch.

        A kind whose batch size changes during training (the progressive GAN's,
        per resolution) overrides this with the count its train step keeps.
        """
        return int(self.step.numpy()) * batch_size


def recipe_optimizers(recipe):
    """``(d_optimizer, g_optimizer)``: two Adam optimizers with a recipe's learning rates, betas and epsilon."""

    def adam(learning_rate):
        return keras.optimizers.Adam(learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2, epsilon=recipe.epsilon)

    return adam(recipe.d_learning_rate), adam(recipe.g_learning_rate)


def _with_loss_scaling(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
