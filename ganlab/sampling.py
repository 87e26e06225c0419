"""Latent vectors for sampling: the truncation trick and interpolation.

- ``truncated_normal``: the paper's truncation trick (Brock et al. 2019,
  section 3.1): z ~ N(0, I) with every entry whose magnitude exceeds the
  threshold drawn again. A smaller threshold keeps z near the centre of the
  distribution, where G was trained most: higher fidelity, less variety.
- ``truncnorm_scaled``: what the TF Hub BigGAN demo calls truncation, a
  sample of ``truncnorm(-2, 2)`` *multiplied* by the truncation value (a
  scaled sample, not a threshold), for reproducing that notebook.
- ``interpolate``: a straight line (``linear``) or a great-circle arc
  (``slerp``, White 2016) between two latent vectors or class embeddings.

Everything here is NumPy: latent vectors are drawn on the host, and the same
seed gives the same values on every machine.
"""

from __future__ import annotations

import numbers

import numpy as np


def truncated_normal(shape, truncation, seed=None):
    """Standard normal values, every one within ``[-truncation, truncation]`` by resampling.

    ```
    z ~ N(0, 1) per entry;  while any |z| > truncation: draw those entries again
    ```

    The result follows the normal distribution *conditioned* on
    ``|z| <= truncation``: its density keeps the bell shape inside the interval.
    Clipping would instead pile all the rejected mass onto the two
    thresholds. (BigGAN-PyTorch only approximates the trick by drawing z with
    a smaller variance.)

    Args:
        shape: an int or a tuple, such as ``(number, latent_dim)``.
        truncation: the threshold, a positive number; None for no truncation
            (plain standard normal values).
        seed: an int, None, or a ``numpy.random.Generator``; the same int
            gives the same values.

    Returns:
        A float32 NumPy array of ``shape``.

    Example:

    >>> z = truncated_normal((1000, 16), truncation=0.5, seed=0)
    >>> bool(np.abs(z).max() <= 0.5)
    True

    Reference:
        Brock et al., "Large Scale GAN Training for High Fidelity Natural Image
        Synthesis", ICLR 2019, section 3.1.
    """
    if truncation is not None:
        truncation = _check_positive("truncation", truncation, none_means="no truncation")
    random = np.random.default_rng(seed)
    values = random.standard_normal(shape)
    if truncation is None:
        return values.astype("float32")
    outside = np.abs(values) > truncation
    while outside.any():
        values[outside] = random.standard_normal(int(outside.sum()))
        outside = np.abs(values) > truncation
    return values.astype("float32")


def truncnorm_scaled(shape, truncation, seed=None):
    """The TF Hub BigGAN demo's "truncation": a ``truncnorm(-2, 2)`` sample times ``truncation``.

    ```
    z = truncation * t,   t ~ N(0, 1) truncated to [-2, 2]
    ```

    As ``truncated_z_sample`` in ``biggan_generation_with_tf_hub.ipynb``:
    ``scipy.stats.truncnorm.rvs(-2, 2, size=shape, random_state=RandomState(seed))``.
    Every value lies within ``2 * truncation`` and the spread shrinks with
    ``truncation``: a *scaled* sample, not the paper's resampling threshold
    (``truncated_normal``). The demo's slider goes from 0.02 to 1.

    Args:
        shape: an int or a tuple.
        truncation: the scale, a positive number.
        seed: an int or None (the demo's ``noise_seed``).

    Returns:
        A float32 NumPy array of ``shape``.
    """
    from scipy.stats import truncnorm

    truncation = _check_positive("truncation", truncation)
    state = None if seed is None else np.random.RandomState(seed)
    values = truncnorm.rvs(-2, 2, size=shape, random_state=state)
    return (truncation * values).astype("float32")


def interpolate(a, b, steps, method="linear"):
    """``steps`` points from ``a`` to ``b``, both included.

    ```
    linear:  p(t) = (1 - t) a + t b
    slerp:   p(t) = sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b,
             omega = arccos(a . b / (|a| |b|))            per vector (the last axis)
    t = 0, 1 / (steps - 1), ..., 1
    ```

    A straight line between two Gaussian latent vectors passes near the
    origin, where vectors are shorter than any z the generator was trained
    on; the spherical interpolation (``slerp``) follows the arc instead, and
    between two unit vectors every point has norm 1. Where a pair of vectors
    is (anti)parallel or zero, sin(omega) is 0 and the formula is undefined:
    that pair is interpolated linearly.

    Args:
        a, b: arrays of the same shape, such as two latent vectors ``(D,)`` or
            batches ``(N, D)`` (one interpolation per row).
        steps: how many points, at least 2.
        method: ``"linear"`` or ``"slerp"``.

    Returns:
        A float32 array ``(steps, *a.shape)``: element 0 is ``a``, the last is ``b``.

    Example:

    >>> interpolate(np.array([0.0, 2.0]), np.array([2.0, 0.0]), steps=3)
    array([[0., 2.],
           [1., 1.],
           [2., 0.]], dtype=float32)
    """
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp'. Received: method={method!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
        raise ValueError(f"steps must be an integer of at least 2 (both ends included). Received: steps={steps!r}")
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape. Received: a.shape={a.shape}, b.shape={b.shape}")
    t = np.linspace(0.0, 1.0, int(steps)).reshape((-1,) + (1,) * a.ndim)  # [steps, 1, ..., 1]
    linear = (1.0 - t) * a + t * b
    if method == "linear":
        return linear.astype("float32")
    if a.ndim == 0:
        raise ValueError("slerp interpolates vectors: a and b need at least one axis. Received: a.shape=()")
    norms = np.linalg.norm(a, axis=-1, keepdims=True) * np.linalg.norm(b, axis=-1, keepdims=True)
    cosine = np.sum(a * b, axis=-1, keepdims=True) / np.where(norms > 0, norms, 1.0)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))  # [..., 1]
    sine = np.sin(omega)
    degenerate = (np.abs(sine) < 1e-6) | (norms == 0)
    safe_sine = np.where(degenerate, 1.0, sine)
    spherical = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / safe_sine
    return np.where(degenerate, linear, spherical).astype("float32")


def _check_positive(name, value, none_means=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        alternative = f", or None for {none_means}" if none_means else ""
        raise ValueError(f"{name} must be a positive number{alternative}. Received: {name}={value!r}")
    return float(value)
