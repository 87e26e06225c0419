"""Spectral normalization in plain NumPy, the reference of the SpectralNorm tests.

One power iteration from a given u, as BigGAN-PyTorch's ``power_iteration``
(``layers.py``) and Miyato et al.'s algorithm 1, on the kernel reshaped to
``(fan_in, out)``.
"""

import numpy as np


def numpy_power_iteration(kernel, u, iterations=1):
    """``(sigma, u, v)`` for ``kernel`` of any shape ``(..., out)`` from ``u`` ``(1, out)``."""
    weights = np.asarray(kernel, dtype="float64").reshape(-1, np.shape(kernel)[-1])  # [fan_in, out]
    u = np.asarray(u, dtype="float64")
    for _ in range(iterations):
        v = u @ weights.T
        v = v / max(np.linalg.norm(v), 1e-12)
        u = v @ weights
        u = u / max(np.linalg.norm(u), 1e-12)
    sigma = float((v @ weights @ u.T)[0, 0])
    return sigma, u, v


def numpy_spectral_normalized(kernel, u, iterations=1):
    """``kernel / sigma`` with sigma from ``numpy_power_iteration`` (the kernel as it is when sigma is 0)."""
    sigma, _, _ = numpy_power_iteration(kernel, u, iterations)
    return np.asarray(kernel, dtype="float64") / (sigma if sigma > 1e-12 else 1.0)
