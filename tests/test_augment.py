"""Tests of ganlab.augment (DiffAugment, Zhao et al. 2020) on images whose answers are known."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from ganlab import augment


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def one_bright_pixel(batch=16, size=8, row=3, column=4):
    images = np.zeros((batch, size, size, 1), "float32")
    images[:, row, column, 0] = 1.0
    return images


def test_translation_moves_each_image_by_at_most_an_eighth_of_its_size_and_keeps_the_pixel():
    images = one_bright_pixel()

    moved = numpy(augment.translation(images, seed=keras.random.SeedGenerator(0)))

    shifts = set()
    for image in moved[..., 0]:
        positions = np.argwhere(image == 1.0)
        assert len(positions) == 1 and np.count_nonzero(image) == 1  # moved, not blurred
        row, column = positions[0]
        assert abs(row - 3) <= 1 and abs(column - 4) <= 1  # 8 / 8 = 1 pixel at most
        shifts.add((row - 3, column - 4))
    assert len(shifts) > 1  # each image gets its own shift


def test_translation_fills_what_comes_from_outside_with_zeros():
    images = np.ones((32, 8, 8, 1), "float32")

    moved = numpy(augment.translation(images, seed=keras.random.SeedGenerator(1)))

    # A shifted image has one row or column of zeros at an edge; an unshifted one has none.
    zero_counts = {int(np.sum(image == 0.0)) for image in moved[..., 0]}
    assert zero_counts <= {0, 8, 15} and len(zero_counts) > 1
    assert set(np.unique(moved)) <= {0.0, 1.0}


def test_cutout_zeroes_one_square_of_half_the_size_per_image():
    images = np.ones((8, 8, 8, 1), "float32")

    cut = numpy(augment.cutout(images, seed=keras.random.SeedGenerator(2)))

    for image in cut[..., 0]:
        rows, columns = np.nonzero(image == 0.0)
        # A 4x4 square, clipped where it crosses an edge: a full rectangle of zeros.
        height, width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
        assert height <= 4 and width <= 4 and len(rows) == height * width


def test_cutout_centres_reach_the_last_rows_as_often_as_the_first_as_in_the_official_code():
    # The official rand_cutout draws the centre from [0, size + 1 - cut % 2): for size 8 and a
    # cut of 4, from 0..8, so the square [centre - 2, centre + 2) is clipped to the first two rows
    # (centre 0) exactly as often as to the last two (centre 8): 1 in 9 images each.
    images = np.ones((4000, 8, 8, 1), "float32")

    cut = numpy(augment.cutout(images, seed=keras.random.SeedGenerator(8)))

    cut_rows = [tuple(np.nonzero((image == 0.0).any(axis=1))[0]) for image in cut[..., 0]]
    cut_columns = [tuple(np.nonzero((image == 0.0).any(axis=0))[0]) for image in cut[..., 0]]
    for cuts in (cut_rows, cut_columns):
        first_two, last_two = cuts.count((0, 1)), cuts.count((6, 7))
        assert abs(first_two / len(cuts) - 1 / 9) < 0.02 and abs(last_two / len(cuts) - 1 / 9) < 0.02
        # Every row is cut in 4 of the 9 centres' squares, the edge rows in 3 of 9.
        row_frequencies = np.array([sum(index in rows for rows in cuts) for index in range(8)]) / len(cuts)
        np.testing.assert_allclose(row_frequencies, [3 / 9] + [4 / 9] * 6 + [3 / 9], atol=0.03)


def test_translation_with_an_integer_seed_draws_the_row_and_column_shifts_apart():
    images = one_bright_pixel(batch=64, size=32, row=16, column=16)

    moved = numpy(augment.translation(images, seed=3))

    shifts = np.array([np.argwhere(image == 1.0)[0] - 16 for image in moved[..., 0]])  # [N, 2]: row, column
    assert np.abs(shifts).max() <= 4 and not np.array_equal(shifts[:, 0], shifts[:, 1])
    assert abs(np.corrcoef(shifts[:, 0], shifts[:, 1])[0, 1]) < 0.5


def test_color_with_an_integer_seed_draws_brightness_saturation_and_contrast_apart():
    # Each image: a gray part g (equal in the three channels) and a colour part d * (1, -1, 0)
    # with zero channel mean. Brightness adds b, saturation scales the colour part by s, contrast
    # scales the deviation from the image mean by c: out = (g - mean g) * c + d * s * c * (1, -1, 0)
    # + mean g + b. So c, s and b can be read back from each output.
    random = np.random.default_rng(9)
    gray = random.uniform(-0.5, 0.5, size=(64, 4, 4, 1))
    colour = random.uniform(-0.5, 0.5, size=(64, 4, 4, 1)) * np.array([1.0, -1.0, 0.0])
    images = (gray + colour).astype("float32")

    changed = numpy(augment.color(images, seed=4)).astype("float64")

    brightness = changed.mean(axis=(1, 2, 3)) - images.mean(axis=(1, 2, 3))
    channel_mean = changed.mean(axis=-1, keepdims=True)
    contrast = np.array([np.polyfit(g.ravel(), m.ravel(), 1)[0] for g, m in zip(gray, channel_mean)])
    saturation = np.array([
        np.polyfit(d.ravel(), (out - m).ravel(), 1)[0] for d, out, m in zip(colour, changed, channel_mean)
    ]) / contrast
    assert 0.5 <= contrast.min() and contrast.max() <= 1.5 and np.abs(brightness).max() <= 0.5 + 1e-5
    assert 0.0 <= saturation.min() and saturation.max() <= 2.0 + 1e-4
    for first, second in ((brightness, contrast), (brightness, saturation), (saturation, contrast)):
        assert abs(np.corrcoef(first, second)[0, 1]) < 0.5  # one shared draw would give 1


def test_color_shifts_brightness_and_scales_contrast_per_image():
    random = np.random.default_rng(3)
    images = random.uniform(-1, 1, size=(6, 4, 4, 1)).astype("float32")

    changed = numpy(augment.color(images, seed=keras.random.SeedGenerator(3)))

    for before, after in zip(images, changed):
        # after = (before + b - mean(before + b)) * c + mean(before + b): an affine map of each image.
        slope, intercept = np.polyfit(before.ravel(), after.ravel(), 1)
        np.testing.assert_allclose(after.ravel(), slope * before.ravel() + intercept, atol=1e-5)
        assert 0.5 <= slope <= 1.5
        np.testing.assert_allclose(after.mean() - before.mean(), intercept + (slope - 1) * before.mean(), atol=1e-5)
        assert abs(after.mean() - before.mean()) <= 0.5 + 1e-5


def test_the_augmentation_is_differentiable_so_g_is_trained_through_it():
    images = tf.Variable(np.random.default_rng(4).normal(size=(4, 8, 8, 1)).astype("float32"))

    with tf.GradientTape() as tape:
        loss = ops.sum(augment.diff_augment(images, "color,translation,cutout", seed=keras.random.SeedGenerator(5)))
    gradient = numpy(tape.gradient(loss, images))

    assert np.all(np.isfinite(gradient)) and np.abs(gradient).sum() > 0


def test_the_same_seed_gives_the_same_augmentation():
    images = np.random.default_rng(6).normal(size=(4, 8, 8, 1)).astype("float32")

    first = numpy(augment.diff_augment(images, "translation,cutout", seed=keras.random.SeedGenerator(7)))
    second = numpy(augment.diff_augment(images, "translation,cutout", seed=keras.random.SeedGenerator(7)))

    np.testing.assert_array_equal(first, second)


def test_an_empty_policy_changes_nothing_and_an_unknown_one_is_refused_listing_the_known():
    images = np.ones((2, 8, 8, 1), "float32")

    np.testing.assert_array_equal(numpy(augment.diff_augment(images, "")), images)
    assert augment.parse_policy(" translation , cutout ") == ("translation", "cutout")
    with pytest.raises(ValueError, match="color, translation, cutout.*augment='flip'"):
        augment.parse_policy("flip")
