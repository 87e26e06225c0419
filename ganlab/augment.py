"""Differentiable augmentation for data-efficient GAN training (DiffAugment, Zhao et al. 2020).

A discriminator trained on a few thousand images memorizes them: it scores
the training images high and everything else low, its gradients stop
telling G anything useful, and G collapses to a few items per class.
DiffAugment shows D only *augmented* images, real and fake alike, with the
same random transformations, and differentiates through them, so that G is
trained through the augmentation too:

```
L_D = f(D(T(x))) + h(D(T(G(z))))        L_G = g(D(T(G(z))))        T random, differentiable
```

Augmenting only the real images would teach G to draw augmented images;
augmenting both (and in G's step as well) leaves G's target the data itself.

Policies (any of them, comma-separated, applied in this order):

- ``color``: brightness x + U(-0.5, 0.5); saturation (x - channel mean) * U(0, 2) + channel
  mean (nothing changes on one-channel images, such as the course's); contrast
  (x - image mean) * U(0.5, 1.5) + image mean. Three independent draws per image.
- ``translation``: shift by up to 1/8 of the size in each direction (rows and columns
  drawn apart), filling with zeros.
- ``cutout``: set a square of half the size to zero. Its centre is drawn, per axis, from
  ``[0, size + 1 - cut % 2)`` as in the official ``rand_cutout``, so that the square is
  clipped at the last rows as often as at the first.

Reference:
    Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for
    Data-Efficient GAN Training", NeurIPS 2020 (section 3). Official code:
    ``mit-han-lab/data-efficient-gans``, ``DiffAugment_tf.py`` and
    ``DiffAugment_pytorch.py``; its 32x32 BigGAN scripts
    (``DiffAugment-biggan-cifar/scripts``) use ``translation,cutout``, as the
    course's BigGAN recipe does.
"""

from __future__ import annotations

import keras
from keras import ops

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(policy):
    """``"translation,cutout"`` -> ``("translation", "cutout")``; ``""`` or None -> ``()``.

    Raises:
        ValueError: an unknown policy, naming the known ones.
    """
    if policy is None:
        return ()
    names = tuple(name.strip() for name in str(policy).split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(
            f"augment must be a comma-separated list of {', '.join(POLICIES)} (or empty for none). "
            f"Received: augment={policy!r}"
        )
    return names


def diff_augment(images, policy, seed=None):
    """The images transformed by ``policy``, with fresh random parameters per image.

    Args:
        images: ``(N, H, W, C)`` floats (the course's images are in [-1, 1]).
        policy: a string such as ``"translation,cutout"``, or a tuple of names.
        seed: a ``keras.random.SeedGenerator`` (in a train step: the model's
            own, so that training is reproducible), an int (eager use: a
            generator is made from it, so that every draw differs and the same
            int gives the same augmentation), or None (Keras' global seed).

    Returns:
        A tensor of the shape and dtype of ``images``, differentiable with
        respect to ``images``.
    """
    names = policy if isinstance(policy, tuple) else parse_policy(policy)
    seed = _seed_generator(seed)  # one generator for every step of the policy
    for name in names:
        images = _AUGMENTATIONS[name](images, seed)
    return images


def _seed_generator(seed):
    """A ``SeedGenerator`` for an int seed; any other seed as it is.

    Keras draws the same numbers from the same int on every call, so two draws
    seeded by one int (the row and the column shift, brightness and contrast)
    would come out identical; a generator advances between draws.
    """
    if isinstance(seed, int) and not isinstance(seed, bool):
        return keras.random.SeedGenerator(seed)
    return seed


def _uniform(images, seed, low, high):
    batch = ops.shape(images)[0]
    return keras.random.uniform((batch, 1, 1, 1), low, high, dtype=images.dtype, seed=seed)


def color(images, seed=None):
    seed = _seed_generator(seed)
    images = images + _uniform(images, seed, -0.5, 0.5)  # brightness
    channel_mean = ops.mean(images, axis=3, keepdims=True)
    images = (images - channel_mean) * _uniform(images, seed, 0.0, 2.0) + channel_mean  # saturation
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _uniform(images, seed, 0.5, 1.5) + mean  # contrast


def _shift_matrices(batch, size, largest_shift, seed):
    """``(N, size, size)`` matrices S with S[n, i, j] = 1 where j = i - shift_n (and 0 <= j < size).

    ``S @ x`` moves x's rows down by shift_n; rows that come from outside are 0.
    """
    shifts = keras.random.randint((batch, 1), -largest_shift, largest_shift + 1, seed=seed)  # [N, 1]
    sources = ops.arange(size)[None, :] - shifts  # [N, size]: the row each output row comes from
    # one_hot of an index outside 0..size-1 is a row of zeros: the zero padding.
    return ops.one_hot(sources, size)  # [N, size, size]


def translation(images, seed=None):
    seed = _seed_generator(seed)
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    rows = ops.cast(_shift_matrices(batch, height, int(height * TRANSLATION_RATIO + 0.5), seed), images.dtype)
    columns = ops.cast(_shift_matrices(batch, width, int(width * TRANSLATION_RATIO + 0.5), seed), images.dtype)
    # out[n, i, j] = sum_{h, w} rows[n, i, h] * images[n, h, w] * columns[n, j, w]
    return ops.einsum("nih,nhwc,njw->nijc", rows, images, columns)


def cutout(images, seed=None):
    seed = _seed_generator(seed)
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]

    def outside_band(size):
        """(N, size): 1 outside a band of half the size centred at a random place, 0 inside."""
        band = int(size * CUTOUT_RATIO + 0.5)
        # The official range: with an even band the square [centre - band / 2, centre + band / 2)
        # needs centres 0..size to be clipped as often at the end as at the start.
        centres = keras.random.randint((batch, 1), 0, size + 1 - band % 2, seed=seed)  # [N, 1]
        start = centres - band // 2
        positions = ops.arange(size)[None, :]
        inside = ops.logical_and(positions >= start, positions < start + band)
        return 1.0 - ops.cast(inside, images.dtype)

    rows, columns = outside_band(height), outside_band(width)
    # A pixel is cut when it is inside both bands: keep = 1 - (1 - rows) * (1 - columns).
    keep = 1.0 - (1.0 - rows[:, :, None]) * (1.0 - columns[:, None, :])  # [N, H, W]
    return images * keep[..., None]


_AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}
