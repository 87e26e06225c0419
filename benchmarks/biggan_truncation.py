"""The truncation trade-off of a BigGAN, optionally beside another one's (lesson 06; docs/results.md, BigGAN).

    python benchmarks/biggan_truncation.py MODEL [--other MODEL --other-label TEXT] [--number 1000]
        [--plot tradeoff.png]

MODEL is a shipped name (``biggan-mnist``) or a run folder of ``ganlab train
biggan``. For each truncation (the paper's, by resampling) from 2.0 to 0.04:
``--number`` samples of the classes in turn, scored by the domain classifier
against the real test images (``ganlab.explorer.truncation_tradeoff``): IS,
FID, precision, recall, class accuracy and variety within a class. With
``--other`` (say, the same recipe trained without orthogonal regularization:
``ganlab train biggan --set orthogonal_strength=0``) both tables are printed and
plotted together, the paper's comparison (BigGAN, section 3.1).
"""

import argparse

import ganlab  # noqa: F401  (quiet TensorFlow start-up)

import matplotlib

matplotlib.use("Agg")

from ganlab import explorer, shipped  # noqa: E402

TRUNCATIONS = (2.0, 1.5, 1.0, 0.75, 0.5, 0.25, 0.04)


def sweep(name, number):
    gan, dataset = shipped.load_model(name)
    rows = explorer.truncation_tradeoff(gan, dataset, truncations=TRUNCATIONS, number_of_samples=number, seed=0)
    print(f"{name} ({dataset}), {number} samples per truncation")
    print("truncation     IS     FID  precision  recall  variety  class accuracy")
    for row in rows:
        print(
            f"{row['truncation']:>10}  {row['inception_score']:5.2f}  {row['fid']:6.1f}  {row['precision']:9.2f}  "
            f"{row['recall']:6.2f}  {row.get('variety', float('nan')):7.2f}  {row['class_accuracy']:14.1%}"
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--other", default=None)
    parser.add_argument("--other-label", default="the other model")
    parser.add_argument("--number", type=int, default=1000)
    parser.add_argument("--plot", default=None)
    arguments = parser.parse_args()
    rows = sweep(arguments.model, arguments.number)
    other = sweep(arguments.other, arguments.number) if arguments.other else None
    if arguments.plot:
        explorer.plot_truncation_tradeoff(
            rows, title=f"{arguments.model}: the truncation trade-off", path=arguments.plot,
            other_rows=other, other_label=arguments.other_label,
        )
        print(f"plot: {arguments.plot}")


if __name__ == "__main__":
    main()
