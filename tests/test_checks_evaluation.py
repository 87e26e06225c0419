"""Tests of the lesson 03 checks (ganlab.checks): the right answer passes, each typical mistake gets its diagnosis.

Every buggy function here is a mistake the check promises to catch, written the
way a student would write it.
"""

import numpy as np
import pytest
import scipy.linalg
from check_results import assert_fails, assert_passes
from scipy.special import xlogy

from ganlab import checks, metrics


def not_written(*args, **kwargs):
    raise NotImplementedError("Exercise: see the instructions above")


# --- matrix_square_root ------------------------------------------------------------------


def eigen_square_root(matrix, transpose_right=True, clip=True):
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    if clip:
        eigenvalues = np.clip(eigenvalues, 0, None)
    right = eigenvectors.T if transpose_right else eigenvectors
    return eigenvectors @ np.diag(np.sqrt(eigenvalues)) @ right


def test_matrix_square_root_check_passes_the_library_and_an_eigendecomposition():
    assert_passes(checks.check_matrix_square_root(metrics.matrix_sqrt, verbose=False))
    assert_passes(checks.check_matrix_square_root(eigen_square_root, verbose=False))


def test_matrix_square_root_check_names_the_elementwise_square_root():
    result = checks.check_matrix_square_root(np.sqrt, verbose=False)
    assert_fails(result, "square root of every entry", "R @ R = A")
    assert "✓ the square root of a diagonal matrix" in result.message  # diag(4, 9) passed first


def test_matrix_square_root_check_names_the_missing_transpose():
    result = checks.check_matrix_square_root(lambda m: eigen_square_root(m, transpose_right=False), verbose=False)
    assert_fails(result, "not transposed", "V D V^T")


def test_matrix_square_root_check_names_unclipped_negative_eigenvalues_as_nan():
    with np.errstate(invalid="ignore"):  # the square root of -1e-12 is NaN: the mistake itself
        result = checks.check_matrix_square_root(lambda m: eigen_square_root(m, clip=False), verbose=False)
    assert_fails(result, "NaN", "clip the eigenvalues at zero")


def test_matrix_square_root_check_rejects_a_complex_result():
    result = checks.check_matrix_square_root(lambda m: scipy.linalg.sqrtm(m).astype(complex), verbose=False)
    assert_fails(result, "complex", "eigh")


def test_matrix_square_root_check_reports_not_written_without_raising():
    result = checks.check_matrix_square_root(not_written, verbose=False)
    assert result.status == "not written"
    assert "matrix_square_root is not written yet" in result.message


# --- frechet_distance ---------------------------------------------------------------------


def fid(features_a, features_b, factor=2.0, with_mean=True, rowvar=False, bias=False, naive=False):
    """FID written as students write it, with switches for the typical mistakes."""
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a = np.cov(features_a, rowvar=rowvar, bias=bias)
    cov_b = np.cov(features_b, rowvar=rowvar, bias=bias)
    if naive:
        trace_root = np.trace(scipy.linalg.sqrtm(cov_a @ cov_b))
    else:
        root_a = metrics.matrix_sqrt(cov_a)
        trace_root = np.trace(metrics.matrix_sqrt(root_a @ cov_b @ root_a))
    mean_term = np.sum((mean_a - mean_b) ** 2) if with_mean else 0.0
    return mean_term + np.trace(cov_a) + np.trace(cov_b) - factor * trace_root


def test_frechet_distance_check_passes_the_library_and_the_symmetric_formula():
    assert_passes(checks.check_frechet_distance(metrics.frechet_distance, verbose=False))
    assert_passes(checks.check_frechet_distance(fid, verbose=False))


def test_frechet_distance_check_gives_the_hand_computed_value_for_a_missing_factor_2():
    # Hand example of the check: 25 + 8/3 = 27.667; without the 2: 25 + 8 = 33.
    result = checks.check_frechet_distance(lambda a, b: fid(a, b, factor=1.0), verbose=False)
    assert_fails(result, "missing its factor 2", "expected 27.6667, got 33")


def test_frechet_distance_check_names_the_missing_mean_term():
    result = checks.check_frechet_distance(lambda a, b: fid(a, b, with_mean=False), verbose=False)
    assert_fails(result, "mean term", "expected 27.6667, got 2.66667")


def test_frechet_distance_check_names_covariances_over_the_wrong_axis():
    result = checks.check_frechet_distance(lambda a, b: fid(a, b, rowvar=True), verbose=False)
    assert_fails(result, "wrong axis", "rowvar=False")


def test_frechet_distance_check_names_covariances_divided_by_n():
    # Divided by N, the variances are 1 and 4: 25 + 2 (1 - 2)^2 = 27.
    result = checks.check_frechet_distance(lambda a, b: fid(a, b, bias=True), verbose=False)
    assert_fails(result, "divide by N instead of N - 1", "got 27")


def test_frechet_distance_check_rejects_the_complex_result_of_a_naive_sqrtm():
    result = checks.check_frechet_distance(lambda a, b: fid(a, b, naive=True), verbose=False)
    assert_fails(result, "complex", "sqrt(S_a) @ S_b @ sqrt(S_a)")


def test_frechet_distance_check_explains_a_non_symmetric_product_given_to_the_square_root():
    def product_root(features_a, features_b):
        cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
        mean_term = np.sum((features_a.mean(axis=0) - features_b.mean(axis=0)) ** 2)
        return mean_term + np.trace(cov_a + cov_b - 2 * metrics.matrix_sqrt(cov_a @ cov_b))

    result = checks.check_frechet_distance(product_root, verbose=False)
    assert_fails(result, "not symmetric", "R S_b R")


def test_frechet_distance_check_reports_an_error_in_the_student_code_in_one_line():
    result = checks.check_frechet_distance(lambda a, b: a @ b, verbose=False)
    assert result.status == "error"
    assert "ValueError" in result.message


# --- inception_score ------------------------------------------------------------------------


def inception(probabilities, reverse=False, with_exp=True, axis=0, epsilon=0.0):
    p = probabilities + epsilon
    marginal = p.mean(axis=axis, keepdims=True)
    if reverse:
        divergence = (xlogy(marginal, marginal) - xlogy(marginal, p)).sum(axis=1)
    else:
        divergence = (xlogy(p, p) - xlogy(p, marginal)).sum(axis=1)
    return np.exp(divergence.mean()) if with_exp else divergence.mean()


def test_inception_score_check_passes_the_library_and_an_xlogy_version():
    assert_passes(checks.check_inception_score(metrics.inception_score, verbose=False))
    assert_passes(checks.check_inception_score(inception, verbose=False))


def test_inception_score_check_names_the_missing_exp():
    assert_fails(checks.check_inception_score(lambda p: inception(p, with_exp=False), verbose=False), "exp is missing")


def test_inception_score_check_names_the_reversed_kl():
    assert_fails(checks.check_inception_score(lambda p: inception(p, reverse=True), verbose=False), "reversed")


def test_inception_score_check_names_the_marginal_over_the_wrong_axis():
    result = checks.check_inception_score(lambda p: inception(p, axis=1), verbose=False)
    assert_fails(result, "wrong axis", "mean(axis=0)")


def test_inception_score_check_names_nan_from_zero_log_zero():
    def naive(probabilities):
        marginal = probabilities.mean(axis=0)
        return np.exp((probabilities * np.log(probabilities / marginal)).sum(axis=1).mean())

    with np.errstate(divide="ignore", invalid="ignore"):
        result = checks.check_inception_score(naive, verbose=False)
    assert_fails(result, "0 * log(0)", "xlogy")


def test_inception_score_check_accepts_a_tiny_epsilon_inside_the_logs():
    assert_passes(checks.check_inception_score(lambda p: inception(p, epsilon=1e-12), verbose=False))


# --- kernel_distance ------------------------------------------------------------------------


def kid(features_a, features_b, degree=3, unbiased=True):
    m, n, d = len(features_a), len(features_b), features_a.shape[1]
    kernel = lambda x, y: (x @ y.T / d + 1) ** degree  # noqa: E731
    k_aa, k_bb, k_ab = kernel(features_a, features_a), kernel(features_b, features_b), kernel(features_a, features_b)
    if unbiased:
        within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
        return within_a + (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1)) - 2 * k_ab.mean()
    return k_aa.mean() + k_bb.mean() - 2 * k_ab.mean()


def test_kernel_distance_check_passes_the_library_mmd_and_a_direct_version():
    assert_passes(checks.check_kernel_distance(metrics.squared_mmd, verbose=False))
    assert_passes(checks.check_kernel_distance(kid, verbose=False))


def test_kernel_distance_check_names_the_biased_estimator():
    result = checks.check_kernel_distance(lambda a, b: kid(a, b, unbiased=False), verbose=False)
    assert_fails(result, "biased estimator", "m * (m - 1)")


@pytest.mark.parametrize("degree, words", [(2, "degree 2"), (1, "linear")])
def test_kernel_distance_check_names_a_kernel_of_the_wrong_degree(degree, words):
    assert_fails(checks.check_kernel_distance(lambda a, b: kid(a, b, degree=degree), verbose=False), words, "cubic")


def test_kernel_distance_check_names_one_normalization_used_for_sets_of_different_sizes():
    def one_size(features_a, features_b):
        m, d = len(features_a), features_a.shape[1]
        kernel = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
        k_aa, k_bb = kernel(features_a, features_a), kernel(features_b, features_b)
        return (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1)) - 2 * kernel(
            features_a, features_b
        ).mean()

    result = checks.check_kernel_distance(one_size, verbose=False)
    assert_fails(result, "different sizes (6 and 9 points)", "n (n - 1)")
    assert "✓ 3 points in 2-D" in result.message  # equal sizes passed first


# --- using the exercises in the notebook ----------------------------------------------------


def test_solution_or_reference_falls_back_on_the_library_for_unwritten_metrics(capsys):
    chosen = checks.solution_or_reference(not_written, metrics.frechet_distance, "frechet_distance")
    assert chosen is metrics.frechet_distance
    assert "frechet_distance is not written yet" in capsys.readouterr().out
    chosen = checks.solution_or_reference(fid, metrics.frechet_distance, "frechet_distance")
    assert chosen is fid
