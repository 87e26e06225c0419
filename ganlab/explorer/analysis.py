"""Truncation analyses of a class-conditional GAN: the two meanings side by side, and the trade-off curve.

BigGAN (Brock et al. 2019, section 3.1) trades variety for fidelity by
truncating z: the smaller the threshold, the more each image looks like the
"average" of its class, and the fewer kinds of images G draws. The paper
traces the trade-off as IS against FID while sweeping the threshold;
``truncation_tradeoff`` measures it with the course's domain classifier, and
``truncation_side_by_side`` shows the paper's threshold and the TF Hub demo's
scale (``ganlab.explorer.demo``) on one seed. Their pictures are drawn by
``ganlab.explorer.plots``.
"""

from __future__ import annotations

import numpy as np

from ganlab import data
from ganlab.explorer.demo import (
    NOISE_SEED_RANGE,
    NUMBER_OF_SAMPLES_RANGE,
    TRUNCATION_KINDS,
    TRUNCATION_RANGE,
    category_label,
    check_integer,
    check_truncations,
    truncated_latent,
)



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
        gan: a ``ganlab.models.biggan.BigGAN``.
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
    truncations = check_truncations(truncations, upper=TRUNCATION_RANGE[1])
    check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
    embeddings = gan.embed(np.full(len(truncations) * number_of_samples, label))
    result = {}
    for kind in TRUNCATION_KINDS:
        latent = np.concatenate(
            [truncated_latent(gan, number_of_samples, value, noise_seed, kind) for value in truncations]
        )
        images = gan.generate_from_embeddings(latent, embeddings)  # one pass: [T * N, H, W, C]
        result[kind] = images.reshape((len(truncations), number_of_samples) + images.shape[1:])
    return result


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
        gan: a ``ganlab.models.biggan.BigGAN``.
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
    truncations = check_truncations(truncations, upper=None)
    check_integer("number_of_samples", number_of_samples, 10, None)
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

