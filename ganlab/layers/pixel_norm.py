"""Pixel normalization (Karras et al. 2018, section 4.2)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganlab")
class PixelNorm(keras.layers.Layer):
    """Scales the feature vector of each pixel to unit root mean square.

    ```
    b[n, y, x, :] = a[n, y, x, :] / sqrt(mean_c(a[n, y, x, c]^2) + epsilon)
    ```

    The mean is over the channels (the last axis), separately at every pixel
    of every image; a latent batch ``(N, C)`` is normalized row by row. The
    Progressive GAN's generator applies it to the latent vector and after
    every convolution, in place of batch normalization. It learns nothing: it
    only keeps the signal magnitudes in G from escalating while G and D
    compete, and, unlike batch norm, an image's output does not depend on the
    other images of its batch.

    Args:
        epsilon: added under the square root so that an all-zero vector stays
            zero instead of becoming NaN (1e-8, the official value).

    Call arguments:
        inputs: latent vectors ``(N, C)`` or feature maps ``(N, H, W, C)``.

    Returns:
        A tensor of the shape of ``inputs``.

    Example:

    >>> outputs = PixelNorm()(np.array([[3.0, 4.0]], "float32"))  # [3, 4] / sqrt((9 + 16) / 2)
    >>> keras.ops.convert_to_numpy(outputs).round(4)
    array([[0.8485, 1.1314]], dtype=float32)

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018; ``pixel_norm`` in
        ``tkarras/progressive_growing_of_gans/networks.py`` (NCHW there, so
        its channel axis is 1; ours is the last axis).
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        # The factor is computed in float32: under mixed precision, squares above
        # 65504 would overflow float16, and epsilon = 1e-8 would round to 0.
        values = ops.cast(inputs, "float32")
        mean_square = ops.mean(ops.square(values), axis=-1, keepdims=True)  # [N, H, W, 1] or [N, 1]
        return ops.cast(values * ops.rsqrt(mean_square + self.epsilon), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
