"""Exploring a trained class-conditional GAN: the TF Hub BigGAN demo, rebuilt on our model (lesson 06).

DeepMind's BigGAN demo (``tensorflow/hub``,
``examples/colab/biggan_generation_with_tf_hub.ipynb``) has two Colab forms:
samples of one category with sliders for the number of samples, the
truncation and the noise seed; and an interpolation between two categories,
z and the one-hot class both moving in a straight line. It was written for
TF1's ``hub.Module`` and no longer runs on TF2. Here are the same two forms for
our ``ganlab.conditional.BigGAN`` at 32x32, first as plain functions with
parameters (a notebook calls them, the tests check them), then as ipywidgets
front-ends that redraw when a control moves:

- ``sample_category`` and ``sampling_widget``: one category, several z.
- ``interpolate_categories`` and ``interpolation_widget``: from category A
  with noise seed A to category B with noise seed B.
- ``truncation_side_by_side``: the two meanings of "truncation" (below), on
  the same seed.
- ``truncation_tradeoff`` and ``plot_truncation_tradeoff``: fidelity against
  variety, measured (the paper traces IS against FID by sweeping the threshold).
- ``nearest_training_images`` and ``show_nearest``: does G draw new images or
  copies of training images? (the memorization check).

Two meanings of truncation, both available as ``truncation_kind``:

```
"resample" (the paper, section 3.1):  z ~ N(0, I), every entry with |z| > t drawn again
"scaled"   (the TF Hub demo):          z = t * s,  s ~ N(0, 1) truncated to [-2, 2]
```

The paper's ``t`` is a threshold: at ``t = 2`` almost nothing is resampled
(95 % of a standard normal lies within 2), and as ``t`` falls z is pushed
towards the centre. The demo's ``t`` is a scale: every entry lies within
``2 t``, and the spread of z shrinks in proportion to ``t``, so at ``t = 1``
z is close to standard normal (std 0.88) and at ``t = 2`` its spread (std
1.76) is well beyond the N(0, 1) that G was trained on. (The demo also feeds ``t`` to the TF Hub module itself;
our generator takes only z and the class.)

In a notebook, the widgets are the last expression of a cell::

    from ganlab import explorer
    explorer.sampling_widget(gan, "fashion_mnist")

Jupyter (Notebook 7, JupyterLab 3 or later) renders ipywidgets 8 as installed
by ``pip install -e ".[notebooks]"``, with nothing to enable. Colab renders
the core ipywidgets (sliders, drop-downs, ``Output``) of the version it ships:
the notebook's first cells need only install the course (its set-up cell does)
and must not install another ipywidgets. ``google.colab.output.enable_custom_widget_manager()``
is for third-party widget packages (loaded from a CDN) and is not needed here.
The controls call Python, so they need a running kernel; in a saved or
exported notebook only the last picture of each widget remains, so results
meant to stay in the notebook are drawn with the plain functions
(``show_samples_row(sample_category(...))``).
"""

from __future__ import annotations

import io
import numbers
from pathlib import Path

import numpy as np

from ganlab import data, sampling, viz

# The ranges of the TF Hub demo's forms. Truncation goes to 2 instead of the demo's 1,
# so that both meanings can be compared where they differ most: at 2, "resample" is
# almost no truncation while "scaled" widens z beyond anything G was trained on.
NUMBER_OF_SAMPLES_RANGE = (1, 20)
INTERPOLATION_SAMPLES_RANGE = (1, 5)
INTERPOLATION_STEPS_RANGE = (2, 10)
TRUNCATION_RANGE = (0.02, 2.0)
TRUNCATION_STEP = 0.02
NOISE_SEED_RANGE = (0, 100)
TRUNCATION_KINDS = ("resample", "scaled")
INTERPOLATION_METHODS = ("linear", "slerp")
# Samples compared with all training images at once by nearest_training_images: 256 rows
# of 60,000 float32 distances are 61 MB.
DISTANCE_CHUNK_SIZE = 256
# Each candidate found with the fast (rounded) formula is checked by an exact distance;
# this many extra candidates keep a near-tie from hiding the true k-th neighbour.
EXTRA_CANDIDATES = 8


# --- latent vectors and categories ----------------------------------------------------


def truncated_latent(gan, number_of_samples, truncation=1.0, noise_seed=0, truncation_kind="resample"):
    """The z the explorer feeds to G: ``(number_of_samples, gan.latent_dim)`` float32.

    ```
    resample:  ganlab.sampling.truncated_normal(shape, truncation, seed=noise_seed)   every |z| <= truncation
    scaled:    ganlab.sampling.truncnorm_scaled(shape, truncation, seed=noise_seed)   every |z| <= 2 * truncation
    ```

    The same arguments give the same z on every machine; ``"scaled"`` gives
    exactly the demo's ``truncated_z_sample(number_of_samples, truncation, noise_seed)``
    (for a generator of the same ``dim_z``). Every function of this module
    draws z here, so tests can check what G was given.

    Args:
        gan: a ``ganlab.conditional.BigGAN`` (only ``gan.latent_dim`` is used).
        number_of_samples: how many vectors, a positive integer.
        truncation: a positive number (see the module docstring for its two meanings),
            or None for plain normal z (no truncation; ``"resample"`` only).
        noise_seed: a non-negative integer seed.
        truncation_kind: ``"resample"`` (the paper) or ``"scaled"`` (the TF Hub demo).
    """
    _check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    _check_integer("number_of_samples", number_of_samples, 1, None)
    _check_integer("noise_seed", noise_seed, 0, None)
    shape = (int(number_of_samples), int(gan.latent_dim))
    if truncation is None and truncation_kind == "scaled":
        raise ValueError("truncation_kind='scaled' needs a truncation (it scales the sample). Received: truncation=None")
    if truncation_kind == "resample":
        return sampling.truncated_normal(shape, truncation, seed=int(noise_seed))
    return sampling.truncnorm_scaled(shape, truncation, seed=int(noise_seed))


def category_label(gan, category, dataset_name="fashion_mnist"):
    """The integer class of ``category`` (any form ``ganlab.data.class_index`` accepts), checked against the gan.

    Raises ``ValueError`` when ``dataset_name`` does not have the gan's number
    of classes: its names would not describe what the gan draws.
    """
    label = data.class_index(dataset_name, category)  # names the accepted data sets when unknown
    names = data.CLASS_NAMES[dataset_name]
    num_classes = gan.generator.config.num_classes
    if len(names) != num_classes:
        raise ValueError(
            f"dataset_name must be a data set of the gan's {num_classes} classes; {dataset_name} has {len(names)}. "
            f"Received: dataset_name={dataset_name!r}"
        )
    return label


# --- the sampling form ------------------------------------------------------------------


def sample_category(
    gan,
    category,
    number_of_samples=8,
    truncation=1.0,
    noise_seed=0,
    dataset_name="fashion_mnist",
    truncation_kind="resample",
):
    """Samples of one category, as the TF Hub demo's "Category-conditional sampling" form.

    Each image is ``G(z_i, embed(category))`` with ``z`` from
    ``truncated_latent``: the same arguments give the same images, and a
    different ``noise_seed`` gives different ones. Lower truncation: images
    closer to the class's "average" look, less varied.

    Args:
        gan: a ``ganlab.conditional.BigGAN``.
        category: the class: ``7``, ``"7"``, ``"sneaker"`` or ``"7) Sneaker"``
            (see ``ganlab.data.class_index``).
        number_of_samples: how many images, from 1 to 20 (as the demo).
        truncation: from 0.02 to 2 (the demo goes to 1).
        noise_seed: seed of z, from 0 to 100 (as the demo).
        dataset_name: whose class names ``category`` refers to.
        truncation_kind: ``"resample"`` (the paper's threshold) or
            ``"scaled"`` (the demo's ``truncnorm(-2, 2) * truncation``).

    Returns:
        float32 images ``(number_of_samples, H, W, C)`` in [-1, 1].

    Example:

    >>> sneakers = sample_category(gan, "sneaker", number_of_samples=8, truncation=0.5)  # doctest: +SKIP
    >>> show_samples_row(sneakers, title="7) Sneaker, truncation 0.5")  # doctest: +SKIP
    """
    label = category_label(gan, category, dataset_name)
    _check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    truncation = _check_truncation("truncation", truncation)
    _check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
    latent = truncated_latent(gan, number_of_samples, truncation, noise_seed, truncation_kind)
    return gan.generate_from_embeddings(latent, gan.embed(np.full(number_of_samples, label)))


# --- the interpolation form -----------------------------------------------------------


def interpolate_categories(
    gan,
    category_a,
    category_b,
    number_of_samples=2,
    steps=5,
    truncation=1.0,
    noise_seed_a=0,
    noise_seed_b=0,
    method="linear",
    dataset_name="fashion_mnist",
    truncation_kind="resample",
):
    """From category A to category B in ``steps`` images, as the TF Hub demo's "Interpolation" form.

    ```
    z_A = truncated_latent(number_of_samples, truncation, noise_seed_a)      e_A = embed(category_a)
    z_B = truncated_latent(number_of_samples, truncation, noise_seed_b)      e_B = embed(category_b)
    image[i, s] = G(interpolate(z_A[i], z_B[i])[s], lerp(e_A, e_B)[s])       s = 0 .. steps - 1
    ```

    The demo interpolates z and the one-hot class linearly; BigGAN's shared
    embedding is a linear map of the one-hot class, so interpolating the
    embeddings linearly is the same thing. With the default equal seeds only
    the class changes along each row. ``method="slerp"`` moves z along a
    great circle instead (``ganlab.sampling.interpolate``); the embedding is
    always interpolated linearly.

    Args:
        gan: a ``ganlab.conditional.BigGAN``.
        category_a, category_b: the two classes (see ``ganlab.data.class_index``).
        number_of_samples: how many interpolations (rows), from 1 to 5.
        steps: images per interpolation, both ends included, from 2 to 10.
        truncation: from 0.02 to 2, for both ends.
        noise_seed_a, noise_seed_b: seeds of z at each end, from 0 to 100.
        method: ``"linear"`` or ``"slerp"``, for z.
        dataset_name: whose class names the categories refer to.
        truncation_kind: ``"resample"`` or ``"scaled"`` (see ``sample_category``).

    Returns:
        float32 images ``(number_of_samples, steps, H, W, C)``: ``[:, 0]`` are
        the images of category A with seed A, ``[:, -1]`` those of B with seed B.
    """
    label_a, label_b, truncation = _check_interpolation(
        gan, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b, method,
        dataset_name,
    )
    latent_a = truncated_latent(gan, number_of_samples, truncation, noise_seed_a, truncation_kind)
    latent_b = truncated_latent(gan, number_of_samples, truncation, noise_seed_b, truncation_kind)
    embeddings_a = gan.embed(np.full(number_of_samples, label_a))
    embeddings_b = gan.embed(np.full(number_of_samples, label_b))
    latent = sampling.interpolate(latent_a, latent_b, steps, method=method)  # [steps, N, latent_dim]
    embeddings = sampling.interpolate(embeddings_a, embeddings_b, steps, method="linear")  # [steps, N, E]
    # One forward pass of all N * steps images, ordered sample by sample: [N, steps, D] -> [N * steps, D].
    latent = np.swapaxes(latent, 0, 1).reshape(number_of_samples * steps, -1)
    embeddings = np.swapaxes(embeddings, 0, 1).reshape(number_of_samples * steps, -1)
    images = gan.generate_from_embeddings(latent, embeddings)  # [N * steps, H, W, C]
    return images.reshape((number_of_samples, steps) + images.shape[1:])


# --- the two truncations, and the trade-off -------------------------------------------


def truncation_side_by_side(
    gan,
    category,
    truncations=(0.1, 0.5, 1.0, 2.0),
    number_of_samples=8,
    noise_seed=0,
    dataset_name="fashion_mnist",
):
    """The same category and seed under both meanings of truncation, at several values.

    With one seed for every value, the rows differ only by truncation: under
    ``"scaled"`` every row's z points the same way and only its length
    changes; under ``"resample"`` the entries within the threshold stay and
    the others are drawn again.

    Args:
        gan: a ``ganlab.conditional.BigGAN``.
        category: the class (see ``ganlab.data.class_index``).
        truncations: values from 0.02 to 2.
        number_of_samples: images per truncation, from 1 to 20.
        noise_seed: from 0 to 100.
        dataset_name: whose class names ``category`` refers to.

    Returns:
        ``{"resample": images, "scaled": images}``, each float32
        ``(len(truncations), number_of_samples, H, W, C)``, rows in the order
        of ``truncations`` (draw them with ``plot_truncation_side_by_side``).
    """
    label = category_label(gan, category, dataset_name)
    truncations = _check_truncations(truncations, upper=TRUNCATION_RANGE[1])
    _check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    _check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
    embeddings = gan.embed(np.full(len(truncations) * number_of_samples, label))
    result = {}
    for kind in TRUNCATION_KINDS:
        latent = np.concatenate(
            [truncated_latent(gan, number_of_samples, value, noise_seed, kind) for value in truncations]
        )
        images = gan.generate_from_embeddings(latent, embeddings)  # one pass: [T * N, H, W, C]
        result[kind] = images.reshape((len(truncations), number_of_samples) + images.shape[1:])
    return result


def plot_truncation_side_by_side(side_by_side, truncations, title=None, path=None):
    """Draws ``truncation_side_by_side``'s result: one panel per meaning, one row per truncation.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    truncations = list(truncations)
    figure, panels = plt.subplots(1, 2, figsize=(12, 0.75 * len(truncations) + 1.2))
    captions = {"resample": "resample (the paper): |z| <= t", "scaled": "scaled (TF Hub demo): z = t * truncnorm(-2, 2)"}
    for axes, kind in zip(panels, TRUNCATION_KINDS):
        images = np.asarray(side_by_side[kind])
        if len(images) != len(truncations):
            raise ValueError(
                f"side_by_side[{kind!r}] must hold one row per truncation ({len(truncations)}). "
                f"Received: {len(images)} rows"
            )
        rows, columns = images.shape[:2]
        height = images.shape[2]
        grid = viz.image_grid(images.reshape((rows * columns,) + images.shape[2:]), columns=columns)
        axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
        axes.set_yticks([row * (height + 2) + height / 2 for row in range(rows)])
        axes.set_yticklabels([f"t = {value:g}" for value in truncations])
        axes.set_xticks([])
        axes.set_title(captions[kind])
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def truncation_tradeoff(
    gan,
    dataset_name,
    truncations=(2.0, 1.5, 1.0, 0.75, 0.5, 0.25, 0.04),
    number_of_samples=1000,
    seed=0,
    truncation_kind="resample",
    real_images=None,
    source="auto",
    kid_subsets=100,
):
    """Measures fidelity and variety of the samples at each truncation: the trade-off curve.

    For each truncation: ``number_of_samples`` images of balanced classes
    (0, 1, ..., 9, 0, 1, ...), all from the same seed, scored by
    ``ganlab.metrics.evaluate_images`` with the data set's domain classifier.
    As truncation falls, precision and class accuracy should rise (each image
    looks more like its class) while recall falls (fewer kinds of images);
    the Inception-style score rewards confident classes (and all of them
    drawn), and FID, which compares whole distributions, typically worsens
    once variety disappears (the paper reports IS rising as the threshold
    falls while FID first improves, then worsens).

    Args:
        gan: a ``ganlab.conditional.BigGAN``.
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``: the classifier and
            the real images (its test split by default).
        truncations: positive values (of any size: this is a measurement,
            not a slider).
        number_of_samples: images per truncation, at least 10 (FID needs
            thousands to be stable; compare values of the same size only).
        seed: seed of z.
        truncation_kind: ``"resample"`` (the paper) or ``"scaled"`` (the demo).
        real_images: real images to compare with instead of the test split.
        source: the data source of the default real images (``ganlab.data``).
        kid_subsets: subsets averaged by KID.

    Returns:
        One dict per truncation, in the order given: ``truncation``,
        ``inception_score``, ``fid``, ``kid``, ``precision``, ``recall``,
        ``class_accuracy``, and (against the default real images) ``variety``:
        the mean over classes of the samples' spread within a class divided by
        the real images' (``ganlab.metrics.per_class_variety_and_fid``; 1.0 is
        as varied as real data).
    """
    from ganlab import metrics

    data.category_options(dataset_name)  # an unknown data set fails here, before any image is drawn
    truncations = _check_truncations(truncations, upper=None)
    _check_integer("number_of_samples", number_of_samples, 10, None)
    labels = np.arange(number_of_samples) % gan.generator.config.num_classes
    embeddings = gan.embed(labels)
    rows = []
    for value in truncations:
        latent = truncated_latent(gan, number_of_samples, value, seed, truncation_kind)
        images = gan.generate_from_embeddings(latent, embeddings)
        results = metrics.evaluate_images(
            images, dataset_name, real_images=real_images, labels=labels, source=source, kid_subsets=kid_subsets, seed=seed
        )
        rows.append(
            {
                "truncation": value,
                **{
                    name: float(results[name])
                    for name in ("inception_score", "fid", "kid", "precision", "recall", "class_accuracy")
                },
                **({"variety": float(results["mean_variety"])} if "mean_variety" in results else {}),
            }
        )
    return rows


def plot_truncation_tradeoff(rows, title=None, path=None, other_rows=None, other_label="another model"):
    """Plots ``truncation_tradeoff``'s rows: scores and fractions against truncation.

    Left: the Inception-style score (higher is better) and FID (lower is
    better, right axis). Right: precision (fidelity), recall and variety
    (variety) and class accuracy. The truncation axis runs from large to
    small, so that reading left to right is trading variety for fidelity.
    ``other_rows`` (another model's sweep, such as one trained without
    orthogonal regularization) are drawn beside, dotted, labelled ``other_label``.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows must hold at least one row of truncation_tradeoff. Received: rows=[]")
    truncations = [float(row["truncation"]) for row in rows]
    figure, (score_axes, fraction_axes) = plt.subplots(1, 2, figsize=(11, 5.2 if other_rows else 3.8))
    score_line = score_axes.plot(
        truncations, [row["inception_score"] for row in rows], "o-", color="C0", label="Inception-style score (higher: better)"
    )
    score_axes.set_ylabel("Inception-style score")
    fid_axes = score_axes.twinx()
    fid_line = fid_axes.plot(truncations, [row["fid"] for row in rows], "s--", color="C3", label="FID (lower: better)")
    fid_axes.set_ylabel("FID")
    score_axes.legend(handles=score_line + fid_line, loc="best", fontsize="small")
    score_axes.set_title("Scores")
    measures = (
        ("precision", "precision (fidelity)"),
        ("recall", "recall (variety)"),
        ("variety", "variety within a class"),
        ("class_accuracy", "class accuracy"),
    )
    for index, (name, label) in enumerate(measures):
        if all(name in row for row in rows):
            fraction_axes.plot(truncations, [row[name] for row in rows], "o-", color=f"C{index}", label=label)
        if other_rows and all(name in row for row in other_rows):
            fraction_axes.plot(
                [float(row["truncation"]) for row in other_rows], [row[name] for row in other_rows], ":",
                color=f"C{index}", label=f"{label}, {other_label}",
            )
    if other_rows:
        fid_axes.plot(
            [float(row["truncation"]) for row in other_rows], [row["fid"] for row in other_rows], ":", color="C3",
        )
    fraction_axes.set_ylim(-0.02, max(1.02, *(row.get("variety", 0) + 0.05 for row in rows)))
    fraction_axes.set_title("Fidelity and variety")
    if other_rows:
        # Eight lines: the legend goes below the plot, where it hides none of them.
        fraction_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="x-small")
    else:
        fraction_axes.legend(loc="best", fontsize="small")
    for axes in (score_axes, fraction_axes):
        axes.set_xlabel("truncation (more variety  <-  ->  more fidelity)")
        # From the largest truncation on the left to the smallest on the right, in any order given.
        axes.set_xlim(max(truncations) * 1.05, min(truncations) - 0.05 * max(truncations))
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


# --- memorization -----------------------------------------------------------------------


def nearest_training_images(samples, training_images, k=3, chunk_size=DISTANCE_CHUNK_SIZE):
    """The ``k`` training images nearest to each sample, by Euclidean distance in pixel space.

    ```
    distance(x, y) = sqrt(sum over pixels (x - y)^2)
    ```

    A generator that memorized its data draws samples at (almost) distance 0
    from a training image; one that generalizes draws samples whose nearest
    training images are similar but not the same. Candidates are found with
    ``|x|^2 - 2 x.y + |y|^2``, ``chunk_size`` samples at a time against all
    training images, and their distances recomputed exactly, so that an
    exact copy is at distance 0.

    Args:
        samples: ``(N, H, W, C)``.
        training_images: ``(M, H, W, C)``, the same image shape (load them
            with ``ganlab.data.load_images(name, size=32)`` for 32x32 samples).
        k: neighbours per sample, from 1 to M.
        chunk_size: samples compared at once (memory: chunk_size x M floats).

    Returns:
        ``(indices, distances)``: int64 ``(N, k)`` indices into
        ``training_images`` and float64 ``(N, k)`` distances, nearest first.
    """
    samples = np.asarray(samples, dtype=np.float32)
    training_images = np.asarray(training_images, dtype=np.float32)
    if samples.ndim != 4 or training_images.ndim != 4 or samples.shape[1:] != training_images.shape[1:]:
        raise ValueError(
            "samples and training_images must be (N, H, W, C) arrays of the same image shape "
            f"(ganlab.data.load_images(name, size=32) for 32x32 samples). "
            f"Received: samples.shape={samples.shape}, training_images.shape={training_images.shape}"
        )
    _check_integer("k", k, 1, len(training_images))
    _check_integer("chunk_size", chunk_size, 1, None)
    flat_samples = samples.reshape(len(samples), -1)
    flat_training = training_images.reshape(len(training_images), -1)
    training_norms = np.einsum("ij,ij->i", flat_training, flat_training)  # [M]
    candidates = min(len(flat_training), k + EXTRA_CANDIDATES)
    indices = np.empty((len(samples), k), dtype=np.int64)
    distances = np.empty((len(samples), k), dtype=np.float64)
    for start in range(0, len(flat_samples), chunk_size):
        chunk = flat_samples[start : start + chunk_size]  # [B, P]
        squared = np.einsum("ij,ij->i", chunk, chunk)[:, None] - 2.0 * chunk @ flat_training.T + training_norms[None, :]
        nearest = np.argpartition(squared, candidates - 1, axis=1)[:, :candidates]  # [B, candidates], unordered
        # Exact distances of the candidates, in float64: an exact copy comes out at 0.
        differences = chunk[:, None, :].astype(np.float64) - flat_training[nearest].astype(np.float64)
        exact = np.sqrt(np.sum(differences**2, axis=-1))  # [B, candidates]
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        indices[start : start + len(chunk)] = np.take_along_axis(nearest, order, axis=1)
        distances[start : start + len(chunk)] = np.take_along_axis(exact, order, axis=1)
    return indices, distances


def show_nearest(samples, training_images, k=3, title=None, path=None):
    """Each sample (left) beside its ``k`` nearest training images, with their distances.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    samples = np.asarray(samples, dtype=np.float32)
    indices, distances = nearest_training_images(samples, training_images, k)
    training_images = np.asarray(training_images)
    figure, axes = plt.subplots(len(samples), k + 1, figsize=(1.3 * (k + 1), 1.4 * len(samples) + 0.4), squeeze=False)
    for row, sample in enumerate(samples):
        pictures = [sample] + [training_images[index] for index in indices[row]]
        captions = ["sample"] + [f"#{index}: {distance:.1f}" for index, distance in zip(indices[row], distances[row])]
        for column, (picture, caption) in enumerate(zip(pictures, captions)):
            cell = axes[row, column]
            picture = viz.to_unit_range(picture)
            cell.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
            cell.set_title(caption, fontsize="small")
            cell.axis("off")
    figure.suptitle(title or f"Each sample and its {k} nearest training images (#index: pixel distance)", fontsize="medium")
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


# --- drawing ---------------------------------------------------------------------------


def show_samples_row(images, title=None, path=None, scale=3):
    """Images ``(N, H, W, C)`` in one row, as a matplotlib figure (saved as PNG at ``path`` when given)."""
    images = _check_images(images, 4, "(N, H, W, C)")
    return _grid_figure(viz.image_grid(images, columns=len(images)), title, path, scale)


def show_interpolation(images, title=None, path=None, scale=3):
    """``interpolate_categories``' images: one interpolation per row, from A (left) to B (right).

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    images = _check_images(images, 5, "(number_of_samples, steps, H, W, C)")
    rows, steps = images.shape[:2]
    grid = viz.image_grid(images.reshape((rows * steps,) + images.shape[2:]), columns=steps)
    return _grid_figure(grid, title or "from category A (left) to category B (right)", path, scale)


def save_interpolation_gif(images, path, seconds_per_frame=0.3, scale=3, back_and_forth=False):
    """Writes an interpolation as an animated GIF: frame s shows step s of every sample, side by side.

    Args:
        images: ``(number_of_samples, steps, H, W, C)`` in [-1, 1] (``interpolate_categories``).
        path: the ``.gif`` file to write.
        seconds_per_frame: how long each step is shown; the last one is held three times as long.
        scale: pixels per image pixel (nearest neighbour).
        back_and_forth: also play from B back to A, for a smooth loop.

    Returns:
        The path of the GIF.
    """
    import imageio.v2 as imageio

    images = _check_images(images, 5, "(number_of_samples, steps, H, W, C)")
    rows, steps = images.shape[:2]
    frames = [np.asarray(viz.grid_to_pil(viz.image_grid(images[:, step], columns=rows), scale)) for step in range(steps)]
    if back_and_forth:
        frames = frames + frames[-2:0:-1]
    durations = [1000 * seconds_per_frame] * len(frames)
    durations[steps - 1] *= 3  # hold category B
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, frames, duration=durations, loop=0)
    return path


# --- widgets ---------------------------------------------------------------------------


class Explorer:
    """Controls, an output area and the function they drive: what the two widget builders return.

    Moving a control calls ``redraw``, which calls the explorer's function
    with the values of all controls (as keyword arguments) and draws the
    images into ``output``. Display the explorer as the last expression of a
    cell (or with ``IPython.display.display``).

    Attributes:
        controls: a dict, argument name -> ipywidgets control.
        output: the ``ipywidgets.Output`` the pictures go into.
        widget: the ``ipywidgets.VBox`` of the controls and the output (what is displayed).
        last_images: the images of the last redraw (as the function returned them).
        last_parameters: the control values of the last redraw.
        last_picture: the PIL image drawn last.
        redraw_count: how many times the explorer has drawn.
    """

    def __init__(self, controls, compute, to_grid, describe, scale=3):
        import ipywidgets

        self.controls = dict(controls)
        self.output = ipywidgets.Output()
        self.last_images = None
        self.last_parameters = None
        self.last_picture = None
        self.redraw_count = 0
        self._compute, self._to_grid, self._describe, self._scale = compute, to_grid, describe, scale
        rows = [ipywidgets.HBox(list(group)) for group in _groups(list(self.controls.values()), 3)]
        self.widget = ipywidgets.VBox(rows + [self.output])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    def parameters(self):
        """The controls' current values, by argument name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self):
        """Computes the images of the current control values and draws them into ``output``.

        In a notebook an error (such as a shape mismatch) is shown in the
        output area, below the last good picture; elsewhere it is raised.
        """
        from IPython.display import Image, clear_output, display

        parameters = self.parameters()
        with self.output:
            images = self._compute(**parameters)
            picture = viz.grid_to_pil(self._to_grid(images), self._scale)
            self.last_images, self.last_parameters, self.last_picture = images, parameters, picture
            self.redraw_count += 1
            clear_output(wait=True)  # replace the old picture only when the new one is ready: no flicker
            print(self._describe(parameters))
            display(Image(data=_png_bytes(picture)))
        return images

    def _on_change(self, change):
        self.redraw()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self):
        return f"Explorer(controls={list(self.controls)}, redraw_count={self.redraw_count})"


def sampling_widget(
    gan,
    dataset_name="fashion_mnist",
    category=0,
    number_of_samples=8,
    truncation=1.0,
    noise_seed=0,
    truncation_kind="resample",
    scale=3,
):
    """The demo's sampling form as ipywidgets: category, number of samples, truncation, noise seed.

    The controls are named as the arguments of ``sample_category``:
    ``category`` (a drop-down of ``ganlab.data.category_options``),
    ``number_of_samples`` (1-20), ``truncation`` (0.02-2, step 0.02),
    ``noise_seed`` (0-100) and ``truncation_kind``. Sliders redraw when
    released, not while dragged. See the module docstring for Jupyter and
    Colab.

    Args:
        gan: a ``ganlab.conditional.BigGAN``.
        dataset_name: whose class names fill the drop-down.
        category, number_of_samples, truncation, noise_seed, truncation_kind:
            the starting values, checked as ``sample_category`` checks them.
        scale: screen pixels per image pixel.

    Returns:
        An ``Explorer``; ``explorer.controls["truncation"].value = 0.5`` redraws.
    """
    import ipywidgets

    label = category_label(gan, category, dataset_name)
    _check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    truncation = _check_truncation("truncation", truncation)
    _check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
    _check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    options = data.category_options(dataset_name)
    controls = {
        "category": ipywidgets.Dropdown(options=options, value=options[label], description="category", **_STYLE),
        "number_of_samples": _int_slider("number_of_samples", number_of_samples, NUMBER_OF_SAMPLES_RANGE),
        "truncation": _truncation_slider(truncation),
        "noise_seed": _int_slider("noise_seed", noise_seed, NOISE_SEED_RANGE),
        "truncation_kind": ipywidgets.Dropdown(
            options=list(TRUNCATION_KINDS), value=truncation_kind, description="truncation_kind", **_STYLE
        ),
    }

    def compute(**parameters):
        return sample_category(gan, dataset_name=dataset_name, **parameters)

    def to_grid(images):
        return viz.image_grid(images, columns=min(len(images), 10))

    def describe(values):
        return (
            f"{values['number_of_samples']} samples of {values['category']}, truncation {values['truncation']:.2f} "
            f"({values['truncation_kind']}), noise seed {values['noise_seed']}"
        )

    return Explorer(controls, compute, to_grid, describe, scale)


def interpolation_widget(
    gan,
    dataset_name="fashion_mnist",
    category_a=0,
    category_b=1,
    number_of_samples=2,
    steps=5,
    truncation=1.0,
    noise_seed_a=0,
    noise_seed_b=0,
    method="linear",
    truncation_kind="resample",
    scale=3,
):
    """The demo's interpolation form as ipywidgets: two categories and seeds, samples, steps, truncation.

    The controls are named as the arguments of ``interpolate_categories``:
    ``category_a``, ``category_b`` (drop-downs), ``number_of_samples`` (1-5),
    ``steps`` (2-10), ``truncation`` (0.02-2), ``noise_seed_a``,
    ``noise_seed_b`` (0-100), ``method`` (linear or slerp) and
    ``truncation_kind``. The picture has one interpolation per row.

    Returns:
        An ``Explorer`` (see ``sampling_widget``).
    """
    import ipywidgets

    label_a, label_b, truncation = _check_interpolation(
        gan, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b, method,
        dataset_name,
    )
    _check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    options = data.category_options(dataset_name)
    controls = {
        "category_a": ipywidgets.Dropdown(options=options, value=options[label_a], description="category_a", **_STYLE),
        "category_b": ipywidgets.Dropdown(options=options, value=options[label_b], description="category_b", **_STYLE),
        "number_of_samples": _int_slider("number_of_samples", number_of_samples, INTERPOLATION_SAMPLES_RANGE),
        "steps": _int_slider("steps", steps, INTERPOLATION_STEPS_RANGE),
        "truncation": _truncation_slider(truncation),
        "noise_seed_a": _int_slider("noise_seed_a", noise_seed_a, NOISE_SEED_RANGE),
        "noise_seed_b": _int_slider("noise_seed_b", noise_seed_b, NOISE_SEED_RANGE),
        "method": ipywidgets.Dropdown(options=list(INTERPOLATION_METHODS), value=method, description="method", **_STYLE),
        "truncation_kind": ipywidgets.Dropdown(
            options=list(TRUNCATION_KINDS), value=truncation_kind, description="truncation_kind", **_STYLE
        ),
    }

    def compute(**parameters):
        return interpolate_categories(gan, dataset_name=dataset_name, **parameters)

    def to_grid(images):
        rows, steps = images.shape[:2]
        return viz.image_grid(images.reshape((rows * steps,) + images.shape[2:]), columns=steps)

    def describe(values):
        return (
            f"{values['category_a']} (seed {values['noise_seed_a']}) -> {values['category_b']} "
            f"(seed {values['noise_seed_b']}): {values['number_of_samples']} x {values['steps']} steps, "
            f"{values['method']}, truncation {values['truncation']:.2f} ({values['truncation_kind']})"
        )

    return Explorer(controls, compute, to_grid, describe, scale)


# Descriptions are the argument names: show them whole.
_STYLE = {"style": {"description_width": "initial"}}


def _int_slider(name, value, value_range):
    import ipywidgets

    low, high = value_range
    return ipywidgets.IntSlider(
        value=int(value), min=low, max=high, step=1, description=name, continuous_update=False, **_STYLE
    )


def _truncation_slider(value):
    import ipywidgets

    low, high = TRUNCATION_RANGE
    return ipywidgets.FloatSlider(
        value=float(value),
        min=low,
        max=high,
        step=TRUNCATION_STEP,
        readout_format=".2f",
        description="truncation",
        continuous_update=False,
        **_STYLE,
    )


def _groups(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def _png_bytes(picture):
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


def _grid_figure(grid, title, path, scale):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(grid.shape[1] * scale / 100 + 0.5, grid.shape[0] * scale / 100 + 0.7))
    axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    axes.axis("off")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


# --- argument checks --------------------------------------------------------------------


def _check_interpolation(
    gan, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b, method, dataset_name
):
    """The interpolation form's arguments checked against the demo's ranges: ``(label_a, label_b, truncation)``."""
    label_a = category_label(gan, category_a, dataset_name)
    label_b = category_label(gan, category_b, dataset_name)
    _check_integer("number_of_samples", number_of_samples, *INTERPOLATION_SAMPLES_RANGE)
    _check_integer("steps", steps, *INTERPOLATION_STEPS_RANGE)
    truncation = _check_truncation("truncation", truncation)
    _check_integer("noise_seed_a", noise_seed_a, *NOISE_SEED_RANGE)
    _check_integer("noise_seed_b", noise_seed_b, *NOISE_SEED_RANGE)
    _check_choice("method", method, INTERPOLATION_METHODS)
    return label_a, label_b, truncation


def _check_integer(name, value, low, high):
    """An int from ``low`` to ``high`` (both included; None: no upper limit), else a ValueError naming ``name``."""
    integer = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if not integer or value < low or (high is not None and value > high):
        expected = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name} must be an integer {expected}. Received: {name}={value!r}")
    return int(value)


def _check_truncation(name, value, upper=TRUNCATION_RANGE[1]):
    """A number from 0.02 to ``upper`` (None: any positive number); slider values a rounding error off count as in.

    A ``value`` of None means no truncation (plain normal z) and is returned as is.
    """
    if value is None:
        return None
    low = TRUNCATION_RANGE[0]
    number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    tolerance = 1e-9
    if upper is None:
        if not number or not value > 0:
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
        return float(value)
    if not number or not (low - tolerance <= value <= upper + tolerance):
        raise ValueError(f"{name} must be a number from {low} to {upper:g}. Received: {name}={value!r}")
    return float(min(max(value, low), upper))


def _check_truncations(truncations, upper):
    if isinstance(truncations, (str, bytes)) or not hasattr(truncations, "__iter__"):
        raise ValueError(f"truncations must be a sequence of numbers. Received: truncations={truncations!r}")
    values = [_check_truncation("truncations", value, upper) for value in truncations]
    if not values:
        raise ValueError("truncations must hold at least one value. Received: truncations=()")
    return values


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}. Received: {name}={value!r}")
    return value


def _check_images(images, ndim, shape_text):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != ndim or len(images) == 0:
        raise ValueError(f"images must have shape {shape_text}. Received: images.shape={images.shape}")
    return images

