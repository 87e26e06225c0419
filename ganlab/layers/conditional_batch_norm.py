"""Conditional batch normalization (de Vries et al. 2017; Dumoulin et al. 2017), as in BigGAN."""

from __future__ import annotations

import numbers

import keras
from keras import ops

from ganlab.layers.spectral_norm import spectral_normalized


@keras.saving.register_keras_serializable(package="ganlab")
class ConditionalBatchNorm(keras.layers.Layer):
    """Batch normalization whose gain and bias are computed from a conditioning vector.

    ```
    x_hat = (x - mean_batch(x)) / sqrt(var_batch(x) + epsilon)   # per channel, no affine of its own
    gain  = 1 + cond @ W_gain                                    # (N, C)
    bias  = cond @ W_bias                                        # (N, C)
    y[n, h, w, c] = x_hat[n, h, w, c] * gain[n, c] + bias[n, c]
    ```

    Each image gets its own per-channel gain and bias, linear in its
    conditioning vector ``cond``. In BigGAN ``cond`` is the shared class
    embedding concatenated with one chunk of z (``ganlab.models.biggan``), so
    the class and the latent steer every block of the generator through these
    two matrices. The ``1 +`` makes a zero ``W_gain`` a gain of 1, so the
    layer can start as plain batch norm (``kernel_initializer="zeros"``). As
    in BigGAN-PyTorch's ``ccbn`` with ``which_linear=SNLinear``, the two
    linear layers have no bias, are orthogonally initialized (its
    ``G_init="ortho"``) and spectrally normalized (``ganlab.layers.SpectralNorm``:
    the forward pass uses ``W / sigma(W)``, so each gain and bias is a
    1-Lipschitz function of ``cond``, and the gradient reaches ``W``
    through sigma too: the network can learn how strongly each class moves
    each channel, within that bound).

    The normalization is a ``keras.layers.BatchNormalization(center=False,
    scale=False)``: batch statistics in training, moving averages
    (``momentum``) at inference.

    Args:
        momentum: of the moving mean and variance, in [0, 1) (0.9: PyTorch's
            momentum 0.1 in BigGAN-PyTorch, Keras counts the other way).
        epsilon: added to the variance (1e-5, BigGAN-PyTorch's ``BN_eps``).
        spectral_norm: spectrally normalize the gain and bias kernels.
        kernel_initializer: of both kernels: orthogonal as BigGAN-PyTorch;
            zeros start as plain batch norm.

    Call arguments:
        inputs: ``[x, cond]``: feature maps ``(N, H, W, C)`` and conditioning
            vectors ``(N, D)``.
        training: batch statistics (and moving-average updates) in batch norm,
            and power iterations in spectral norm.
        batch_statistics: whether batch norm uses the batch's statistics and
            updates its moving ones; ``training`` when None. BigGAN's
            "standing statistics" pass ``training=False, batch_statistics=True``:
            batch norm measures the batches while spectral norm leaves the
            kernels as they are.

    Returns:
        A tensor of the shape of ``x``.

    Example:

    >>> layer = ConditionalBatchNorm()
    >>> x = np.random.default_rng(0).normal(size=(4, 2, 2, 3)).astype("float32")
    >>> cond = np.ones((4, 5), "float32")
    >>> tuple(layer([x, cond], training=True).shape)
    (4, 2, 2, 3)

    Reference:
        de Vries et al., "Modulating early visual processing by language",
        NeurIPS 2017; Brock et al., "Large Scale GAN Training for High Fidelity
        Natural Image Synthesis", ICLR 2019, section 3 and appendix B;
        ``ccbn`` in ``ajbrock/BigGAN-PyTorch/layers.py``.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, spectral_norm=True, kernel_initializer="orthogonal", **kwargs):
        super().__init__(**kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon!r}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.spectral_norm = bool(spectral_norm)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        x_shape, cond_shape = _check_input_shapes(input_shape)
        channels = x_shape[-1]
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, center=False, scale=False, name="batch_norm"
        )
        self.batch_norm.build(x_shape)

        def linear(name):
            dense = keras.layers.Dense(channels, use_bias=False, kernel_initializer=self.kernel_initializer, name=name)
            layer = spectral_normalized(dense, self.spectral_norm)
            layer.build(cond_shape)
            return layer

        self.gain = linear("gain")
        self.bias = linear("bias")

    def call(self, inputs, training=False, batch_statistics=None):
        x, cond = inputs
        _check_input_shapes([tuple(x.shape), tuple(cond.shape)])
        if batch_statistics is None:
            batch_statistics = training
        normalized = self.batch_norm(x, training=batch_statistics)  # [N, H, W, C]
        gain = 1.0 + self.gain(cond, training=training)  # [N, C]
        bias = self.bias(cond, training=training)  # [N, C]
        gain = ops.cast(gain[:, None, None, :], normalized.dtype)  # [N, 1, 1, C]
        bias = ops.cast(bias[:, None, None, :], normalized.dtype)
        return normalized * gain + bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "spectral_norm": self.spectral_norm,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def _check_input_shapes(input_shape):
    """The shapes of ``x`` and ``cond`` as tuples, or a ValueError that says what is wrong."""
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) != 2
        or not all(isinstance(shape, (list, tuple)) for shape in input_shape)
    ):
        raise ValueError(
            "ConditionalBatchNorm is called on [x, cond]: feature maps (N, H, W, C) and conditioning "
            f"vectors (N, D). Received: input_shape={input_shape}"
        )
    x_shape, cond_shape = (tuple(shape) for shape in input_shape)
    if len(x_shape) != 4 or x_shape[-1] is None:
        raise ValueError(
            f"x must be feature maps (N, H, W, C) with a known number of channels. Received: x.shape={x_shape}"
        )
    if len(cond_shape) != 2 or cond_shape[-1] is None:
        raise ValueError(
            f"cond must be conditioning vectors (N, D) with a known D. Received: cond.shape={cond_shape}"
        )
    if x_shape[0] is not None and cond_shape[0] is not None and x_shape[0] != cond_shape[0]:
        raise ValueError(
            "x and cond must hold the same number of examples. "
            f"Received: x.shape={x_shape}, cond.shape={cond_shape}"
        )
    return x_shape, cond_shape
