"""The hidden tests are stricter than the notebooks' checks: each mutant below is a common
mistake that the exercise's student check lets through and some hidden test fails.

The tests run in this process (no kernel, no test host): they are about the
tests' contents, the grading machinery is tested in test_grading.py. The
slower exercises (training steps, BigGAN builds, timing tests) are left out
here; their mistakes are listed in docs/grading.md.
"""

import contextlib
import io
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops
from scipy.special import xlogy

import ganlab
from ganlab import checks, losses, metrics
from ganlab.grading import testing

# (lesson, exercise, the mistake, the student's code)
MUTANTS = [
    ('01', 'build_generator', 'two fixed hidden layers', '''def build_generator(config):
    latent = keras.Input(shape=(config.latent_dim,))
    hidden = layers.LeakyReLU(0.2)(layers.Dense(config.hidden_units[0])(latent))
    hidden = layers.LeakyReLU(0.2)(layers.Dense(config.hidden_units[1])(hidden))
    flat = layers.Dense(math.prod(config.image_shape), activation="tanh")(hidden)
    return keras.Model(latent, layers.Reshape(config.image_shape)(flat))
'''),
    ('01', 'build_discriminator', 'dropout rate written in the code', '''def build_discriminator(config):
    image = keras.Input(shape=config.image_shape)
    hidden = layers.Flatten()(image)
    for units in reversed(config.hidden_units):
        hidden = layers.Dropout(0.25)(layers.LeakyReLU(0.2)(layers.Dense(units)(hidden)))
    return keras.Model(image, layers.Dense(1)(hidden))
'''),
    ('01', 'discriminator_loss', 'one mean over the sum of the two vectors', '''def discriminator_loss(real_logits, fake_logits):
    return ops.mean(ops.softplus(-real_logits) + ops.softplus(fake_logits))
'''),
    ('01', 'generator_loss', 'the logits indexed as (N, 1)', '''def generator_loss(fake_logits):
    return ops.mean(ops.softplus(-fake_logits[:, 0]))
'''),
    ('02', 'build_dcgan_generator', 'one channel written in the code', '''def build_dcgan_generator(config):
    width = config.generator_width
    latent = keras.Input(shape=(config.latent_dim,))
    hidden = layers.Reshape((7, 7, 2 * width))(layers.Dense(7 * 7 * 2 * width, use_bias=False)(latent))
    hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
    hidden = layers.Conv2DTranspose(width, config.kernel_size, strides=2, padding="same", use_bias=False)(hidden)
    hidden = layers.ReLU()(layers.BatchNormalization()(hidden))
    image = layers.Conv2DTranspose(1, config.kernel_size, strides=2, padding="same", activation="tanh")(hidden)
    return keras.Model(latent, image)
'''),
    ('02', 'build_dcgan_discriminator', 'input shape written in the code', '''def build_dcgan_discriminator(config):
    width = config.discriminator_width
    image = keras.Input(shape=(28, 28, 1))
    hidden = layers.LeakyReLU(0.2)(layers.Conv2D(width, config.kernel_size, strides=2, padding="same")(image))
    hidden = layers.Conv2D(2 * width, config.kernel_size, strides=2, padding="same", use_bias=False)(hidden)
    hidden = layers.LeakyReLU(0.2)(layers.BatchNormalization()(hidden))
    return keras.Model(image, layers.Dense(1)(layers.Flatten()(hidden)))
'''),
    ('02', 'interpolate_latents', 'no guard for opposite vectors', '''def interpolate_latents(a, b, steps, method="linear"):
    if method not in ("linear", "slerp"):
        raise ValueError(method)
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "slerp":
        omega = np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))
        if omega > 1e-6:
            return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)).astype("float32")
    return ((1 - t) * a + t * b).astype("float32")
'''),
    ('03', 'matrix_square_root', 'the result written over the covariance given', '''def matrix_square_root(matrix):
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    matrix[...] = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    return matrix
'''),
    ('03', 'frechet_distance', 'mean term from the difference of the sets', '''def frechet_distance(features_a, features_b):
    covariance_a, covariance_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    root_a = square_root(covariance_a)
    trace_of_root = np.trace(square_root(root_a @ covariance_b @ root_a))
    mean_term = np.sum((features_a - features_b).mean(axis=0) ** 2)
    return float(mean_term + np.trace(covariance_a) + np.trace(covariance_b) - 2.0 * trace_of_root)
'''),
    ('03', 'kernel_distance', 'a negative estimate clamped at 0', '''def kernel_distance(features_a, features_b):
    m, n, d = len(features_a), len(features_b), features_a.shape[1]
    k_aa, k_bb = (features_a @ features_a.T / d + 1) ** 3, (features_b @ features_b.T / d + 1) ** 3
    k_ab = (features_a @ features_b.T / d + 1) ** 3
    mmd = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1)) + (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1)) - 2 * k_ab.mean()
    return max(float(mmd), 0.0)
'''),
    ('04', 'pixel_norm', 'epsilon argument ignored', '''def pixel_norm(x, epsilon=1e-8):
    return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)
'''),
    ('04', 'minibatch_stddev', 'group size argument ignored', '''def minibatch_stddev(x, group_size=4):
    batch, height, width, channels = x.shape
    group = min(4, batch)
    y = ops.reshape(x, (group, batch // group, height, width, channels))
    y = y - ops.mean(y, axis=0, keepdims=True)
    y = ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)
    y = ops.mean(y, axis=(1, 2, 3), keepdims=True)
    y = ops.tile(y, (group, height, width, 1))
    return ops.concatenate([x, ops.cast(y, x.dtype)], axis=-1)
'''),
    ('04', 'EqualizedDense', 'fan_in from input_shape[1]', '''class EqualizedDense(keras.layers.Layer):
    def __init__(self, units, gain=math.sqrt(2), **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.gain = gain

    def build(self, input_shape):
        fan_in = input_shape[1]
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units), initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.scale = self.gain / math.sqrt(fan_in)

    def call(self, inputs):
        return ops.matmul(inputs, self.kernel * self.scale) + self.bias
'''),
    ('04', 'fade_in', 'alpha turned into a Python float', '''def fade_in(alpha, old, new):
    alpha = float(ops.convert_to_numpy(alpha))
    return old + alpha * (new - old)
'''),
    ('05', 'conditional_batch_norm', 'reshaped to the static x.shape[0]', '''def conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
    mean = ops.mean(x, axis=(0, 1, 2), keepdims=True)
    variance = ops.mean(ops.square(x - mean), axis=(0, 1, 2), keepdims=True)
    normalized = (x - mean) / ops.sqrt(variance + epsilon)
    gain = ops.reshape(1.0 + ops.matmul(condition, gain_kernel), (x.shape[0], 1, 1, x.shape[-1]))
    bias = ops.reshape(ops.matmul(condition, bias_kernel), (x.shape[0], 1, 1, x.shape[-1]))
    return normalized * gain + bias
'''),
    ('05', 'block_conditions', 'NumPy instead of keras.ops', '''def block_conditions(latent, class_embedding, number_of_blocks):
    chunks = np.split(np.asarray(latent), number_of_blocks + 1, axis=-1)
    return chunks[0], [np.concatenate([np.asarray(class_embedding), chunk], axis=-1) for chunk in chunks[1:]]
'''),
    ('05', 'orthogonal_regularization', 'NumPy: not differentiable', '''def orthogonal_regularization(kernel, strength=1e-4):
    matrix = np.asarray(kernel).reshape(-1, kernel.shape[-1])
    gram = matrix.T @ matrix
    return strength * np.sum((gram * (1 - np.eye(len(gram)))) ** 2)
'''),
    ('06', 'demo_truncated_z', 'squeezed result', '''def demo_truncated_z(number, dimension, truncation, seed):
    from scipy.stats import truncnorm
    values = truncnorm.rvs(-2, 2, size=(number, dimension), random_state=np.random.RandomState(seed))
    return np.squeeze(truncation * values).astype("float32")
'''),
    ('06', 'interpolate_embeddings', 'np.linspace between the vectors: float64 for float64 or integer ones', '''def interpolate_embeddings(embedding_a, embedding_b, steps):
    return np.linspace(embedding_a, embedding_b, steps)
'''),
]

CHECKS = {"EqualizedDense": checks.check_equalized_dense}


@pytest.mark.parametrize("lesson,exercise,mistake,code", MUTANTS, ids=[m[2] for m in MUTANTS])
def test_a_mistake_the_student_check_lets_through_fails_a_hidden_test(lesson, exercise, mistake, code):
    namespace = dict(np=np, keras=keras, tf=tf, layers=layers, ops=ops, math=math, ganlab=ganlab, xlogy=xlogy,
                     square_root=metrics.matrix_sqrt, discriminator_loss=losses.bce_discriminator_loss,
                     generator_loss=losses.bce_generator_loss)
    exec(code, namespace)
    student = namespace[exercise]
    check = CHECKS.get(exercise) or getattr(checks, f"check_{exercise}")
    with contextlib.redirect_stdout(io.StringIO()):
        assert check(student, verbose=False).passed, f"the student check now catches {mistake!r}: pick another"
    hidden = [test for test in testing.load_test_set(testing.test_set_source(lesson), lesson) if test.exercise == exercise]
    failed = []
    for test in hidden:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                value = test.function(student)
            passed = value is None or value is True or value >= 1
        except Exception:
            passed = False
        if not passed:
            failed.append(test.name)
    assert failed, f"no hidden test of {exercise} fails on {mistake!r}"
