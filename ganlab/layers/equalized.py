"""The equalized learning rate (Karras et al. 2018, section 4.1): a dense and a 2D convolution layer.

Both layers store weights drawn from N(0, 1) and multiply them by He's constant
``gain / sqrt(fan_in)`` in every forward pass:

```
w_effective = w_stored * gain / sqrt(fan_in),    w_stored ~ N(0, 1),  bias = 0 at the start
```

At the start this computes exactly what a He-initialized layer computes. The
difference is in how the weights learn. Adam divides each gradient by its own
running magnitude, so every stored weight moves by about the learning rate per
step, whatever its layer. With He initialization the scale lives inside the
stored weights: a layer with a large fan-in has small weights, and the same
step changes them by a larger fraction than in a layer with a small fan-in.
With the scale applied at run time, every stored weight is of size 1, the
step changes it by the same fraction in every layer, and the effective weights
(stored weights times a constant) change by that same fraction too: every layer
learns at the same relative speed. Scaling the initial weights once, at
initialization, would not do this; the scale must stay in the forward pass.
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops


# How EqualizedConv2D can resample: not at all, 2x nearest upsampling before, 2x2 average pooling after.
RESAMPLINGS = (None, "up", "down")


def box_summed_kernel(kernel):
    """The (k+1) x (k+1) kernel that sums a (k, k, in, out) ``kernel``'s four one-pixel shifts.

    The official code's ``tf.add_n([w[1:, 1:], w[:-1, 1:], w[1:, :-1], w[:-1, :-1]])``
    on the kernel padded by one pixel on every side (``EqualizedConv2D``, ``resample``).
    """
    padded = ops.pad(kernel, [[1, 1], [1, 1], [0, 0], [0, 0]])
    return padded[1:, 1:] + padded[:-1, 1:] + padded[1:, :-1] + padded[:-1, :-1]


def _check_gain(gain):
    if isinstance(gain, bool) or not (isinstance(gain, numbers.Real) and gain > 0):
        raise ValueError(f"gain must be positive. Received: gain={gain!r}")
    return float(gain)


def _check_positive_integer(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def _check_known_channels(layer, input_shape):
    if input_shape[-1] is None:
        raise ValueError(
            f"{type(layer).__name__} needs the size of the last input axis to build its kernel. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    return input_shape[-1]


@keras.saving.register_keras_serializable(package="ganlab")
class EqualizedDense(keras.layers.Layer):
    """A dense layer with the equalized learning rate.

    ```
    y = x @ (W * gain / sqrt(fan_in)) + b,    W ~ N(0, 1), b = 0 at the start, fan_in = x.shape[-1]
    ```

    The stored kernel ``W`` stays a N(0, 1) draw; the constant
    ``self.scale = gain / sqrt(fan_in)`` is applied in every call. See the
    module docstring for why this equalizes the learning speed of the layers
    under Adam.

    Args:
        units: the number of output features.
        gain: sqrt(2) (the default) for layers followed by a (leaky) ReLU;
            1 for linear outputs such as D's score. The official G's first
            layer, from the latent, uses sqrt(2) / 4.
        use_bias: whether to add a bias (starting at 0).

    Call arguments:
        inputs: ``(N, fan_in)``.

    Returns:
        ``(N, units)``.

    Example:

    >>> layer = EqualizedDense(16)
    >>> tuple(layer(np.ones((2, 64), "float32")).shape)
    (2, 16)
    >>> round(layer.scale, 4)  # sqrt(2) / sqrt(64)
    0.1768

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 4.1; ``dense`` and
        ``get_weight(..., use_wscale=True)`` in
        ``tkarras/progressive_growing_of_gans/networks.py``.
    """

    def __init__(self, units, gain=math.sqrt(2), use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_positive_integer("units", units)
        self.gain = _check_gain(gain)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = _check_known_channels(self, input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(mean=0.0, stddev=1.0),
        )
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        else:
            self.bias = None
        # He's constant: a Python number, applied in every call, never folded into the stored kernel.
        self.scale = self.gain / math.sqrt(fan_in)

    def call(self, inputs):
        outputs = ops.matmul(inputs, self.kernel * self.scale)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="ganlab")
class EqualizedConv2D(keras.layers.Layer):
    """A 2D convolution (NHWC) with the equalized learning rate, optionally fused with a 2x resampling.

    ```
    y = conv2d(x, W * gain / sqrt(fan_in)) + b,    W ~ N(0, 1), b = 0 at the start,
                                                   fan_in = kernel_size * kernel_size * in_channels
    ```

    The fan-in is the number of inputs that one output value sums over: a
    ``kernel_size x kernel_size`` window across all input channels. The stored
    kernel stays a N(0, 1) draw; ``self.scale = gain / sqrt(fan_in)`` is applied
    in every call (see the module docstring for why).

    ``resample`` fuses the Progressive GAN's 2x resampling into the
    convolution, as the official code does by default (``fused_scale=True``:
    ``upscale2d_conv2d`` in G, ``conv2d_downscale2d`` in D). The result is the
    same as the separate layers, up to float round-off, for the same stored
    kernel; only the cost changes:

    ```
    "up":    conv(upsample_nearest_2x(x), K)  = conv_transpose(x, box(flip(K)), stride 2)
    "down":  average_pool_2x2(conv(x, K))    = conv(x, box(K) / 4, stride 2)
    box(K) = the (k+1) x (k+1) sum of K's four one-pixel shifts
    ```

    A 3x3 window over a nearest-upsampled image sees each input pixel through
    one to four of its taps; ``box`` adds those taps up, so the convolution can
    read the small image directly. Likewise, the mean of a 2x2 group of 3x3
    windows is one 4x4 window with the summed taps, evaluated at every other
    pixel. Both compute 16 products per output pixel at half the resolution
    instead of 9 at the full one: 4/9 of the multiply-adds (and the
    upsampled image is never made). The flip is there because a transposed
    convolution applies its kernel mirrored (it is the gradient of a
    convolution).

    Args:
        filters: the number of output channels.
        kernel_size: an odd integer, the height and width of the window (3 in
            the blocks, 1 for ``to_rgb`` / ``from_rgb``). Odd, as in the
            official code, so that ``"same"`` padding is symmetric and the
            image does not shift by half a pixel.
        gain: sqrt(2) (the default) before a leaky ReLU; 1 for ``to_rgb``.
        padding: ``"same"`` (the official code) or ``"valid"``.
        use_bias: whether to add a bias per output channel (starting at 0).
        resample: None (stride 1); ``"up"``: nearest-neighbour 2x upsampling
            first; ``"down"``: a 2x2 average pool after. Both need ``"same"``
            padding. The stored kernel and ``fan_in`` are those of the plain
            convolution, so weights move freely between the fused and the
            separate form.

    Call arguments:
        inputs: ``(N, H, W, in_channels)``.

    Returns:
        ``(N, H, W, filters)`` with ``"same"`` padding (``2H x 2W`` with
        ``resample="up"``, ``H/2 x W/2`` with ``"down"``);
        ``(N, H - kernel_size + 1, W - kernel_size + 1, filters)`` with ``"valid"``.

    Example:

    >>> layer = EqualizedConv2D(8, 3)
    >>> tuple(layer(np.ones((2, 4, 4, 16), "float32")).shape)
    (2, 4, 4, 8)
    >>> round(layer.scale, 4)  # sqrt(2) / sqrt(3 * 3 * 16)
    0.1179

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 4.1; ``conv2d`` and
        ``get_weight(..., use_wscale=True)`` in
        ``tkarras/progressive_growing_of_gans/networks.py`` (NCHW there, NHWC here).
    """

    def __init__(
        self, filters, kernel_size, gain=math.sqrt(2), padding="same", use_bias=True, resample=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = _check_positive_integer("filters", filters)
        self.kernel_size = _check_positive_integer("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd. Received: kernel_size={kernel_size!r}")
        self.gain = _check_gain(gain)
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid'. Received: padding={padding!r}")
        self.padding = padding
        self.use_bias = bool(use_bias)
        if resample not in RESAMPLINGS:
            raise ValueError(f"resample must be one of {RESAMPLINGS}. Received: resample={resample!r}")
        if resample is not None and padding != "same":
            raise ValueError(f"resample={resample!r} needs padding='same'. Received: padding={padding!r}")
        self.resample = resample

    def build(self, input_shape):
        in_channels = _check_known_channels(self, input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
            initializer=keras.initializers.RandomNormal(mean=0.0, stddev=1.0),
        )
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        else:
            self.bias = None
        fan_in = self.kernel_size * self.kernel_size * in_channels
        # He's constant: a Python number, applied in every call, never folded into the stored kernel.
        self.scale = self.gain / math.sqrt(fan_in)

    def call(self, inputs):
        kernel = self.kernel * self.scale
        if self.resample == "up":
            # conv_transpose wants (k, k, out, in); its kernel is applied mirrored.
            kernel = ops.transpose(box_summed_kernel(kernel[::-1, ::-1]), (0, 1, 3, 2))
            outputs = ops.conv_transpose(inputs, kernel, strides=2, padding="same", data_format="channels_last")
        elif self.resample == "down":
            kernel = box_summed_kernel(kernel) * 0.25
            outputs = ops.conv(inputs, kernel, strides=2, padding="same", data_format="channels_last")
        else:
            outputs = ops.conv(inputs, kernel, strides=1, padding=self.padding, data_format="channels_last")
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        batch_size, height, width = input_shape[:3]
        if self.padding == "valid":
            height = None if height is None else height - self.kernel_size + 1
            width = None if width is None else width - self.kernel_size + 1
        factor = {"up": 2, "down": 0.5}.get(self.resample, 1)
        height = None if height is None else int(height * factor)
        width = None if width is None else int(width * factor)
        return (batch_size, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "gain": self.gain,
            "padding": self.padding,
            "use_bias": self.use_bias,
            "resample": self.resample,
        }
