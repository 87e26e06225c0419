"""The TF Hub BigGAN demo's two forms as plain functions: samples of one category, and an interpolation.

DeepMind's BigGAN demo (``tensorflow/hub``,
``examples/colab/biggan_generation_with_tf_hub.ipynb``) has two Colab forms:
samples of one category with sliders for the number of samples, the
truncation and the noise seed; and an interpolation between two categories,
z and the one-hot class both moving in a straight line. Here they are as
functions of our ``ganlab.models.biggan.BigGAN``, which every front end calls:
the notebook's widgets (``widgets``), the web page (``web``) and ``ganlab sample``.

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
1.76) is well beyond the N(0, 1) that G was trained on. (The demo also feeds
``t`` to the TF Hub module itself; our generator takes only z and the class.)
"""

from __future__ import annotations

import numbers

import numpy as np

from ganlab import data, sampling

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
        gan: a ``ganlab.models.biggan.BigGAN`` (only ``gan.latent_dim`` is used).
        number_of_samples: how many vectors, a positive integer.
        truncation: a positive number (see the module docstring for its two meanings),
            or None for plain normal z (no truncation; ``"resample"`` only).
        noise_seed: a non-negative integer seed.
        truncation_kind: ``"resample"`` (the paper) or ``"scaled"`` (the TF Hub demo).
    """
    check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    check_integer("number_of_samples", number_of_samples, 1, None)
    check_integer("noise_seed", noise_seed, 0, None)
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
        gan: a ``ganlab.models.biggan.BigGAN``.
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
    check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    truncation = check_truncation("truncation", truncation)
    check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
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
        gan: a ``ganlab.models.biggan.BigGAN``.
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
    label_a, label_b, truncation = check_interpolation(
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


# --- argument checks --------------------------------------------------------------------


def check_interpolation(
    gan, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b, method, dataset_name
):
    """The interpolation form's arguments checked against the demo's ranges: ``(label_a, label_b, truncation)``."""
    label_a = category_label(gan, category_a, dataset_name)
    label_b = category_label(gan, category_b, dataset_name)
    check_integer("number_of_samples", number_of_samples, *INTERPOLATION_SAMPLES_RANGE)
    check_integer("steps", steps, *INTERPOLATION_STEPS_RANGE)
    truncation = check_truncation("truncation", truncation)
    check_integer("noise_seed_a", noise_seed_a, *NOISE_SEED_RANGE)
    check_integer("noise_seed_b", noise_seed_b, *NOISE_SEED_RANGE)
    check_choice("method", method, INTERPOLATION_METHODS)
    return label_a, label_b, truncation


def check_integer(name, value, low, high):
    """An int from ``low`` to ``high`` (both included; None: no upper limit), else a ValueError naming ``name``."""
    integer = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if not integer or value < low or (high is not None and value > high):
        expected = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name} must be an integer {expected}. Received: {name}={value!r}")
    return int(value)


def check_truncation(name, value, upper=TRUNCATION_RANGE[1]):
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


def check_truncations(truncations, upper):
    if isinstance(truncations, (str, bytes)) or not hasattr(truncations, "__iter__"):
        raise ValueError(f"truncations must be a sequence of numbers. Received: truncations={truncations!r}")
    values = [check_truncation("truncations", value, upper) for value in truncations]
    if not values:
        raise ValueError("truncations must hold at least one value. Received: truncations=()")
    return values


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}. Received: {name}={value!r}")
    return value
