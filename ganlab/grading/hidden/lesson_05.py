"""Hidden tests of lesson 05, BigGAN (the contracts of ganlab/checks/biggan.py)."""

import time

import numpy as np
import tensorflow as tf

from ganlab import checks
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test, to_numpy



@hidden_test("conditional_batch_norm", points=2)
def conditional_batch_norm_passes_the_notebook_check(conditional_batch_norm):
    expect_check_passes(checks.check_conditional_batch_norm, conditional_batch_norm)


@hidden_test("conditional_batch_norm", points=2)
def conditional_batch_norm_for_other_shapes_and_seeds(conditional_batch_norm):
    passed = 0
    for seed, (n, h, w, c, d) in enumerate(((3, 2, 5, 4, 6), (1, 3, 3, 2, 1), (5, 1, 1, 7, 3))):
        rng = np.random.default_rng(seed)
        x = rng.normal(2.0, 3.0, (n, h, w, c)).astype("float32")
        condition = rng.normal(size=(n, d)).astype("float32")
        gain_kernel, bias_kernel = (rng.normal(0, 0.5, (d, c)).astype("float32") for _ in range(2))
        got = to_numpy(conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon=1e-3))
        want = to_numpy(checks.reference_conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon=1e-3))
        passed += got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-4)
    expect(passed == 3, "wrong for non-square maps, a condition size different from the channels, a batch of one "
           "image or 1x1 maps.", credit=fraction(passed, 3))


@hidden_test("conditional_batch_norm", points=1)
def conditional_batch_norm_runs_in_a_graph_with_an_unknown_batch_size(conditional_batch_norm):
    rng = np.random.default_rng(7)
    gain_kernel, bias_kernel = (tf.constant(rng.normal(0, 0.5, (3, 2)).astype("float32")) for _ in range(2))

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 2), tf.float32), tf.TensorSpec((None, 3), tf.float32)])
    def graph(x, condition):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel)

    x, condition = rng.normal(size=(5, 4, 4, 2)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")
    expect_close(graph(x, condition), checks.reference_conditional_batch_norm(x, condition, gain_kernel, bias_kernel),
                 "inside a tf.function with an unknown batch size (as in fit) the result must be the same: "
                 "broadcast with [:, None, None, :] rather than reshaping to x.shape[0].", rtol=1e-3, atol=1e-4)


@hidden_test("block_conditions", points=2)
def block_conditions_passes_the_notebook_check(block_conditions):
    expect_check_passes(checks.check_block_conditions, block_conditions)


@hidden_test("block_conditions", points=2)
def block_conditions_for_any_number_of_blocks(block_conditions):
    passed = 0
    for seed, blocks in enumerate((1, 2, 4)):
        rng = np.random.default_rng(seed)
        latent = tf.constant(rng.normal(size=(3, 5 * (blocks + 1))).astype("float32"))
        embedding = tf.constant(rng.normal(size=(3, 4)).astype("float32"))
        first, conditions = block_conditions(latent, embedding, blocks)
        want_first, want_conditions = checks.reference_block_conditions(latent, embedding, blocks)
        passed += (len(conditions) == blocks and np.allclose(to_numpy(first), to_numpy(want_first))
                   and all(np.allclose(to_numpy(a), to_numpy(b)) for a, b in zip(conditions, want_conditions)))
    expect(passed == 3, "with 1, 2 or 4 blocks z must be split into number_of_blocks + 1 chunks, one condition per "
           "block.", credit=fraction(passed, 3))


@hidden_test("block_conditions", points=1)
def block_conditions_runs_in_a_graph(block_conditions):
    @tf.function(input_signature=[tf.TensorSpec((None, 12), tf.float32), tf.TensorSpec((None, 4), tf.float32)])
    def graph(latent, embedding):
        first, conditions = block_conditions(latent, embedding, 2)
        return first, tf.stack(conditions)

    rng = np.random.default_rng(8)
    latent, embedding = rng.normal(size=(3, 12)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    first, conditions = graph(latent, embedding)
    want_first, want_conditions = checks.reference_block_conditions(latent, embedding, 2)
    expect_close(first, want_first, "inside a tf.function (as in the generator's call during fit) z_0 must be the "
                 "same: use keras.ops (ops.split, ops.concatenate), not NumPy.")
    expect_close(conditions, np.stack([to_numpy(c) for c in want_conditions]), "inside a tf.function the "
                 "conditions must be the same.")


@hidden_test("orthogonal_regularization", points=2)
def orthogonal_regularization_passes_the_notebook_check(orthogonal_regularization):
    expect_check_passes(checks.check_orthogonal_regularization, orthogonal_regularization)


@hidden_test("orthogonal_regularization", points=2)
def orthogonal_regularization_of_other_kernels_and_strengths(orthogonal_regularization):
    passed = 0
    for seed, (shape, strength) in enumerate((((3, 7), 1e-4), ((1, 1, 5, 4), 0.5), ((2, 3, 4, 6), 2e-3))):
        kernel = np.random.default_rng(seed).normal(size=shape).astype("float32")
        matrix = kernel.reshape(-1, shape[-1]).astype("float64")
        gram = matrix.T @ matrix
        want = strength * np.sum((gram * (1 - np.eye(shape[-1]))) ** 2)
        got = float(to_numpy(orthogonal_regularization(tf.constant(kernel), strength=strength)))
        passed += abs(got - want) <= 1e-4 * abs(want)
    expect(passed == 3, "wrong for a wide dense kernel, a 1x1 convolution or another strength.",
           credit=fraction(passed, 3))


@hidden_test("orthogonal_regularization", points=1)
def orthogonal_regularization_has_the_right_gradient(orthogonal_regularization):
    kernel = tf.Variable(np.random.default_rng(9).normal(size=(5, 4)).astype("float32"))
    with tf.GradientTape() as tape:
        penalty = orthogonal_regularization(kernel, strength=0.1)
    gradient = tape.gradient(penalty, kernel)
    expect(gradient is not None, "the penalty must be differentiable with respect to the kernel (keras.ops, not "
           "NumPy): it is added to G's loss.")
    w = to_numpy(kernel).astype("float64")
    expect_close(gradient, 0.1 * 4 * w @ ((w.T @ w) * (1 - np.eye(4))), "the gradient of the penalty must be "
                 "4 * strength * W (W^T W * (1 - I)).", rtol=1e-3)


@hidden_test("regularized_weights", points=2)
def regularized_weights_passes_the_notebook_check(regularized_weights):
    expect_check_passes(checks.check_regularized_weights, regularized_weights)


@hidden_test("regularized_weights", points=1)
def regularized_weights_leaves_the_generator_as_it_was(regularized_weights):
    from ganlab.models import BigGANConfig, build_biggan_generator

    generator = build_biggan_generator(BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8,
                                                    discriminator_width=8))
    trainable = [id(weight) for weight in generator.trainable_weights]
    first = [id(weight) for weight in regularized_weights(generator)]
    second = [id(weight) for weight in regularized_weights(generator)]
    expect([id(weight) for weight in generator.trainable_weights] == trainable,
           "listing the weights must not change the generator (no weight frozen, added or removed).")
    expect(first == second, "asked twice, it must give the same weights.")


@hidden_test("truncated_normal", points=2)
def truncated_normal_passes_the_notebook_check(truncated_normal):
    expect_check_passes(checks.check_truncated_normal, truncated_normal)


@hidden_test("truncated_normal", points=2)
def truncated_normal_is_fast_for_small_thresholds_and_any_shape(truncated_normal):
    started = time.perf_counter()
    values = to_numpy(truncated_normal((300, 1000), 0.04, seed=3))
    seconds = time.perf_counter() - started
    expect(values.shape == (300, 1000) and np.all(np.abs(values) <= 0.04), "with truncation 0.04 every value must be "
           "within the threshold.")
    expect(seconds < 3, "300,000 values at truncation 0.04 must take a fraction of a second: resample all the "
           "values outside at once, not one value at a time.")
    cube = to_numpy(truncated_normal((2, 3, 4), 1.0, seed=0))
    expect(cube.shape == (2, 3, 4), "any shape works, three axes too.")
