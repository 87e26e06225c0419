"""Orthogonal regularization, BigGAN's variant (Brock et al. 2019, section 3.1).

BigGAN keeps the generator's weights near orthogonal so that it stays smooth
in z; then the truncation trick (sampling z from a narrower distribution,
``ganlab.sampling.truncated_normal``) trades variety for fidelity gracefully
instead of producing artifacts. The original orthogonal regularization
``||W^T W - I||_F^2`` (Brock et al. 2017) also forces every filter to unit
norm, which the paper found too limiting; BigGAN's variant penalizes only the
*cosine-like* overlaps between different filters and leaves their norms free:

```
R_beta(W) = beta * || W^T W ⊙ (1 - I) ||_F^2
```
"""

from __future__ import annotations

import numbers

from keras import ops


def orthogonal_regularization(kernel, strength=1e-4):
    """BigGAN's off-diagonal orthogonal regularization of one kernel.

    ```
    W = reshape(kernel, (fan_in, out))        # a conv kernel (kh, kw, in, out) -> (kh * kw * in, out)
    R = strength * sum_{i != j} (W^T W)[i, j]^2
    ```

    ``W^T W`` is the Gram matrix of the ``out`` filters (each filter a column
    of W): its diagonal holds their squared norms, which are left free; the
    off-diagonal entries are the overlaps between different filters, which
    are pushed to 0. BigGAN-PyTorch's ``utils.ortho`` uses rows of the
    PyTorch ``(out, in)`` weight, ``W W^T`` over the outputs: the same
    ``(out, out)`` Gram matrix. It adds the gradient ``2 (W W^T ⊙ (1 - I)) W``
    directly, which is the gradient of *half* this value; with the same
    ``strength`` this penalty pushes twice as hard.

    This is not ``keras.regularizers.OrthogonalRegularizer``: that one is
    ``factor * mean over pairs of |cosine|`` of the L2-normalized rows (or
    columns), absolute values instead of squares, rank-2 kernels only, and
    blind to the filters' norms: a different formula.

    Args:
        kernel: a weight with two or more axes, the output axis last (Keras'
            layout for ``Dense`` and ``Conv2D`` kernels).
        strength: beta, 1e-4 in the paper; non-negative.

    Returns:
        A float32 scalar.

    Example:

    >>> float(orthogonal_regularization(np.array([[1.0, 1.0], [0.0, 1.0]], "float32"), strength=1.0))  # 2 * 1^2
    2.0

    Reference:
        Brock et al., "Large Scale GAN Training for High Fidelity Natural
        Image Synthesis", ICLR 2019, section 3.1, equation 2; ``ortho`` in
        ``ajbrock/BigGAN-PyTorch/utils.py``.
    """
    strength = _check_strength(strength)
    shape = tuple(kernel.shape)
    if len(shape) < 2:
        raise ValueError(
            "orthogonal_regularization needs a kernel with two or more axes (fan_in ..., out). "
            f"Received: kernel.shape={shape}"
        )
    weights = ops.reshape(ops.cast(kernel, "float32"), (-1, shape[-1]))  # [fan_in, out]
    gram = ops.matmul(ops.transpose(weights), weights)  # [out, out]
    off_diagonal = gram * (1.0 - ops.eye(shape[-1], dtype="float32"))
    return strength * ops.sum(ops.square(off_diagonal))


def generator_orthogonal_penalty(generator, strength=1e-4):
    """The sum of ``orthogonal_regularization`` over a generator's kernels, as BigGAN applies it.

    ```
    penalty = sum over trainable weights W of G with two or more axes, except the shared embedding: R_beta(W)
    ```

    Counted: every dense and convolution kernel (spectral norm's ``vector_u``
    is not trainable and is left out). Not counted: the shared class
    embedding (``generator.shared_embedding``, when the generator has one;
    BigGAN-PyTorch passes it as the ``blacklist``), and the gains, biases and
    scalars, which have fewer than two axes.

    Args:
        generator: a Keras model, such as ``ganlab.models.BigGANGenerator``.
        strength: beta, 1e-4 in the paper; non-negative.

    Returns:
        A float32 scalar (0 when strength is 0).
    """
    strength = _check_strength(strength)
    excluded = set()
    embedding = getattr(generator, "shared_embedding", None)
    if embedding is not None:
        excluded = {id(weight) for weight in embedding.weights}
    kernels = [
        weight
        for weight in generator.trainable_weights
        if len(weight.shape) >= 2 and id(weight) not in excluded
    ]
    penalty = ops.convert_to_tensor(0.0, dtype="float32")
    if strength == 0.0:
        return penalty
    for kernel in kernels:
        penalty = penalty + orthogonal_regularization(kernel, strength)
    return penalty


def _check_strength(strength):
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not strength >= 0:
        raise ValueError(f"strength must be a non-negative number. Received: strength={strength!r}")
    return float(strength)
