"""Milliseconds per training step of the progressive GAN, per phase, and traces per phase.

    python benchmarks/progressive_step_time.py [--budget default] [--steps 30]

For each phase of the recipe's schedule: a ProgressiveGAN is put at the phase's
first step and trained ``--steps`` steps with ``fit`` (after a warm-up that
traces the graph); prints wall and CPU milliseconds per step and per 1,000
images, and how often ``train_step`` was traced (once per phase is the design:
alpha lives in a variable). Used to size the default schedule for a 2-core CPU.
"""

import argparse
import time

import ganlab  # noqa: F401  (quiet TensorFlow start-up)

import numpy as np

from ganlab import growing, recipes, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="default", choices=recipes.BUDGETS)
    parser.add_argument("--steps", type=int, default=30)
    arguments = parser.parse_args()

    recipe = recipes.get_recipe("progressive", arguments.budget)
    gan = runs.build_gan(recipe)
    images = np.random.default_rng(0).uniform(-1, 1, (2048, 32, 32, 1)).astype("float32")
    print(f"networks: {recipe.network}")
    print(f"{'phase':<16} {'batch':>5} {'wall ms/step':>12} {'cpu ms/step':>12} {'wall s/1k images':>16} {'traces':>6}")
    total_seconds = 0.0
    for phase in recipe.schedule.phases:
        gan.step.assign(phase.first_step)
        dataset = growing.growing_dataset(images, recipe.schedule, first_step=phase.first_step)
        traces_before = gan.traces
        callback = growing.GrowthCallback(verbose=False)
        gan.fit(dataset, steps_per_epoch=3, epochs=1, callbacks=[callback], verbose=0)  # warm-up: traces
        wall, cpu = time.perf_counter(), time.process_time()
        gan.fit(dataset, steps_per_epoch=arguments.steps, epochs=1, callbacks=[callback], verbose=0)
        wall, cpu = (time.perf_counter() - wall) / arguments.steps, (time.process_time() - cpu) / arguments.steps
        total_seconds += wall * phase.steps
        print(
            f"{phase.name:<16} {phase.batch_size:>5} {1000 * wall:>12.1f} {1000 * cpu:>12.1f} "
            f"{1000 * wall / phase.batch_size:>16.2f} {gan.traces - traces_before:>6}"
        )
    print(f"the whole schedule ({recipe.schedule.total_steps} steps): about {total_seconds / 60:.1f} minutes of training")


if __name__ == "__main__":
    main()
