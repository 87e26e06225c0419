"""Minibatch standard deviation (Karras et al. 2018, section 3)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganlab")
class MinibatchStdDev(keras.layers.Layer):
    """Appends one feature map: how much the images of a group differ, on average.

    The batch of ``N`` images is split into ``K = N / M`` groups of
    ``M = min(group_size, N)`` images; each image gets its group's number as
    one extra channel:

    ```
    y = reshape(x, [M, K, H, W, C])          image n is y[n // K, n mod K]: it is in group n mod K
    y = y - mean(y, axis=0)                  subtract each group's mean image
    s = sqrt(mean(y^2, axis=0) + 1e-8)       [K, H, W, C]: the standard deviation of each feature
    s = mean(s, axis=(H, W, C))              [K]: one number per group
    out = concat([x, s[n mod K] as an H x W map], channels)      [N, H, W, C + 1]
    ```

    The grouping follows the official code, which reshapes the batch with the
    group axis *first* (``[G, -1, ...]``, its G is our M): group 0 is images 0, K, 2K, ...
    (strided groups, not consecutive images). With N = 8 and M = 4, images
    0, 2, 4, 6 form one group and 1, 3, 5, 7 the other.

    Why: a generator that has collapsed to a few images produces batches whose
    images hardly differ, so this statistic is near 0 for its fakes and not for
    real batches. D can see that, and G is pushed towards variety. The
    discriminator uses the layer once, at the start of its 4x4 block.

    The statistic is computed in float32 (as in the official code) and cast
    back, so it stays accurate under mixed precision.

    Args:
        group_size: images per group (4, the official code's default; the
            paper's text takes the whole minibatch). The batch size must be
            divisible by ``min(group_size, N)``; a batch smaller than
            ``group_size`` is one group.

    Call arguments:
        inputs: NHWC feature maps ``(N, H, W, C)``.

    Returns:
        ``(N, H, W, C + 1)``: the inputs with the statistic as their last channel.

    Raises:
        ValueError: when the batch size is known while the layer is called
            (eager calls, and traced functions with a fixed batch size) and
            ``min(group_size, N)`` does not divide it.
        tf.errors.InvalidArgumentError: the same check when the batch size is
            only known at run time (a ``tf.function`` traced with a ``None``
            batch dimension). It is a TensorFlow assertion that runs before the
            reshape, so its message names the batch size and the group size,
            instead of a reshape error about numbers of values.

    Example:

    >>> images = np.random.normal(size=(8, 4, 4, 16)).astype("float32")
    >>> tuple(MinibatchStdDev(group_size=4)(images).shape)
    (8, 4, 4, 17)

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018; ``minibatch_stddev_layer`` in
        ``tkarras/progressive_growing_of_gans/networks.py`` (NCHW there, NHWC here).
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"group_size must be a positive integer. Received: group_size={group_size!r}")
        self.group_size = group_size

    def call(self, inputs):
        batch_size = inputs.shape[0]
        if batch_size is not None:
            group_size = min(self.group_size, batch_size)
            if batch_size % group_size != 0:
                raise ValueError(
                    "MinibatchStdDev needs a batch size divisible by its group size, min(group_size, batch size). "
                    f"Received: batch_size={batch_size}, group_size={self.group_size}"
                )
        else:
            inputs, group_size = self._checked_dynamic_group_size(inputs)
        height, width, channels = (ops.shape(inputs)[axis] for axis in (1, 2, 3))

        y = ops.reshape(inputs, (group_size, -1, height, width, channels))  # [M, K, H, W, C]
        y = ops.cast(y, "float32")  # [M, K, H, W, C]
        y = y - ops.mean(y, axis=0, keepdims=True)  # [M, K, H, W, C]: minus the group's mean image
        y = ops.mean(ops.square(y), axis=0)  # [K, H, W, C]: the variance over the group
        y = ops.sqrt(y + 1e-8)  # [K, H, W, C]: the standard deviation over the group
        y = ops.mean(y, axis=(1, 2, 3), keepdims=True)  # [K, 1, 1, 1]: averaged over pixels and channels
        y = ops.cast(y, inputs.dtype)  # [K, 1, 1, 1]
        # Tiling the group axis M times repeats the K values as a whole block,
        # so row n is value n mod K: each image gets its own group's value.
        y = ops.tile(y, (group_size, height, width, 1))  # [N, H, W, 1]
        return ops.concatenate([inputs, y], axis=-1)  # [N, H, W, C + 1]

    def _checked_dynamic_group_size(self, inputs):
        """The group size as a tensor, with a run-time check that it divides the batch.

        Only TensorFlow traces graphs with an unknown batch dimension (JAX and
        PyTorch always know the shapes), so TensorFlow is imported here rather
        than at the top of the module.
        """
        import tensorflow as tf

        batch_size = ops.shape(inputs)[0]
        group_size = ops.minimum(self.group_size, batch_size)
        divisible = tf.debugging.Assert(
            ops.equal(batch_size % group_size, 0),
            [
                "MinibatchStdDev needs a batch size divisible by its group size, min(group_size, batch size). "
                "Received: batch_size=",
                batch_size,
                "group_size=",
                self.group_size,
            ],
        )
        # Inside a tf.function the assertion would otherwise run in any order
        # relative to the reshape, and the reshape's own error could come first.
        with tf.control_dependencies([divisible]):
            inputs = tf.identity(inputs)
        return inputs, group_size

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}
