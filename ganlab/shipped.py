"""Trained class-conditional models shipped with the course, and loading a model by name or run folder.

Lesson 06 and ``ganlab sample`` must work at once, offline and in CI, with no
training first. So the course ships two small BigGANs in ``ganlab/assets/``,
each made by ``ganlab train biggan`` and then ``ganlab export RUN NAME``:

```
ganlab/assets/biggan_mnist.weights.h5      the sampling (EMA) generator's weights
ganlab/assets/biggan_mnist.json            its config, data set, class names, and the
                                           record: command, wall time, machine, figures
```

Only the sampling generator is shipped (D and the optimizers are what training
needs, not sampling): a shipped model loads as a ``ganlab.models.biggan.BigGAN``
whose generator is the shipped one and which samples without EMA. Its batch
norm's moving statistics are the standing statistics measured when it was
exported.

Names: ``biggan-mnist`` and ``biggan-fashion-mnist`` (``SHIPPED_MODELS``).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from ganlab import data, models, recipes, runs, training

ASSETS_DIRECTORY = Path(__file__).resolve().parent / "assets"
# Shipped model name -> file stem in ganlab/assets.
SHIPPED_MODELS = {"biggan-mnist": "biggan_mnist", "biggan-fashion-mnist": "biggan_fashion_mnist"}


def _paths(name, directory=None):
    stem = SHIPPED_MODELS[name]
    directory = Path(directory or ASSETS_DIRECTORY)
    return directory / f"{stem}.weights.h5", directory / f"{stem}.json"


def read_record(name, directory=None):
    """The JSON record of a shipped model: config, data set, class names, how it was made and its figures."""
    check_shipped_name(name)
    _, record_path = _paths(name, directory)
    if not record_path.exists():
        raise ValueError(f"The shipped model {name!r} is missing from {record_path.parent} ({record_path.name}).")
    return json.loads(record_path.read_text())


def check_shipped_name(name):
    if name not in SHIPPED_MODELS:
        raise ValueError(
            f"Unknown model. Expected a run folder or one of {tuple(SHIPPED_MODELS)}. Received: model={name!r}"
        )


def load_model(model, directory=None):
    """A class-conditional GAN ready to sample, and the name of its data set.

    Args:
        model: a shipped model name (``"biggan-mnist"``, ``"biggan-fashion-mnist"``)
            or a run folder written by ``ganlab train biggan``.
        directory: where shipped models are (default: ``ganlab/assets``).

    Returns:
        ``(gan, dataset_name)``: a ``ganlab.models.biggan.BigGAN`` (for a run
        folder, restored from its checkpoint with its EMA generator) and
        ``"mnist"`` or ``"fashion_mnist"``.

    Raises:
        ValueError: an unknown name, a folder that is no run, or a run of a
            model that is not class-conditional; each in one line.
    """
    path = Path(model)
    if str(model) in SHIPPED_MODELS:
        record = read_record(str(model), directory)
        config = models.biggan.config_from_dict(record["config"])
        generator = models.build_biggan_generator(config)
        generator.load_weights(_paths(str(model), directory)[0])
        gan = models.biggan.BigGAN(generator, models.build_biggan_discriminator(config), ema_decay=None)
        return gan, record["dataset"]
    if path.is_dir():
        checkpoint = training.require_checkpoint(path / runs.CHECKPOINT_FOLDER)  # damaged ones: a ValueError
        if checkpoint is None:
            raise ValueError(f"{path} is not a run folder: it holds no complete {runs.CHECKPOINT_FOLDER}/.")
        recipe = recipes.recipe_from_json(training.read_checkpoint_state(checkpoint)["recipe"])
        gan = runs.build_gan(recipe)
        training.restore_checkpoint(gan, checkpoint)
        return gan, recipe.dataset
    check_shipped_name(str(model))  # raises: neither a folder nor a shipped name


def _how_the_run_went(run_directory):
    """The run's command, training minutes and final scores, from its checkpoint, metrics.csv and evaluation.json."""
    import csv
    import shlex

    state = training.read_checkpoint_state(training.find_checkpoint(run_directory / runs.CHECKPOINT_FOLDER))
    command = state.get("command") or []
    how = {"command": " ".join(shlex.quote(part) for part in command) if isinstance(command, list) else command}
    metrics_path = run_directory / "metrics.csv"
    if metrics_path.exists():
        with open(metrics_path, newline="") as file:
            rows = list(csv.DictReader(file))
        if rows and rows[-1].get("elapsed_seconds"):
            how["wall_minutes"] = round(float(rows[-1]["elapsed_seconds"]) / 60, 1)
    evaluation_path = run_directory / "evaluation.json"
    if evaluation_path.exists():
        evaluation = json.loads(evaluation_path.read_text())
        how["final_scores"] = {
            key: evaluation[key]
            for key in ("fid", "inception_score", "precision", "recall", "class_accuracy", "mean_variety", "mean_intra_fid")
            if key in evaluation
        }
    return how


def _class_accuracy_per_class(gan, dataset_name, number=1000, seed=0):
    """How often the course's domain classifier sees the class asked for, per class (no truncation)."""

    from ganlab import classifier

    labels = gan.cycling_labels(number)
    probabilities = classifier.probabilities(gan.generate(number, labels=labels, seed=seed), dataset_name)
    predicted = probabilities.argmax(axis=1)
    per_class = [float((predicted[labels == label] == label).mean()) for label in range(gan.num_classes)]
    return {"class_accuracy_per_class": [round(value, 4) for value in per_class]}


def machine_description():
    """The CPU model, core count and Python version, for records of how an asset was made."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def export_generator(run_directory, name, record=None, directory=None):
    """Writes a BigGAN run's sampling generator into the shipped models, with its record.

    The standing statistics are measured afresh first (``BigGAN.
    recompute_standing_statistics``, over the run recipe's
    ``standing_statistics_batches``), so that the shipped generator's batch norm
    describes its own activations.

    Args:
        run_directory: a run folder of ``ganlab train biggan``.
        name: a name of ``SHIPPED_MODELS``.
        record: what to record beside the weights (the command, the figures...);
            the config, data set, class names, step and machine are added.
        directory: where to write (default: ``ganlab/assets``).

    Returns:
        The paths of the weights and of the record.
    """
    check_shipped_name(name)
    gan, dataset_name = load_model(run_directory)
    if not isinstance(gan, models.biggan.BigGAN):
        raise ValueError(f"Only BigGAN runs can be shipped. Received: a run of {type(gan).__name__} in {run_directory}")
    gan.recompute_standing_statistics()  # over the run recipe's standing_statistics_batches
    weights_path, record_path = _paths(name, directory)
    if weights_path.exists() or record_path.exists():
        # Replacing the shipped model is what export is for; it is said, not silent
        # (the earlier files stay in the course's git history).
        print(f"ganlab export: replacing the shipped {weights_path} and {record_path}")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    gan.sampling_generator().save_weights(weights_path)
    import dataclasses

    full_record = {
        "name": name,
        "dataset": dataset_name,
        "class_names": list(data.CLASS_NAMES[dataset_name]),
        "config": dataclasses.asdict(gan.generator.config),
        "step": int(gan.step.numpy()),
        "exported_from": str(run_directory),
        "machine": machine_description(),
        **_how_the_run_went(Path(run_directory)),
        **_class_accuracy_per_class(gan, dataset_name),
        **(record or {}),
    }
    record_path.write_text(json.dumps(full_record, indent=2) + "\n")
    return weights_path, record_path
