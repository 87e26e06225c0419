"""Self-attention over the pixels of a feature map (SAGAN, Zhang et al. 2019), as in BigGAN."""

from __future__ import annotations

import keras
from keras import ops

from ganlab.layers.spectral_norm import spectral_normalized


@keras.saving.register_keras_serializable(package="ganlab")
class SelfAttention(keras.layers.Layer):
    """Every pixel attends to every (2x2 max-pooled) pixel of its feature map.

    ```
    theta = x @ W_theta                       # (N, H*W, C/8)   1x1 convs, no biases
    phi   = maxpool_2x2(x @ W_phi)            # (N, H*W/4, C/8)
    g     = maxpool_2x2(x @ W_g)              # (N, H*W/4, C/2)
    beta  = softmax(theta @ phi^T, axis=-1)   # (N, H*W, H*W/4): where each pixel looks
    o     = (beta @ g) @ W_o                  # (N, H, W, C)
    y     = x + gamma * o                     # gamma: a learned scalar, 0 at the start
    ```

    Convolutions see only a small neighbourhood; attention lets a pixel draw
    on features anywhere in the image, which helps with structure that spans
    the image (the two ends of a digit's stroke). Since ``gamma`` starts at 0,
    the layer starts as the identity and the network learns how much to use
    it. This is the released SAGAN / BigGAN code (BigGAN-PyTorch's
    ``Attention``), which differs from the SAGAN paper's description: phi and
    g are max-pooled 2x2 (four times fewer keys), g has C/2 channels and
    the output convolution ``o`` maps them back to C.

    Args:
        spectral_norm: wrap the four 1x1 convolutions in
            ``ganlab.layers.SpectralNorm`` (as in BigGAN, in G and D).

    Call arguments:
        inputs: feature maps ``(N, H, W, C)`` with H and W even and C >= 8.
        training: keep the spectral norms' power-iteration vectors (u); at
            inference they are left as they are.

    Returns:
        A tensor of the shape of ``inputs``.

    Example:

    >>> layer = SelfAttention()
    >>> x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32")
    >>> bool(np.allclose(layer(x), x))  # gamma = 0 at the start: the identity
    True

    Reference:
        Zhang et al., "Self-Attention Generative Adversarial Networks", ICML
        2019; ``Attention`` in ``ajbrock/BigGAN-PyTorch/layers.py``.
    """

    def __init__(self, spectral_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None or input_shape[-1] < 8:
            raise ValueError(
                "SelfAttention needs feature maps (N, H, W, C) with at least 8 channels (the keys have C / 8). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        for axis in (1, 2):
            if input_shape[axis] is not None and input_shape[axis] % 2:
                raise ValueError(
                    "SelfAttention max-pools 2x2: height and width must be even. "
                    f"Received: input_shape={tuple(input_shape)}"
                )
        channels = input_shape[-1]
        self.channels = channels

        def conv(filters, name):
            layer = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="orthogonal", name=name)
            return spectral_normalized(layer, self.spectral_norm)

        self.theta = conv(channels // 8, "theta")
        self.phi = conv(channels // 8, "phi")
        self.g = conv(channels // 2, "g")
        self.o = conv(channels, "o")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.o.build((*input_shape[:-1], channels // 2))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, inputs, training=False):
        shape = ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        theta = ops.reshape(self.theta(inputs, training=training), (batch, height * width, -1))  # [N, HW, C/8]
        phi = ops.max_pool(self.phi(inputs, training=training), pool_size=2, strides=2)
        phi = ops.reshape(phi, (batch, (height // 2) * (width // 2), -1))  # [N, HW/4, C/8]
        g = ops.max_pool(self.g(inputs, training=training), pool_size=2, strides=2)
        g = ops.reshape(g, (batch, (height // 2) * (width // 2), -1))  # [N, HW/4, C/2]
        # The softmax in float32: under mixed precision float16 logits lose the small differences.
        logits = ops.matmul(ops.cast(theta, "float32"), ops.transpose(ops.cast(phi, "float32"), (0, 2, 1)))
        attention = ops.cast(ops.softmax(logits, axis=-1), g.dtype)  # [N, HW, HW/4]
        attended = ops.reshape(ops.matmul(attention, g), (batch, height, width, self.channels // 2))  # [N, H, W, C/2]
        output = self.o(attended, training=training)  # [N, H, W, C]
        return inputs + ops.cast(self.gamma, inputs.dtype) * output

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "spectral_norm": self.spectral_norm}
