"""Tests of ganlab.layers.SpectralNorm against Miyato et al.'s definition, computed in NumPy.

The forward pass must use W / sigma(W) with sigma = v W u^T from one power
iteration (u, v constants), and the gradient must be that of W / sigma(W):

    dL/dW = x^T G / sigma - (sum(G * x W) / sigma^2) v^T u        for y = x W / sigma, G = dL/dy

The second term is what keras.layers.SpectralNormalization leaves out.
"""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from spectral_reference import numpy_power_iteration, numpy_spectral_normalized

from ganlab.layers import SpectralNorm


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def small_dense(seed=0, inputs=4, units=3):
    random = np.random.default_rng(seed)
    layer = SpectralNorm(keras.layers.Dense(units))
    x = random.normal(size=(5, inputs)).astype("float32")
    layer(x)  # builds
    layer.layer.kernel.assign(random.normal(size=(inputs, units)).astype("float32"))
    layer.layer.bias.assign(random.normal(size=(units,)).astype("float32"))
    return layer, x


def test_the_forward_pass_uses_the_kernel_divided_by_sigma_from_one_power_iteration():
    layer, x = small_dense()
    kernel, bias, u = numpy(layer.layer.kernel), numpy(layer.layer.bias), numpy(layer.u)

    outputs = numpy(layer(x, training=False))

    expected = x @ numpy_spectral_normalized(kernel, u) + bias
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)


def test_the_gradient_flows_through_sigma_as_the_derivative_of_w_over_sigma_says():
    layer, x = small_dense(seed=1)
    layer.layer.bias.assign(np.zeros(3, "float32"))
    kernel, u = numpy(layer.layer.kernel).astype("float64"), numpy(layer.u)
    upstream = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")  # G = dL/dy

    with tf.GradientTape() as tape:
        loss = ops.sum(layer(x, training=True) * upstream)
    gradient = numpy(tape.gradient(loss, layer.layer.kernel))

    sigma, new_u, v = numpy_power_iteration(kernel, u)
    through_w = x.T @ upstream / sigma
    through_sigma = -np.sum(upstream * (x @ kernel)) / sigma**2 * (v.T @ new_u)
    np.testing.assert_allclose(gradient, through_w + through_sigma, rtol=1e-5, atol=1e-5)
    # The second term matters: without it (Keras' projection) the gradient is another one.
    assert np.abs(through_sigma).max() > 1e-2


def test_training_keeps_the_new_u_and_never_changes_the_kernel():
    layer, x = small_dense(seed=3)
    kernel, u = numpy(layer.layer.kernel), numpy(layer.u)

    layer(x, training=True)

    _, new_u, _ = numpy_power_iteration(kernel, u)
    np.testing.assert_allclose(numpy(layer.u), new_u, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(numpy(layer.layer.kernel), kernel)


def test_inference_leaves_u_alone():
    layer, x = small_dense(seed=4)
    u = numpy(layer.u)

    layer(x, training=False)
    layer(x)

    np.testing.assert_array_equal(numpy(layer.u), u)


def test_after_enough_training_calls_the_normalized_kernel_has_spectral_norm_one():
    layer, x = small_dense(seed=5, inputs=6, units=4)
    assert np.linalg.svd(numpy(layer.layer.kernel), compute_uv=False)[0] > 1.5

    for _ in range(30):
        layer(x, training=True)

    singular_values = np.linalg.svd(numpy(layer.normalized_kernel()), compute_uv=False)
    np.testing.assert_allclose(singular_values[0], 1.0, atol=1e-4)


def test_a_conv2d_is_the_same_convolution_with_the_normalized_kernel():
    random = np.random.default_rng(6)
    layer = SpectralNorm(keras.layers.Conv2D(4, 3, strides=2, padding="same"))
    x = random.normal(size=(2, 8, 8, 3)).astype("float32")
    layer(x)
    layer.layer.kernel.assign(random.normal(size=(3, 3, 3, 4)).astype("float32"))
    layer.layer.bias.assign(random.normal(size=(4,)).astype("float32"))
    plain = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    plain(x)
    # The conv kernel (3, 3, in, out) is the matrix (27, out) for the power iteration.
    plain.set_weights([numpy_spectral_normalized(numpy(layer.layer.kernel), numpy(layer.u)), numpy(layer.layer.bias)])

    np.testing.assert_allclose(numpy(layer(x)), numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_an_embedding_looks_up_rows_of_the_normalized_matrix():
    random = np.random.default_rng(7)
    layer = SpectralNorm(keras.layers.Embedding(5, 3))
    labels = np.array([0, 4, 4, 2])
    layer(labels)
    layer.layer.embeddings.assign(random.normal(size=(5, 3)).astype("float32"))

    outputs = numpy(layer(labels))

    expected = numpy_spectral_normalized(numpy(layer.layer.embeddings), numpy(layer.u))[labels]
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_an_all_zero_kernel_is_used_as_it_is_without_nans():
    layer = SpectralNorm(keras.layers.Dense(3, kernel_initializer="zeros"))
    x = np.ones((2, 4), "float32")

    outputs = numpy(layer(x, training=True))

    np.testing.assert_array_equal(outputs, np.zeros((2, 3)))
    assert np.all(np.isfinite(numpy(layer.u)))


def test_spectral_norm_survives_serialization_and_a_saved_model_round_trip(tmp_path):
    layer, x = small_dense(seed=8)
    layer(x, training=True)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    copy(x)
    copy.set_weights(layer.get_weights())
    assert copy.power_iterations == 1 and isinstance(copy.layer, keras.layers.Dense)
    np.testing.assert_allclose(numpy(copy(x)), numpy(layer(x)), rtol=1e-6)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), rtol=1e-6)


@pytest.mark.parametrize(
    "make, named",
    [
        (lambda: SpectralNorm(keras.layers.BatchNormalization()), "layer=BatchNormalization"),
        (lambda: SpectralNorm(keras.layers.Dense(2), power_iterations=0), "power_iterations=0"),
        (lambda: SpectralNorm(keras.layers.Dense(2), epsilon=-1.0), "epsilon=-1.0"),
        (lambda: SpectralNorm(keras.layers.Conv2D(4, 3, groups=2)), "groups=2"),
    ],
)
def test_what_spectral_norm_cannot_wrap_is_refused_naming_the_argument(make, named):
    with pytest.raises(ValueError, match=named):
        make()


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from ganlab.layers import SpectralNorm

    random = np.random.default_rng(0)
    x = random.normal(size=(8, 4)).astype("float32")
    target = random.normal(size=(8, 3)).astype("float32")
    kernel = random.normal(size=(4, 3)).astype("float32")

    def train(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            layer = SpectralNorm(keras.layers.Dense(3))
            layer(x[:1])
            layer.layer.kernel.assign(kernel)
            optimizer = keras.optimizers.SGD(0.1)
            optimizer.build(layer.trainable_weights)
        dataset = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices((x, target)).batch(8))

        @tf.function
        def step(batch):
            def replica_step(inputs, targets):
                with tf.GradientTape() as tape:
                    # The mean over the global batch: each replica divides by the global size.
                    loss = tf.reduce_sum(tf.square(layer(inputs, training=True) - targets)) / 8.0
                gradients = tape.gradient(loss, layer.trainable_weights)
                optimizer.apply(gradients, layer.trainable_weights)
            strategy.run(replica_step, args=batch)

        for batch in dataset:
            step(batch)
        return {"kernel": layer.layer.kernel.numpy().tolist(), "u": layer.u.numpy().tolist(),
                "replicas": strategy.num_replicas_in_sync}

    one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
    two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"one": one, "two": two}))
    """
)


@pytest.mark.slow
def test_under_a_mirrored_strategy_on_two_devices_training_matches_one_device():
    import json

    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs["two"]["replicas"] == 2
    np.testing.assert_allclose(runs["two"]["kernel"], runs["one"]["kernel"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(runs["two"]["u"], runs["one"]["u"], rtol=1e-5, atol=1e-6)
    # The kernel moved: the comparison is about a real update.
    assert np.abs(np.array(runs["one"]["kernel"])).sum() > 0
