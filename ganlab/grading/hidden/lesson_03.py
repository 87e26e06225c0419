"""Hidden tests of lesson 03, evaluating GANs."""

import time

import numpy as np

from ganlab import checks, metrics
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test



def _features(seed, n, d, shift=0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(shift, 1.0, (n, d)) @ rng.normal(0, 1, (d, d)) / np.sqrt(d)


def _kid(a, b):
    """The unbiased squared MMD with the kernel (x.y / d + 1)^3, on the whole sets."""
    m, n, d = len(a), len(b), a.shape[1]
    k_aa, k_bb, k_ab = ((x @ y.T / d + 1.0) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    return ((k_aa.sum() - np.trace(k_aa)) / (m * (m - 1)) + (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
            - 2.0 * k_ab.mean())


def _with_reference_square_root(function):
    # A broken matrix_square_root costs its own exercise only.
    function.__globals__["square_root"] = metrics.matrix_sqrt
    function.__globals__["matrix_square_root"] = metrics.matrix_sqrt
    return function


@hidden_test("matrix_square_root", points=2)
def square_root_passes_the_notebook_check(matrix_square_root):
    expect_check_passes(checks.check_matrix_square_root, matrix_square_root)


@hidden_test("matrix_square_root", points=2)
def square_root_of_singular_covariances_at_several_seeds(matrix_square_root):
    passed = 0
    for seed in range(3):
        factor = np.random.default_rng(seed).normal(size=(20, 5))
        covariance = factor @ factor.T  # rank 5 of 20: fifteen zero eigenvalues
        given = covariance.copy()
        root = np.asarray(matrix_square_root(given))
        passed += (np.isrealobj(root) and root.shape == (20, 20) and np.allclose(root, root.T, atol=1e-6)
                   and np.allclose(root @ root, covariance, atol=1e-6) and np.array_equal(given, covariance))
    expect(passed == 3, "for 20 x 20 covariances of rank 5, R must be real, symmetric, with R @ R equal to the "
           "matrix (no epsilon added to it), and the matrix given must be left unchanged.", credit=fraction(passed, 3))


@hidden_test("frechet_distance", points=2)
def frechet_distance_passes_the_notebook_check(frechet_distance):
    expect_check_passes(checks.check_frechet_distance, _with_reference_square_root(frechet_distance))


@hidden_test("frechet_distance", points=2)
def frechet_distance_of_sets_of_different_sizes(frechet_distance):
    frechet_distance = _with_reference_square_root(frechet_distance)
    passed = 0
    for seed, (n_a, n_b) in enumerate(((50, 80), (120, 30), (40, 40))):
        a, b = _features(seed, n_a, 6), _features(seed + 10, n_b, 6, shift=0.5)
        passed += abs(float(frechet_distance(a, b)) - metrics.frechet_distance(a, b)) < 1e-5 * max(1.0, metrics.frechet_distance(a, b))
    expect(passed == 3, "FID must be right for two sets of different sizes (each set's own mean and covariance).",
           credit=fraction(passed, 3))


@hidden_test("inception_score", points=2)
def inception_score_passes_the_notebook_check(inception_score):
    expect_check_passes(checks.check_inception_score, inception_score)


@hidden_test("inception_score", points=2)
def inception_score_of_confident_and_random_predictions(inception_score):
    passed = 0
    for classes in (2, 10, 37):
        one_hot = np.eye(classes)[np.arange(3 * classes) % classes]
        passed += abs(float(inception_score(one_hot)) - classes) < 1e-6 * classes
    for seed in range(3):
        probabilities = np.random.default_rng(seed).dirichlet(np.full(10, 0.3), size=200)
        passed += abs(float(inception_score(probabilities)) - metrics.inception_score(probabilities)) < 1e-6 * 10
    expect(passed == 6, "confident predictions spread evenly over C classes must score exactly C, and random "
           "predictions must match exp(mean KL(p(y|x) || p(y))).", credit=fraction(passed, 6))


@hidden_test("inception_score", points=1)
def inception_score_is_vectorized(inception_score):
    probabilities = np.random.default_rng(0).dirichlet(np.ones(50), size=100_000)
    started = time.perf_counter()
    inception_score(probabilities)
    expect(time.perf_counter() - started < 2.0, "100,000 predictions of 50 classes must take a fraction of a "
           "second: use array operations, not a Python loop over the images.")


@hidden_test("kernel_distance", points=2)
def kernel_distance_passes_the_notebook_check(kernel_distance):
    expect_check_passes(checks.check_kernel_distance, kernel_distance)


@hidden_test("kernel_distance", points=2)
def kernel_distance_at_several_sizes_and_seeds(kernel_distance):
    passed, cases = 0, 0
    for seed, (m, n, d) in enumerate(((2, 3, 4), (30, 70, 8), (64, 64, 3))):
        a, b = _features(seed, m, d), _features(seed + 20, n, d, shift=0.3)
        want = _kid(a, b)
        passed += abs(float(kernel_distance(a, b)) - want) < 1e-6 * max(1.0, abs(want))
        passed += abs(float(kernel_distance(b, a)) - want) < 1e-6 * max(1.0, abs(want))
        cases += 2
    expect(passed == cases, "KID must be right (and symmetric) for sets as small as 2 images and of different sizes.",
           credit=fraction(passed, cases))


@hidden_test("kernel_distance", points=1)
def kernel_distance_keeps_negative_estimates(kernel_distance):
    # Two samples of one distribution, and a set against itself: the unbiased estimate is below 0 in all four.
    passed, cases = 0, 0
    for seed, (m, n, d) in enumerate(((12, 12, 4), (20, 35, 6))):
        rng = np.random.default_rng(seed + 40)
        mix = rng.normal(size=(d, d)) / np.sqrt(d)
        a, b = rng.normal(size=(m, d)) @ mix, rng.normal(size=(n, d)) @ mix
        for other in (b, a.copy()):
            want = _kid(a, other)
            passed += abs(float(kernel_distance(a.copy(), other.copy())) - want) < 1e-6 * max(1.0, abs(want))
            cases += 1
    expect(passed == cases, "KID must be returned as estimated, negative values included: for two samples of one "
           "distribution the unbiased estimate is often below 0. Do not clamp it at 0 or take its absolute value.",
           credit=fraction(passed, cases))
