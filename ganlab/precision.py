"""Mixed precision: which number formats the networks compute in.

Keras names a *dtype policy* per layer: the dtype its variables are stored in
and the dtype it computes in. ganlab offers three (``ganlab train --precision``,
the recipe field ``precision``):

```
policy            variables   computation   loss scaling
float32           float32     float32       no
mixed_float16     float32     float16       yes: float16 gradients of small losses round to 0
mixed_bfloat16    float32     bfloat16      no: bfloat16 has float32's exponent range
```

Mixed precision halves the memory of activations and runs faster where the
hardware has 16-bit units (GPUs with tensor cores, TPUs, CPUs with AMX). What
stays in float32, as Keras' mixed-precision guide recommends: every weight,
the networks' last layers (G's images, D's logits), the losses, and the
numerically delicate statistics (pixel norm, minibatch stddev, spectral
norm's sigma and u, self-attention's softmax).

A layer takes its policy when it is *created*; ``precision_scope`` sets the
global policy while the networks are built and puts the previous one back
afterwards, so one run's precision does not leak into the next.

Reference:
    Micikevicius et al., "Mixed Precision Training", ICLR 2018;
    https://keras.io/api/mixed_precision/
"""

from __future__ import annotations

import contextlib

import keras

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def check_precision(precision):
    """``precision`` if it is one of ``PRECISIONS``; a ``ValueError`` naming them otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision. Expected one of {PRECISIONS}. Received: precision={precision!r}")
    return precision


@contextlib.contextmanager
def precision_scope(precision):
    """Layers created inside this block compute in ``precision``; the previous global policy comes back after.

    Example:

    >>> with precision_scope("mixed_bfloat16"):
    ...     layer = keras.layers.Dense(2)
    >>> layer.compute_dtype, layer.variable_dtype
    ('bfloat16', 'float32')
    """
    check_precision(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def needs_loss_scaling(*networks):
    """Whether any of ``networks`` computes in float16, whose gradients need loss scaling.

    bfloat16 keeps float32's range of exponents, so its small gradients do not
    round to zero: no loss scaling (as Keras' own ``mixed_bfloat16`` policy).
    """
    return any(network.compute_dtype == "float16" for network in networks)


__all__ = ["PRECISIONS", "check_precision", "needs_loss_scaling", "precision_scope"]
