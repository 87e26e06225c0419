"""Where does truncation take BigGAN's variety away? One latent chunk at a time.

    python benchmarks/biggan_latent_paths.py [biggan-mnist | biggan-fashion-mnist | RUN_DIR] [--truncation 1.0]

With hierarchical latents, G's z is split into chunks: chunk 0 feeds the first
linear layer (the 4x4 features), chunks 1, 2, 3 join the class embedding in the
conditional batch norms of blocks 1, 2, 3 (``ganlab.models.biggan``). This
script draws the same 200 z per class untruncated and truncated
(``ganlab.sampling.truncated_normal``, the paper's resampling) and scores, by
the domain classifier against the real test images of each class:

- untruncated z, and every chunk truncated;
- only chunk 0 truncated, only chunks 1-3 truncated, all but one chunk truncated;
- the truncated z divided by its standard deviation (bounded, but as long as
  untruncated z), and untruncated z shortened to the truncated z's standard
  deviation (unbounded, but as short): whether the loss comes from shorter z
  or from its bounds;
- the TF Hub demo's meaning of the same number (``truncnorm(-2, 2)`` times it,
  ``ganlab.sampling.truncnorm_scaled``).

It prints the mean (lowest) per-class variety (``ganlab.metrics.per_class_variety_and_fid``),
the mean intra-FID and the class accuracy of each. A variant that truncates
one chunk and loses much variety shows the path that carries it.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from ganlab import classifier, metrics, sampling, shipped  # noqa: E402

PER_CLASS = 200
SEED = 5


def variants(untruncated, truncated, chunk_size, chunks, demo_scaled):
    """(name, z) pairs: which chunks of z are truncated."""
    yield "untruncated", untruncated
    yield "every chunk truncated", truncated
    only_first = untruncated.copy()
    only_first[:, :chunk_size] = truncated[:, :chunk_size]
    yield "only chunk 0 (first layer)", only_first
    only_blocks = untruncated.copy()
    only_blocks[:, chunk_size:] = truncated[:, chunk_size:]
    yield "only chunks 1-3 (batch norms)", only_blocks
    for index in range(1, chunks):
        all_but = truncated.copy()
        all_but[:, index * chunk_size : (index + 1) * chunk_size] = untruncated[:, index * chunk_size : (index + 1) * chunk_size]
        yield f"all but chunk {index}", all_but
    yield "truncated, rescaled to std 1", truncated / truncated.std()
    # The converse: unbounded normal z only shortened to the truncated z's length.
    yield "untruncated, scaled to its std", untruncated * (truncated.std() / untruncated.std())
    # The TF Hub demo's meaning of the same number: truncnorm(-2, 2) times the truncation.
    yield "TF Hub demo's scale", demo_scaled


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="biggan-mnist")
    parser.add_argument("--truncation", type=float, default=1.0)
    arguments = parser.parse_args()
    gan, dataset = shipped.load_model(arguments.model)
    config = gan.sampling_generator().config
    if not config.hierarchical:
        parser.error(f"{arguments.model} does not split z into chunks (hierarchical=False)")
    real_features, _ = metrics.real_features_and_probabilities(dataset)
    real_labels = metrics.real_test_labels(dataset)
    labels = np.repeat(np.arange(gan.num_classes), PER_CLASS)
    shape = (len(labels), gan.latent_dim)
    untruncated = sampling.truncated_normal(shape, None, seed=SEED)
    truncated = sampling.truncated_normal(shape, arguments.truncation, seed=SEED)
    demo_scaled = sampling.truncnorm_scaled(shape, arguments.truncation, seed=SEED)
    print(f"{arguments.model}: {PER_CLASS} samples per class, truncation {arguments.truncation}, seed {SEED}")
    print(f"{'z':32s} {'variety (lowest)':>17s} {'intra-FID':>10s} {'class acc':>10s}")
    for name, latent in variants(untruncated, truncated, config.chunk_size, config.latent_chunks, demo_scaled):
        images = gan.generate(latent, labels=labels)
        features, probabilities = classifier.features_and_probabilities(images, dataset, "domain")
        scores = metrics.per_class_variety_and_fid(features, labels, real_features, real_labels)
        variety = np.array(list(scores["variety"].values()))
        intra_fid = np.mean(list(scores["intra_fid"].values()))
        accuracy = metrics.class_accuracy(probabilities, labels)
        print(f"{name:32s} {variety.mean():9.2f} ({variety.min():.2f}) {intra_fid:10.1f} {accuracy:10.1%}", flush=True)


if __name__ == "__main__":
    main()
