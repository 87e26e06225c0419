"""Per model: ganlab's train step against a plain ``tf.function`` loop, and peak memory.

For each model (vanilla, dcgan, progressive, biggan) the same networks (the
recipe's, from ``ganlab.runs.build_gan``), the same optimizers' settings and the
same losses (``ganlab.losses``, ``ganlab.regularizers``) are trained two ways,
on random images of the recipe's size:

``ganlab``
    The GAN's ``train_function``: what ``fit`` calls for every step (Keras'
    ``tf.function`` around ``train_step``, with the metric trackers), called
    on a dataset iterator as ``fit`` does, but without ``fit``'s start-up, so
    both sides are timed like with like.
``plain``
    A ``tf.function`` train step written by hand with the same losses, EMA
    and number of D steps, in the style of the keras-io DCGAN example, called
    in a Python loop on the same dataset.

The Progressive GAN trains its final phase (the full resolution, stable) on
both sides. Each side is warmed up (tracing), then timed over ``--steps``
steps. Each model runs in its own subprocess, whose peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, both sides together) is
reported. The script prints a table and the machine; it asserts nothing.

    python benchmarks/train_step_vs_plain_loop.py                      # the default budget, 50 steps
    python benchmarks/train_step_vs_plain_loop.py --budget fast --steps 2 --warmup 1   # a quick check
    python benchmarks/train_step_vs_plain_loop.py --models dcgan --precision mixed_bfloat16

For ``GAN.fit`` with its callbacks against a loop, see ``train_step_overhead.py``.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODELS = ("vanilla", "dcgan", "progressive", "biggan")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, help="default: all four")
    parser.add_argument("--budget", default="default", choices=("fast", "default", "full"), help="recipe size")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per side (default: 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per side first (default: 5)")
    parser.add_argument("--precision", default="float32", help="float32, mixed_float16 or mixed_bfloat16")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the subprocess of one model
    arguments = parser.parse_args()
    for name in ("steps", "warmup"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name} must be a positive integer")
    return arguments


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --- one model, in its own process ------------------------------------------------------


def plain_step_for(gan, recipe):
    """A hand-written ``tf.function`` step of ``gan``'s networks with the same losses as its ``train_step``."""
    import keras
    import tensorflow as tf

    from ganlab import losses, regularizers

    generator, discriminator = gan.generator, gan.discriminator
    d_optimizer = keras.optimizers.Adam(recipe.d_learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2)
    g_optimizer = keras.optimizers.Adam(recipe.g_learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2)
    ema_generator = gan.copy_generator(generator) if gan.ema_generator is not None else None
    seed = keras.random.SeedGenerator(1)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    phase = recipe.options.schedule.phases[-1] if recipe.model == "progressive" else None

    def generate(latent, labels=None):
        if recipe.model == "biggan":
            return generator([latent, generator.embed(labels)], training=True)
        if phase is not None:
            return generator(latent, resolution=phase.resolution, training=True)
        return generator(latent, training=True)

    def judge(images, labels=None):
        if recipe.model == "biggan":
            return tf.cast(discriminator([images, labels], training=True), tf.float32)
        if phase is not None:
            return tf.cast(discriminator(images, resolution=phase.resolution, training=True), tf.float32)
        return tf.cast(discriminator(images, training=True), tf.float32)

    generator_loss, discriminator_loss = losses.LOSS_FAMILIES[gan.loss_name]

    @tf.function
    def train_step(batch):
        real_images = batch[0]
        real_labels = batch[1] if recipe.model == "biggan" else None
        batch_size = tf.shape(real_images)[0]

        def fakes():
            latent = keras.random.normal((batch_size, gan.latent_dim), seed=seed)
            labels = keras.random.randint((batch_size,), 0, 10, seed=seed) if recipe.model == "biggan" else None
            return generate(latent, labels), labels

        for _ in range(gan.d_steps):
            fake_images, fake_labels = fakes()
            with tf.GradientTape() as tape:
                if phase is not None:
                    d_loss = losses.wgan_gp_discriminator_loss(
                        lambda images: judge(images), real_images, fake_images, seed=seed
                    )[0]
                else:
                    d_loss = discriminator_loss(judge(real_images, real_labels), judge(fake_images, fake_labels))
            weights = discriminator.trainable_weights
            gradients = tape.gradient(d_loss, weights)
            d_optimizer.apply(*zip(*[(g, w) for g, w in zip(gradients, weights) if g is not None]))

        with tf.GradientTape() as tape:
            generated, generated_labels = fakes()
            g_loss = generator_loss(judge(generated, generated_labels))
            if recipe.model == "biggan":
                g_loss += regularizers.generator_orthogonal_penalty(generator, gan.orthogonal_strength)
        weights = generator.trainable_weights
        gradients = tape.gradient(g_loss, weights)
        g_optimizer.apply(*zip(*[(g, w) for g, w in zip(gradients, weights) if g is not None]))

        if ema_generator is not None:
            step.assign_add(1)
            decay = tf.minimum(gan.ema_decay, (1.0 + tf.cast(step, tf.float32)) / (10.0 + tf.cast(step, tf.float32)))
            for average, current in zip(ema_generator.weights, generator.weights):
                average.assign(decay * average + (1.0 - decay) * current)
        return d_loss, g_loss

    return train_step


def measure_one(model, arguments):
    """Images/s of both sides and the peak memory of this process, as a dict."""
    import numpy as np
    import tensorflow as tf

    from ganlab import recipes, runs

    recipe = recipes.get_recipe(model, arguments.budget, precision=arguments.precision)
    gan = runs.build_gan(recipe, seed=0)
    if recipe.model == "progressive":
        last = recipe.options.schedule.phases[-1]
        gan.step.assign(last.first_step)
        gan.enter_phase(last)
        batch_size = last.batch_size
    else:
        batch_size = recipe.batch_size
    size = recipe.image_size or 28
    random = np.random.default_rng(0)
    images = random.uniform(-1, 1, (batch_size * 8, size, size, 1)).astype("float32")
    labels = random.integers(0, 10, len(images))
    inputs = (images, labels) if model == "biggan" else (images,)
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size, drop_remainder=True).repeat()

    gan.make_train_function()
    train_function = gan.train_function
    ganlab_iterator = iter(dataset)
    plain_step = plain_step_for(gan, recipe)
    plain_iterator = iter(dataset)

    def ganlab_steps(steps):
        for _ in range(steps):
            logs = train_function(ganlab_iterator)
        float(tf.nest.flatten(logs)[0])  # wait for the last step

    def plain_steps(steps):
        for _ in range(steps):
            d_loss, _ = plain_step(next(plain_iterator))
        float(d_loss)

    result = {"model": model, "batch_size": batch_size, "precision": arguments.precision}
    for name, run in (("ganlab", ganlab_steps), ("plain", plain_steps)):
        run(arguments.warmup)
        started = time.perf_counter()
        run(arguments.steps)
        result[f"{name}_images_per_second"] = arguments.steps * batch_size / (time.perf_counter() - started)
    result["peak_memory_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return result


# --- the table ----------------------------------------------------------------------------


def main():
    arguments = parse_arguments()
    if arguments.one:
        print(json.dumps(measure_one(arguments.one, arguments)))
        return
    import keras
    import tensorflow as tf

    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; budget {arguments.budget}, {arguments.precision}, "
        f"{arguments.steps} timed steps after {arguments.warmup} warm-up steps per side"
    )
    print(f"{'model':<12} {'batch':>5} {'ganlab img/s':>13} {'plain img/s':>12} {'ratio':>6} {'peak MiB':>9}")
    for model in arguments.models:
        command = [
            sys.executable, __file__, "--one", model, "--budget", arguments.budget, "--steps", str(arguments.steps),
            "--warmup", str(arguments.warmup), "--precision", arguments.precision,
        ]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            print(f"{model:<12} failed: {finished.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(finished.stdout.strip().splitlines()[-1])
        ratio = row["ganlab_images_per_second"] / row["plain_images_per_second"]
        print(
            f"{model:<12} {row['batch_size']:>5} {row['ganlab_images_per_second']:>13.1f} "
            f"{row['plain_images_per_second']:>12.1f} {ratio:>6.2f} {row['peak_memory_mib']:>9.0f}"
        )


if __name__ == "__main__":
    main()
