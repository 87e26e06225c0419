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
    """A 2D convolution (stride 1, NHWC) with the equalized learning rate.

    ```
    y = conv2d(x, W * gain / sqrt(fan_in)) + b,    W ~ N(0, 1), b = 0 at the start,
                                                   fan_in = kernel_size * kernel_size * in_channels
    ```

    The fan-in is the number of inputs that one output value sums over: a
    ``kernel_size x kernel_size`` window across all input channels. The stored
    kernel stays a N(0, 1) draw; ``self.scale = gain / sqrt(fan_in)`` is applied
    in every call (see the module docstring for why).

    The stride is always 1: the Progressive GAN up- and downsamples with
    separate layers (nearest-neighbour upsampling, 2x2 average pooling).

    Args:
        filters: the number of output channels.
        kernel_size: an odd integer, the height and width of the window (3 in
            the blocks, 1 for ``to_rgb`` / ``from_rgb``). Odd, as in the
            official code, so that ``"same"`` padding is symmetric and the
            image does not shift by half a pixel.
        gain: sqrt(2) (the default) before a leaky ReLU; 1 for ``to_rgb``.
        padding: ``"same"`` (the official code) or ``"valid"``.
        use_bias: whether to add a bias per output channel (starting at 0).

    Call arguments:
        inputs: ``(N, H, W, in_channels)``.

    Returns:
        ``(N, H, W, filters)`` with ``"same"`` padding;
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

    def __init__(self, filters, kernel_size, gain=math.sqrt(2), padding="same", use_bias=True, **kwargs):
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
        outputs = ops.conv(inputs, kernel, strides=1, padding=self.padding, data_format="channels_last")
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        batch_size, height, width = input_shape[:3]
        if self.padding == "valid":
            height = None if height is None else height - self.kernel_size + 1
            width = None if width is None else width - self.kernel_size + 1
        return (batch_size, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "gain": self.gain,
            "padding": self.padding,
            "use_bias": self.use_bias,
        }
