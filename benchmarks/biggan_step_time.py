"""Milliseconds per BigGAN training step on this machine, for a few sizes.

    python benchmarks/biggan_step_time.py [--steps 20] [--batch-size 64]

For each variant (G / D width, D steps per G step): builds the BigGAN of
``ganlab.conditional``, traces its train step with ``fit`` (a warm-up round),
then times ``--steps`` steps on random 32x32 images and prints wall and CPU
milliseconds per step. Used to size the default recipe for a 2-core CPU.
"""

import argparse
import time

import ganlab  # noqa: F401  (quiet TensorFlow start-up)

import dataclasses

import numpy as np

from ganlab import data, recipes, runs

VARIANTS = (
    # (generator width, discriminator width, D steps)
    (32, 32, 2),
    (32, 32, 1),
    (24, 24, 2),
    (32, 16, 2),
    (48, 32, 1),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    arguments = parser.parse_args()
    images = np.random.default_rng(0).uniform(-1, 1, (1024, 32, 32, 1)).astype("float32")
    labels = np.random.default_rng(1).integers(0, 10, 1024)
    for generator_width, discriminator_width, d_steps in VARIANTS:
        recipe = recipes.get_recipe("biggan", "default", batch_size=arguments.batch_size)
        recipe = dataclasses.replace(
            recipe,
            d_steps=d_steps,
            network=dataclasses.replace(
                recipe.network, generator_width=generator_width, discriminator_width=discriminator_width
            ),
        )
        gan = runs.build_gan(recipe)
        dataset = data.make_dataset(images, labels, batch_size=arguments.batch_size, seed=0)
        gan.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)  # traces the step
        wall, cpu = time.perf_counter(), time.process_time()
        gan.fit(dataset, steps_per_epoch=arguments.steps, epochs=1, verbose=0)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"G {generator_width:>3} / D {discriminator_width:>3}, {d_steps} D steps, batch {arguments.batch_size}: "
            f"{1000 * wall / arguments.steps:6.0f} ms/step wall, {1000 * cpu / arguments.steps:6.0f} ms/step CPU"
        )


if __name__ == "__main__":
    main()
