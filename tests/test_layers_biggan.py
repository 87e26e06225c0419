"""Tests of the BigGAN layers (ganlab.layers): conditional batch norm and self-attention.

Every expected value is computed here with plain NumPy from the formulas in
the layers' docstrings (BigGAN-PyTorch's ``ccbn`` and ``Attention``), on
hand-set kernels; spectrally normalized kernels are W / sigma(W) with sigma
from one power iteration (tests/spectral_reference.py).
"""

import keras
import numpy as np
import pytest
from keras import ops

from spectral_reference import numpy_spectral_normalized

from ganlab.layers import ConditionalBatchNorm, SelfAttention

EPSILON = 1e-5


def numpy_of(tensor):
    return ops.convert_to_numpy(tensor)


def batch_normalized(x, mean=None, variance=None):
    """(x - mean) / sqrt(variance + eps) per channel; the batch's own (biased) statistics by default."""
    if mean is None:
        mean = x.mean(axis=(0, 1, 2))
        variance = x.var(axis=(0, 1, 2))
    return (x - mean) / np.sqrt(variance + EPSILON)


def random_arrays(seed=0, shape=(4, 2, 2, 3), cond_dim=2):
    random = np.random.default_rng(seed)
    x = random.normal(1.0, 2.0, size=shape).astype("float32")
    cond = random.normal(size=(shape[0], cond_dim)).astype("float32")
    return x, cond


# ---------------------------------------------------------------- ConditionalBatchNorm


def test_conditional_batch_norm_with_zero_kernels_is_plain_batch_normalization():
    x, cond = random_arrays()
    layer = ConditionalBatchNorm(kernel_initializer="zeros")

    outputs = numpy_of(layer([x, cond], training=True))

    # Gain 1 + 0, bias 0: the batch's own normalization, nothing else.
    np.testing.assert_allclose(outputs, batch_normalized(x), rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_scales_by_one_plus_the_linear_map_of_the_condition_and_shifts_by_another():
    x, _ = random_arrays()
    cond = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], dtype="float32")
    gain_kernel = np.array([[0.5, -1.0, 0.0], [2.0, 0.0, 1.0]], dtype="float32")  # [D, C]
    bias_kernel = np.array([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]], dtype="float32")
    layer = ConditionalBatchNorm(spectral_norm=False)
    layer([x, cond])  # builds
    layer.gain.kernel.assign(gain_kernel)
    layer.bias.kernel.assign(bias_kernel)

    outputs = numpy_of(layer([x, cond], training=True))

    # Image 0 has cond [1, 0]: gain 1 + [0.5, -1, 0] = [1.5, 0, 1], bias [1, 0, -2].
    # Image 2 has cond [1, 1]: gain 1 + [2.5, -1, 1] = [3.5, 0, 2], bias [1, 3, -2].
    # Image 3 has cond [0, 0]: gain [1, 1, 1], bias [0, 0, 0].
    gains = np.array([[1.5, 0.0, 1.0], [3.0, 1.0, 2.0], [3.5, 0.0, 2.0], [1.0, 1.0, 1.0]])
    biases = np.array([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0], [1.0, 3.0, -2.0], [0.0, 0.0, 0.0]])
    expected = batch_normalized(x) * gains[:, None, None, :] + biases[:, None, None, :]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4)


def test_conditional_batch_norm_at_inference_uses_the_moving_statistics_and_spectrally_normalized_kernels():
    x, cond = random_arrays(seed=1)
    layer = ConditionalBatchNorm(spectral_norm=True, kernel_initializer="zeros")
    layer([x, cond])
    gain_kernel = np.array([[0.3, 0.1, -0.2], [0.0, 0.4, 0.2]], dtype="float32")
    layer.gain.kernel.assign(gain_kernel)
    layer.batch_norm.moving_mean.assign([1.0, -1.0, 0.5])
    layer.batch_norm.moving_variance.assign([4.0, 1.0, 0.25])
    u = numpy_of(layer.gain.u)

    outputs = numpy_of(layer([x, cond], training=False))

    normalized = batch_normalized(x, np.array([1.0, -1.0, 0.5]), np.array([4.0, 1.0, 0.25]))
    expected = normalized * (1.0 + cond @ numpy_spectral_normalized(gain_kernel, u))[:, None, None, :]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)
    # Inference leaves the kernel and the power iteration's u as they were.
    np.testing.assert_array_equal(numpy_of(layer.gain.kernel), gain_kernel)
    np.testing.assert_array_equal(numpy_of(layer.gain.u), u)


def test_conditional_batch_norm_in_training_uses_a_kernel_divided_by_its_spectral_norm_and_keeps_the_kernel():
    x, cond = random_arrays(seed=2)
    layer = ConditionalBatchNorm(kernel_initializer="zeros")
    layer([x, cond])
    # A rank-one kernel a b^T has one singular value, |a| |b| = 5 * 2 = 10, found by one power iteration.
    a, b = np.array([3.0, 4.0]), np.array([0.0, 2.0, 0.0])
    layer.gain.kernel.assign(np.outer(a, b).astype("float32"))

    outputs = numpy_of(layer([x, cond], training=True))

    expected = batch_normalized(x) * (1.0 + cond @ (np.outer(a, b) / 10.0))[:, None, None, :]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(numpy_of(layer.gain.kernel), np.outer(a, b))
    # The all-zero bias kernel has sigma 0 and is used as it is: no bias, no NaN.
    np.testing.assert_array_equal(numpy_of(layer.bias.kernel), np.zeros((2, 3)))


def test_conditional_batch_norm_moving_statistics_move_by_one_minus_momentum_towards_the_batch():
    x, cond = random_arrays(seed=3)
    layer = ConditionalBatchNorm(momentum=0.9)

    layer([x, cond], training=True)

    # From mean 0 and variance 1: 0.9 * old + 0.1 * batch (the biased variance).
    np.testing.assert_allclose(numpy_of(layer.batch_norm.moving_mean), 0.1 * x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(
        numpy_of(layer.batch_norm.moving_variance), 0.9 + 0.1 * x.var(axis=(0, 1, 2)), rtol=1e-5
    )


def test_conditional_batch_norm_with_batch_statistics_alone_normalizes_by_the_batch_and_keeps_the_kernels():
    x, cond = random_arrays(seed=4)
    layer = ConditionalBatchNorm(kernel_initializer="zeros")
    layer([x, cond])
    kernel = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]], dtype="float32")  # spectral norm well above 1
    layer.gain.kernel.assign(kernel)
    u = numpy_of(layer.gain.u)

    outputs = numpy_of(layer([x, cond], training=False, batch_statistics=True))

    expected = batch_normalized(x) * (1.0 + cond @ numpy_spectral_normalized(kernel, u))[:, None, None, :]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(numpy_of(layer.gain.kernel), kernel)
    np.testing.assert_array_equal(numpy_of(layer.gain.u), u)
    np.testing.assert_allclose(numpy_of(layer.batch_norm.moving_mean), 0.1 * x.mean(axis=(0, 1, 2)), rtol=1e-5)


@pytest.mark.parametrize(
    "x_shape, cond_shape, named",
    [
        ((4, 2, 2, 3), (4, 2, 1), "cond"),  # cond not rank 2
        ((4, 2, 2, 3), (5, 2), "same number"),  # one condition per image
        ((4, 3), (4, 2), "feature maps"),  # x is not NHWC
    ],
)
def test_conditional_batch_norm_refuses_mismatched_shapes_saying_which(x_shape, cond_shape, named):
    layer = ConditionalBatchNorm()
    with pytest.raises(ValueError, match=named):
        layer([np.zeros(x_shape, "float32"), np.zeros(cond_shape, "float32")])


def test_conditional_batch_norm_refuses_a_single_tensor_and_bad_settings():
    with pytest.raises(ValueError, match=r"\[x, cond\]"):
        ConditionalBatchNorm()(np.zeros((4, 2, 2, 3), "float32"))
    with pytest.raises(ValueError, match="momentum"):
        ConditionalBatchNorm(momentum=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        ConditionalBatchNorm(epsilon=0)


def test_conditional_batch_norm_survives_serialization_with_its_settings_and_weights():
    x, cond = random_arrays(seed=5)
    layer = ConditionalBatchNorm(momentum=0.8, epsilon=1e-3, spectral_norm=False, name="cbn")
    layer([x, cond])
    layer.gain.kernel.assign(np.full((2, 3), 0.25, "float32"))

    copy = keras.layers.deserialize(keras.layers.serialize(layer))
    copy([x, cond])
    copy.set_weights(layer.get_weights())

    assert isinstance(copy, ConditionalBatchNorm)
    assert (copy.momentum, copy.epsilon, copy.spectral_norm) == (0.8, 1e-3, False)
    np.testing.assert_allclose(numpy_of(copy([x, cond])), numpy_of(layer([x, cond])), rtol=1e-6)


# ---------------------------------------------------------------- SelfAttention


def numpy_self_attention(x, theta, phi, g, o, gamma):
    """BigGAN-PyTorch's Attention.forward in NumPy, on NHWC arrays and (in, out) 1x1 kernels."""
    n, h, w, c = x.shape

    def max_pool(maps):  # 2x2, stride 2
        return maps.reshape(n, h // 2, 2, w // 2, 2, -1).max(axis=(2, 4))

    queries = (x @ theta).reshape(n, h * w, c // 8)  # [N, HW, C/8]
    keys = max_pool(x @ phi).reshape(n, h * w // 4, c // 8)  # [N, HW/4, C/8]
    values = max_pool(x @ g).reshape(n, h * w // 4, c // 2)  # [N, HW/4, C/2]
    logits = queries @ keys.transpose(0, 2, 1)  # [N, HW, HW/4]
    beta = np.exp(logits - logits.max(axis=-1, keepdims=True))
    beta /= beta.sum(axis=-1, keepdims=True)
    attended = (beta @ values).reshape(n, h, w, c // 2)
    return x + gamma * (attended @ o)


def test_self_attention_starts_as_the_identity_because_gamma_is_zero():
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 16)).astype("float32")
    layer = SelfAttention()

    outputs = numpy_of(layer(x, training=True))

    assert float(numpy_of(layer.gamma)) == 0.0
    np.testing.assert_array_equal(outputs, x)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_self_attention_matches_a_numpy_transcription_of_biggan_pytorchs_attention(spectral_norm):
    random = np.random.default_rng(1)
    x = random.normal(size=(2, 4, 6, 16)).astype("float32")
    layer = SelfAttention(spectral_norm=spectral_norm)
    layer(x)
    kernels = {
        "theta": random.normal(size=(16, 2)),
        "phi": random.normal(size=(16, 2)),
        "g": random.normal(size=(16, 8)),
        "o": random.normal(size=(8, 16)),
    }
    used = {}
    for name, kernel in kernels.items():
        conv = getattr(layer, name)
        conv.kernel.assign(kernel.reshape(1, 1, *kernel.shape).astype("float32"))  # a 1x1 conv kernel
        # With spectral norm the forward pass uses W / sigma(W), from the layer's stored u.
        used[name] = numpy_spectral_normalized(kernel, numpy_of(conv.u)) if spectral_norm else kernel
    layer.gamma.assign(0.7)

    outputs = numpy_of(layer(x, training=False))

    expected = numpy_self_attention(x, used["theta"], used["phi"], used["g"], used["o"], 0.7)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4)


def test_self_attention_has_convs_of_an_eighth_an_eighth_and_half_the_channels_without_biases():
    layer = SelfAttention(spectral_norm=False)
    layer(np.zeros((1, 4, 4, 32), "float32"))

    shapes = {name: tuple(getattr(layer, name).kernel.shape) for name in ("theta", "phi", "g", "o")}

    assert shapes == {"theta": (1, 1, 32, 4), "phi": (1, 1, 32, 4), "g": (1, 1, 32, 16), "o": (1, 1, 16, 32)}
    assert all(getattr(layer, name).bias is None for name in ("theta", "phi", "g", "o"))


def test_self_attention_refuses_fewer_than_8_channels_and_odd_sizes():
    with pytest.raises(ValueError, match="at least 8 channels"):
        SelfAttention()(np.zeros((1, 4, 4, 4), "float32"))
    with pytest.raises(ValueError, match="even"):
        SelfAttention()(np.zeros((1, 5, 4, 8), "float32"))


def test_self_attention_survives_serialization_with_its_weights():
    x = np.random.default_rng(2).normal(size=(2, 4, 4, 8)).astype("float32")
    layer = SelfAttention(spectral_norm=False, name="attention")
    layer(x)
    layer.gamma.assign(0.5)

    copy = keras.layers.deserialize(keras.layers.serialize(layer))
    copy(x)
    copy.set_weights(layer.get_weights())

    assert isinstance(copy, SelfAttention) and copy.spectral_norm is False
    np.testing.assert_allclose(numpy_of(copy(x)), numpy_of(layer(x)), rtol=1e-6)
