"""Milliseconds per training step of the progressive GAN, per phase, and traces per phase.

    python benchmarks/progressive_step_time.py [--budget default] [--steps 60] [--separate-resampling]
        [--precision float32]

For each phase of the recipe's schedule: a ProgressiveGAN is put at the phase's
first step and trained with one ``fit`` of ``10 + --steps`` steps, as
``ganlab train`` trains (with the ``GrowthCallback``); the first 10 steps trace
the phase's graph and warm up, the rest are timed. Prints wall and CPU
milliseconds per step and per image, and how often ``train_step`` was traced
(once per phase is the design: alpha lives in a variable). Used to size the
default schedule for a 2-core CPU. ``--separate-resampling`` times the
networks with G's upsampling and D's average pool as separate layers instead of
fused into the convolutions (``ProgressiveConfig.fused_resampling``).

(Each ``fit`` enters the phase and traces the step anew, so a second, timed
``fit`` would time a trace too: the timing is taken inside one ``fit``.)
"""

import argparse
import dataclasses
import time

import ganlab  # noqa: F401  (quiet TensorFlow start-up)

import keras
import numpy as np

from ganlab import growing, precision, recipes, runs

WARM_UP_STEPS = 10


class StepTimer(keras.callbacks.Callback):
    """Wall and CPU seconds from the end of the warm-up steps to the end of training."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == WARM_UP_STEPS - 1:
            self.started = time.perf_counter(), time.process_time()

    def on_train_end(self, logs=None):
        wall, cpu = self.started
        self.seconds = time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="default", choices=recipes.BUDGETS)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--separate-resampling", action="store_true")
    parser.add_argument("--precision", default="float32", choices=precision.PRECISIONS)
    arguments = parser.parse_args()

    recipe = recipes.get_recipe("progressive", arguments.budget)
    network = dataclasses.replace(recipe.network, fused_resampling=not arguments.separate_resampling)
    recipe = dataclasses.replace(recipe, network=network, precision=arguments.precision)
    gan = runs.build_gan(recipe)
    images = np.random.default_rng(0).uniform(-1, 1, (2048, 32, 32, 1)).astype("float32")
    print(f"networks: {recipe.network}, precision {recipe.precision}")
    print(f"{'phase':<16} {'batch':>5} {'wall ms/step':>12} {'cpu ms/step':>12} {'wall ms/image':>13} {'traces':>6}")
    total_seconds = 0.0
    for phase in recipe.options.schedule.phases:
        gan.step.assign(phase.first_step)
        dataset = growing.growing_dataset(images, recipe.options.schedule, first_step=phase.first_step)
        traces_before = gan.traces
        timer = StepTimer()
        gan.fit(
            dataset, steps_per_epoch=WARM_UP_STEPS + arguments.steps, epochs=1,
            callbacks=[growing.GrowthCallback(verbose=False), timer], verbose=0,
        )
        wall, cpu = (seconds / arguments.steps for seconds in timer.seconds)
        total_seconds += wall * phase.steps
        print(
            f"{phase.name:<16} {phase.batch_size:>5} {1000 * wall:>12.1f} {1000 * cpu:>12.1f} "
            f"{1000 * wall / phase.batch_size:>13.2f} {gan.traces - traces_before:>6}"
        )
    print(f"the whole schedule ({recipe.options.schedule.total_steps} steps): about {total_seconds / 60:.1f} minutes of training")


if __name__ == "__main__":
    main()
