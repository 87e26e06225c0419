"""Spectral normalization as Miyato et al. define it: the forward pass uses W / sigma(W)."""

from __future__ import annotations

import numbers

import keras
from keras import ops

SUPPORTED_LAYERS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Embedding)


@keras.saving.register_keras_serializable(package="ganlab")
class SpectralNorm(keras.layers.Wrapper):
    """A Dense, Conv2D or Embedding layer whose kernel is divided by its largest singular value.

    ```
    W_mat = reshape(W, (fan_in, out))                 # a conv kernel (kh, kw, in, out): fan_in = kh*kw*in
    v     = normalize(u @ W_mat^T)                    # (1, fan_in)   one power iteration,
    u'    = normalize(v @ W_mat)                      # (1, out)      u and v held constant (no gradient)
    sigma = v @ W_mat @ u'^T                          # the largest singular value of W, estimated
    y     = layer(x) computed with W / sigma          # W itself is never changed
    u     <- u'                                       # in training only
    ```

    This is the reparameterization of Miyato et al. (2018) and of
    BigGAN-PyTorch (``layers.SN``): the stored ``W`` is what the optimizer
    updates, and every forward pass divides it by ``sigma``. Because only u
    and v are constants, the gradient flows through ``sigma`` too::

        d(W / sigma) = dW / sigma - (W / sigma^2) * (v^T dW u)

    so the optimizer sees the gradient of the *normalized* network, and the
    spectral norm of the kernel actually used is 1 after enough steps (u
    converges to the top singular vector as training goes on: one iteration
    per step is enough, since W changes little between steps).

    How it differs from ``keras.layers.SpectralNormalization``: Keras' wrapper
    *overwrites* the kernel variable with ``kernel / sigma`` at every
    training call and then runs the layer on it. No gradient flows through
    sigma (the division happened before the gradient tape saw the kernel),
    so training is a gradient step followed by a projection, not the
    paper's reparameterization; a regularizer on the kernel sees normalized
    kernels; an EMA copy of the weights is never renormalized; and an
    ``assign`` to a mirrored kernel inside a ``tf.distribute`` replica is an
    error. Here the only state written is ``u``, one vector per layer,
    which is the same on every replica (it is computed from the same
    weights), so it is created with ``aggregation="only_first_replica"``.

    Args:
        layer: a ``keras.layers.Dense``, ``Conv2D`` or ``Embedding`` (not yet
            called, or built).
        power_iterations: power iterations per call (1 in the paper and in
            BigGAN-PyTorch).
        epsilon: the smallest norm that ``normalize`` divides by (PyTorch's
            ``F.normalize`` default, 1e-12). An all-zero kernel has sigma 0 and
            is used as it is.

    Call arguments:
        inputs: what the wrapped layer takes.
        training: update ``u`` with the power iteration's result. At inference
            the iteration is computed from the stored ``u`` and not kept (as
            BigGAN-PyTorch's ``power_iteration(update=self.training)``).

    Example:

    >>> dense = SpectralNorm(keras.layers.Dense(3))
    >>> y = dense(np.ones((2, 4), "float32"), training=True)
    >>> tuple(y.shape)
    (2, 3)

    Reference:
        Miyato, Kataoka, Koyama and Yoshida, "Spectral Normalization for
        Generative Adversarial Networks", ICLR 2018, section 2.1 and
        algorithm 1; ``SN`` and ``power_iteration`` in
        ``ajbrock/BigGAN-PyTorch/layers.py``.
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, **kwargs):
        if not isinstance(layer, SUPPORTED_LAYERS):
            raise ValueError(
                "SpectralNorm wraps a keras.layers.Dense, Conv2D or Embedding. "
                f"Received: layer={type(layer).__name__}"
            )
        if isinstance(layer, keras.layers.Conv2D) and layer.groups != 1:
            raise ValueError(f"SpectralNorm does not support grouped convolutions. Received: groups={layer.groups}")
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, numbers.Integral) or power_iterations < 1:
            raise ValueError(f"power_iterations must be a positive integer. Received: power_iterations={power_iterations!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"epsilon must be a positive number. Received: epsilon={epsilon!r}")
        super().__init__(layer, **kwargs)
        self.power_iterations = int(power_iterations)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        outputs = self.kernel.shape[-1]
        # N(0, 1) as BigGAN-PyTorch's torch.randn; only its direction matters.
        self.u = self.add_weight(
            name="u",
            shape=(1, outputs),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            aggregation="only_first_replica",
        )
        self.built = True

    @property
    def kernel(self):
        """The wrapped layer's own weight matrix (``embeddings`` for an Embedding): W, never changed here."""
        return self.layer.embeddings if isinstance(self.layer, keras.layers.Embedding) else self.layer.kernel

    def power_iteration(self):
        """``(sigma, u)``: the estimate of W's largest singular value and the new u, both without gradient to u, v.

        sigma is differentiable with respect to W (``sigma = v W_mat u^T``).
        """
        kernel = _read_in_float32(self.kernel)
        weights = ops.reshape(kernel, (-1, kernel.shape[-1]))  # [fan_in, out]
        u = _read_in_float32(self.u)  # [1, out]
        for _ in range(self.power_iterations):
            v = self._normalize(ops.matmul(u, ops.transpose(weights)))  # [1, fan_in]
            u = self._normalize(ops.matmul(v, weights))  # [1, out]
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.matmul(ops.matmul(v, weights), ops.transpose(u))[0, 0]
        return sigma, u

    def normalized_kernel(self, training=False):
        """``W / sigma(W)``, in float32; in training also keeps the new u."""
        sigma, u = self.power_iteration()
        if training:
            self.u.assign(u)  # float32, as u is stored (not the compute dtype)
        # An all-zero kernel has sigma 0: use it as it is instead of dividing 0 by 0.
        sigma = ops.where(sigma > self.epsilon, sigma, ops.ones_like(sigma))
        return _read_in_float32(self.kernel) / sigma

    def call(self, inputs, training=False):
        layer = self.layer
        kernel = ops.cast(self.normalized_kernel(training=training), layer.compute_dtype)
        if isinstance(layer, keras.layers.Embedding):
            return ops.take(kernel, ops.cast(inputs, "int32"), axis=0)
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
        else:
            outputs = ops.conv(
                inputs, kernel, strides=layer.strides, padding=layer.padding,
                data_format=layer.data_format, dilation_rate=layer.dilation_rate,
            )
        if layer.use_bias:
            outputs = ops.add(outputs, ops.cast(layer.bias, layer.compute_dtype))
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def _normalize(self, vector):
        """``vector / max(||vector||, epsilon)``, as PyTorch's ``F.normalize``."""
        return vector / ops.maximum(ops.sqrt(ops.sum(ops.square(vector))), self.epsilon)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations, "epsilon": self.epsilon}


def _read_in_float32(variable):
    """The value of a float32 variable, at full precision even inside a mixed-precision call.

    Under a ``mixed_float16`` or ``mixed_bfloat16`` policy Keras casts every
    variable read inside a layer's call to the compute dtype ("autocasting").
    Spectral norm needs W and u at full precision: sigma is a sum over the
    whole kernel, and u carries from step to step. Keras has no public switch
    for one read, so this clears its autocast scope, as ``Layer.__call__``
    does for layers built with ``autocast=False``.
    """
    from keras.src.backend import AutocastScope

    with AutocastScope(None):
        return ops.cast(ops.convert_to_tensor(variable), "float32")


def spectral_normalized(layer, enabled=True, dtype=None):
    """``layer`` wrapped in ``SpectralNorm`` and named after it (``conv_0`` -> ``conv_0_spectral_norm``), or as it is.

    ``dtype``: the wrapper's dtype policy (give it the wrapped layer's, such as
    ``"float32"`` for an output layer under mixed precision); the global policy when None.
    """
    return SpectralNorm(layer, name=f"{layer.name}_spectral_norm", dtype=dtype) if enabled else layer
