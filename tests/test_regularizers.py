"""Tests of BigGAN's orthogonal regularization (ganlab.regularizers), on matrices worked by hand.

``R(W) = strength * ||W^T W ⊙ (1 - I)||_F^2`` with W the kernel reshaped to
(fan_in, out): the Gram matrix of the output filters, off its diagonal.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from ganlab.models.biggan import BigGANConfig, build_biggan_generator
from ganlab.regularizers import generator_orthogonal_penalty, orthogonal_regularization


def value(tensor):
    return float(ops.convert_to_numpy(tensor))


def test_orthogonal_regularization_of_a_2x2_matrix_is_twice_the_squared_overlap_of_its_columns():
    # Columns (1, 3) and (2, 4): overlap 1 * 2 + 3 * 4 = 14, counted at (0, 1) and (1, 0): 2 * 14^2 = 392.
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")

    assert value(orthogonal_regularization(kernel, strength=1.0)) == pytest.approx(392.0)
    assert value(orthogonal_regularization(kernel)) == pytest.approx(392.0 * 1e-4)


def test_orthogonal_regularization_of_a_3x2_matrix_compares_its_two_output_filters():
    # fan_in 3, out 2: columns (1, 1, 0) and (0, 1, 1) overlap by 1, so 2 * 1^2 = 2.
    kernel = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype="float32")

    assert value(orthogonal_regularization(kernel, strength=0.5)) == pytest.approx(1.0)


def test_an_orthogonal_matrix_costs_nothing():
    angle = 0.3
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype="float32")

    assert value(orthogonal_regularization(rotation, strength=1.0)) == pytest.approx(0.0, abs=1e-6)


def test_the_diagonal_is_not_counted_so_orthogonal_filters_of_any_norm_cost_nothing():
    # Orthogonal columns of norms 3 and 5. ||W^T W - I||^2 would be (9 - 1)^2 + (25 - 1)^2 = 640.
    kernel = np.array([[3.0, 0.0], [0.0, 5.0], [0.0, 0.0]], dtype="float32")

    assert value(orthogonal_regularization(kernel, strength=1.0)) == 0.0


def test_a_conv_kernel_is_reshaped_to_fan_in_by_out():
    # kernel[kh, kw, in, out] of shape (1, 2, 1, 2): reshaped to (2, 2) its rows are [1, 2] and [3, 4],
    # the matrix of the 2x2 test: 392.
    kernel = np.zeros((1, 2, 1, 2), dtype="float32")
    kernel[0, 0, 0, :] = [1.0, 2.0]
    kernel[0, 1, 0, :] = [3.0, 4.0]

    assert value(orthogonal_regularization(kernel, strength=1.0)) == pytest.approx(392.0)


def test_it_is_not_keras_orthogonal_regularizer():
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    keras_value = value(keras.regularizers.OrthogonalRegularizer(factor=1.0, mode="columns")(kernel))

    assert keras_value != pytest.approx(392.0)


def test_orthogonal_regularization_refuses_negative_strength_and_kernels_of_one_axis():
    with pytest.raises(ValueError, match="strength"):
        orthogonal_regularization(np.eye(2, dtype="float32"), strength=-1e-4)
    with pytest.raises(ValueError, match="two or more axes"):
        orthogonal_regularization(np.ones(3, dtype="float32"))


# ---------------------------------------------------------------- the generator's penalty


def numpy_penalty(kernel, strength):
    weights = np.asarray(kernel, dtype="float64").reshape(-1, kernel.shape[-1])
    gram = weights.T @ weights
    return strength * float(np.sum((gram * (1.0 - np.eye(len(gram)))) ** 2))


@pytest.fixture(scope="module")
def tiny_generator():
    keras.utils.set_random_seed(0)
    config = BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8)
    return build_biggan_generator(config)


def test_the_generator_penalty_sums_every_kernel_of_two_or_more_axes_but_the_shared_embedding(tiny_generator):
    generator = tiny_generator
    embedding = generator.shared_embedding.embeddings
    # A random embedding, far from orthogonal: it would add to the penalty if it were counted.
    embedding.assign(np.random.default_rng(0).normal(size=embedding.shape).astype("float32"))
    kernels = [
        weight for weight in generator.trainable_weights
        if len(weight.shape) >= 2 and "embedding" not in weight.path
    ]

    penalty = value(generator_orthogonal_penalty(generator, strength=1e-2))

    expected = sum(numpy_penalty(ops.convert_to_numpy(kernel), 1e-2) for kernel in kernels)
    assert numpy_penalty(ops.convert_to_numpy(embedding), 1e-2) > 1e-3
    assert penalty == pytest.approx(expected, rel=1e-4)
    # The linear layer, 3 x 2 conv and shortcut per block, 4 attention convs, the output conv,
    # and the conditional batch norms' gain and bias kernels (2 per norm, 2 norms per block).
    assert len(kernels) == 1 + 3 * 3 + 4 + 1 + 3 * 2 * 2


def test_the_generator_penalty_ignores_changes_to_the_embedding_and_sees_changes_to_a_kernel(tiny_generator):
    generator = tiny_generator
    before = value(generator_orthogonal_penalty(generator, strength=1.0))

    generator.shared_embedding.embeddings.assign(np.ones(generator.shared_embedding.embeddings.shape, "float32"))
    after_embedding = value(generator_orthogonal_penalty(generator, strength=1.0))
    generator.linear.kernel.assign(np.ones(generator.linear.kernel.shape, "float32"))
    after_kernel = value(generator_orthogonal_penalty(generator, strength=1.0))

    assert after_embedding == pytest.approx(before, rel=1e-6)
    assert after_kernel != pytest.approx(before, rel=1e-3)


def test_the_generator_penalty_is_zero_at_strength_zero_and_refuses_a_negative_strength(tiny_generator):
    assert value(generator_orthogonal_penalty(tiny_generator, strength=0.0)) == 0.0
    with pytest.raises(ValueError, match="strength"):
        generator_orthogonal_penalty(tiny_generator, strength=-1.0)
