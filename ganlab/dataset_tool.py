"""Maintainers' data set tool: writes the Fashion-MNIST subset shipped in ``ganlab/assets``.

Not part of a lesson: ``ganlab.data`` reads data sets, this writes the file it
falls back to offline. Run it where the full Fashion-MNIST is at hand (Debian's
``dataset-fashion-mnist`` package, or the Keras cache):

    python -m ganlab.dataset_tool            # rewrites ganlab/assets/fashion_mnist_subset.npz
    python -m ganlab.dataset_tool --source keras --out subset.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ganlab import data


def make_fashion_mnist_subset(path=data.SHIPPED_FASHION_MNIST, source="debian"):
    """Writes the Fashion-MNIST subset that ships with ganlab, from the full data set.

    The first ``ganlab.data.SHIPPED_IMAGES_PER_CLASS`` images of each class, in the data
    set's own order: 400 per class from the training split and 100 per class
    from the test split, so that the subset's test images are held out from
    anything trained on the full training split (the shipped classifier and
    BigGAN). Stored as uint8 28x28 arrays under the keys of an ``.npz`` source
    (``x_train``, ``y_train``, ``x_test``, ``y_test``), compressed: 2.2 MB.

    Args:
        path: where to write (the package's copy by default).
        source: where the full data set comes from: ``"debian"`` or ``"keras"``.

    Returns:
        The path written.
    """
    if source not in ("debian", "keras"):
        raise ValueError(
            f"source must be 'debian' or 'keras' (a full Fashion-MNIST). Received: source={source!r}"
        )
    splits, _ = data._LOADERS[source]("fashion_mnist")
    arrays = {}
    for (images, labels), split in zip(splits, ("train", "test")):
        labels = np.asarray(labels).reshape(-1)
        keep = np.sort(np.concatenate([
            np.flatnonzero(labels == category)[: data.SHIPPED_IMAGES_PER_CLASS[split]] for category in range(10)
        ]))
        arrays[f"x_{split}"] = np.asarray(images, dtype=np.uint8)[keep]
        arrays[f"y_{split}"] = labels.astype(np.uint8)[keep]
    path = Path(path)
    np.savez_compressed(path, **arrays)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ganlab.dataset_tool", description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("debian", "keras"), default="debian", help="where the full data set is")
    parser.add_argument("--out", default=str(data.SHIPPED_FASHION_MNIST), help="the .npz to write (default: %(default)s)")
    arguments = parser.parse_args(argv)
    print(f"wrote {make_fashion_mnist_subset(arguments.out, source=arguments.source)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
