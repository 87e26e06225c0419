"""Progressive growing (Karras et al. 2018): the schedule, the GAN that grows, the callback.

Training starts with 4x4 images and doubles the resolution until the final
size. Each resolution after the first has two phases, counted in real images
shown (as the official code counts ``kimg``):

```
4x4 stable | 8x8 transition | 8x8 stable | 16x16 transition | 16x16 stable | ...
```

During a *transition* the new block is faded in: ``alpha`` rises linearly from 0
to 1, both in G's output and D's input (``ganlab.models.progressive``), and the
real images are faded the same way (``fade_in(alpha, blurred, sharp)``, the
official ``process_reals``), so D never sees a sudden change between real and
fake. In a *stable* phase the new block works alone.

Pieces:

- ``GrowthSchedule``: images per phase and batch size per resolution; which
  phase a step is in.
- ``ProgressiveGAN``: a ``ganlab.training.GAN`` whose ``train_step`` is WGAN-GP
  with the drift term (the paper's loss), or the non-saturating loss with R1
  (StyleGAN's), for the current phase. ``alpha`` is a variable set
  inside the step from the step counter, so one traced graph serves a whole
  phase (``traces`` counts the traces).
- ``GrowthCallback``: moves the GAN from phase to phase during ``fit`` and
  resets the optimizers' moments when the phase changes.
- ``growing_dataset``: the real images, batched per phase; a resumed run gets
  exactly the batches an uninterrupted one would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganlab import distribute, losses, training
from ganlab.layers import fade_in
from ganlab.models.progressive.networks import ProgressiveGenerator, downsample, upsample


@dataclass(frozen=True)
class Phase:
    """One phase of the schedule: ``steps`` steps from ``first_step``, at ``resolution``, fading or stable."""

    index: int
    resolution: int
    fading: bool
    first_step: int
    steps: int
    batch_size: int

    @property
    def name(self):
        return f"{self.resolution}x{self.resolution} {'fade-in' if self.fading else 'stable'}"


@dataclass(frozen=True)
class GrowthSchedule:
    """How long each phase lasts and the batch size at each resolution.

    Attributes:
        resolutions: from 4 to the final size, doubling.
        stable_images: real images shown in each stable phase (600-800 thousand
            in the paper; thousands on a CPU).
        transition_images: real images shown while a new block fades in.
        batch_sizes: one per resolution (the official one-GPU preset: 128 up to
            16x16, 64 at 32x32): small images are cheap, so bigger batches there
            cost little time.
        initial_resolution: the resolution of the first (stable) phase; None
            for the first of ``resolutions`` (4, as in the paper). The official
            code's ``lod_initial_resolution``: the networks keep every block from
            4x4 up, and those up to this resolution train from the start. The
            tests use it to skip the small phases where growth is not their
            subject (each phase traces the train step anew).

    After its last phase a run stays in the final stable phase (for ``--minutes``
    or ``--steps`` beyond the schedule).
    """

    resolutions: tuple = (4, 8, 16, 32)
    stable_images: int = 20_000
    transition_images: int = 20_000
    batch_sizes: tuple = (64, 64, 64, 64)
    initial_resolution: int | None = None

    def __post_init__(self):
        if len(self.batch_sizes) != len(self.resolutions):
            raise ValueError(
                f"batch_sizes needs one batch size per resolution {self.resolutions}. "
                f"Received: batch_sizes={self.batch_sizes}"
            )
        if self.initial_resolution is not None and self.initial_resolution not in self.resolutions:
            raise ValueError(
                f"initial_resolution must be None or one of the resolutions {self.resolutions}. "
                f"Received: initial_resolution={self.initial_resolution!r}"
            )
        for name in ("stable_images", "transition_images"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={getattr(self, name)!r}")
        if any(not isinstance(size, int) or size < 1 for size in self.batch_sizes):
            raise ValueError(f"batch sizes must be positive integers. Received: batch_sizes={self.batch_sizes}")

    @property
    def phases(self):
        """Every ``Phase``, in order."""
        phases, first_step = [], 0
        first = self.resolutions.index(self.initial_resolution or self.resolutions[0])
        for level, (resolution, batch_size) in enumerate(zip(self.resolutions, self.batch_sizes)):
            if level < first:
                continue
            # The first resolution is only stabilized; every later one is faded in, then stabilized.
            kinds = [(False, self.stable_images)]
            if level > first:
                kinds.insert(0, (True, self.transition_images))
            for fading, images in kinds:
                steps = math.ceil(images / batch_size)
                phases.append(Phase(len(phases), resolution, fading, first_step, steps, batch_size))
                first_step += steps
        return phases

    @property
    def total_steps(self):
        last = self.phases[-1]
        return last.first_step + last.steps

    def phase_at(self, step):
        """The phase that step number ``step`` (0 for the first) belongs to; the last phase past the end."""
        for phase in self.phases:
            if step < phase.first_step + phase.steps:
                return phase
        return self.phases[-1]

    def alpha_at(self, step):
        """The fade-in ``alpha`` of step ``step``: from 0 up through a transition, 1 in a stable phase."""
        phase = self.phase_at(step)
        return (step - phase.first_step) / phase.steps if phase.fading else 1.0

    def with_batch_size(self, batch_size):
        """The same schedule with one batch size at every resolution."""
        import dataclasses

        return dataclasses.replace(self, batch_sizes=(batch_size,) * len(self.resolutions))


def reset_optimizer_state(optimizer):
    """Zeroes an optimizer's moments and step counter, keeping its learning rate and settings.

    The official code does this whenever the phase changes
    (``reset_opt_for_new_lod=True``): Adam's moments then describe the gradients
    of a network that no longer exists (new layers, or the old ``to_rgb`` no
    longer used), and starting them again also restarts Adam's bias correction.

    Under ``mixed_float16`` the optimizer is a ``keras.optimizers.LossScaleOptimizer``
    around Adam. Only the inner Adam's state is reset: the loss scale, and the
    count of finite steps that decides when it grows, describe the float16
    range of the gradients, which a new resolution does not change. (A loss
    scale of 0 would make every gradient 0 / 0.) The official code, likewise,
    resets only the optimizer's own variables, not its loss-scaling state.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    for variable in optimizer.variables:
        # Adam's variables: iterations, learning_rate, then one moment and one
        # velocity per weight. The learning rate is a setting, not state.
        if "learning_rate" not in variable.path:
            variable.assign(ops.zeros_like(variable))


class ProgressiveGAN(training.GAN):
    """A GAN that grows, one phase of a ``GrowthSchedule`` at a time.

    The paper's loss, ``loss="wasserstein"``: WGAN-GP with the drift term,

    ```
    L_D = mean(D(fake)) - mean(D(real)) + 10 * GP + 0.001 * mean(D(real)^2)
    L_G = -mean(D(fake))
    ```

    The drift term is on the real scores only, as in the official ``D_wgangp_acgan``
    (it keeps D's scores from drifting far from 0).

    ``loss="bce"``: the non-saturating logistic loss with the R1 penalty on the
    real images (``losses.r1_penalty``), taken every ``r1_interval``-th step and
    weighted by the interval (StyleGAN2's lazy regularization):

    ```
    L_D = mean(softplus(D(fake))) + mean(softplus(-D(real))) + [step % k == 0] * k * gamma / 2 * R1
    L_G = mean(softplus(-D(fake)))
    ```

    This is StyleGAN's loss (Karras et al. 2019, the same authors' next GAN,
    which grows its networks the same way), not this paper's. On a CPU it
    nearly halves the cost of a step (no double backpropagation through D at
    every step) and, measured, trains a better generator in ten minutes
    (docs/results.md, "Progressive GAN").

    The real images are downsampled to the phase's resolution (2x2 box filter,
    repeated) and, in a transition, faded like G's output.

    Args:
        generator, discriminator: a ``ProgressiveGenerator`` and ``ProgressiveDiscriminator``.
        schedule: the ``GrowthSchedule``.
        ema_decay: G's weight average for sampling (0.999 in the paper).
        seed: seed of the latent vectors and the penalty's mixing factors.
        gradient_penalty_weight: lambda, 10.
        drift_weight: epsilon_drift, 0.001.
        penalty_samples: None (the paper's), or the penalty on the first n
            pairs of each critic batch (``losses.wgan_gp_discriminator_loss``).
        loss: ``"wasserstein"`` (the paper's) or ``"bce"`` (StyleGAN's, above).
        r1_weight: gamma of the R1 penalty (``loss="bce"`` only); None or 0 for none.
        r1_interval: k, the steps between two R1 penalties; 1 for every step.

    Call ``compile(d_optimizer, g_optimizer)``, then ``fit`` with a
    ``GrowthCallback`` and a ``growing_dataset``.
    """

    # Logged per round beside the losses (MetricsLogger): where growth stands.
    extra_log_columns = ("resolution", "alpha")

    def __init__(
        self, generator, discriminator, schedule, ema_decay=0.999, seed=None,
        gradient_penalty_weight=10.0, drift_weight=0.001, penalty_samples=None,
        loss="wasserstein", r1_weight=None, r1_interval=1, **kwargs,
    ):
        check_progressive_loss(loss, r1_weight, r1_interval, penalty_samples)
        if tuple(schedule.resolutions) != tuple(generator.config.resolutions):
            raise ValueError(
                f"The schedule's resolutions must be the networks' {generator.config.resolutions}. "
                f"Received: resolutions={schedule.resolutions}"
            )
        super().__init__(
            generator, discriminator, latent_dim=generator.config.latent_dim, ema_decay=ema_decay, seed=seed, **kwargs
        )
        self.schedule = schedule
        self.gradient_penalty_weight = gradient_penalty_weight
        self.drift_weight = drift_weight
        group = discriminator.config.minibatch_group_size
        if losses.check_penalty_samples(penalty_samples) is not None and penalty_samples > group and penalty_samples % group:
            # D's minibatch stddev needs the penalty's batch divisible by its group (or smaller than it).
            raise ValueError(
                f"penalty_samples must be None, a positive integer up to {group} or a multiple of "
                f"{group} (D's minibatch stddev group). Received: penalty_samples={penalty_samples!r}"
            )
        self.penalty_samples = penalty_samples
        self.loss_family = loss
        self.r1_weight = r1_weight
        self.r1_interval = r1_interval
        self.image_size = generator.config.image_shape[0]
        # Variables, so that they are saved in checkpoints and change without retracing.
        self.alpha = keras.Variable(1.0, dtype="float32", trainable=False, name="alpha")
        self.images_seen = keras.Variable(0, dtype="int64", trainable=False, name="images_seen")
        self.phase = schedule.phase_at(0)
        self.traces = 0  # how many times train_step was traced into a graph

    def copy_generator(self, generator):
        copy = ProgressiveGenerator(generator.config, name="ema_generator")
        copy.set_weights(generator.get_weights())
        return copy

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(d_optimizer, g_optimizer, loss=self.loss_family, **kwargs)
        self.gradient_penalty_tracker = keras.metrics.Mean(name="gradient_penalty")

    @property
    def metrics(self):
        return super().metrics + [self.gradient_penalty_tracker]

    def enter_phase(self, phase, reset_optimizers=False):
        """Trains in ``phase`` from now on (a new graph is traced at the next step)."""
        if reset_optimizers:
            reset_optimizer_state(self.d_optimizer)
            reset_optimizer_state(self.g_optimizer)
        self.phase = phase
        if not phase.fading:
            self.alpha.assign(1.0)
        self.make_train_function(force=True)

    def sample_mixing(self, batch_size):
        """The gradient penalty's mixing factors ``(batch_size, 1, 1, 1)``, uniform in [0, 1), from the model's seed.

        Under a ``tf.distribute`` strategy, this replica's share of the global batch's factors.
        """
        return distribute.replica_share(
            lambda rows: keras.random.uniform((rows, 1, 1, 1), seed=self.seed_generator), batch_size
        )

    def real_images_at(self, images, phase, alpha):
        """Full-size real images as D sees them in ``phase``: downsampled, and faded in a transition."""
        images = downsample(images, self.image_size // phase.resolution)  # [N, R, R, C]
        if alpha is None:
            return images
        blurred = upsample(downsample(images))  # the same images at half the resolution, blocky
        return fade_in(alpha, blurred, images)

    def train_step(self, data):
        self.traces += 1  # Python code: runs when the step is traced, not at every step
        phase = self.phase
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        # The stream of all phases has an unknown batch size; this phase's is known.
        real_images = tf.ensure_shape(real_images, (phase.batch_size // replicas, *real_images.shape[1:]))
        batch_size = ops.shape(real_images)[0]

        # The fade-in alpha of this step, from the step counter: a resumed run
        # continues the ramp exactly where it stopped.
        if phase.fading:
            self.alpha.assign(ops.cast(self.step - phase.first_step, "float32") / phase.steps)
            alpha = self.alpha
        else:
            alpha = None
        real_images = self.real_images_at(real_images, phase, alpha)

        def generator(latent):
            return self.generator(latent, resolution=phase.resolution, alpha=alpha, training=True)

        def discriminator(images):
            scores = self.discriminator(images, resolution=phase.resolution, alpha=alpha, training=True)
            return ops.cast(scores, "float32")

        for _ in range(self.d_steps):
            # Sample random points in the latent space and decode them to fake images.
            fake_images = generator(self.sample_latent(batch_size))

            with tf.GradientTape() as tape:
                if self.loss_family == "wasserstein":
                    # The critic: the Wasserstein estimate, the gradient penalty on
                    # images between real and fake, and the drift term on the real scores.
                    d_loss, real_scores, fake_scores, penalty = losses.wgan_gp_discriminator_loss(
                        discriminator, real_images, fake_images,
                        self.gradient_penalty_weight, self.drift_weight, mixing=self.sample_mixing(batch_size),
                        loss_scale=_loss_scale(self.d_optimizer), penalty_samples=self.penalty_samples,
                    )
                    penalized = 1.0
                else:
                    d_loss, real_scores, fake_scores, penalty, penalized = self._logistic_r1_loss(
                        discriminator, real_images, fake_images
                    )
                d_loss_for_gradients = self.d_optimizer.scale_loss(d_loss / replicas)
            weights = self.discriminator.trainable_weights
            _apply_to_weights_in_use(self.d_optimizer, tape.gradient(d_loss_for_gradients, weights), weights)

        # Train the generator through the critic, with new latent points.
        with tf.GradientTape() as tape:
            generated_scores = discriminator(generator(self.sample_latent(batch_size)))
            g_loss = self.generator_loss(generated_scores)
            g_loss_for_gradients = self.g_optimizer.scale_loss(g_loss / replicas)
        weights = self.generator.trainable_weights
        _apply_to_weights_in_use(self.g_optimizer, tape.gradient(g_loss_for_gradients, weights), weights)

        self.images_seen.assign_add(ops.cast(batch_size * replicas, "int64"))
        # Averaged over the steps that computed it (every r1_interval-th with R1).
        self.gradient_penalty_tracker.update_state(penalty, sample_weight=penalized)
        logs = self.finish_step(d_loss, g_loss, real_scores, fake_scores)
        # Where growth stands, for the progress bar and metrics.csv.
        logs["resolution"] = float(phase.resolution)
        logs["alpha"] = self.alpha.value if phase.fading else ops.convert_to_tensor(1.0)
        return logs

    def _logistic_r1_loss(self, discriminator, real_images, fake_images):
        """D's non-saturating loss plus the lazy R1 term: ``(loss, real, fake, R1, 1.0 if R1 was computed else 0.0)``."""
        real_scores, fake_scores = discriminator(real_images), discriminator(fake_images)
        d_loss = losses.bce_discriminator_loss(real_scores, fake_scores)
        if not self.r1_weight:
            return d_loss, real_scores, fake_scores, ops.convert_to_tensor(0.0), 0.0
        loss_scale = _loss_scale(self.d_optimizer)
        # The penalty's double backpropagation only on every r1_interval-th step (a
        # tf.cond: one traced graph serves both kinds of step).
        penalized = ops.cast(ops.equal(self.step % self.r1_interval, 0), "float32")
        penalty = tf.cond(
            penalized > 0,
            lambda: losses.r1_penalty(discriminator, real_images, loss_scale=loss_scale),
            lambda: ops.convert_to_tensor(0.0),
        )
        d_loss = d_loss + penalized * self.r1_interval * 0.5 * self.r1_weight * penalty
        return d_loss, real_scores, fake_scores, penalty, penalized

    def decode(self, latent):
        """Images at the resolution and alpha training has reached, upsampled to full size, clipped to [-1, 1].

        Where training has reached is read from the step counter (so a GAN
        restored from a checkpoint samples right away). G's output is linear
        (no tanh), so a few values fall outside [-1, 1]; the upsampling lets
        grids of every phase be compared at one size.
        """
        step = int(self.step.numpy())
        phase = self.schedule.phase_at(step)
        alpha = self.schedule.alpha_at(step) if phase.fading else None
        images = self.sampling_generator()(latent, resolution=phase.resolution, alpha=alpha, training=False)
        images = upsample(images, self.image_size // phase.resolution)
        return np.clip(keras.ops.convert_to_numpy(images), -1.0, 1.0)

    def growth_state(self):
        """Where growth stands (the phase and alpha of the next step), as plain values for ``state.json``."""
        step = int(self.step.numpy())
        phase = self.schedule.phase_at(step)
        return {
            "phase": phase.name,
            "resolution": phase.resolution,
            "fading": phase.fading,
            "alpha": self.schedule.alpha_at(step),
            "images_seen": int(self.images_seen.numpy()),
        }

    # --- the run protocol (ganlab.training.GAN) ----------------------------------------

    @classmethod
    def from_recipe(cls, recipe, generator, discriminator, seed=0):
        """The recipe's progressive GAN: Adam settings, EMA, loss, and its options' schedule and penalties."""
        options = recipe.options  # a ProgressiveOptions
        gan = cls(
            generator, discriminator, options.schedule, ema_decay=recipe.ema_decay, seed=seed,
            penalty_samples=options.penalty_samples, loss=recipe.loss,
            r1_weight=options.r1_weight, r1_interval=options.r1_interval,
        )
        d_optimizer, g_optimizer = training.recipe_optimizers(recipe)
        gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
        return gan

    def training_dataset(self, images, labels, batch_size, seed=0, first_step=0):
        """Batches phase by phase at the schedule's batch sizes (``growing_dataset``; ``batch_size`` is not used).

        ``labels`` are not used either: the progressive GAN is unconditional.
        """
        return growing_dataset(images, self.schedule, seed=seed, first_step=first_step)

    def run_callbacks(self):
        """The ``GrowthCallback``: first, because each step must know its phase."""
        return [GrowthCallback()]

    def checkpoint_state(self):
        """Where growth stands (``growth_state``), for a reader of ``state.json``."""
        return self.growth_state()

    def images_trained_on(self, batch_size):
        """The images counted by the train step: the batch size changes from phase to phase."""
        return int(self.images_seen.numpy())


PROGRESSIVE_LOSSES = ("wasserstein", "bce")


def check_progressive_loss(loss, r1_weight=None, r1_interval=1, penalty_samples=None):
    """A ``ValueError`` naming the argument if the progressive GAN's loss settings do not go together."""
    if loss not in PROGRESSIVE_LOSSES:
        raise ValueError(
            f"The progressive GAN's loss must be one of {PROGRESSIVE_LOSSES} (WGAN-GP with drift, the paper's; "
            f"the non-saturating loss with R1, StyleGAN's). Received: loss={loss!r}"
        )
    if r1_weight is not None and (isinstance(r1_weight, bool) or not isinstance(r1_weight, (int, float)) or r1_weight < 0):
        raise ValueError(f"r1_weight must be None or a number >= 0. Received: r1_weight={r1_weight!r}")
    if r1_weight and loss != "bce":
        raise ValueError(f"r1_weight goes with loss='bce' (WGAN-GP has its own penalty). Received: loss={loss!r}, r1_weight={r1_weight!r}")
    if isinstance(r1_interval, bool) or not isinstance(r1_interval, int) or r1_interval < 1:
        raise ValueError(f"r1_interval must be a positive integer. Received: r1_interval={r1_interval!r}")
    if penalty_samples is not None and loss != "wasserstein":
        raise ValueError(
            f"penalty_samples is WGAN-GP's (loss='wasserstein'). Received: loss={loss!r}, penalty_samples={penalty_samples!r}"
        )


def _loss_scale(optimizer):
    """The dynamic loss scale of a ``LossScaleOptimizer`` (for the penalty's inner gradient), else None."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.scale_loss(1.0)
    return None


def _apply_to_weights_in_use(optimizer, gradients, weights):
    """Applies the gradients of the weights this phase uses.

    The blocks above the phase's resolution, and the old ``to_rgb`` /
    ``from_rgb`` once a fade-in is over, take no part in the loss: their
    gradient is None (known when the step is traced), and they are left alone.
    """
    in_use = [(gradient, weight) for gradient, weight in zip(gradients, weights) if gradient is not None]
    optimizer.apply([gradient for gradient, _ in in_use], [weight for _, weight in in_use])


class GrowthCallback(keras.callbacks.Callback):
    """Moves a ``ProgressiveGAN`` through its schedule during ``fit``.

    Before each step it checks which phase the step belongs to; when the phase
    changes it enters the new one, resetting both optimizers' moments (as the
    official code does at every change of level of detail). At the start of
    training (or of a resumed run) it enters the current phase without a
    reset, so a resumed run keeps the moments its checkpoint restored (unless
    it resumes at a phase's very first step, where the boundary is crossed).

    Args:
        verbose: print a line when a new phase starts.
    """

    def __init__(self, verbose=True):
        super().__init__()
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        self.step = int(self.model.step.numpy())
        phase = self.model.schedule.phase_at(self.step)
        # A run resumed exactly at a phase's first step crosses the boundary now,
        # as the uninterrupted run did: reset then too.
        self.model.enter_phase(phase, reset_optimizers=0 < self.step == phase.first_step)

    def on_train_batch_begin(self, batch, logs=None):
        phase = self.model.schedule.phase_at(self.step)
        if phase.index != self.model.phase.index:
            self.model.enter_phase(phase, reset_optimizers=True)
            if self.verbose:
                print(f"\nstep {self.step}: {phase.name} (batch {phase.batch_size}, {phase.steps} steps)")

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1


def growing_dataset(images, schedule, seed=0, first_step=0):
    """The real images, batched phase by phase from step ``first_step`` on.

    Each phase draws its batches from its own shuffled, repeated stream (seeded
    by ``seed`` and the phase), batched at the phase's batch size; the final
    phase goes on forever. A run resumed at step ``s`` skips the batches
    already used in ``s``'s phase, so it sees the batches an uninterrupted run
    would have.

    Returns:
        A ``tf.data.Dataset`` of full-size image batches (the train step
        downsamples them to the phase's resolution).
    """
    from ganlab import data

    streams = []
    phases = schedule.phases
    for phase in phases[schedule.phase_at(first_step).index :]:
        stream = data.make_dataset(images, batch_size=phase.batch_size, seed=seed * 1000 + phase.index)
        stream = stream.skip(max(first_step - phase.first_step, 0))
        if phase is not phases[-1]:
            stream = stream.take(phase.first_step + phase.steps - max(first_step, phase.first_step))
        streams.append(stream)
    # Phases with different batch sizes give the combined stream an unknown batch dimension.
    dataset = streams[0]
    for stream in streams[1:]:
        dataset = dataset.concatenate(stream)
    return dataset
