"""Tests of ganlab.metrics: hand-computed values and NumPy/SciPy references.

Every metric is checked on numbers worked out by hand (closed-form Gaussians,
one-hot predictions, points on a line) and against a straightforward
reference implementation. The scores of real and generated images through the
shipped classifier are in tests/test_classifier.py.
"""

import numpy as np
import pytest
import scipy.linalg

from ganlab import metrics
from ganlab.metrics import (
    class_accuracy,
    frechet_distance,
    frechet_distance_from_statistics,
    inception_score,
    kernel_distance,
    matrix_sqrt,
    precision_recall,
)


def random_covariance(dimension, seed, number_of_samples=None):
    """A well-conditioned covariance: A A^T / n + I / 2."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(dimension, number_of_samples or 2 * dimension))
    return factor @ factor.T / factor.shape[1] + 0.5 * np.eye(dimension)


def scipy_frechet_distance(features_a, features_b):
    """The original TTUR formula: scipy.linalg.sqrtm of the non-symmetric product."""
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    covariance_a, covariance_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    square_root = scipy.linalg.sqrtm(covariance_a @ covariance_b).real
    return np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a + covariance_b - 2 * square_root)


# --- matrix square root -----------------------------------------------------------


def test_matrix_sqrt_of_a_diagonal_matrix_takes_square_roots_of_the_diagonal():
    np.testing.assert_allclose(matrix_sqrt(np.diag([4.0, 9.0, 0.25])), np.diag([2.0, 3.0, 0.5]), atol=1e-12)


def test_matrix_sqrt_of_a_hand_computed_2x2_matrix():
    # [[5, 4], [4, 5]] has eigenvalues 9 and 1 with eigenvectors (1, 1) and (1, -1),
    # so its square root is [[(3 + 1) / 2, (3 - 1) / 2], [(3 - 1) / 2, (3 + 1) / 2]].
    np.testing.assert_allclose(matrix_sqrt([[5.0, 4.0], [4.0, 5.0]]), [[2.0, 1.0], [1.0, 2.0]], atol=1e-12)


def test_matrix_sqrt_matches_scipy_sqrtm_on_a_well_conditioned_covariance():
    covariance = random_covariance(20, seed=0)
    np.testing.assert_allclose(matrix_sqrt(covariance), scipy.linalg.sqrtm(covariance).real, atol=1e-9)


def test_matrix_sqrt_of_a_singular_covariance_is_real_and_squares_back():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(5, 30))  # 5 samples in 30 dimensions: rank at most 4
    covariance = np.cov(samples, rowvar=False)
    square_root = matrix_sqrt(covariance)
    assert np.isrealobj(square_root) and np.all(np.isfinite(square_root))
    np.testing.assert_allclose(square_root @ square_root, covariance, atol=1e-10)


def test_matrix_sqrt_of_a_non_square_matrix_raises_value_error():
    with pytest.raises(ValueError, match="symmetric_psd must be a square matrix"):
        matrix_sqrt(np.ones((2, 3)))


def test_matrix_sqrt_of_a_non_symmetric_matrix_raises_value_error():
    with pytest.raises(ValueError, match="symmetric"):
        matrix_sqrt([[1.0, 2.0], [0.0, 1.0]])


# --- Fréchet distance -------------------------------------------------------------


def test_frechet_distance_of_identical_gaussians_is_zero():
    covariance = random_covariance(8, seed=2)
    assert frechet_distance_from_statistics(np.ones(8), covariance, np.ones(8), covariance) == pytest.approx(
        0.0, abs=1e-9
    )


def test_frechet_distance_of_one_dimensional_gaussians_is_mean_and_deviation_differences_squared():
    # (m1 - m2)^2 + (s1 - s2)^2 = (1 - 4)^2 + (2 - 5)^2 = 9 + 9.
    assert frechet_distance_from_statistics([1.0], [[4.0]], [4.0], [[25.0]]) == pytest.approx(18.0)


def test_frechet_distance_of_diagonal_gaussians_sums_over_dimensions():
    # Diagonal covariances: each dimension adds (m_a - m_b)^2 + (s_a - s_b)^2,
    # here (0 - 1)^2 + (1 - 3)^2 + (0 - 0)^2 + (2 - 2)^2 = 1 + 4 + 0 + 0 = 5.
    distance = frechet_distance_from_statistics([0.0, 0.0], np.diag([1.0, 4.0]), [1.0, 0.0], np.diag([9.0, 4.0]))
    assert distance == pytest.approx(5.0)


def test_frechet_distance_of_samples_approaches_the_closed_form_of_their_gaussians():
    rng = np.random.default_rng(3)
    samples_a = rng.normal(0.0, 1.0, size=(200_000, 1))
    samples_b = rng.normal(2.0, 3.0, size=(200_000, 1))
    # (0 - 2)^2 + (1 - 3)^2 = 8, up to sampling noise.
    assert frechet_distance(samples_a, samples_b) == pytest.approx(8.0, rel=0.01)


def test_frechet_distance_matches_the_scipy_sqrtm_reference_on_well_conditioned_features():
    rng = np.random.default_rng(4)
    features_a = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    features_b = rng.normal(0.3, 1.2, size=(400, 16)) @ rng.normal(size=(16, 16))
    assert frechet_distance(features_a, features_b) == pytest.approx(
        scipy_frechet_distance(features_a, features_b), rel=1e-7
    )


def test_frechet_distance_with_fewer_samples_than_dimensions_is_a_finite_real_number():
    rng = np.random.default_rng(5)
    features_a = rng.normal(size=(20, 128))  # covariances of rank 19 in 128 dimensions
    features_b = rng.normal(1.0, 1.0, size=(30, 128))
    distance = frechet_distance(features_a, features_b)
    assert isinstance(distance, float) and np.isfinite(distance)
    # The means differ by 1 in each of 128 dimensions: at least 128 - sampling noise.
    assert distance > 100.0


def test_frechet_distance_with_dead_features_ignores_the_constant_dimensions():
    # Features that are always 0 (a dead ReLU unit) give a zero row and column in
    # the covariance; the distance is that of the remaining dimensions.
    rng = np.random.default_rng(6)
    live_a, live_b = rng.normal(size=(1000, 4)), rng.normal(0.5, 1.0, size=(1000, 4))
    dead = np.zeros((1000, 3))
    with_dead = frechet_distance(np.hstack([live_a, dead]), np.hstack([live_b, dead]))
    assert with_dead == pytest.approx(frechet_distance(live_a, live_b), rel=1e-9)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(7).normal(size=(300, 10))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_with_different_feature_dimensions_raises_value_error():
    with pytest.raises(ValueError, match="same feature dimension"):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))


def test_frechet_distance_of_a_one_dimensional_array_raises_value_error():
    with pytest.raises(ValueError, match="features_a must be a 2-D array"):
        frechet_distance(np.zeros(10), np.zeros((10, 1)))


# --- Inception Score --------------------------------------------------------------


def test_inception_score_of_uniform_predictions_is_one():
    assert inception_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_inception_score_of_confident_predictions_spread_over_ten_classes_is_ten():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert inception_score(one_hot) == pytest.approx(10.0)


def test_inception_score_of_confident_predictions_of_one_class_is_one():
    one_hot = np.zeros((40, 10))
    one_hot[:, 3] = 1.0
    assert inception_score(one_hot) == pytest.approx(1.0)


def test_inception_score_of_confident_predictions_over_two_of_ten_classes_is_two():
    one_hot = np.eye(10)[np.arange(100) % 2]
    assert inception_score(one_hot) == pytest.approx(2.0)


def test_inception_score_of_a_hand_computed_pair_of_predictions():
    # p(y|x1) = (1, 0), p(y|x2) = (0.5, 0.5); p(y) = (0.75, 0.25).
    # KL1 = log(1 / 0.75); KL2 = 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25).
    kl_1 = np.log(1 / 0.75)
    kl_2 = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    expected = np.exp((kl_1 + kl_2) / 2)
    assert inception_score([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx(expected)


def test_inception_score_with_splits_averages_the_score_of_each_split():
    # First half: one class only (score 1); second half: two classes evenly (score 2).
    predictions = np.vstack([np.tile([1.0, 0.0], (10, 1)), np.eye(2)[np.arange(10) % 2]])
    mean, std = inception_score(predictions, splits=2, return_std=True)
    assert mean == pytest.approx(1.5)
    assert std == pytest.approx(0.5)


def test_inception_score_of_logits_raises_value_error():
    with pytest.raises(ValueError, match="rows summing to 1"):
        inception_score(np.array([[2.0, -1.0], [0.5, 3.0]]))


def test_inception_score_with_more_splits_than_samples_raises_value_error():
    with pytest.raises(ValueError, match="splits must be an integer from 1 to the number of samples"):
        inception_score(np.eye(3), splits=4)


# --- Kernel Inception Distance ------------------------------------------------------


def double_loop_squared_mmd(x, y):
    """The unbiased MMD^2 of Bińkowski et al., written as plain loops."""
    dimension = x.shape[1]

    def kernel(a, b):
        return (np.dot(a, b) / dimension + 1.0) ** 3

    m, n = len(x), len(y)
    within_x = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_y = sum(kernel(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    between = sum(kernel(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return within_x + within_y - 2.0 * between


def test_polynomial_kernel_of_hand_computed_vectors():
    # x . y = 1 * 3 + 2 * 4 = 11, d = 2: (11 / 2 + 1)^3 = 6.5^3.
    assert metrics.polynomial_kernel(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]))[0, 0] == pytest.approx(6.5**3)


def test_kernel_distance_matches_a_double_loop_reference():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(12, 5))
    y = rng.normal(0.5, 1.5, size=(12, 5))
    # One subset of the full size is the whole set (reordered, which MMD ignores).
    assert kernel_distance(x, y, subsets=1, subset_size=12) == pytest.approx(double_loop_squared_mmd(x, y))


def test_squared_mmd_matches_a_double_loop_reference_for_sets_of_different_sizes():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(7, 3)), rng.normal(1.0, 1.0, size=(11, 3))
    assert metrics.squared_mmd(x, y) == pytest.approx(double_loop_squared_mmd(x, y))


def test_kernel_distance_of_two_samples_of_one_distribution_is_near_zero():
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    distance = kernel_distance(x, y, subsets=20, subset_size=500)
    shifted = kernel_distance(x, y + 1.0, subsets=20, subset_size=500)
    assert abs(distance) < 0.01 * shifted


def test_kernel_distance_is_reproducible_with_a_seed_and_reports_its_spread():
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(300, 4)), rng.normal(0.2, 1.0, size=(300, 4))
    first = kernel_distance(x, y, subsets=10, subset_size=100, seed=3, return_std=True)
    second = kernel_distance(x, y, subsets=10, subset_size=100, seed=3, return_std=True)
    assert first == second
    assert first[1] > 0.0


def test_kernel_distance_with_a_subset_of_one_raises_value_error():
    with pytest.raises(ValueError, match="subset_size must be an integer of at least 2"):
        kernel_distance(np.zeros((10, 2)), np.zeros((10, 2)), subset_size=1)


# --- precision and recall ---------------------------------------------------------


def test_precision_recall_on_points_on_a_line():
    # Real points 0, 1, 2, 3 with k = 1: every real ball has radius 1, so the
    # real manifold is [-1, 4]. Fake points 0.5 and 10: only 0.5 is inside
    # (precision 1/2). Their k = 1 radii are both 9.5, so the ball around 0.5
    # covers [-9, 10]: all four real points (recall 1).
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)


def test_precision_recall_of_fakes_that_cover_one_of_two_real_clusters():
    # Real: two clusters of four points at the corners of unit squares, around
    # (0, 0) and (10, 0). With k = 3 each real radius is the square's diagonal,
    # sqrt(2). Fake: the left square only, shifted by 0.1: every fake is inside
    # the real manifold (precision 1), but its own radii (sqrt(2)) reach only
    # the left real cluster (recall 4 / 8).
    square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    real = np.vstack([square, square + [10.0, 0.0]])
    fake = square + 0.1
    assert precision_recall(real, fake, k=3) == (1.0, 0.5)


def test_precision_recall_is_the_same_for_any_chunk_size():
    rng = np.random.default_rng(12)
    real, fake = rng.normal(size=(230, 6)), rng.normal(0.7, 1.0, size=(170, 6))
    assert precision_recall(real, fake, chunk_size=7) == precision_recall(real, fake, chunk_size=1000)


def test_precision_recall_matches_a_brute_force_reference():
    rng = np.random.default_rng(13)
    real, fake = rng.normal(size=(60, 3)), rng.normal(0.5, 0.8, size=(50, 3))

    def manifold_coverage(manifold, queries, k):
        distances = np.linalg.norm(manifold[:, None] - manifold[None], axis=-1)
        radii = np.sort(distances, axis=1)[:, k]  # column 0 is the point itself
        to_manifold = np.linalg.norm(queries[:, None] - manifold[None], axis=-1)
        return np.mean(np.any(to_manifold <= radii[None, :], axis=1))

    precision, recall = precision_recall(real, fake, k=3)
    assert precision == pytest.approx(manifold_coverage(real, fake, 3))
    assert recall == pytest.approx(manifold_coverage(fake, real, 3))


def test_precision_recall_with_the_real_radii_given_is_the_same_and_the_radii_are_the_kth_neighbour_distances():
    rng = np.random.default_rng(14)
    real, fake = rng.normal(size=(40, 3)), rng.normal(0.5, 0.8, size=(30, 3))
    # By hand: the squared distance to the 3rd nearest other point (column 0 is the point itself).
    squared = ((real[:, None] - real[None]) ** 2).sum(-1)
    expected = np.sort(squared, axis=1)[:, 3]

    radii = metrics.neighbour_radii(real, k=3)

    np.testing.assert_allclose(radii, expected, rtol=1e-9, atol=1e-12)
    assert precision_recall(real, fake, real_radii=radii) == precision_recall(real, fake)
    with pytest.raises(ValueError, match=r"real_radii must hold one radius per real feature row, shape \(40,\)"):
        precision_recall(real, fake, real_radii=radii[:10])


def test_precision_recall_with_no_more_points_than_k_raises_value_error():
    with pytest.raises(ValueError, match="features_fake needs at least 4 samples"):
        precision_recall(np.zeros((10, 2)), np.zeros((3, 2)), k=3)


# --- class accuracy ---------------------------------------------------------------


def test_class_accuracy_counts_rows_whose_most_probable_class_is_the_label():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert class_accuracy(probabilities, np.array([0, 1, 1, 0])) == 0.5


def test_class_accuracy_with_a_label_outside_the_classes_raises_value_error():
    with pytest.raises(ValueError, match="labels must be classes from 0 to 1"):
        class_accuracy(np.eye(2), np.array([0, 2]))


def test_class_accuracy_with_float_labels_raises_value_error():
    with pytest.raises(ValueError, match="labels must be 2 integers"):
        class_accuracy(np.eye(2), np.array([0.0, 1.0]))


# ---------------------------------------------------------------- variety within a class


def test_mean_pairwise_distance_of_hand_computed_points():
    # Distances 3 (a-b), 4 (a-c), 5 (b-c): mean 4.
    features = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])

    assert metrics.mean_pairwise_distance(features) == pytest.approx(4.0)


def test_per_class_variety_is_one_for_a_copy_of_the_real_spread_and_zero_for_one_item_per_class():
    random = np.random.default_rng(0)
    real = np.concatenate([random.normal(0, 1, (50, 3)), random.normal(5, 2, (50, 3))])
    real_labels = np.repeat([0, 1], 50)
    varied = real * 1.0
    collapsed = np.concatenate([np.repeat(real[:1], 50, axis=0), np.repeat(real[50:51], 50, axis=0)])

    same = metrics.per_class_variety_and_fid(varied, real_labels, real, real_labels)
    one_item = metrics.per_class_variety_and_fid(collapsed, real_labels, real, real_labels)

    assert same["variety"] == pytest.approx({0: 1.0, 1: 1.0})
    assert same["intra_fid"][0] == pytest.approx(0.0, abs=1e-6)
    assert one_item["variety"] == pytest.approx({0: 0.0, 1: 0.0})
    # Half the spread in every direction: half the pairwise distances.
    half = metrics.per_class_variety_and_fid(real * 0.5 + 0.5 * real.mean(0), real_labels, real, real_labels)
    assert 0.3 < half["variety"][0] < 0.7 and half["intra_fid"][0] > 0.1
