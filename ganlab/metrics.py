"""How good are the samples? The evaluation metrics of lesson 03.

A generator is judged by comparing its samples with real images *through a
classifier*: its penultimate features (a point per image) and its class
probabilities ``p(y|x)``. The course's classifier is ``ganlab.classifier`` (a
small CNN trained on MNIST or Fashion-MNIST); the papers used InceptionV3.

- ``frechet_distance`` (FID): distance between two Gaussians fitted to the
  features. Lower is better; 0 for identical statistics.
- ``kernel_distance`` (KID): unbiased squared MMD with a polynomial kernel.
  Like FID, but unbiased, so usable at small sample sizes.
- ``inception_score``: confident and varied class predictions. From 1
  (every image gets the same prediction) to the number of classes.
- ``precision_recall``: what fraction of samples look real (precision), and
  what fraction of real images the samples cover (recall).
- ``class_accuracy``: for class-conditional generators, how often the
  classifier names the class that was asked for.
- ``mean_pairwise_distance``, ``per_class_variety_and_fid``: variety within a class.

Everything here is NumPy/SciPy on feature arrays. Running the classifier on
images, caching the real images' features, reading ``samples.npz`` files and
formatting the results is ``ganlab.evaluation`` (``evaluate_images``: all of
these at once, for samples of a generator; also importable from here). Metrics
that estimate from samples depend on the sample size (FID most of all), so
compare models at equal sample sizes.
"""

from __future__ import annotations

import numpy as np

# Rows of the distance matrix computed at once in precision_recall:
# 1000 x 10000 float64 distances take 80 MB.
DISTANCE_CHUNK_SIZE = 1000


# --- helpers ----------------------------------------------------------------------


def _as_feature_matrix(features, name, minimum_rows=2):
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (number of samples, feature dimension). "
            f"Received: {name}.shape={features.shape}"
        )
    if len(features) < minimum_rows:
        raise ValueError(f"{name} needs at least {minimum_rows} samples. Received: {name}.shape={features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} must hold finite numbers only. Received: NaN or infinite values")
    return features


def _check_same_dimension(features_a, features_b, name_a="features_a", name_b="features_b"):
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same feature dimension. "
            f"Received: {name_a}.shape={features_a.shape}, {name_b}.shape={features_b.shape}"
        )


def _as_probability_matrix(probabilities):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(
            "probabilities must be a 2-D array (number of samples, number of classes). "
            f"Received: probabilities.shape={probabilities.shape}"
        )
    if np.any(probabilities < 0) or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "probabilities must be non-negative with rows summing to 1 (softmax outputs, not logits). "
            f"Received: row sums from {probabilities.sum(axis=1).min():.4g} to {probabilities.sum(axis=1).max():.4g}"
        )
    return probabilities


# --- Fréchet distance (FID) ---------------------------------------------------------


def matrix_sqrt(symmetric_psd):
    """The square root of a symmetric positive semi-definite matrix.

    With the eigendecomposition ``A = V diag(w) V^T`` (``numpy.linalg.eigh``,
    real for symmetric matrices):

    ```
    sqrt(A) = V diag(sqrt(max(w, 0))) V^T
    ```

    Rounding makes the zero eigenvalues of a singular covariance come out as
    tiny negative numbers; they are clipped to 0, so the result is always real.
    ``sqrt(A) @ sqrt(A)`` equals ``A`` up to rounding, and ``sqrt(A)`` is again
    symmetric positive semi-definite.

    Args:
        symmetric_psd: a square symmetric matrix with eigenvalues >= 0
            (a covariance matrix).

    Returns:
        A float64 array of the same shape.
    """
    matrix = np.asarray(symmetric_psd, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"symmetric_psd must be a square matrix. Received: shape={matrix.shape}")
    if not np.allclose(matrix, matrix.T, rtol=1e-5, atol=1e-8 * max(1.0, np.abs(matrix).max())):
        raise ValueError("symmetric_psd must be symmetric. Received: a matrix that differs from its transpose")
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance_from_statistics(mean_a, covariance_a, mean_b, covariance_b):
    """Fréchet distance between the Gaussians N(mean_a, covariance_a) and N(mean_b, covariance_b).

    ```
    d^2 = ||mean_a - mean_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))
    ```

    The trace term is computed without the non-symmetric product ``S_a S_b``:
    ``S_a S_b`` has the same eigenvalues as the symmetric positive
    semi-definite ``M = sqrt(S_a) S_b sqrt(S_a)``, so

    ```
    Tr((S_a S_b)^(1/2)) = sum_i sqrt(lambda_i(M))
    ```

    with ``numpy.linalg.eigvalsh`` (real eigenvalues; tiny negatives from
    rounding clipped to 0). Unlike ``scipy.linalg.sqrtm(S_a @ S_b)`` this never
    gives complex numbers or NaN, even for singular covariances.

    In one dimension, ``d^2 = (m_a - m_b)^2 + (s_a - s_b)^2`` (s: standard deviations).

    Returns:
        A float, >= 0 (rounding below 0 is returned as 0).

    Reference:
        Dowson & Landau, "The Fréchet distance between multivariate normal
        distributions", Journal of Multivariate Analysis, 1982.
    """
    mean_a = np.atleast_1d(np.asarray(mean_a, dtype=np.float64))
    mean_b = np.atleast_1d(np.asarray(mean_b, dtype=np.float64))
    covariance_a = np.atleast_2d(np.asarray(covariance_a, dtype=np.float64))
    covariance_b = np.atleast_2d(np.asarray(covariance_b, dtype=np.float64))
    dimension = mean_a.shape[0]
    square = (dimension, dimension)
    if mean_b.shape != (dimension,) or covariance_a.shape != square or covariance_b.shape != square:
        raise ValueError(
            "means must be vectors of one length D and covariances D x D matrices. Received: "
            f"mean_a {mean_a.shape}, covariance_a {covariance_a.shape}, mean_b {mean_b.shape}, "
            f"covariance_b {covariance_b.shape}"
        )
    square_root_a = matrix_sqrt(covariance_a)
    middle = square_root_a @ covariance_b @ square_root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_of_square_root = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    mean_term = np.sum((mean_a - mean_b) ** 2)
    distance = mean_term + np.trace(covariance_a) + np.trace(covariance_b) - 2.0 * trace_of_square_root
    return float(max(distance, 0.0))


def frechet_distance(features_a, features_b):
    """Fréchet Inception Distance (FID) between two sets of features.

    Fits a Gaussian to each set (mean ``mu`` and covariance ``S``, with the
    usual ``N - 1`` normalization) and returns their Fréchet distance:

    ```
    FID = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))
    ```

    Lower is better. It falls as the sample size grows, even between two
    sets of real images, so compare only at equal sample sizes. See
    ``frechet_distance_from_statistics`` for how the matrix square root is
    kept real.

    Args:
        features_a: ``(N_a, D)`` features, e.g. of real images.
        features_b: ``(N_b, D)`` features, e.g. of generated images.

    Returns:
        A float >= 0.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> round(frechet_distance(rng.normal(0, 1, (5000, 1)), rng.normal(3, 1, (5000, 1))))
    9

    Reference:
        Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
        to a Local Nash Equilibrium", NeurIPS 2017.
    """
    features_a = _as_feature_matrix(features_a, "features_a")
    features_b = _as_feature_matrix(features_b, "features_b")
    _check_same_dimension(features_a, features_b)
    return frechet_distance_from_statistics(
        features_a.mean(axis=0),
        np.cov(features_a, rowvar=False),
        features_b.mean(axis=0),
        np.cov(features_b, rowvar=False),
    )


# --- Inception Score --------------------------------------------------------------


def inception_score(probabilities, splits=1, return_std=False):
    """Inception Score of class probabilities ``p(y|x)``.

    ```
    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)
    ```

    High when every image gets a confident prediction (``p(y|x)`` peaked) and
    the predictions are varied (``p(y)`` spread out). It ranges from 1
    (every image gets the same prediction) to the number of classes (confident
    and evenly spread over all classes). It never looks at real images: a
    generator that draws one perfect image per class scores the maximum.

    Args:
        probabilities: ``(N, C)`` rows of class probabilities (softmax outputs).
        splits: the samples are cut into this many equal parts, the score is
            computed on each part, and the mean is returned (the paper used 10
            splits of 5,000 images).
        return_std: also return the standard deviation over the splits.

    Returns:
        The mean score over the splits, a float; with ``return_std=True`` the
        pair ``(mean, std)``.

    Example:

    >>> round(inception_score(np.eye(10)), 6)  # confident and evenly spread: the maximum
    10.0

    Reference:
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """
    probabilities = _as_probability_matrix(probabilities)
    if not isinstance(splits, (int, np.integer)) or not 1 <= splits <= len(probabilities):
        raise ValueError(
            f"splits must be an integer from 1 to the number of samples ({len(probabilities)}). "
            f"Received: splits={splits!r}"
        )
    from scipy.special import xlogy  # x * log(y), and 0 where x == 0

    scores = []
    for part in np.array_split(probabilities, splits):
        marginal = part.mean(axis=0, keepdims=True)  # p(y), [1, C]
        # KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)); terms with p(y|x) = 0 are 0.
        divergence = (xlogy(part, part) - xlogy(part, marginal)).sum(axis=1)
        scores.append(np.exp(divergence.mean()))
    mean = float(np.mean(scores))
    if return_std:
        return mean, float(np.std(scores))
    return mean


# --- Kernel Inception Distance ------------------------------------------------------


def polynomial_kernel(features_a, features_b):
    """KID's kernel: ``k(x, y) = (x . y / d + 1)^3``, for all pairs of rows; ``d`` is the feature dimension."""
    dimension = features_a.shape[1]
    base = features_a @ features_b.T / dimension + 1.0
    return base * base * base  # much faster than base ** 3, which calls pow() per entry


def squared_mmd(features_a, features_b):
    """Unbiased estimate of the squared maximum mean discrepancy, with ``polynomial_kernel``.

    For ``m`` samples ``x`` and ``n`` samples ``y``:

    ```
    MMD^2 = 1/(m(m-1)) sum_{i != j} k(x_i, x_j)
          + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
          - 2/(m n)    sum_{i, j}   k(x_i, y_j)
    ```

    Leaving out ``i == j`` makes the estimate unbiased: its expectation is 0
    when both sets come from one distribution, so single estimates can be
    slightly negative.
    """
    m, n = len(features_a), len(features_b)
    kernel_aa = polynomial_kernel(features_a, features_a)
    kernel_bb = polynomial_kernel(features_b, features_b)
    kernel_ab = polynomial_kernel(features_a, features_b)
    within_a = (kernel_aa.sum() - np.trace(kernel_aa)) / (m * (m - 1))
    within_b = (kernel_bb.sum() - np.trace(kernel_bb)) / (n * (n - 1))
    return within_a + within_b - 2.0 * kernel_ab.mean()


def kernel_distance(features_a, features_b, subsets=100, subset_size=1000, seed=0, return_std=False):
    """Kernel Inception Distance (KID) between two sets of features.

    The unbiased squared MMD (``squared_mmd``) with the cubic polynomial
    kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over ``subsets`` random
    subsets of ``subset_size`` samples drawn from each set (without
    replacement within a subset), as in the paper's code.

    Lower is better; 0 in expectation for identical distributions (single
    values can be slightly negative). Unlike FID its estimate does not
    depend on the sample size, only its noise does.

    Args:
        features_a, features_b: ``(N_a, D)`` and ``(N_b, D)`` features.
        subsets: how many random subsets to average over.
        subset_size: samples per subset; when a set is smaller, the size of
            the smaller set is used (and when both sets are that small, the
            one estimate on the whole sets is returned, with std 0).
        seed: seed of the subset draws, so that the result is reproducible.
        return_std: also return the standard deviation over the subsets.

    Returns:
        The mean over subsets, a float; with ``return_std=True`` the pair
        ``(mean, std)``.

    Reference:
        Bińkowski et al., "Demystifying MMD GANs", ICLR 2018.
    """
    features_a = _as_feature_matrix(features_a, "features_a")
    features_b = _as_feature_matrix(features_b, "features_b")
    _check_same_dimension(features_a, features_b)
    for name, value in (("subsets", subsets), ("subset_size", subset_size)):
        if not isinstance(value, (int, np.integer)) or value < (2 if name == "subset_size" else 1):
            raise ValueError(
                f"{name} must be an integer of at least {2 if name == 'subset_size' else 1}. "
                f"Received: {name}={value!r}"
            )
    size = min(subset_size, len(features_a), len(features_b))
    if size == len(features_a) == len(features_b):
        # Every "subset" would be a whole set, reordered, which MMD ignores:
        # all estimates would be equal, so one is enough.
        subsets = 1
    random_generator = np.random.default_rng(seed)
    estimates = []
    for _ in range(subsets):
        subset_a = features_a[random_generator.choice(len(features_a), size, replace=False)]
        subset_b = features_b[random_generator.choice(len(features_b), size, replace=False)]
        estimates.append(squared_mmd(subset_a, subset_b))
    if return_std:
        return float(np.mean(estimates)), float(np.std(estimates))
    return float(np.mean(estimates))


# --- Precision and recall ------------------------------------------------------------


def _squared_distances(rows, columns, squared_norms_of_columns):
    """All squared Euclidean distances ``||r - c||^2 = ||r||^2 + ||c||^2 - 2 r . c``."""
    squared = (rows**2).sum(axis=1)[:, None] + squared_norms_of_columns[None, :] - 2.0 * rows @ columns.T
    return np.maximum(squared, 0.0)  # rounding can dip a hair below 0


def neighbour_radii(features, k=3, chunk_size=DISTANCE_CHUNK_SIZE):
    """Squared distance from every row of ``features`` to its k-th nearest other row: a manifold's ball radii."""
    features = _as_feature_matrix(features, "features", minimum_rows=k + 1)
    return _squared_neighbour_radii(features, k, chunk_size)


def _squared_neighbour_radii(features, k, chunk_size):
    """Squared distance from every point to its k-th nearest other point of the same set."""
    squared_norms = (features**2).sum(axis=1)
    radii = np.empty(len(features))
    for start in range(0, len(features), chunk_size):
        distances = _squared_distances(features[start : start + chunk_size], features, squared_norms)
        # Each point's distance to itself (0) is the smallest, at index 0 after
        # sorting; so index k is the k-th nearest *other* point.
        radii[start : start + chunk_size] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _fraction_inside(manifold_features, squared_radii, query_features, chunk_size):
    """Fraction of queries that lie within the radius of at least one manifold point."""
    squared_norms = (manifold_features**2).sum(axis=1)
    inside = 0
    for start in range(0, len(query_features), chunk_size):
        distances = _squared_distances(query_features[start : start + chunk_size], manifold_features, squared_norms)
        inside += int(np.any(distances <= squared_radii[None, :], axis=1).sum())
    return inside / len(query_features)


def precision_recall(features_real, features_fake, k=3, chunk_size=DISTANCE_CHUNK_SIZE, real_radii=None):
    """Improved precision and recall of generated samples.

    Each set is turned into a "manifold": the union of balls around its
    points, each ball's radius the distance to that point's k-th nearest
    neighbour within the same set.

    ```
    precision = fraction of fake samples inside the real manifold
    recall    = fraction of real samples inside the fake manifold
    ```

    Precision measures fidelity (do samples look real?), recall measures
    diversity (are all kinds of real images generated?). A generator that
    draws only the digit 1, perfectly, has precision near 1 and recall near
    0.1. Distances are computed ``chunk_size`` rows at a time, so 10,000 x
    10,000 comparisons never hold more than ``chunk_size x N`` distances.

    Args:
        features_real: ``(N_real, D)`` features of real images.
        features_fake: ``(N_fake, D)`` features of generated images.
        k: the neighbourhood size (3 in the paper); each set needs more than
            ``k`` samples.
        chunk_size: rows of the distance matrix computed at once.
        real_radii: the real manifold's squared radii (``neighbour_radii`` of
            ``features_real`` with this ``k``), when the caller has them: they
            depend on the real set only, and for 10,000 real images they cost
            more than everything else here (``evaluate_images`` caches them).

    Returns:
        ``(precision, recall)``, two floats in [0, 1].

    Reference:
        Kynkäänniemi et al., "Improved Precision and Recall Metric for
        Assessing Generative Models", NeurIPS 2019.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer. Received: k={k!r}")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer. Received: chunk_size={chunk_size!r}")
    features_real = _as_feature_matrix(features_real, "features_real", minimum_rows=k + 1)
    features_fake = _as_feature_matrix(features_fake, "features_fake", minimum_rows=k + 1)
    _check_same_dimension(features_real, features_fake, "features_real", "features_fake")
    if real_radii is None:
        real_radii = _squared_neighbour_radii(features_real, k, chunk_size)
    elif np.shape(real_radii) != (len(features_real),):
        raise ValueError(
            f"real_radii must hold one radius per real feature row, shape ({len(features_real)},). "
            f"Received: real_radii.shape={np.shape(real_radii)}"
        )
    fake_radii = _squared_neighbour_radii(features_fake, k, chunk_size)
    precision = _fraction_inside(features_real, real_radii, features_fake, chunk_size)
    recall = _fraction_inside(features_fake, fake_radii, features_real, chunk_size)
    return precision, recall


# --- Class accuracy ---------------------------------------------------------------


def class_accuracy(probabilities, labels):
    """Fraction of samples whose most probable class is their label.

    ```
    accuracy = mean_i [ argmax_y p(y|x_i) == label_i ]
    ```

    For a class-conditional generator, ``labels`` are the classes it was asked
    to draw: a high accuracy means it draws what it is told.

    Args:
        probabilities: ``(N, C)`` class probabilities (or any scores whose
            largest entry is the predicted class).
        labels: ``(N,)`` integer classes in ``[0, C)``.

    Returns:
        A float in [0, 1].
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(
            "probabilities must be a 2-D array (number of samples, number of classes). "
            f"Received: probabilities.shape={probabilities.shape}"
        )
    if labels.shape != (len(probabilities),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be {len(probabilities)} integers, one per row of probabilities. "
            f"Received: labels.shape={labels.shape}, labels.dtype={labels.dtype}"
        )
    if labels.min() < 0 or labels.max() >= probabilities.shape[1]:
        raise ValueError(
            f"labels must be classes from 0 to {probabilities.shape[1] - 1}. "
            f"Received: labels from {labels.min()} to {labels.max()}"
        )
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def mean_pairwise_distance(features):
    """The mean Euclidean distance between two different rows of ``features`` ``(N, D)``, N >= 2.

    ```
    d = 2 / (N (N - 1)) * sum_{i < j} ||f_i - f_j||
    ```
    """
    features = _as_feature_matrix(features, "features").astype(np.float64)
    squared_norms = np.sum(features**2, axis=1)
    squared = _squared_distances(features, features, squared_norms)  # [N, N]
    upper = np.triu_indices(len(features), k=1)
    return float(np.mean(np.sqrt(np.maximum(squared[upper], 0.0))))


def per_class_variety_and_fid(fake_features, fake_labels, real_features, real_labels):
    """Variety and intra-FID of each class of a class-conditional generator's samples.

    ```
    variety_c   = mean_pairwise_distance(fakes of class c) / mean_pairwise_distance(reals of class c)
    intra_fid_c = frechet_distance(reals of class c, fakes of class c)
    ```

    A variety of 1.0 means the samples of a class are as different from each
    other as real images of that class; a generator that draws one item per
    class has a variety near 0 and can still be classified perfectly. The
    intra-FID (Miyato & Koyama 2018) is FID within one class, so it counts
    variety and fidelity of that class alone.

    Args:
        fake_features, fake_labels: features ``(N, D)`` of the samples and the
            classes they were asked for ``(N,)``.
        real_features, real_labels: the same for real images.

    Returns:
        ``{"variety": {class: value}, "intra_fid": {class: value}}`` for every
        class with at least two samples and two real images.
    """
    fake_labels, real_labels = np.asarray(fake_labels).reshape(-1), np.asarray(real_labels).reshape(-1)
    variety, intra_fid = {}, {}
    for label in np.unique(fake_labels):
        fakes, reals = fake_features[fake_labels == label], real_features[real_labels == label]
        if len(fakes) < 2 or len(reals) < 2:
            continue
        variety[int(label)] = mean_pairwise_distance(fakes) / mean_pairwise_distance(reals)
        intra_fid[int(label)] = frechet_distance(reals, fakes)
    return {"variety": variety, "intra_fid": intra_fid}


# --- the evaluation pipeline, in its own module --------------------------------------------

# Running the classifier, caching, reading samples files and formatting results are
# ganlab.evaluation's; these names were importable from here and still are.
_EVALUATION_NAMES = (
    "EVALUATION_COLUMNS", "evaluate_images", "evaluate_samples_file", "format_results", "logged_scores",
    "real_features_and_probabilities", "real_neighbour_radii", "real_test_labels",
)


def __getattr__(name):
    if name in _EVALUATION_NAMES:
        from ganlab import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'ganlab.metrics' has no attribute {name!r}")
