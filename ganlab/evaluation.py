"""Evaluating a generator's samples: the metrics of ``ganlab.metrics`` run on images, files and runs.

``ganlab.metrics`` is the maths of lesson 03 on feature arrays. This module is
what turns images into those arrays and the results into records: it runs the
course's classifier (``ganlab.classifier``), caches the real test images'
features for the evaluations during training, reads ``samples.npz`` files
(``ganlab evaluate``), and formats the results for ``metrics.csv``, Comet and
the terminal.

- ``evaluate_images``: every metric at once, for samples of a generator;
- ``evaluate_samples_file``: the same for a run folder or an ``.npz`` (``ganlab evaluate``);
- ``logged_scores``: the scores a run logs; ``format_results``: a small text table.

``ganlab.metrics`` re-exports these names (``ganlab.metrics.evaluate_images``
is this ``evaluate_images``).
"""

from __future__ import annotations

import numpy as np

from ganlab.metrics import (
    class_accuracy,
    frechet_distance,
    inception_score,
    kernel_distance,
    neighbour_radii,
    per_class_variety_and_fid,
    precision_recall,
)

# The scores that metrics.csv has a column for, in every evaluation during and after training.
EVALUATION_COLUMNS = ("fid", "kid", "inception_score", "precision", "recall")

# Features and probabilities of the default real images, by (data set, source,
# backbone): a training callback that evaluates every few rounds computes them once.
_real_cache: dict = {}


def real_features_and_probabilities(dataset_name, source="auto", backbone="domain"):
    """Features and probabilities of the real test images of a data set (cached in memory).

    The test split is used, because the generator was trained on the
    training split: its samples should be as close to unseen real images as
    to the ones it saw.

    Returns:
        ``(features, probabilities)``.
    """
    from ganlab import classifier, data

    key = (dataset_name, str(source), backbone)
    if key not in _real_cache:
        images, labels = data.load_images(dataset_name, source=source, split="test")
        _real_cache[key] = classifier.features_and_probabilities(images, dataset_name, backbone)
        _real_cache.setdefault(_labels_key(dataset_name, source), labels)  # read once: real_test_labels' too
    return _real_cache[key]


def real_neighbour_radii(dataset_name, source="auto", backbone="domain", k=3):
    """``neighbour_radii`` of ``real_features_and_probabilities``' features (cached in memory)."""
    key = (dataset_name, str(source), backbone, "radii", k)
    if key not in _real_cache:
        features, _ = real_features_and_probabilities(dataset_name, source, backbone)
        radii = neighbour_radii(features, k)
        radii.setflags(write=False)  # shared by every later caller: nobody may change it
        _real_cache[key] = radii
    return _real_cache[key]


def real_test_labels(dataset_name, source="auto"):
    """The classes of the real test images that ``real_features_and_probabilities`` scores (cached in memory)."""
    from ganlab import data

    key = _labels_key(dataset_name, source)
    if key not in _real_cache:
        _real_cache[key] = data.load_images(dataset_name, source=source, split="test")[1]
    return _real_cache[key]


def _labels_key(dataset_name, source):
    return (dataset_name, str(source), "labels")


def evaluate_images(
    images,
    dataset_name,
    real_images=None,
    labels=None,
    source="auto",
    backbone="domain",
    kid_subsets=100,
    seed=0,
    real_labels=None,
):
    """Scores generated images against real ones with every metric of ``ganlab.metrics``.

    Args:
        images: generated images ``(N, H, W, 1)`` in [-1, 1] (28x28, 32x32
            or any square size; see ``ganlab.classifier.prepare_images``).
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``: whose classifier
            and, by default, whose real images.
        real_images: real images to compare with; default the test split of
            ``dataset_name`` (loaded once, features cached).
        labels: the classes a conditional generator was asked for, ``(N,)``;
            adds ``class_accuracy``, and with the real images' classes
            (``real_labels``, or the test split's by default) the per-class
            ``variety`` and ``intra_fid`` (``per_class_variety_and_fid``) and
            their means ``mean_variety`` and ``mean_intra_fid``.
        source: data source of the default real images (see ``ganlab.data``).
        backbone: ``"domain"`` (default) or ``"inception"`` (see ``ganlab.classifier``).
        kid_subsets: subsets averaged by ``kernel_distance``.
        seed: seed of KID's subsets.
        real_labels: the classes of ``real_images``, for the per-class measures.

    Returns:
        A dict: ``fid``, ``kid``, ``inception_score``, ``precision``,
        ``recall``, ``class_accuracy`` (with labels),
        ``real_inception_score`` (the score of the real images: the best a
        generator can hope for), ``number_of_samples``,
        ``number_of_real_images``, ``dataset``, ``backbone``.
    """
    from ganlab import classifier, data

    # Checked before anything is loaded: a wrong argument is told at once.
    if dataset_name not in data.DATASET_NAMES:
        raise ValueError(
            f"Unknown data set name. Expected one of {data.DATASET_NAMES}. Received: dataset_name={dataset_name!r}"
        )
    classifier.prepare_images(images)
    if labels is not None and np.shape(labels) != (len(images),):
        raise ValueError(
            f"labels must hold one class per image, shape ({len(images)},). Received: labels.shape={np.shape(labels)}"
        )
    real_radii = None
    if real_images is None:
        real_features, real_probabilities = real_features_and_probabilities(dataset_name, source, backbone)
        real_radii = real_neighbour_radii(dataset_name, source, backbone)
    else:
        real_features, real_probabilities = classifier.features_and_probabilities(
            real_images, dataset_name, backbone
        )
    fake_features, fake_probabilities = classifier.features_and_probabilities(images, dataset_name, backbone)
    precision, recall = precision_recall(real_features, fake_features, real_radii=real_radii)
    results = {
        "fid": frechet_distance(real_features, fake_features),
        "kid": kernel_distance(real_features, fake_features, subsets=kid_subsets, seed=seed),
        "inception_score": inception_score(fake_probabilities),
        "precision": precision,
        "recall": recall,
    }
    if labels is not None:
        if real_labels is None and real_images is None:
            real_labels = real_test_labels(dataset_name, source)
        results.update(_class_scores(fake_features, fake_probabilities, labels, real_features, real_labels))
    results.update(
        real_inception_score=inception_score(real_probabilities),
        number_of_samples=len(fake_features),
        number_of_real_images=len(real_features),
        dataset=dataset_name,
        backbone=backbone,
    )
    return results


def _class_scores(fake_features, fake_probabilities, labels, real_features, real_labels):
    """``class_accuracy``, and with the real images' classes the per-class ``variety`` and ``intra_fid``."""
    labels = np.asarray(labels).reshape(-1)
    results = {"class_accuracy": class_accuracy(fake_probabilities, labels)}
    if real_labels is not None:
        per_class = per_class_variety_and_fid(fake_features, labels, real_features, real_labels)
        results.update(per_class)
        if per_class["variety"]:
            results["mean_variety"] = float(np.mean(list(per_class["variety"].values())))
            results["mean_intra_fid"] = float(np.mean(list(per_class["intra_fid"].values())))
    return results


def evaluate_samples_file(path, dataset_name=None, number=None, json_path=None, source="auto"):
    """Scores a ``samples.npz`` against real test images (what ``ganlab evaluate`` does).

    Args:
        path: a run folder (holding ``samples.npz``) or an ``.npz`` file with
            the key ``images`` (float32 in [-1, 1]) and optionally ``labels``.
        dataset_name: the real data set; default the run's (from its
            checkpoint), else ``"mnist"``.
        number: how many samples *and* how many real images to use, the same
            number of each, because FID depends on the sample size; default
            as many as both sets have.
        json_path: where to write the results; default beside the ``.npz``,
            named by the number of samples: ``evaluation_1000samples.json``
            for a run's ``samples.npz`` (so that the ``evaluation.json`` that
            training wrote is kept), ``NAME_evaluation_1000samples.json`` for
            another ``NAME.npz``. A file already there is replaced, and the
            message says so.
        source: source of the real images (see ``ganlab.data.load_images``).

    Returns:
        ``(results, json_path)``: the dict of ``evaluate_images`` plus
        ``samples`` (the file scored), and where it was written.
    """
    import json
    from pathlib import Path

    from ganlab import data

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist (expected a run folder or an .npz of samples).")
    if path.is_dir():
        samples_path = path / "samples.npz"
    elif path.suffix == ".npz":
        samples_path = path
    else:
        raise ValueError(f"expected a run folder or an .npz file. Received: {str(path)!r}")
    if not samples_path.exists():
        raise ValueError(f"{samples_path} does not exist.")
    images, labels = _read_samples(samples_path)
    data.check_images(images, name=f"{samples_path.name}['images']")
    if dataset_name is None:
        dataset_name = _dataset_of_run(samples_path.parent) or "mnist"
    if number is not None and (not isinstance(number, (int, np.integer)) or not 4 <= number <= len(images)):
        raise ValueError(f"--number must be from 4 to {len(images)} ({len(images)} samples). Received: {number!r}")
    real_images, real_labels = data.load_images(dataset_name, source=source, split="test")
    if number is None:
        number = min(len(images), len(real_images))
    if not 4 <= number <= min(len(images), len(real_images)):
        raise ValueError(
            f"--number must be from 4 to {min(len(images), len(real_images))} ({len(images)} samples, "
            f"{len(real_images)} real test images). Received: {number!r}"
        )
    results = evaluate_images(
        images[:number],
        dataset_name,
        real_images=real_images[:number],
        labels=None if labels is None else labels[:number],
        # Per class, every real test image of the class: a class has only a tenth of them.
        real_labels=real_labels[:number],
    )
    results["samples"] = str(samples_path)
    if not json_path:
        prefix = "" if samples_path.stem == "samples" else f"{samples_path.stem}_"
        json_path = samples_path.parent / f"{prefix}evaluation_{number}samples.json"
    json_path = Path(json_path)
    if json_path.exists():
        print(f"ganlab evaluate: replacing the earlier {json_path}")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    return results, json_path


def _read_samples(samples_path):
    """``(images, labels)`` of a samples ``.npz`` (labels None without that key); a ``ValueError`` if unreadable."""
    import pickle
    import zipfile

    try:
        with np.load(samples_path) as arrays:
            if "images" not in arrays.files:
                raise ValueError(f"{samples_path} has no key 'images'. Received keys: {sorted(arrays.files)}")
            return arrays["images"], arrays["labels"] if "labels" in arrays.files else None
    except (OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        raise ValueError(
            f"{samples_path} is not a readable .npz file ({type(error).__name__}: {error})."
        ) from None
    except ValueError as error:
        if "pickled" not in str(error):
            raise
        # np.load's answer to a file that is not a zip: it would have to unpickle it.
        raise ValueError(f"{samples_path} is not a readable .npz file (not a NumPy zip archive).") from None


def logged_scores(results):
    """The scores of ``evaluate_images`` results that a run logs (``metrics.csv``, Comet), as floats.

    The ``EVALUATION_COLUMNS``, and for class-conditional samples also
    ``class_accuracy`` and ``variety`` (the mean variety within a class).
    """
    scores = {name: float(results[name]) for name in EVALUATION_COLUMNS}
    if "class_accuracy" in results:
        scores["class_accuracy"] = float(results["class_accuracy"])
    if "mean_variety" in results:
        scores["variety"] = float(results["mean_variety"])
    return scores


def _dataset_of_run(run_directory):
    """The data set a run folder was trained on, from its checkpoint, or None."""
    import json
    from pathlib import Path

    from ganlab import checkpoints

    state_file = Path(run_directory) / checkpoints.CHECKPOINT_FOLDER / checkpoints.CHECKPOINT_STATE_FILE
    try:
        return json.loads(state_file.read_text())["recipe"]["dataset"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def format_results(results):
    """The results of ``evaluate_images`` as a small text table."""
    rows = [
        ("FID", "fid", "lower is better"),
        ("KID", "kid", "lower is better, about 0 for real images"),
        ("Inception Score", "inception_score", f"higher is better, real images: {results['real_inception_score']:.2f}"),
        ("precision", "precision", "fidelity: samples inside the real manifold"),
        ("recall", "recall", "diversity: real images inside the samples' manifold"),
        ("class accuracy", "class_accuracy", "samples classified as the class asked for"),
        ("variety", "mean_variety", "per class, samples' spread / real images' spread (1 = as varied), mean"),
        ("intra-FID", "mean_intra_fid", "FID within each class, mean over the classes"),
    ]
    lines = [
        f"{results['number_of_samples']} samples vs {results['number_of_real_images']} real "
        f"{results['dataset']} test images ({results['backbone']} classifier)"
    ]
    for title, key, meaning in rows:
        if key in results:
            lines.append(f"  {title:<16} {results[key]:>9.4f}   {meaning}")
    return "\n".join(lines)
