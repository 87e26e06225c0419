"""Tests of ganlab.sampling: the truncation trick by resampling, the TF Hub demo's scaled
truncation, and linear and spherical interpolation, against values worked by hand."""

import math

import numpy as np
import pytest

from ganlab.sampling import interpolate, truncated_normal, truncnorm_scaled


def truncated_normal_std(threshold):
    """Standard deviation of N(0, 1) conditioned on |z| <= t: sqrt(1 - 2 t phi(t) / (2 Phi(t) - 1))."""
    density = math.exp(-threshold**2 / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(threshold / math.sqrt(2))  # 2 Phi(t) - 1
    return math.sqrt(1.0 - 2.0 * threshold * density / mass)


# ---------------------------------------------------------------- truncated_normal


def test_every_truncated_value_lies_within_the_threshold():
    z = truncated_normal((2000, 32), truncation=0.5, seed=0)

    assert z.shape == (2000, 32) and z.dtype == np.float32
    assert np.abs(z).max() <= 0.5


def test_truncation_resamples_instead_of_clipping_so_no_mass_piles_up_at_the_threshold():
    threshold = 1.0
    z = truncated_normal(200_000, truncation=threshold, seed=1)

    # Clipping would put the 31.7% of N(0, 1) beyond 1 exactly onto +-1.
    assert np.sum(np.abs(z) == np.float32(threshold)) == 0
    # Near the edge the density is the normal's, renormalized: the fraction with |z| in (0.95, 1]
    # is (erf(1 / sqrt 2) - erf(0.95 / sqrt 2)) / erf(1 / sqrt 2) = (0.6827 - 0.6579) / 0.6827 = 0.036.
    band = (math.erf(1.0 / math.sqrt(2)) - math.erf(0.95 / math.sqrt(2))) / math.erf(1.0 / math.sqrt(2))
    assert np.mean(np.abs(z) > 0.95) == pytest.approx(band, abs=0.003)


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
def test_truncated_values_have_the_standard_deviation_of_a_truncated_normal(threshold):
    z = truncated_normal(200_000, truncation=threshold, seed=2)

    # t = 1: sqrt(1 - 2 * 0.24197 / 0.68269) = 0.5396.
    assert z.std() == pytest.approx(truncated_normal_std(threshold), abs=0.004)
    assert z.mean() == pytest.approx(0.0, abs=0.005)


def test_the_same_seed_gives_the_same_values_and_another_seed_others():
    first = truncated_normal((4, 8), truncation=0.7, seed=3)
    again = truncated_normal((4, 8), truncation=0.7, seed=3)
    other = truncated_normal((4, 8), truncation=0.7, seed=4)

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_no_truncation_is_the_plain_standard_normal_of_the_seed():
    np.testing.assert_array_equal(
        truncated_normal((3, 5), truncation=None, seed=5),
        np.random.default_rng(5).standard_normal((3, 5)).astype("float32"),
    )


@pytest.mark.parametrize("truncation", [0, -0.5, True, "1"])
def test_a_truncation_that_is_not_a_positive_number_is_refused_naming_it(truncation):
    with pytest.raises(ValueError, match="truncation"):
        truncated_normal((2, 2), truncation=truncation)


# ---------------------------------------------------------------- truncnorm_scaled


def test_the_tf_hub_demo_truncation_scales_a_sample_truncated_at_two():
    z = truncnorm_scaled((4000, 16), truncation=0.25, seed=0)

    # Values within 2 * 0.25; the spread is 0.25 times that of N(0, 1) truncated at 2 (0.8796).
    assert np.abs(z).max() <= 0.5
    assert z.std() == pytest.approx(0.25 * truncated_normal_std(2.0), rel=0.02)
    # The demo's own code: truncation * truncnorm.rvs(-2, 2, size, random_state=RandomState(seed)).
    from scipy.stats import truncnorm

    demo = 0.25 * truncnorm.rvs(-2, 2, size=(4000, 16), random_state=np.random.RandomState(0))
    np.testing.assert_allclose(z, demo, rtol=1e-6)
    with pytest.raises(ValueError, match="truncation"):
        truncnorm_scaled(3, truncation=0.0)


# ---------------------------------------------------------------- interpolate


def test_linear_interpolation_includes_both_ends_and_the_midpoint_halfway():
    a, b = np.array([0.0, 2.0, -4.0]), np.array([2.0, 0.0, 4.0])

    path = interpolate(a, b, steps=5)

    assert path.shape == (5, 3) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    np.testing.assert_allclose(path[2], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(path[1], [0.5, 1.5, -2.0])


def test_slerp_between_unit_vectors_stays_on_the_unit_circle_and_halves_the_angle():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])

    path = interpolate(a, b, steps=7, method="slerp")

    np.testing.assert_allclose(np.linalg.norm(path, axis=-1), 1.0, rtol=1e-6)
    # omega = pi / 2: at t = 1/2, sin(pi/4) / sin(pi/2) * (a + b) = (0.7071, 0.7071).
    np.testing.assert_allclose(path[3], [math.sqrt(0.5), math.sqrt(0.5)], rtol=1e-6)
    np.testing.assert_allclose(path[0], a, atol=1e-7)
    np.testing.assert_allclose(path[-1], b, atol=1e-7)


def test_slerp_matches_the_formula_at_one_half_for_vectors_of_different_norms():
    a, b = np.array([2.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0])

    middle = interpolate(a, b, steps=3, method="slerp")[1]

    # cos(omega) = 2 / (2 * sqrt(2)): omega = pi / 4. p = sin(pi/8) / sin(pi/4) * (a + b).
    factor = math.sin(math.pi / 8) / math.sin(math.pi / 4)
    np.testing.assert_allclose(middle, factor * np.array([3.0, 1.0, 0.0]), rtol=1e-6)


def test_slerp_works_row_by_row_on_batches():
    a = np.array([[1.0, 0.0], [3.0, 0.0]])
    b = np.array([[0.0, 1.0], [0.0, 3.0]])

    path = interpolate(a, b, steps=3, method="slerp")

    assert path.shape == (3, 2, 2)
    np.testing.assert_allclose(np.linalg.norm(path[1], axis=-1), [1.0, 3.0], rtol=1e-6)


def test_slerp_between_parallel_or_opposite_vectors_falls_back_to_a_straight_line():
    parallel = interpolate(np.array([1.0, 0.0]), np.array([3.0, 0.0]), steps=3, method="slerp")
    opposite = interpolate(np.array([1.0, 0.0]), np.array([-1.0, 0.0]), steps=3, method="slerp")
    from_zero = interpolate(np.array([0.0, 0.0]), np.array([0.0, 2.0]), steps=3, method="slerp")

    np.testing.assert_allclose(parallel[1], [2.0, 0.0])
    np.testing.assert_allclose(opposite[1], [0.0, 0.0])
    np.testing.assert_allclose(from_zero[1], [0.0, 1.0])
    assert np.isfinite(np.concatenate([parallel, opposite, from_zero])).all()


@pytest.mark.parametrize(
    "a_shape, b_shape, steps, method, named",
    [
        ((2,), (2,), 1, "linear", "steps"),
        ((2,), (2,), 2.5, "linear", "steps"),
        ((2,), (2,), 3, "cubic", "method"),
        ((2,), (3,), 3, "linear", "same shape"),
    ],
)
def test_interpolate_refuses_bad_arguments_naming_them(a_shape, b_shape, steps, method, named):
    with pytest.raises(ValueError, match=named):
        interpolate(np.ones(a_shape), np.ones(b_shape), steps=steps, method=method)
