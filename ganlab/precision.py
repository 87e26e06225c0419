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
import os

import keras

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# Set to 1, a lesson's set-up cell takes its GPU branch on any machine: the tests
# run the notebooks as a Colab T4 would, on a CPU (``lesson_policy``).
SIMULATE_GPU_VARIABLE = "GANLAB_SIMULATE_GPU"


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


def has_tensor_cores():
    """Whether TensorFlow sees a GPU of compute capability 7.0 or more (tensor cores: a Colab T4 is 7.5)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return False
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    return bool(capability) and tuple(capability) >= (7, 0)


def lesson_policy():
    """The dtype policy lessons 01 and 02 train in: ``"mixed_float16"`` on a GPU with tensor cores, else ``"float32"``.

    Mixed precision (float16 arithmetic, float32 weights) roughly doubles the
    speed of a GPU with tensor cores; on a CPU, which emulates float16, it only
    slows things down. ``GANLAB_SIMULATE_GPU=1`` chooses the GPU's policy on
    any machine, so that the Colab path can be tested where there is no GPU.

    Example (a lesson's set-up cell):

    >>> keras.mixed_precision.set_global_policy(lesson_policy())
    """
    simulate = os.environ.get(SIMULATE_GPU_VARIABLE, "").strip()
    if simulate not in ("", "0", "1"):
        raise ValueError(f"{SIMULATE_GPU_VARIABLE} must be 0 or 1. Received: {SIMULATE_GPU_VARIABLE}={simulate!r}")
    return "mixed_float16" if simulate == "1" or has_tensor_cores() else "float32"


def needs_loss_scaling(*networks):
    """Whether any of ``networks`` computes in float16, whose gradients need loss scaling.

    bfloat16 keeps float32's range of exponents, so its small gradients do not
    round to zero: no loss scaling (as Keras' own ``mixed_bfloat16`` policy).
    """
    return any(network.compute_dtype == "float16" for network in networks)


__all__ = [
    "PRECISIONS",
    "SIMULATE_GPU_VARIABLE",
    "check_precision",
    "has_tensor_cores",
    "lesson_policy",
    "needs_loss_scaling",
    "precision_scope",
]
