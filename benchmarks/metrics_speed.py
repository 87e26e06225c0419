"""How long scoring 10,000 samples takes on this machine: features and every metric.

    python benchmarks/metrics_speed.py [--dataset fashion_mnist] [--number 10000]

Real images: the test split of the data set; "samples": training images (the
cost does not depend on what the images show). Sets smaller than --number are
repeated to that size. Prints wall-clock seconds (and CPU seconds of all
threads) for each step: the real features (computed once and cached by
``evaluate_images``), the samples' features, FID, KID (100 subsets of 1,000),
the Inception Score, precision/recall (k = 3), and the total per evaluation.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from ganlab import classifier, data, metrics  # noqa: E402


def timed(title, function, *arguments, **keywords):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*arguments, **keywords)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {title:<34} {wall:7.2f} s   (CPU {cpu:6.2f} s)")
    return result, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=data.DATASET_NAMES, default="fashion_mnist")
    parser.add_argument("--number", type=int, default=10_000)
    arguments = parser.parse_args()
    number = arguments.number

    real_images, _ = data.load_images(arguments.dataset, split="test")
    sample_images, _ = data.load_images(arguments.dataset, split="train")
    real_images = np.resize(real_images, (number,) + real_images.shape[1:])
    sample_images = np.resize(sample_images, (number,) + sample_images.shape[1:])
    classifier.load_classifier(arguments.dataset)  # loading the weights is not part of scoring
    classifier.features_and_probabilities(real_images[:10], arguments.dataset)  # first call traces

    print(f"Scoring {number} samples against {number} real {arguments.dataset} images, {os.cpu_count()} CPUs:")
    (real_features, _), _ = timed(
        "real features (once, cached)", classifier.features_and_probabilities, real_images, arguments.dataset
    )
    steps = []
    (sample_features, sample_probabilities), seconds = timed(
        "sample features + probabilities", classifier.features_and_probabilities, sample_images, arguments.dataset
    )
    steps.append(seconds)
    fid, seconds = timed("FID", metrics.frechet_distance, real_features, sample_features)
    steps.append(seconds)
    kid, seconds = timed("KID (100 subsets of 1000)", metrics.kernel_distance, real_features, sample_features)
    steps.append(seconds)
    score, seconds = timed("Inception Score", metrics.inception_score, sample_probabilities)
    steps.append(seconds)
    (precision, recall), seconds = timed(
        "precision/recall (k=3)", metrics.precision_recall, real_features, sample_features
    )
    steps.append(seconds)
    print(f"  {'total per evaluation':<34} {sum(steps):7.2f} s   (real features cached)")
    print(
        f"FID {fid:.3f}, KID {kid:.5f}, IS {score:.2f}, precision {precision:.3f}, recall {recall:.3f}"
    )


if __name__ == "__main__":
    main()
