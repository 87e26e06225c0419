"""Checks of lesson 06, exploring BigGAN: ``interpolate_embeddings``, ``demo_truncated_z``.

``interpolate_embeddings`` is checked on short vectors whose straight line is
worked out by hand; ``demo_truncated_z`` against the numbers the TF Hub demo
(``biggan_generation_with_tf_hub.ipynb``, its ``truncated_z_sample``) draws
for the same seed, with SciPy called here as the demo calls it. A wrong
sample is then compared with what the typical mistakes give: the paper's
resampling instead of the demo's scaling, clipping, the scale left out, the
seed not used.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from ganlab.checks.biggan import _truncated_normal_std
from ganlab.checks.common import Mistake, _to_numpy, run_check

# The TF Hub demo samples truncnorm(-2, 2): every value of z lies within 2 x truncation.
DEMO_BOUND = 2.0


# --- interpolating class embeddings -----------------------------------------------------------


def reference_interpolate_embeddings(embedding_a, embedding_b, steps):
    """``steps`` points on the straight line from ``embedding_a`` to ``embedding_b``, both ends included.

    ```
    row k = (1 - t_k) a + t_k b,   t_k = k / (steps - 1)
    ```

    The linear interpolation of ``ganlab.sampling.interpolate``, as the TF Hub
    demo interpolates its one-hot classes.

    Returns:
        A float32 array ``(steps, embedding_dim)``.
    """
    from ganlab.sampling import interpolate

    return interpolate(embedding_a, embedding_b, steps, method="linear")


def _line(a, b, t):
    t = np.asarray(t, dtype=np.float64)[:, None]  # [steps, 1]
    return (1.0 - t) * np.asarray(a, np.float64) + t * np.asarray(b, np.float64)


def _path(interpolate_embeddings, a, b, steps):
    path = interpolate_embeddings(a, b, steps)
    if path is None:
        raise Mistake("interpolate_embeddings returned None.", "end it with `return path`.")
    return path


def check_interpolate_embeddings(interpolate_embeddings, verbose=True):
    """Checks ``interpolate_embeddings(embedding_a, embedding_b, steps)`` -> ``(steps, E)`` float32.

    Catches: one row too many or too few, the rows and columns swapped, the
    path run from b to a, an end (or both) left out (``np.linspace`` without
    its endpoint), a path that is not a straight line, float64 values.
    """

    def body(interpolate_embeddings, report):
        a = np.array([2.0, 0.0, -1.0, 4.0], "float32")
        b = np.array([0.0, 2.0, 3.0, 0.0], "float32")
        steps = 5
        line_hint = "t = np.linspace(0.0, 1.0, steps)[:, None]; path = (1 - t) * a + t * b."
        raw = _path(interpolate_embeddings, a, b, steps)
        path = _to_numpy(raw)
        if path.shape != (steps, 4):
            if path.shape == (steps + 1, 4):
                problem = "one row too many"
            elif path.shape == (steps - 1, 4):
                problem = "one row too few"
            elif path.shape == (4, steps):
                problem = "rows and columns swapped (one column per step)"
            else:
                problem = "the wrong shape"
            raise Mistake(
                f"{steps} steps between embeddings of length 4 should give shape ({steps}, 4), one row per step, "
                f"both ends included; got {path.shape}: {problem}.",
                line_hint,
            )
        report.ok(f"{steps} steps give ({steps}, 4): one row per step.")
        if np.allclose(path[0], b, atol=1e-5) and np.allclose(path[-1], a, atol=1e-5):
            raise Mistake(
                "your path is reversed: it runs from b to a.",
                "row 0 is embedding_a (t = 0) and the last row embedding_b (t = 1): (1 - t) * a + t * b.",
            )
        if not np.allclose(path[0], a, atol=1e-5):
            both_excluded = _line(a, b, np.linspace(0.0, 1.0, steps + 2)[1:-1])
            excluded = " Both ends are left out." if np.allclose(path, both_excluded, atol=1e-5) else ""
            raise Mistake(
                f"row 0 should be embedding_a = {a.tolist()}; got {np.round(path[0], 4).tolist()}.{excluded}",
                "include both ends: t = np.linspace(0.0, 1.0, steps), from 0 to 1.",
            )
        if not np.allclose(path[-1], b, atol=1e-5):
            no_endpoint = _line(a, b, np.linspace(0.0, 1.0, steps, endpoint=False))
            if np.allclose(path, no_endpoint, atol=1e-5):
                problem = (
                    "the last row stops short of embedding_b: np.linspace(0, 1, steps, endpoint=False) leaves b out"
                )
            else:
                problem = f"the last row should be embedding_b = {b.tolist()}; got {np.round(path[-1], 4).tolist()}"
            raise Mistake(f"{problem}.", "include both ends: t = np.linspace(0.0, 1.0, steps) (endpoint=True).")
        report.ok("row 0 is embedding_a and the last row embedding_b: both ends included, from a to b.")
        right = _line(a, b, np.linspace(0.0, 1.0, steps))
        if not np.allclose(path, right, atol=1e-5):
            row = int(np.argmax(np.abs(path - right).max(axis=1)))
            raise Mistake(
                f"the path is not a straight line at equal steps: row {row} should be "
                f"{np.round(right[row], 4).tolist()} (t = {row / (steps - 1):g}); "
                f"got {np.round(path[row], 4).tolist()}.",
                "a linear interpolation, as the demo mixes its classes: " + line_hint,
            )
        report.ok("the rows are evenly spaced on the straight line: (1 - t) a + t b, t = 0, 0.25, ..., 1.")
        dtype = np.asarray(keras.ops.convert_to_numpy(raw)).dtype
        if dtype != np.float32:
            raise Mistake(
                f"the path should be float32, the dtype of the generator's inputs; got {dtype}.",
                "return path.astype('float32').",
            )
        report.ok("the path is float32.")

        c = np.array([1.0, -3.0, 0.5], "float32")
        d = np.array([-1.0, 1.0, 2.5], "float32")
        for steps in (2, 3):
            _expect_path(_path(interpolate_embeddings, c, d, steps), _line(c, d, np.linspace(0.0, 1.0, steps)),
                         steps, line_hint)
        report.ok("2 steps give just the two ends and 3 steps add the midpoint, for embeddings of any length.")

    return run_check("interpolate_embeddings", interpolate_embeddings, body, verbose)


def _expect_path(path, right, steps, hint):
    path = _to_numpy(path)
    if path.shape != right.shape or not np.allclose(path, right, atol=1e-5):
        raise Mistake(
            f"interpolate_embeddings with steps={steps} between two vectors of length 3 should give "
            f"{np.round(right, 4).tolist()}; got {np.round(path, 4).tolist()}.",
            "use steps and the vectors' own length, nothing fixed: " + hint,
        )


# --- the TF Hub demo's truncation ----------------------------------------------------------------


def reference_demo_truncated_z(number, dimension, truncation, seed):
    """The TF Hub demo's ``truncated_z_sample``: ``truncnorm(-2, 2)`` values times ``truncation``.

    ```
    z = truncation * truncnorm.rvs(-2, 2, size=(number, dimension), random_state=RandomState(seed))
    ```

    ``ganlab.sampling.truncnorm_scaled``, which draws the demo's numbers
    (float32).

    Returns:
        A float32 array ``(number, dimension)``.
    """
    from ganlab.sampling import truncnorm_scaled

    return truncnorm_scaled((number, dimension), truncation, seed)


def _demo_numpy(number, dimension, truncation, seed):
    """What the demo draws: SciPy's truncnorm(-2, 2) with a RandomState seeded by ``seed``, scaled."""
    from scipy.stats import truncnorm

    values = truncnorm(-DEMO_BOUND, DEMO_BOUND).rvs((number, dimension), random_state=np.random.RandomState(seed))
    return values * truncation


def _demo_sample(demo_truncated_z, number, dimension, truncation, seed):
    values = demo_truncated_z(number, dimension, truncation, seed)
    if values is None:
        raise Mistake("demo_truncated_z returned None.", "end it with `return z`.")
    array = np.asarray(keras.ops.convert_to_numpy(values))
    if array.shape != (number, dimension):
        raise Mistake(
            f"demo_truncated_z({number}, {dimension}, ...) should return shape ({number}, {dimension}); "
            f"got {array.shape}.",
            "size=(number, dimension), as the demo's truncnorm.rvs(-2, 2, size=(batch_size, dim_z), ...).",
        )
    return array


_DEMO_HINT = (
    "as the demo: truncation * scipy.stats.truncnorm.rvs(-2, 2, size=(number, dimension), "
    "random_state=np.random.RandomState(seed)), as float32."
)


def check_demo_truncated_z(demo_truncated_z, verbose=True):
    """Checks ``demo_truncated_z(number, dimension, truncation, seed)`` against the TF Hub demo's numbers.

    Catches: the paper's resampling (values within truncation instead of
    2 x truncation), clipping, truncnorm(-2, 2) not multiplied by the
    truncation, values beyond 2 x truncation (a scaled normal), the seed not
    used or not used the demo's way, seed 0 taken for no seed, float64 values.
    """

    def body(demo_truncated_z, report):
        z = _demo_sample(demo_truncated_z, 4, 6, 0.5, 0)
        if not np.allclose(z, _demo_numpy(4, 6, 0.5, 0), atol=1e-6, rtol=1e-5):
            raise _diagnose_demo(demo_truncated_z, z)
        report.ok(
            "seed 0, truncation 0.5: the demo's numbers (truncnorm(-2, 2) from RandomState(0), times 0.5)."
        )
        if z.dtype != np.float32:
            raise Mistake(
                f"the values are the demo's, but {z.dtype}; the generator takes float32.",
                "return (truncation * values).astype('float32').",
            )
        report.ok("returns float32 values of shape (number, dimension).")
        other = _demo_sample(demo_truncated_z, 3, 5, 0.9, 42)
        if not np.allclose(other, _demo_numpy(3, 5, 0.9, 42), atol=1e-6, rtol=1e-5):
            # Seed 0 can match by chance when NumPy's global generator was just seeded with 0.
            if not np.array_equal(other, _demo_sample(demo_truncated_z, 3, 5, 0.9, 42)):
                raise Mistake(
                    "two calls with the same seed gave different values: the seed is not used.",
                    "pass random_state=np.random.RandomState(seed) to truncnorm.rvs, so that each noise seed "
                    "gives the demo's z.",
                )
            raise Mistake(
                "seed 0 gives the demo's numbers, but demo_truncated_z(3, 5, 0.9, 42) does not: "
                f"expected {np.round(_demo_numpy(3, 5, 0.9, 42)[0], 4).tolist()} in row 0, got "
                f"{np.round(other[0], 4).tolist()}.",
                "use the arguments, nothing fixed: " + _DEMO_HINT,
            )
        report.ok("seed 42, truncation 0.9, 3 x 5: the demo's numbers too; every |z| <= 2 x truncation.")

    return run_check("demo_truncated_z", demo_truncated_z, body, verbose)


def _diagnose_demo(demo_truncated_z, small):
    """The Mistake that explains why ``demo_truncated_z`` does not give the demo's numbers."""
    number, dimension, truncation, seed = 500, 8, 0.5, 3
    values = _demo_sample(demo_truncated_z, number, dimension, truncation, seed).astype(np.float64)
    again = _demo_sample(demo_truncated_z, number, dimension, truncation, seed).astype(np.float64)
    seed_hint = (
        "pass random_state=np.random.RandomState(seed) to truncnorm.rvs, so that each noise seed gives the "
        "demo's z."
    )
    if not np.array_equal(values, again):
        return Mistake("two calls with the same seed gave different values: the seed is not used.", seed_hint)
    if not np.array_equal(small, _demo_sample(demo_truncated_z, 4, 6, 0.5, 0)):
        return Mistake(
            "seed 3 gives the same values twice but seed 0 does not: seed 0 is taken for no seed "
            "(`if seed:` is False for 0).",
            "as the demo: `None if seed is None else np.random.RandomState(seed)`.",
        )
    right = _demo_numpy(number, dimension, truncation, seed)
    if np.allclose(values, right / truncation, atol=1e-6, rtol=1e-5):
        return Mistake(
            f"with truncation={truncation} your values reach +-{np.abs(values).max():.3g}: they are the demo's "
            "truncnorm(-2, 2) sample, not multiplied by the truncation.",
            _DEMO_HINT,
        )
    largest = float(np.abs(values).max())
    for bound in (DEMO_BOUND * truncation, truncation, DEMO_BOUND):
        piled = float(np.mean(np.abs(np.abs(values) - bound) <= 1e-6 * bound))
        if piled > 0.005:
            return Mistake(
                f"{piled:.1%} of your values are exactly +-{bound:g}: you clipped a normal sample. The demo "
                "draws from the truncated normal, whose values stop short of the bounds.",
                _DEMO_HINT,
            )
    if largest <= truncation * (1 + 1e-6):
        return Mistake(
            f"with truncation={truncation} all your values are within +-{truncation} (up to {largest:.3g}): that "
            "is the paper's truncation by resampling, a threshold. The demo's truncation is a scale: "
            f"truncnorm(-2, 2) * truncation reaches 2 x truncation = {DEMO_BOUND * truncation:g}.",
            _DEMO_HINT,
        )
    if largest > DEMO_BOUND * truncation * (1 + 1e-6):
        if largest <= DEMO_BOUND * (1 + 1e-6):
            return Mistake(
                f"with truncation={truncation} your values reach {largest:.3g}: bounded by +-2 but not scaled; "
                f"the demo multiplies its truncnorm(-2, 2) sample by the truncation (bound "
                f"{DEMO_BOUND * truncation:g}).",
                _DEMO_HINT,
            )
        return Mistake(
            f"with truncation={truncation} your values reach {largest:.3g}, beyond 2 x truncation = "
            f"{DEMO_BOUND * truncation:g}: not a truncnorm(-2, 2) sample (a normal sample times the truncation?).",
            _DEMO_HINT,
        )
    right_std = _truncated_normal_std(DEMO_BOUND) * truncation
    if abs(values.std() - right_std) <= 0.05 * right_std:
        return Mistake(
            "your values have the demo's distribution (truncnorm(-2, 2) * truncation) but not its numbers for "
            "the same seed: the seed is not used the demo's way.",
            seed_hint,
        )
    return Mistake(
        f"your values stay within 2 x truncation but their standard deviation is {values.std():.3g}; "
        f"truncnorm(-2, 2) * {truncation} has {right_std:.3g} (a uniform sample would have "
        f"{DEMO_BOUND * truncation / math.sqrt(3):.3g}).",
        _DEMO_HINT,
    )
