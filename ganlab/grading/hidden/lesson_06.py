"""Hidden tests of lesson 06, exploring BigGAN (the contracts of ganlab/checks/exploring_biggan.py)."""

import numpy as np

from ganlab import checks
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test, to_numpy



@hidden_test("demo_truncated_z", points=2)
def demo_truncated_z_passes_the_notebook_check(demo_truncated_z):
    expect_check_passes(checks.check_demo_truncated_z, demo_truncated_z)


@hidden_test("demo_truncated_z", points=2)
def demo_truncated_z_gives_the_demo_numbers_for_other_settings(demo_truncated_z):
    passed = 0
    for number, dimension, truncation, seed in ((1, 7, 0.02, 100), (20, 3, 1.0, 0), (5, 128, 0.5, 42)):
        got = to_numpy(demo_truncated_z(number, dimension, truncation, seed))
        want = checks.reference_demo_truncated_z(number, dimension, truncation, seed)
        passed += got.shape == want.shape and got.dtype == np.float32 and np.allclose(got, want, rtol=1e-5, atol=1e-7)
    expect(passed == 3, "for one sample, truncation 0.02 or 1, seeds 0, 42 or 100, the numbers must be the demo's "
           "(truncnorm(-2, 2) with RandomState(seed), size (number, dimension), times truncation).",
           credit=fraction(passed, 3))


@hidden_test("interpolate_embeddings", points=2)
def interpolate_embeddings_passes_the_notebook_check(interpolate_embeddings):
    expect_check_passes(checks.check_interpolate_embeddings, interpolate_embeddings)


@hidden_test("interpolate_embeddings", points=2)
def interpolation_of_embeddings_for_any_size(interpolate_embeddings):
    passed = 0
    for seed, (steps, size) in enumerate(((2, 1), (10, 128), (3, 5))):
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=size).astype("float32"), rng.normal(size=size).astype("float32")
        got = to_numpy(interpolate_embeddings(a, b, steps))
        want = checks.reference_interpolate_embeddings(a, b, steps)
        passed += got.shape == want.shape and np.allclose(got, want, atol=1e-6)
    expect(passed == 3, "wrong for 2 steps, a 1-dimensional embedding or 128 dimensions.", credit=fraction(passed, 3))


@hidden_test("interpolate_embeddings", points=1)
def interpolation_is_float32_whatever_the_embeddings_dtype(interpolate_embeddings):
    one_hot = np.eye(6, dtype="int64")  # the demo mixes one-hot classes
    cases = ((np.array([0.5, -1.0, 2.0]), np.array([1.5, 3.0, -2.0]), 4),
             (one_hot[1], one_hot[4], 5),
             (np.array([1, -2], "int32"), np.array([4, 6], "int32"), 3))
    passed = 0
    for a, b, steps in cases:
        got = to_numpy(interpolate_embeddings(a.copy(), b.copy(), steps))
        want = checks.reference_interpolate_embeddings(a, b, steps)
        passed += got.dtype == np.float32 and got.shape == want.shape and np.allclose(got, want, atol=1e-6)
    expect(passed == len(cases), "the path must be float32 values on the straight line whatever the embeddings' "
           "dtype (float64, or integer one-hot classes): cast the result to float32, not to the inputs' dtype.",
           credit=fraction(passed, len(cases)))
