"""Tests of the Progressive GAN layers (ganlab.layers) against arrays computed by hand.

The official code (``tkarras/progressive_growing_of_gans``, ``networks.py``) is
NCHW; ``official_*`` below transcribe it line by line in NumPy on NCHW arrays,
and our NHWC layers must agree with them on the same images transposed.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from ganlab.layers import EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm, fade_in
from ganlab.layers.equalized import box_summed_kernel

SQRT2 = math.sqrt(2.0)


def numpy_of(tensor):
    return ops.convert_to_numpy(tensor)


def nchw(images):
    return np.transpose(images, (0, 3, 1, 2))


def nhwc(images):
    return np.transpose(images, (0, 2, 3, 1))


def official_pixel_norm_nchw(x, epsilon=1e-8):
    """networks.py ``pixel_norm``: the mean over axis 1, the channels of NCHW."""
    return x / np.sqrt(np.mean(np.square(x), axis=1, keepdims=True) + epsilon)


def official_minibatch_stddev_nchw(x, group_size=4):
    """networks.py ``minibatch_stddev_layer``, line by line, on NCHW arrays."""
    group_size = min(group_size, x.shape[0])
    s = x.shape  # [NCHW]
    y = np.reshape(x, [group_size, -1, s[1], s[2], s[3]])  # [GMCHW]
    y = y.astype(np.float32)
    y = y - np.mean(y, axis=0, keepdims=True)  # [GMCHW]
    y = np.mean(np.square(y), axis=0)  # [MCHW]
    y = np.sqrt(y + 1e-8)  # [MCHW]
    y = np.mean(y, axis=(1, 2, 3), keepdims=True)  # [M111]
    y = np.tile(y, [group_size, 1, s[2], s[3]])  # [N1HW]
    return np.concatenate([x, y], axis=1)  # [NCHW]


# ---------------------------------------------------------------- PixelNorm


def test_pixel_norm_4d_images_returns_channel_normalized_images():
    # One image, 1 x 2 pixels, 2 channels: pixel (0, 0) is [3, 4], pixel (0, 1) is [1, -1].
    images = np.array([[[[3.0, 4.0], [1.0, -1.0]]]], dtype="float32")  # [N, H, W, C] = [1, 1, 2, 2]
    # Pixel (0, 0): mean of squares (9 + 16) / 2 = 12.5. Pixel (0, 1): (1 + 1) / 2 = 1.
    expected = np.array([[[[3.0 / math.sqrt(12.5), 4.0 / math.sqrt(12.5)], [1.0, -1.0]]]])

    outputs = numpy_of(PixelNorm()(images))

    assert outputs.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)


def test_pixel_norm_latents_returns_rows_of_unit_root_mean_square():
    latents = np.array(
        [
            [1.0, 1.0, 1.0, 1.0],  # mean of squares 1: unchanged
            [2.0, 0.0, 0.0, 0.0],  # mean of squares 4 / 4 = 1: unchanged
            [2.0, 2.0, -2.0, 2.0],  # mean of squares 4: halved
            [0.0, 0.0, 0.0, 0.0],  # the epsilon keeps zeros at zero instead of NaN
        ],
        dtype="float32",
    )
    expected = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [1, 1, -1, 1], [0, 0, 0, 0]], dtype="float32")

    outputs = numpy_of(PixelNorm()(latents))

    np.testing.assert_allclose(outputs, expected, rtol=1e-6)
    random_latents = np.random.default_rng(0).normal(size=(5, 32)).astype("float32") * 7.0
    root_mean_square = np.sqrt(np.mean(numpy_of(PixelNorm()(random_latents)) ** 2, axis=-1))
    np.testing.assert_allclose(root_mean_square, np.ones(5), rtol=1e-5)


def test_pixel_norm_equals_the_official_nchw_definition_on_transposed_random_maps():
    images = np.random.default_rng(6).normal(size=(3, 4, 5, 6)).astype("float32")

    outputs = numpy_of(PixelNorm()(images))

    np.testing.assert_allclose(outputs, nhwc(official_pixel_norm_nchw(nchw(images))), rtol=1e-5, atol=1e-6)


def test_pixel_norm_under_mixed_precision_keeps_large_and_zero_vectors_finite():
    # In float16, 300^2 overflows and 1e-8 rounds to 0: the layer computes in float32.
    latents = np.array([[300.0, 300.0], [0.0, 0.0]], dtype="float32")

    outputs = PixelNorm(dtype="mixed_float16")(latents)

    assert outputs.dtype == "float16"
    np.testing.assert_allclose(numpy_of(outputs).astype("float32"), [[1.0, 1.0], [0.0, 0.0]])


def test_pixel_norm_rejects_a_non_positive_epsilon():
    with pytest.raises(ValueError, match="epsilon=0"):
        PixelNorm(epsilon=0)


# ---------------------------------------------------------------- MinibatchStdDev


@pytest.mark.parametrize("batch_size", [8, 4, 12, 3, 2, 1])
def test_minibatch_stddev_matches_the_official_nchw_algorithm_on_transposed_random_images(batch_size):
    images = np.random.default_rng(batch_size).normal(size=(batch_size, 4, 3, 5)).astype("float32")

    outputs = numpy_of(MinibatchStdDev(group_size=4)(images))
    expected = nhwc(official_minibatch_stddev_nchw(nchw(images), group_size=4))

    assert outputs.shape == (batch_size, 4, 3, 6)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_array_equal(outputs[..., :5], images)  # the inputs pass through unchanged


def test_minibatch_stddev_groups_samples_n_mod_m_and_appends_the_channel_averaged_std():
    # N = 8, G = 4, so M = 2 groups: samples 0, 2, 4, 6 (n mod 2 = 0) and samples 1, 3, 5, 7.
    # One pixel, two channels.
    values = np.array(
        [
            # channel 0, channel 1
            [0.0, 7.0],  # sample 0, group 0
            [5.0, 1.0],  # sample 1, group 1
            [4.0, 7.0],  # sample 2, group 0
            [5.0, -1.0],  # sample 3, group 1
            [0.0, 7.0],  # sample 4, group 0
            [5.0, 1.0],  # sample 5, group 1
            [4.0, 7.0],  # sample 6, group 0
            [5.0, -1.0],  # sample 7, group 1
        ],
        dtype="float32",
    )
    images = values.reshape(8, 1, 1, 2)  # [N, H, W, C]
    # Group 0, channel 0: 0, 4, 0, 4 -> mean 2, deviations +-2, variance 4, std 2.
    #          channel 1: 7, 7, 7, 7 -> std sqrt(0 + 1e-8) = 1e-4.
    #          averaged over the channels: (2 + 1e-4) / 2.
    # Group 1, channel 0: 5, 5, 5, 5 -> std 1e-4.
    #          channel 1: 1, -1, 1, -1 -> mean 0, variance 1, std 1.
    #          averaged over the channels: (1e-4 + 1) / 2.
    group_0 = (2.0 + 1e-4) / 2
    group_1 = (1e-4 + 1.0) / 2
    expected = np.array([group_0, group_1] * 4, dtype="float32")

    statistic = numpy_of(MinibatchStdDev(group_size=4)(images))[:, 0, 0, 2]

    np.testing.assert_allclose(statistic, expected, rtol=1e-5)
    # Wrong variants give other numbers: the variance (4 instead of 2 for group 0's
    # channel 0), or consecutive groups (samples 0-3 and 4-7).
    variance_instead = np.array([(4.0 + 0.0) / 2, (0.0 + 1.0) / 2] * 4)
    assert not np.allclose(statistic, variance_instead, rtol=1e-2)
    consecutive_groups = values.reshape(2, 4, 2)  # [M, G, C]: samples 0-3 and 4-7
    consecutive_std = np.sqrt(consecutive_groups.var(axis=1) + 1e-8).mean(axis=-1)  # [M]
    assert not np.allclose(statistic, np.repeat(consecutive_std, 4), rtol=1e-2)


def test_minibatch_stddev_averages_over_pixels_and_channels_into_one_map_tiled_over_all_pixels():
    images = np.zeros((2, 2, 1, 2), dtype="float32")  # two images (one group), 2 x 1 pixels, two channels
    images[0] = [[[1.0, 3.0]], [[5.0, 7.0]]]
    images[1] = [[[-1.0, 3.0]], [[5.0, -7.0]]]
    # For a pair, the std of each value is |a - b| / 2: 1, 0, 0, 7 at the four
    # (pixel, channel) positions; the two zeros count as sqrt(1e-8) = 1e-4.
    expected = (1.0 + 1e-4 + 1e-4 + 7.0) / 4

    outputs = numpy_of(MinibatchStdDev(group_size=4)(images))

    assert outputs.shape == (2, 2, 1, 3)
    np.testing.assert_allclose(outputs[..., 2], np.full((2, 2, 1), expected), rtol=1e-6)


@pytest.mark.parametrize(
    "values, expected_std",
    [
        pytest.param([1.0, 3.0], 1.0, id="N=2"),  # one group of 2: mean 2, deviations +-1
        pytest.param([1.0, 2.0, 3.0], math.sqrt(2.0 / 3.0), id="N=3"),  # one group of 3: variance (1 + 0 + 1) / 3
    ],
)
def test_minibatch_stddev_of_a_batch_smaller_than_the_group_size_uses_the_whole_batch_as_one_group(
    values, expected_std
):
    images = np.array(values, dtype="float32").reshape(-1, 1, 1, 1)

    statistic = numpy_of(MinibatchStdDev(group_size=4)(images))[:, 0, 0, 1]

    np.testing.assert_allclose(statistic, np.full(len(values), math.sqrt(expected_std**2 + 1e-8)), rtol=1e-6)


def test_minibatch_stddev_rejects_a_batch_not_divisible_by_the_group_size_naming_both():
    images = np.zeros((6, 2, 2, 3), dtype="float32")

    with pytest.raises(ValueError, match=r"batch_size=6, group_size=4"):
        MinibatchStdDev(group_size=4)(images)


def test_minibatch_stddev_with_an_unknown_batch_size_checks_divisibility_when_the_graph_runs():
    layer = MinibatchStdDev(group_size=4)
    function = tf.function(layer, input_signature=[tf.TensorSpec([None, 2, 2, 3], tf.float32)])

    assert function(tf.zeros((8, 2, 2, 3))).shape == (8, 2, 2, 4)
    assert function(tf.zeros((3, 2, 2, 3))).shape == (3, 2, 2, 4)  # smaller than a group: one group
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"batch_size=\] \[6\] \[group_size=\] \[4\]"):
        function(tf.zeros((6, 2, 2, 3)))


def test_minibatch_stddev_under_mixed_precision_returns_float16_with_the_float32_statistic():
    images = np.array([1.0, 3.0, 5.0, 7.0], dtype="float32").reshape(4, 1, 1, 1)  # std sqrt(5)

    outputs = MinibatchStdDev(dtype="mixed_float16")(images)

    assert outputs.dtype == "float16"
    np.testing.assert_allclose(numpy_of(outputs)[:, 0, 0, 1].astype("float32"), np.full(4, math.sqrt(5.0)), rtol=1e-3)


def test_minibatch_stddev_rejects_a_group_size_that_is_not_a_positive_integer():
    with pytest.raises(ValueError, match="group_size=0"):
        MinibatchStdDev(group_size=0)
    with pytest.raises(ValueError, match="group_size=2.5"):
        MinibatchStdDev(group_size=2.5)


# ---------------------------------------------------------------- Equalized layers


def test_equalized_dense_stores_a_standard_normal_kernel_and_zero_biases():
    layer = EqualizedDense(256)
    layer.build((None, 256))

    kernel = numpy_of(layer.kernel)  # 65,536 draws: mean within 0.02 of 0, std within 0.02 of 1
    assert abs(kernel.mean()) < 0.02
    assert abs(kernel.std() - 1.0) < 0.02
    np.testing.assert_array_equal(numpy_of(layer.bias), np.zeros(256))


def test_equalized_conv2d_stores_a_standard_normal_kernel_and_zero_biases():
    layer = EqualizedConv2D(64, 3)
    layer.build((None, 8, 8, 32))

    kernel = numpy_of(layer.kernel)  # 3 * 3 * 32 * 64 = 18,432 draws
    assert kernel.shape == (3, 3, 32, 64)
    assert abs(kernel.mean()) < 0.03
    assert abs(kernel.std() - 1.0) < 0.03
    np.testing.assert_array_equal(numpy_of(layer.bias), np.zeros(64))


def test_equalized_dense_returns_inputs_times_the_scaled_kernel_plus_bias():
    rng = np.random.default_rng(2)
    inputs = rng.normal(size=(4, 8)).astype("float32")
    layer = EqualizedDense(3)
    layer.build((None, 8))
    bias = rng.normal(size=3).astype("float32")
    layer.bias.assign(bias)  # a non-zero bias, to see that it is added

    outputs = numpy_of(layer(inputs))

    kernel = numpy_of(layer.kernel)
    assert layer.scale == pytest.approx(SQRT2 / math.sqrt(8))
    np.testing.assert_allclose(outputs, inputs @ (kernel * SQRT2 / math.sqrt(8)) + bias, rtol=1e-5, atol=1e-6)


def numpy_same_conv(images, kernel):
    """A stride-1 "same" convolution (cross-correlation, as in TensorFlow) in loops."""
    size = kernel.shape[0]
    pad = size // 2
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    batch_size, height, width, _ = images.shape
    outputs = np.zeros((batch_size, height, width, kernel.shape[-1]))
    for row in range(height):
        for column in range(width):
            window = padded[:, row : row + size, column : column + size, :]  # [N, k, k, C_in]
            outputs[:, row, column, :] = np.einsum("nijc,ijcf->nf", window, kernel)
    return outputs


def test_equalized_conv2d_uses_fan_in_kernel_height_times_width_times_input_channels():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    layer = EqualizedConv2D(2, 3)
    layer.build((None, 4, 5, 3))
    bias = rng.normal(size=2).astype("float32")
    layer.bias.assign(bias)

    outputs = numpy_of(layer(images))

    fan_in = 3 * 3 * 3
    assert layer.scale == pytest.approx(SQRT2 / math.sqrt(fan_in))
    expected = numpy_same_conv(images, numpy_of(layer.kernel) * SQRT2 / math.sqrt(fan_in)) + bias
    assert outputs.shape == (2, 4, 5, 2)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)


def test_equalized_layers_with_gain_1_scale_by_one_over_sqrt_fan_in():
    dense = EqualizedDense(1, gain=1.0)
    dense.build((None, 16))
    to_rgb = EqualizedConv2D(3, 1, gain=1.0)
    to_rgb.build((None, 8, 8, 64))

    assert dense.scale == pytest.approx(1 / 4)
    assert to_rgb.scale == pytest.approx(1 / 8)  # fan_in = 1 * 1 * 64
    images = np.random.default_rng(4).normal(size=(1, 8, 8, 64)).astype("float32")
    expected = np.einsum("nhwc,cf->nhwf", images, numpy_of(to_rgb.kernel)[0, 0] / 8)
    np.testing.assert_allclose(numpy_of(to_rgb(images)), expected, rtol=1e-5, atol=1e-5)


def test_equalized_layers_without_bias_have_only_a_kernel():
    dense = EqualizedDense(4, use_bias=False)
    dense.build((None, 2))
    conv = EqualizedConv2D(4, 3, use_bias=False)
    conv.build((None, 4, 4, 2))

    assert [weight.name for weight in dense.weights] == ["kernel"]
    assert [weight.name for weight in conv.weights] == ["kernel"]
    inputs = np.ones((1, 2), dtype="float32")
    np.testing.assert_allclose(numpy_of(dense(inputs)), inputs @ numpy_of(dense.kernel) * dense.scale, rtol=1e-6)


def test_a_fused_upsampling_conv_equals_nearest_upsampling_then_the_same_conv():
    rng = np.random.default_rng(5)
    images = rng.normal(size=(2, 3, 4, 3)).astype("float32")
    fused = EqualizedConv2D(2, 3, resample="up")
    fused.build((None, 3, 4, 3))
    fused.bias.assign(rng.normal(size=2).astype("float32"))

    upsampled = images.repeat(2, axis=1).repeat(2, axis=2)  # each pixel a 2x2 square
    expected = numpy_same_conv(upsampled, numpy_of(fused.kernel) * fused.scale) + numpy_of(fused.bias)
    outputs = numpy_of(fused(images))
    assert outputs.shape == (2, 6, 8, 2) == fused.compute_output_shape((2, 3, 4, 3))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    assert fused.scale == pytest.approx(SQRT2 / math.sqrt(3 * 3 * 3))  # the plain conv's fan-in


def test_a_fused_downsampling_conv_equals_the_same_conv_then_a_2x2_average_pool():
    rng = np.random.default_rng(6)
    images = rng.normal(size=(2, 6, 4, 3)).astype("float32")
    fused = EqualizedConv2D(2, 3, resample="down")
    fused.build((None, 6, 4, 3))

    full = numpy_same_conv(images, numpy_of(fused.kernel) * fused.scale)
    expected = full.reshape(2, 3, 2, 2, 2, 2).mean(axis=(2, 4))  # the mean of each 2x2 square
    outputs = numpy_of(fused(images))
    assert outputs.shape == (2, 3, 2, 2) == fused.compute_output_shape((2, 6, 4, 3))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)


def test_the_box_summed_kernel_adds_the_four_one_pixel_shifts_of_the_kernel():
    kernel = np.arange(1, 10, dtype="float32").reshape(3, 3, 1, 1)  # [[1 2 3] [4 5 6] [7 8 9]]

    summed = numpy_of(box_summed_kernel(kernel))[:, :, 0, 0]

    np.testing.assert_allclose(summed, [
        [1, 3, 5, 3],
        [5, 12, 16, 9],
        [11, 24, 28, 15],
        [7, 15, 17, 9],
    ])


def test_equalized_conv2d_with_valid_padding_shrinks_the_image_by_kernel_size_minus_1():
    layer = EqualizedConv2D(2, 3, padding="valid")

    outputs = layer(np.zeros((1, 6, 5, 4), dtype="float32"))

    assert tuple(outputs.shape) == (1, 4, 3, 2)
    assert layer.compute_output_shape((None, 6, 5, 4)) == (None, 4, 3, 2)


@pytest.mark.parametrize(
    "make_layer, message",
    [
        pytest.param(lambda: EqualizedDense(0), "units=0", id="zero units"),
        pytest.param(lambda: EqualizedDense(4, gain=0.0), "gain=0.0", id="zero gain"),
        pytest.param(lambda: EqualizedDense(4, gain=-1.0), "gain=-1.0", id="negative gain"),
        pytest.param(lambda: EqualizedConv2D(0, 3), "filters=0", id="zero filters"),
        pytest.param(lambda: EqualizedConv2D(4, 2), "kernel_size=2", id="even kernel"),
        pytest.param(lambda: EqualizedConv2D(4, (3, 3)), r"kernel_size=\(3, 3\)", id="tuple kernel"),
        pytest.param(lambda: EqualizedConv2D(4, 3, padding="causal"), "padding='causal'", id="unknown padding"),
        pytest.param(lambda: EqualizedConv2D(4, 3, gain="sqrt 2"), "gain='sqrt 2'", id="string gain"),
        pytest.param(lambda: EqualizedConv2D(4, 3, resample="sideways"), "resample='sideways'", id="unknown resample"),
        pytest.param(
            lambda: EqualizedConv2D(4, 3, padding="valid", resample="up"), "padding='valid'", id="resample without same"
        ),
    ],
)
def test_equalized_layers_reject_invalid_arguments_naming_the_value(make_layer, message):
    with pytest.raises(ValueError, match=message):
        make_layer()


def relative_step_of_effective_weights(layer, fan_in, effective_kernel, effective_size):
    """How far one Adam step moves the effective weights, as a fraction of their typical size."""
    inputs = np.random.default_rng(fan_in).normal(size=(16, fan_in)).astype("float32")
    layer.build((None, fan_in))
    before = numpy_of(effective_kernel(layer))
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    with tf.GradientTape() as tape:
        loss = ops.sum(layer(inputs))
    optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))
    after = numpy_of(effective_kernel(layer))
    return np.mean(np.abs(after - before)) / effective_size


def test_one_adam_step_changes_equalized_weights_at_the_same_relative_rate_whatever_the_fan_in():
    # Adam's first step moves every stored weight by the learning rate (0.01),
    # whatever the size of its gradient.
    # Equalized: the effective weights (stored * scale) have size scale, and move by
    # 0.01 * scale: 1% of their size, for a small and for a large fan-in.
    equalized_steps = [
        relative_step_of_effective_weights(
            EqualizedDense(32), fan_in, lambda layer: layer.kernel * layer.scale, SQRT2 / math.sqrt(fan_in)
        )
        for fan_in in (4, 256)
    ]
    # He-initialized: the stored weights are the effective weights, of size
    # sqrt(2 / fan_in); the same step of 0.01 is 8 times larger a fraction of
    # the weights with 64 times the fan-in.
    he_steps = [
        relative_step_of_effective_weights(
            keras.layers.Dense(32, kernel_initializer="he_normal"),
            fan_in,
            lambda layer: layer.kernel,
            SQRT2 / math.sqrt(fan_in),
        )
        for fan_in in (4, 256)
    ]

    assert equalized_steps == pytest.approx([0.01, 0.01], rel=1e-3)
    assert he_steps[1] / he_steps[0] == pytest.approx(math.sqrt(256 / 4), rel=1e-3)


# ---------------------------------------------------------------- fade_in


def test_fade_in_returns_old_at_alpha_0_new_at_alpha_1_and_the_blend_in_between():
    old = np.array([[0.0, 4.0], [-2.0, 8.0]], dtype="float32")
    new = np.array([[4.0, 0.0], [2.0, 8.0]], dtype="float32")

    np.testing.assert_array_equal(numpy_of(fade_in(0.0, old, new)), old)
    np.testing.assert_array_equal(numpy_of(fade_in(1.0, old, new)), new)
    # old + 0.25 * (new - old): 0 + 1, 4 - 1, -2 + 1, 8 + 0.
    np.testing.assert_allclose(numpy_of(fade_in(0.25, old, new)), [[1.0, 3.0], [-1.0, 8.0]])
    np.testing.assert_allclose(numpy_of(fade_in(tf.constant(0.25), old, new)), [[1.0, 3.0], [-1.0, 8.0]])


def test_fade_in_with_a_keras_variable_alpha_follows_its_assignments_without_retracing():
    alpha = keras.Variable(0.0, trainable=False, name="alpha")
    blend = tf.function(lambda old, new: fade_in(alpha, old, new))
    old = tf.constant([0.0, 4.0])
    new = tf.constant([4.0, 0.0])

    results = []
    for value in (0.0, 0.25, 1.0):
        alpha.assign(value)
        results.append(numpy_of(blend(old, new)))

    np.testing.assert_allclose(results, [[0.0, 4.0], [1.0, 3.0], [4.0, 0.0]])
    assert blend.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_fade_in_rejects_a_python_alpha_outside_0_to_1(alpha):
    with pytest.raises(ValueError, match=rf"alpha must be in \[0, 1\]. Received: alpha={alpha}"):
        fade_in(alpha, np.zeros(2), np.ones(2))


# ---------------------------------------------------------------- serialization


LAYERS = [
    pytest.param(lambda: PixelNorm(epsilon=1e-6, name="pixel_norm"), (2, 4, 4, 3), id="PixelNorm"),
    pytest.param(lambda: MinibatchStdDev(group_size=2, name="stddev"), (4, 4, 4, 3), id="MinibatchStdDev"),
    pytest.param(lambda: EqualizedDense(5, gain=0.5, use_bias=False, name="dense"), (2, 7), id="EqualizedDense"),
    pytest.param(
        lambda: EqualizedConv2D(5, 1, gain=1.0, padding="valid", name="conv"), (2, 4, 4, 3), id="EqualizedConv2D"
    ),
]


@pytest.mark.parametrize("make_layer, input_shape", LAYERS)
def test_layer_serialized_and_deserialized_has_the_same_class_and_config(make_layer, input_shape):
    layer = make_layer()

    serialized = keras.layers.serialize(layer)
    rebuilt = keras.layers.deserialize(serialized)

    assert serialized["registered_name"] == f"ganlab>{type(layer).__name__}"
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()


@pytest.mark.parametrize("make_layer, input_shape", LAYERS)
def test_layer_inside_a_model_saved_and_loaded_in_keras_format_keeps_its_outputs(make_layer, input_shape, tmp_path):
    inputs = keras.Input(input_shape[1:])
    model = keras.Model(inputs, make_layer()(inputs))
    images = np.random.default_rng(5).normal(size=input_shape).astype("float32")

    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")

    np.testing.assert_allclose(numpy_of(loaded(images)), numpy_of(model(images)), rtol=1e-6, atol=1e-6)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()
