"""The class-conditional GAN of lessons 05 and 06: BigGAN's training (Brock et al. 2019).

One training step, on a batch of real images and their labels:

1. ``d_steps`` times: sample z and random classes (uniform over the classes,
   independent of the real labels), generate fakes, and train D with the
   hinge loss on the real (image, label) pairs and the fake ones.
2. Sample new z and classes and train G with the hinge generator loss plus
   BigGAN's orthogonal regularization of G's kernels
   (``ganlab.regularizers.generator_orthogonal_penalty``).
3. Update the exponential moving average (EMA) of G's weights.

With a DiffAugment policy (``compile(augment=...)``, ``ganlab.augment``), every
image D sees in steps 1 and 2, real or fake, goes through the same kind of
random differentiable transformation T first (not BigGAN's; Zhao et al. 2020,
for data-limited training such as the 4,000 offline MNIST digits).

```
L_D = mean(relu(1 - D(T(x), y))) + mean(relu(1 + D(T(G(z, e(c))), c)))       c ~ U{0, ..., K - 1}
L_G = -mean(D(T(G(z, e(c))), c)) + beta * sum_W ||W^T W ⊙ (1 - I)||_F^2      T = identity without a policy
```

Sampling uses the EMA generator, whose batch-norm statistics need care: the
EMA averages G's *weights*, but moving averages of activations measured
under older weights do not describe the averaged network.
``recompute_standing_statistics`` measures them on the EMA generator itself
(BigGAN's "standing statistics"). ``generate`` does it by itself whenever the
EMA generator has changed since the last measurement, so samples, sample grids
and evaluations during training never use stale statistics.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganlab import augment as augmentation
from ganlab import distribute, losses, regularizers, sampling, training
from ganlab.models.biggan.networks import BigGANGenerator


# Batches of z averaged into the sampling generator's standing statistics, as BigGAN-PyTorch.
STANDING_STATISTICS_BATCHES = 16


def check_standing_statistics_batches(batches):
    """``batches`` if it is a positive integer (how many batches standing statistics average), else a ValueError."""
    if isinstance(batches, bool) or not isinstance(batches, numbers.Integral) or batches < 1:
        raise ValueError(f"standing_statistics_batches must be a positive integer. Received: {batches!r}")
    return batches


class BigGAN(training.GAN):
    """BigGAN: a class-conditional ``ganlab.training.GAN`` with hinge loss, orthogonal regularization and EMA.

    Args:
        generator: a ``ganlab.models.BigGANGenerator``.
        discriminator: a ``ganlab.models.BigGANDiscriminator`` of the same classes and image shape.
        ema_decay: G's weight average for sampling, or None. BigGAN-PyTorch
            uses 0.9999 from iteration 20,000 on; 0.999 (with
            ``training.GAN``'s warm-up) suits runs of thousands of steps.
        seed: seed of the latent vectors and classes drawn during training.
        standing_statistics_batches: batches that ``ensure_standing_statistics``
            averages (``recompute_standing_statistics``): 16, as BigGAN-PyTorch
            (``STANDING_STATISTICS_BATCHES``).

    Train with ``fit`` on a dataset of ``(images, labels)`` batches
    (``ganlab.data.make_dataset(images, labels)``): images ``(N, H, W, C)`` in
    [-1, 1], integer labels ``(N,)``. Every D step of a train step reuses the
    batch's real images with new fakes (BigGAN-PyTorch draws new real images
    for each D step).

    Example:

    ```python
    config = BigGANConfig()
    gan = BigGAN(build_biggan_generator(config), build_biggan_discriminator(config))
    gan.compile(  # BigGAN's own learning rates and D steps
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999),
        g_optimizer=keras.optimizers.Adam(5e-5, beta_1=0.0, beta_2=0.999),
        d_steps=2,
    )
    gan.fit(make_dataset(images, labels), steps_per_epoch=100, epochs=10)
    gan.recompute_standing_statistics()
    digits = gan.generate(10, labels=np.arange(10), truncation=1.0, seed=0)
    ```
    """

    def __init__(self, generator, discriminator, ema_decay=0.999, seed=None,
        standing_statistics_batches=STANDING_STATISTICS_BATCHES, **kwargs,
    ):
        check_standing_statistics_batches(standing_statistics_batches)
        if not isinstance(generator, BigGANGenerator):
            raise ValueError(f"generator must be a BigGANGenerator. Received: {type(generator).__name__}")
        g_config, d_config = generator.config, getattr(discriminator, "config", None)
        if d_config is None or (d_config.num_classes, tuple(d_config.image_shape)) != (
            g_config.num_classes, tuple(g_config.image_shape)
        ):
            raise ValueError(
                "The discriminator must be a BigGANDiscriminator of the generator's classes and image shape "
                f"(num_classes={g_config.num_classes}, image_shape={tuple(g_config.image_shape)})."
            )
        super().__init__(
            generator, discriminator, latent_dim=g_config.latent_dim, ema_decay=ema_decay, seed=seed, **kwargs
        )
        self.num_classes = g_config.num_classes
        # The step at which the EMA generator's standing statistics were last measured.
        self.standing_statistics_step = None
        self.standing_statistics_batches = standing_statistics_batches

    # Logged per round beside the losses (MetricsLogger); class accuracy and variety
    # within a class come from the evaluation rounds (EvaluationCallback).
    extra_log_columns = ("orthogonal_penalty", "class_accuracy", "variety")

    def copy_generator(self, generator):
        copy = BigGANGenerator(generator.config, name="ema_generator")
        copy.set_weights(generator.get_weights())
        return copy

    def compile(self, d_optimizer, g_optimizer, d_steps=2, orthogonal_strength=1e-4, augment="", **kwargs):
        """Configures the optimizers, the number of D steps and the orthogonal regularization.

        Args:
            d_optimizer, g_optimizer: two different optimizers; BigGAN uses Adam
                with beta_1 = 0, beta_2 = 0.999. BigGAN's own rates are 2e-4 for D
                and 5e-5 for G, with 2 D steps; 4e-4 for D and 1e-4 for G with 1 D
                step are SA-GAN's (Zhang et al. 2019), BigGAN's baseline
                (BigGAN-PyTorch's README gives both).
            d_steps: D updates per G update (2 in the BigGAN paper, 1 in SA-GAN,
                4 in BigGAN-PyTorch's CIFAR script).
            orthogonal_strength: beta of the orthogonal regularization on G
                (1e-4 in the paper); 0 turns it off.
            augment: a DiffAugment policy (``ganlab.augment``, such as
                ``"translation,cutout"``): D sees real and fake images through
                the same kind of random, differentiable transformations, in
                D's steps and G's. Empty for none (the paper).

        The loss is always the hinge loss.
        """
        loss = kwargs.pop("loss", "hinge")
        if loss != "hinge":
            raise ValueError(f"BigGAN trains with the hinge loss. Received: loss={loss!r}")
        if (
            isinstance(orthogonal_strength, bool)
            or not isinstance(orthogonal_strength, numbers.Real)
            or not orthogonal_strength >= 0
        ):
            raise ValueError(
                "orthogonal_strength must be a non-negative number. "
                f"Received: orthogonal_strength={orthogonal_strength!r}"
            )
        super().compile(d_optimizer, g_optimizer, loss="hinge", d_steps=d_steps, **kwargs)
        self.orthogonal_strength = float(orthogonal_strength)
        self.augment_policy = augmentation.parse_policy(augment)
        self.orthogonal_penalty_tracker = keras.metrics.Mean(name="orthogonal_penalty")

    @property
    def metrics(self):
        return super().metrics + [self.orthogonal_penalty_tracker]

    def sample_labels(self, batch_size):
        """Classes drawn uniformly from ``0 .. num_classes - 1``, ``(batch_size,)``, from the model's seed.

        Under a ``tf.distribute`` strategy, this replica's share of the global batch's classes.
        """
        return distribute.replica_share(
            lambda rows: keras.random.randint((rows,), 0, self.num_classes, seed=self.seed_generator, dtype="int32"),
            batch_size,
        )

    def augment(self, images):
        """``images`` through the DiffAugment policy (as they are without one), from the model's seed."""
        if not self.augment_policy:
            return images
        return augmentation.diff_augment(images, self.augment_policy, seed=self.seed_generator)

    def generate_fakes(self, batch_size):
        """G's images of new random z and classes, in training mode: ``(images, labels)``."""
        labels = self.sample_labels(batch_size)
        latent = self.sample_latent(batch_size)
        return self.generator([latent, self.generator.embed(labels)], training=True), labels

    def train_step(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "BigGAN trains on (images, labels) batches, such as make_dataset(images, labels). "
                "Received batches without labels."
            )
        real_images, real_labels = data[0], data[1]
        batch_size = ops.shape(real_images)[0]
        # Under a tf.distribute strategy each replica sees part of the batch and the
        # optimizer sums the replicas' gradients: dividing by the number of replicas
        # makes that sum the gradient of the mean loss over the whole batch.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        for _ in range(self.d_steps):
            # Sample random points in the latent space and random classes, and generate fakes.
            fake_images, fake_labels = self.generate_fakes(batch_size)

            # Train the discriminator: real pairs should score above 1, fake pairs below -1.
            # Real and fake go through D as one batch, as in BigGAN-PyTorch's G_D (D has
            # no batch norm, so each image's score is the same as in separate batches).
            with tf.GradientTape() as tape:
                images = ops.concatenate([real_images, ops.cast(fake_images, real_images.dtype)], axis=0)
                logits = self.discriminator(
                    [
                        self.augment(images),
                        ops.concatenate([ops.cast(real_labels, "int32"), fake_labels], axis=0),
                    ],
                    training=True,
                )
                # Losses in float32 even when the networks compute in float16.
                # Sliced, not ops.split: under a tf.distribute strategy the batch size is a tensor.
                logits = ops.cast(logits, "float32")
                real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
                d_loss = losses.hinge_discriminator_loss(real_logits, fake_logits)
                d_loss_for_gradients = self.d_optimizer.scale_loss(d_loss / replicas)
            gradients = tape.gradient(d_loss_for_gradients, self.discriminator.trainable_weights)
            self.d_optimizer.apply(gradients, self.discriminator.trainable_weights)

        # Train the generator through the discriminator, with new latent points and classes.
        with tf.GradientTape() as tape:
            generated, generated_labels = self.generate_fakes(batch_size)
            generated_logits = ops.cast(
                self.discriminator([self.augment(generated), generated_labels], training=True), "float32"
            )
            g_loss = losses.hinge_generator_loss(generated_logits)
            # Every replica computes the same penalty on the same weights; divided by the
            # number of replicas like the loss, the replicas' gradients add up to it once.
            orthogonal_penalty = regularizers.generator_orthogonal_penalty(self.generator, self.orthogonal_strength)
            g_loss_for_gradients = self.g_optimizer.scale_loss((g_loss + orthogonal_penalty) / replicas)
        gradients = tape.gradient(g_loss_for_gradients, self.generator.trainable_weights)
        self.g_optimizer.apply(gradients, self.generator.trainable_weights)

        self.orthogonal_penalty_tracker.update_state(orthogonal_penalty)
        return self.finish_step(d_loss, g_loss, real_logits, fake_logits)

    # --- the run protocol (ganlab.training.GAN) ----------------------------------------

    @classmethod
    def from_recipe(cls, recipe, generator, discriminator, seed=0):
        """The recipe's BigGAN: Adam settings, D steps, and its options (orthogonal strength, DiffAugment,
        standing statistics); the loss is fixed (hinge)."""
        options = recipe.options  # a BigGANOptions
        gan = cls(
            generator, discriminator, ema_decay=recipe.ema_decay, seed=seed,
            standing_statistics_batches=options.standing_statistics_batches or STANDING_STATISTICS_BATCHES,
        )
        d_optimizer, g_optimizer = training.recipe_optimizers(recipe)
        gan.compile(
            d_optimizer=d_optimizer, g_optimizer=g_optimizer, d_steps=recipe.d_steps,
            orthogonal_strength=options.orthogonal_strength or 0.0, augment=options.augment,
        )
        return gan

    def training_dataset(self, images, labels, batch_size, seed=0, first_step=0):
        """``(images, labels)`` batches: D judges (image, class) pairs."""
        from ganlab import data

        return data.make_dataset(images, labels, batch_size=batch_size, seed=seed + first_step)

    def evaluation_samples(self, number, seed=None):
        """``number`` samples of the classes in turn (``cycling_labels``), and those classes."""
        labels = self.cycling_labels(number)
        return self.generate(number, labels=labels, seed=seed), labels

    # --- standing statistics ------------------------------------------------------------

    def recompute_standing_statistics(self, batches=None, batch_size=64, truncation=None, seed=0):
        """Measures the sampling generator's batch-norm statistics afresh ("standing statistics").

        ```
        moving_mean     = (1 / B) sum_b mean_b          over B batches of random z and classes
        moving_variance = (1 / B) sum_b variance_b      (each batch's own, biased, variance)
        ```

        The EMA generator's moving statistics are an average of G's moving
        statistics, themselves averages of activations under G's *older*
        weights: neither describes the EMA network. Here the EMA generator
        (G itself without EMA) is run on ``batches`` batches with batch norm
        in training mode, and each statistic becomes the plain average over
        the batches (the momentum of batch b is set to ``b / (b + 1)``, a
        cumulative mean), as BigGAN-PyTorch's ``accumulate_standing_stats``.
        Spectral norm runs in inference mode (``training=False,
        batch_statistics=True``), so no kernel changes: only the moving
        statistics do.

        Args:
            batches: how many batches to average over; None for this GAN's
                ``standing_statistics_batches`` (16 in BigGAN-PyTorch).
            batch_size: images per batch.
            truncation: truncate z as for the samples these statistics serve
                (``ganlab.sampling.truncated_normal``); None (the default) for plain
                normal z, as BigGAN-PyTorch's ``accumulate_standing_stats`` draws it.
            seed: seed of the z and classes; the same seed, the same statistics.
        """
        batches = self.standing_statistics_batches if batches is None else batches
        for name, value in (("batches", batches), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        generator = self.sampling_generator()
        norms = generator.batch_norm_layers()
        settings = [(norm.momentum, norm.trainable) for norm in norms]
        random = np.random.default_rng(seed)
        try:
            for norm in norms:
                norm.trainable = True  # Keras' batch norm uses batch statistics only when trainable
            for index in range(batches):
                # moving <- moving * b / (b + 1) + batch / (b + 1): after batch b, the mean of batches 0..b.
                for norm in norms:
                    norm.momentum = index / (index + 1)
                latent = sampling.truncated_normal((batch_size, self.latent_dim), truncation, seed=random)
                labels = random.integers(0, self.num_classes, size=batch_size)
                generator([latent, generator.embed(labels)], training=False, batch_statistics=True)
        finally:
            for norm, (momentum, trainable) in zip(norms, settings):
                norm.momentum, norm.trainable = momentum, trainable
        self.standing_statistics_step = int(self.step.numpy())

    def ensure_standing_statistics(self):
        """Measures the EMA generator's standing statistics if it changed since they were last measured.

        Without EMA the generator's own moving statistics are used, as trained.
        """
        if self.ema_generator is not None and self.standing_statistics_step != int(self.step.numpy()):
            self.recompute_standing_statistics(batches=self.standing_statistics_batches)

    # --- sampling -----------------------------------------------------------------------

    def cycling_labels(self, number):
        """Classes 0, 1, ..., num_classes - 1, 0, 1, ... for ``number`` images: what ``generate`` uses by default."""
        return np.arange(int(number)) % self.num_classes

    def check_labels(self, labels, number):
        """``labels`` as an int64 array ``(number,)``: None cycles through the classes, one int is repeated."""
        if labels is None:
            return self.cycling_labels(number)
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full(number, labels)
        if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (number,):
            raise ValueError(
                f"labels must be one integer class or {number} integer classes, one per image. "
                f"Received: labels.shape={labels.shape}, labels.dtype={labels.dtype}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"labels must be classes from 0 to {self.num_classes - 1} (num_classes={self.num_classes}). "
                f"Received: labels from {labels.min()} to {labels.max()}"
            )
        return labels.astype("int64")

    def embed(self, labels):
        """The sampling generator's class embeddings of integer ``labels`` ``(N,)``, as a float32 NumPy array."""
        if labels is None:
            raise ValueError("embed needs the classes to embed. Received: labels=None")
        labels = self.check_labels(labels, np.size(labels))
        return ops.convert_to_numpy(self.sampling_generator().embed(labels)).astype("float32")

    def generate(self, number_or_latent, labels=None, truncation=None, seed=None, batch_size=500):
        """Class-conditional images in [-1, 1] from the sampling generator (inference mode).

        Args:
            number_or_latent: how many images, or latent vectors ``(N, latent_dim)``.
            labels: the class of each image, ``(N,)`` integers in
                ``[0, num_classes)``, or one class for all; None cycles
                through the classes (``cycling_labels``).
            truncation: when a number of images is given, z is drawn with
                ``ganlab.sampling.truncated_normal(..., truncation, seed)``:
                a positive threshold, or None for no truncation.
            seed: seed of z when a number is given; the same seed gives the same images.
            batch_size: images per forward pass, to bound memory.

        Returns:
            A float32 NumPy array ``(N, H, W, C)``.
        """
        if isinstance(number_or_latent, (int, np.integer)) and not isinstance(number_or_latent, bool):
            if number_or_latent < 1:
                raise ValueError(f"number of images must be positive. Received: {number_or_latent}")
            latent = sampling.truncated_normal((int(number_or_latent), self.latent_dim), truncation, seed=seed)
        else:
            if truncation is not None:
                raise ValueError(
                    "truncation applies when generate draws z (a number of images); these latent vectors are "
                    "used as given. Truncate them with ganlab.sampling.truncated_normal. "
                    f"Received: truncation={truncation!r}"
                )
            latent = self._check_latent(number_or_latent)
        labels = self.check_labels(labels, len(latent))
        return self.generate_from_embeddings(latent, self.embed(labels), batch_size=batch_size)

    def generate_from_embeddings(self, latent, embeddings, batch_size=500):
        """Images of given latent vectors and class embeddings (such as interpolated ones).

        Args:
            latent: ``(N, latent_dim)``.
            embeddings: ``(N, class_embedding_dim)``, rows of ``embed(labels)``
                or mixes of them (one-hot vectors without a shared embedding).
            batch_size: images per forward pass.

        Returns:
            A float32 NumPy array ``(N, H, W, C)`` in [-1, 1].
        """
        latent = self._check_latent(latent)
        width = self.generator.config.class_embedding_dim
        embeddings = np.asarray(embeddings, dtype="float32")
        if embeddings.shape != (len(latent), width):
            raise ValueError(
                f"embeddings must have shape ({len(latent)}, {width}): one class embedding per latent vector. "
                f"Received: embeddings.shape={embeddings.shape}"
            )
        self.ensure_standing_statistics()
        generator = self.sampling_generator()
        batches = [
            ops.convert_to_numpy(
                generator([latent[start : start + batch_size], embeddings[start : start + batch_size]], training=False)
            )
            for start in range(0, len(latent), batch_size)
        ]
        return np.concatenate(batches).astype("float32")

    def decode(self, latent, labels=None):
        """Images of one batch of latent vectors (classes cycling when ``labels`` is None), as a NumPy array."""
        latent = self._check_latent(latent)
        return self.generate_from_embeddings(latent, self.embed(self.check_labels(labels, len(latent))))

    def _check_latent(self, latent):
        latent = np.asarray(latent, dtype="float32")
        if latent.ndim != 2 or latent.shape[1] != self.latent_dim or len(latent) < 1:
            raise ValueError(
                f"latent vectors must have shape (N, {self.latent_dim}). Received: latent.shape={latent.shape}"
            )
        return latent
