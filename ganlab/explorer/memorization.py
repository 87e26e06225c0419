"""The memorization check: does G draw new images, or copies of its training images?

A generator that memorized its data draws samples at (almost) pixel distance 0
from a training image; one that generalizes draws samples whose nearest
training images are similar but not the same. ``ganlab.explorer.plots.show_nearest``
draws each sample beside its nearest training images.
"""

from __future__ import annotations

import numpy as np

from ganlab.explorer.demo import check_integer

# Samples compared with all training images at once by nearest_training_images: 256 rows
# of 60,000 float32 distances are 61 MB.
DISTANCE_CHUNK_SIZE = 256
# Each candidate found with the fast (rounded) formula is checked by an exact distance;
# this many extra candidates keep a near-tie from hiding the true k-th neighbour.
EXTRA_CANDIDATES = 8


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
    check_integer("k", k, 1, len(training_images))
    check_integer("chunk_size", chunk_size, 1, None)
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
