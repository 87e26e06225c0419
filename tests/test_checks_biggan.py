"""Lessons 05 and 06's checks: they pass the references and name each typical mistake.

One test per mistake, each a small wrong implementation a student could write.
"""

import numpy as np
import pytest
import scipy.stats
from check_results import assert_fails, assert_passes
from keras import ops

from ganlab import checks, layers, models, regularizers, sampling


def not_written(*args, **kwargs):
    raise NotImplementedError("Exercise: see the instructions above")


# --- conditional batch norm ---------------------------------------------------------------


def conditional_batch_norm(
    x, condition, gain_kernel, bias_kernel, epsilon=1e-5, axes=(0, 1, 2), one_plus=True, swapped=False,
    divide=True, with_epsilon=True, ddof=0, fixed_epsilon=None,
):
    """A NumPy conditional batch norm with switches for the typical mistakes."""
    x = np.asarray(x, np.float64)
    epsilon = fixed_epsilon if fixed_epsilon is not None else epsilon
    centred = x - x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True, ddof=ddof)
    normalized = centred / np.sqrt(variance + (epsilon if with_epsilon else 0.0)) if divide else centred
    if swapped:
        gain_kernel, bias_kernel = bias_kernel, gain_kernel
    gain = np.asarray(condition) @ np.asarray(gain_kernel)
    bias = np.asarray(condition) @ np.asarray(bias_kernel)
    gain = 1.0 + gain if one_plus else gain
    return (normalized * gain[:, None, None, :] + bias[:, None, None, :]).astype("float32")


def test_conditional_batch_norm_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_conditional_batch_norm(checks.reference_conditional_batch_norm))
    assert "✓ conditional_batch_norm: all 3 checks passed." in capsys.readouterr().out


def test_conditional_batch_norm_reference_is_the_library_layer_in_training_mode():
    x = np.random.default_rng(0).normal(size=(4, 2, 2, 3)).astype("float32")
    condition = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    gain_kernel = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    bias_kernel = np.random.default_rng(3).normal(size=(5, 3)).astype("float32")
    layer = layers.ConditionalBatchNorm(spectral_norm=False)
    layer([x, condition])
    layer.gain.kernel.assign(gain_kernel)
    layer.bias.kernel.assign(bias_kernel)

    expected = ops.convert_to_numpy(layer([x, condition], training=True))
    got = ops.convert_to_numpy(checks.reference_conditional_batch_norm(x, condition, gain_kernel, bias_kernel))

    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_conditional_batch_norm_check_passes_a_numpy_implementation():
    assert_passes(checks.check_conditional_batch_norm(conditional_batch_norm, verbose=False))


def test_conditional_batch_norm_check_names_the_gain_without_one_plus():
    def no_one_plus(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, one_plus=False)

    result = checks.check_conditional_batch_norm(no_one_plus, verbose=False)
    assert_fails(result, "the gain lacks its `1 +`", "with zero kernels it must be plain batch norm")


def test_conditional_batch_norm_check_names_statistics_per_image():
    def instance_norm(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, axes=(1, 2))

    result = checks.check_conditional_batch_norm(instance_norm, verbose=False)
    assert_fails(result, "normalized each image on its own", "instance norm")


def test_conditional_batch_norm_check_names_statistics_over_the_channels():
    def over_channels(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, axes=(3,))

    result = checks.check_conditional_batch_norm(over_channels, verbose=False)
    assert_fails(result, "normalized over the channels")


def test_conditional_batch_norm_check_names_the_variance_not_used():
    def centred_only(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, divide=False)

    result = checks.check_conditional_batch_norm(centred_only, verbose=False)
    assert_fails(result, "the variance is not used")


def test_conditional_batch_norm_check_names_the_unbiased_variance():
    def unbiased(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, ddof=1)

    assert_fails(checks.check_conditional_batch_norm(unbiased, verbose=False), "unbiased variance")


def test_conditional_batch_norm_check_names_the_standard_deviation_without_epsilon():
    def no_epsilon(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, with_epsilon=False)

    assert_fails(checks.check_conditional_batch_norm(no_epsilon, verbose=False), "epsilon is missing")


def test_conditional_batch_norm_check_names_epsilon_outside_the_square_root():
    def outside(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        x = np.asarray(x, np.float64)
        normalized = (x - x.mean(axis=(0, 1, 2))) / (x.std(axis=(0, 1, 2)) + epsilon)
        gain = 1.0 + condition @ gain_kernel
        return normalized * gain[:, None, None, :] + (condition @ bias_kernel)[:, None, None, :]

    result = checks.check_conditional_batch_norm(outside, verbose=False)
    assert_fails(result, "added epsilon to the standard deviation")


def test_conditional_batch_norm_check_names_an_ignored_epsilon_argument():
    def fixed(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, fixed_epsilon=1e-5)

    assert_fails(checks.check_conditional_batch_norm(fixed, verbose=False), "ignores its epsilon argument")


def test_conditional_batch_norm_check_names_gain_and_bias_swapped():
    def swapped(x, condition, gain_kernel, bias_kernel, epsilon=1e-5):
        return conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon, swapped=True)

    assert_fails(checks.check_conditional_batch_norm(swapped, verbose=False), "gain and bias are swapped")


def test_conditional_batch_norm_check_reports_an_unwritten_exercise():
    assert checks.check_conditional_batch_norm(not_written, verbose=False).status == "not written"


# --- hierarchical latents -------------------------------------------------------------------


def chunks_and_embedding(latent, class_embedding, number_of_blocks):
    return np.split(np.asarray(latent), number_of_blocks + 1, axis=-1), np.asarray(class_embedding)


def test_block_conditions_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_block_conditions(checks.reference_block_conditions))
    assert "✓ block_conditions: all 3 checks passed." in capsys.readouterr().out


def test_block_conditions_reference_agrees_with_the_biggan_generator():
    generator = models.build_biggan_generator(
        models.BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8)
    )
    latent = np.random.default_rng(0).normal(size=(2, 16)).astype("float32")
    embedding = ops.convert_to_numpy(generator.embed(np.array([1, 3])))

    first, conditions = generator.latent_and_conditions(ops.convert_to_tensor(latent), embedding)
    reference_first, reference_conditions = checks.reference_block_conditions(latent, embedding, len(generator.blocks))

    np.testing.assert_allclose(ops.convert_to_numpy(reference_first), ops.convert_to_numpy(first))
    assert len(reference_conditions) == len(conditions) == 3
    for reference, condition in zip(reference_conditions, conditions):
        np.testing.assert_allclose(ops.convert_to_numpy(reference), ops.convert_to_numpy(condition))


def test_block_conditions_check_names_z_not_split():
    def unsplit(latent, class_embedding, number_of_blocks):
        return latent, [np.concatenate([class_embedding, latent], axis=-1)] * number_of_blocks

    assert_fails(checks.check_block_conditions(unsplit, verbose=False), "z was not split")


def test_block_conditions_check_names_the_whole_z_given_to_every_block():
    def whole_z(latent, class_embedding, number_of_blocks):
        chunks, embedding = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        return chunks[0], [np.concatenate([embedding, latent], axis=-1) for _ in chunks[1:]]

    assert_fails(checks.check_block_conditions(whole_z, verbose=False), "gets the whole z")


def test_block_conditions_check_names_z_split_into_one_chunk_too_few():
    def too_few_chunks(latent, class_embedding, number_of_blocks):
        chunks = np.split(np.asarray(latent), number_of_blocks, axis=-1)
        return chunks[0], [np.concatenate([class_embedding, chunk], axis=-1) for chunk in chunks[1:]]

    result = checks.check_block_conditions(too_few_chunks, verbose=False)
    assert_fails(result, "you split z into number_of_blocks = 3 chunks")


def test_block_conditions_check_names_chunk_0_given_to_a_block_too():
    def every_chunk(latent, class_embedding, number_of_blocks):
        chunks, embedding = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        return chunks[0], [np.concatenate([embedding, chunk], axis=-1) for chunk in chunks]

    assert_fails(checks.check_block_conditions(every_chunk, verbose=False), "chunk 0 was given to a block too")


def test_block_conditions_check_names_an_off_by_one_chunk():
    def off_by_one(latent, class_embedding, number_of_blocks):
        chunks, embedding = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        return chunks[0], [np.concatenate([embedding, chunk], axis=-1) for chunk in chunks[:-1]]

    assert_fails(checks.check_block_conditions(off_by_one, verbose=False), "off by one")


def test_block_conditions_check_names_the_chunk_before_the_embedding():
    def chunk_first(latent, class_embedding, number_of_blocks):
        chunks, embedding = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        return chunks[0], [np.concatenate([chunk, embedding], axis=-1) for chunk in chunks[1:]]

    result = checks.check_block_conditions(chunk_first, verbose=False)
    assert_fails(result, "z chunk before the embedding", "BigGAN-PyTorch concatenates [y, z_chunk]")


def test_block_conditions_check_names_an_ignored_class_embedding():
    def no_embedding(latent, class_embedding, number_of_blocks):
        chunks, _ = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        return chunks[0], list(chunks[1:])

    result = checks.check_block_conditions(no_embedding, verbose=False)
    assert_fails(result, "the class embedding is missing (your function ignores class_embedding)")


def test_block_conditions_check_names_a_different_embedding_per_block():
    def own_embeddings(latent, class_embedding, number_of_blocks):
        chunks, embedding = chunks_and_embedding(latent, class_embedding, number_of_blocks)
        random = np.random.default_rng(0)
        return chunks[0], [
            np.concatenate([random.normal(size=embedding.shape), chunk], axis=-1) for chunk in chunks[1:]
        ]

    result = checks.check_block_conditions(own_embeddings, verbose=False)
    assert_fails(result, "not the class embedding you were given", "the same, shared embedding")


def test_block_conditions_check_names_the_wrong_number_of_conditions():
    def one_missing(latent, class_embedding, number_of_blocks):
        first, conditions = checks.reference_block_conditions(latent, class_embedding, number_of_blocks)
        return first, conditions[:-1]

    assert_fails(checks.check_block_conditions(one_missing, verbose=False), "3 blocks need 3 conditions")


def test_block_conditions_check_catches_a_fixed_number_of_blocks():
    def three_blocks(latent, class_embedding, number_of_blocks):
        return checks.reference_block_conditions(latent, class_embedding, 3)

    assert_fails(checks.check_block_conditions(three_blocks, verbose=False), "use number_of_blocks")


def test_block_conditions_check_reports_an_unwritten_exercise():
    assert checks.check_block_conditions(not_written, verbose=False).status == "not written"


# --- orthogonal regularization --------------------------------------------------------------


def gram_penalty(kernel, strength=1e-4, diagonal=False, minus_identity=False, rows=False, square=True):
    """A NumPy orthogonal penalty with switches for the typical mistakes."""
    kernel = np.asarray(kernel, np.float64)
    weights = kernel.reshape(-1, kernel.shape[-1])
    gram = weights @ weights.T if rows else weights.T @ weights
    identity = np.eye(gram.shape[0])
    if minus_identity:
        gram = gram - identity
    elif not diagonal:
        gram = gram * (1.0 - identity)
    total = np.sum(np.square(gram))
    return strength * (total if square else np.sqrt(total))


def test_orthogonal_regularization_check_passes_the_library_function_and_reports_it(capsys):
    assert_passes(checks.check_orthogonal_regularization(regularizers.orthogonal_regularization))
    assert "✓ orthogonal_regularization: all 3 checks passed." in capsys.readouterr().out


def test_orthogonal_regularization_check_passes_a_numpy_implementation():
    assert_passes(checks.check_orthogonal_regularization(gram_penalty, verbose=False))


def test_orthogonal_regularization_check_names_the_diagonal_left_in():
    def with_diagonal(kernel, strength=1e-4):
        return gram_penalty(kernel, strength, diagonal=True)

    assert_fails(checks.check_orthogonal_regularization(with_diagonal, verbose=False), "kept the diagonal")


def test_orthogonal_regularization_check_names_the_identity_subtracted():
    def minus_identity(kernel, strength=1e-4):
        return gram_penalty(kernel, strength, minus_identity=True)

    result = checks.check_orthogonal_regularization(minus_identity, verbose=False)
    assert_fails(result, "||W^T W - I||^2")


def test_orthogonal_regularization_check_names_keras_orthogonal_regularizer():
    import keras

    def keras_formula(kernel, strength=1e-4):
        return keras.regularizers.OrthogonalRegularizer(factor=strength, mode="rows")(ops.convert_to_tensor(kernel))

    result = checks.check_orthogonal_regularization(keras_formula, verbose=False)
    assert_fails(result, "Keras' OrthogonalRegularizer")


def test_orthogonal_regularization_check_names_w_w_transposed():
    def rows(kernel, strength=1e-4):
        return gram_penalty(kernel, strength, rows=True)

    assert_fails(checks.check_orthogonal_regularization(rows, verbose=False), "you used W W^T")


def test_orthogonal_regularization_check_names_the_norm_without_its_square():
    def norm(kernel, strength=1e-4):
        return gram_penalty(kernel, strength, square=False)

    assert_fails(checks.check_orthogonal_regularization(norm, verbose=False), "without squaring it")


def test_orthogonal_regularization_check_names_the_strength_ignored():
    def no_strength(kernel, strength=1e-4):
        return gram_penalty(kernel, 1.0)

    assert_fails(checks.check_orthogonal_regularization(no_strength, verbose=False), "the strength is ignored")


def test_orthogonal_regularization_check_names_a_fixed_strength():
    def fixed(kernel, strength=1e-4):
        return gram_penalty(kernel, 1e-4)

    assert_fails(checks.check_orthogonal_regularization(fixed, verbose=False), "(a fixed 1e-4)")


def test_orthogonal_regularization_check_names_the_wrong_default_strength():
    def default_one(kernel, strength=1.0):
        return gram_penalty(kernel, strength)

    assert_fails(checks.check_orthogonal_regularization(default_one, verbose=False), "the default strength")


def test_orthogonal_regularization_check_names_a_conv_kernel_reshaped_the_wrong_way():
    def out_first(kernel, strength=1e-4):
        kernel = np.asarray(kernel, np.float64)
        weights = kernel.reshape(kernel.shape[-1], -1)  # wrong: mixes the axes of a conv kernel
        gram = weights @ weights.T
        return strength * np.sum(np.square(gram * (1 - np.eye(gram.shape[0]))))

    result = checks.check_orthogonal_regularization(out_first, verbose=False)
    assert_fails(result, "reshaped to (out, -1)", "(kh * kw * in, out)")


def test_orthogonal_regularization_check_names_a_conv_kernel_not_reshaped():
    def two_axes_only(kernel, strength=1e-4):
        gram = ops.matmul(ops.transpose(kernel), kernel)
        return strength * ops.sum(ops.square(gram * (1 - ops.eye(kernel.shape[-1]))))

    result = checks.check_orthogonal_regularization(two_axes_only, verbose=False)
    assert_fails(result, "on a convolution kernel (2, 1, 3, 2)", "reshape the kernel first")


def test_orthogonal_regularization_check_reports_an_unwritten_exercise():
    assert checks.check_orthogonal_regularization(not_written, verbose=False).status == "not written"


# --- the weights that are regularized --------------------------------------------------------


def embedding_ids(generator):
    return {id(weight) for weight in generator.shared_embedding.weights}


def test_regularized_weights_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_regularized_weights(checks.reference_regularized_weights))
    assert "✓ regularized_weights: all 4 checks passed." in capsys.readouterr().out


def test_regularized_weights_check_names_the_shared_embedding_included():
    def with_embedding(generator):
        return [weight for weight in generator.trainable_weights if len(weight.shape) >= 2]

    result = checks.check_regularized_weights(with_embedding, verbose=False)
    assert_fails(result, "shared class embedding", "the paper leaves the shared embedding out")


def test_regularized_weights_check_names_biases_and_gains_included():
    def with_biases(generator):
        excluded = embedding_ids(generator)
        return [weight for weight in generator.trainable_weights if id(weight) not in excluded]

    assert_fails(checks.check_regularized_weights(with_biases, verbose=False), "fewer than two axes")


def test_regularized_weights_check_names_non_trainable_weights_included():
    def all_weights(generator):
        excluded = embedding_ids(generator)
        return [weight for weight in generator.weights if len(weight.shape) >= 2 and id(weight) not in excluded]

    result = checks.check_regularized_weights(all_weights, verbose=False)
    assert_fails(result, "are not trainable", "vector_u")


def test_regularized_weights_check_names_missing_kernels():
    def convolutions_only(generator):
        return [weight for weight in generator.trainable_weights if len(weight.shape) == 4]

    assert_fails(checks.check_regularized_weights(convolutions_only, verbose=False), "kernels are missing")


def test_regularized_weights_check_names_values_instead_of_weights():
    def values(generator):
        return [ops.convert_to_numpy(weight) for weight in checks.reference_regularized_weights(generator)]

    assert_fails(checks.check_regularized_weights(values, verbose=False), "are not weights")


def test_regularized_weights_check_reports_an_unwritten_exercise():
    assert checks.check_regularized_weights(not_written, verbose=False).status == "not written"


# --- the truncation trick --------------------------------------------------------------------


def test_truncated_normal_check_passes_the_library_function_and_reports_it(capsys):
    assert_passes(checks.check_truncated_normal(sampling.truncated_normal))
    assert "✓ truncated_normal: all 5 checks passed." in capsys.readouterr().out


def test_truncated_normal_check_passes_scipy_truncnorm_at_the_threshold():
    def with_scipy(shape, truncation, seed=None):
        if truncation is None:
            return scipy.stats.norm().rvs(shape, random_state=seed).astype("float32")
        return scipy.stats.truncnorm(-truncation, truncation).rvs(shape, random_state=seed).astype("float32")

    assert_passes(checks.check_truncated_normal(with_scipy, verbose=False))


def test_truncated_normal_check_names_clipping():
    def clipped(shape, truncation, seed=None):
        values = np.random.default_rng(seed).standard_normal(shape)
        return np.clip(values, -truncation, truncation).astype("float32")

    assert_fails(checks.check_truncated_normal(clipped, verbose=False), "you clipped the normal sample")


def test_truncated_normal_check_names_a_scaled_normal_sample():
    def scaled(shape, truncation, seed=None):
        return (np.random.default_rng(seed).standard_normal(shape) * truncation).astype("float32")

    assert_fails(checks.check_truncated_normal(scaled, verbose=False), "you scaled a normal sample")


def test_truncated_normal_check_names_the_demo_truncation():
    assert_fails(
        checks.check_truncated_normal(sampling.truncnorm_scaled, verbose=False), "TF Hub demo's truncnorm(-2, 2)"
    )


def test_truncated_normal_check_names_another_distribution():
    def uniform(shape, truncation, seed=None):
        return np.random.default_rng(seed).uniform(-truncation, truncation, shape).astype("float32")

    assert_fails(checks.check_truncated_normal(uniform, verbose=False), "keep the bell shape")


def test_truncated_normal_check_names_the_seed_not_used():
    def unseeded(shape, truncation, seed=None):
        return sampling.truncated_normal(shape, truncation, seed=None)

    assert_fails(checks.check_truncated_normal(unseeded, verbose=False), "the seed is not used")


def test_truncated_normal_check_names_truncation_none_not_handled():
    def no_none(shape, truncation, seed=None):
        random = np.random.default_rng(seed)
        values = random.standard_normal(shape)
        outside = np.abs(values) > truncation  # a TypeError for None
        while outside.any():
            values[outside] = random.standard_normal(outside.sum())
            outside = np.abs(values) > truncation
        return values.astype("float32")

    def none_as_one(shape, truncation, seed=None):
        return sampling.truncated_normal(shape, 1.0 if truncation is None else truncation, seed=seed)

    assert_fails(checks.check_truncated_normal(no_none, verbose=False), "truncation=None means no truncation")
    assert_fails(checks.check_truncated_normal(none_as_one, verbose=False), "None means no truncation")


def test_truncated_normal_check_names_a_fixed_seed():
    def fixed_seed(shape, truncation, seed=None):
        return sampling.truncated_normal(shape, truncation, seed=0)

    assert_fails(checks.check_truncated_normal(fixed_seed, verbose=False), "the seed is ignored")


def test_truncated_normal_check_names_float64_values():
    def float64(shape, truncation, seed=None):
        return sampling.truncated_normal(shape, truncation, seed).astype("float64")

    assert_fails(checks.check_truncated_normal(float64, verbose=False), "should be float32")


def test_truncated_normal_check_names_the_wrong_shape():
    def flat(shape, truncation, seed=None):
        return sampling.truncated_normal(int(np.prod(shape)), truncation, seed)

    assert_fails(checks.check_truncated_normal(flat, verbose=False), "should return an array of shape")


def test_truncated_normal_check_reports_an_unwritten_exercise():
    assert checks.check_truncated_normal(not_written, verbose=False).status == "not written"


# --- lesson 06: interpolating class embeddings ------------------------------------------------


def line(a, b, t):
    return ((1 - t[:, None]) * a + t[:, None] * b).astype("float32")


def test_interpolate_embeddings_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_interpolate_embeddings(checks.reference_interpolate_embeddings))
    assert "✓ interpolate_embeddings: all 5 checks passed." in capsys.readouterr().out


def test_interpolate_embeddings_check_passes_the_library_interpolation():
    assert_passes(checks.check_interpolate_embeddings(sampling.interpolate, verbose=False))


def test_interpolate_embeddings_check_names_an_end_left_out():
    def no_endpoint(a, b, steps):
        return line(a, b, np.linspace(0, 1, steps, endpoint=False))

    result = checks.check_interpolate_embeddings(no_endpoint, verbose=False)
    assert_fails(result, "stops short of embedding_b", "endpoint=False")


def test_interpolate_embeddings_check_names_a_reversed_path():
    def reversed_path(a, b, steps):
        return line(b, a, np.linspace(0, 1, steps))

    assert_fails(checks.check_interpolate_embeddings(reversed_path, verbose=False), "your path is reversed")


def test_interpolate_embeddings_check_names_one_step_too_many():
    def one_more(a, b, steps):
        return line(a, b, np.linspace(0, 1, steps + 1))

    assert_fails(checks.check_interpolate_embeddings(one_more, verbose=False), "one row too many")


def test_interpolate_embeddings_check_names_one_step_too_few():
    def one_less(a, b, steps):
        return line(a, b, np.linspace(0, 1, steps - 1))

    assert_fails(checks.check_interpolate_embeddings(one_less, verbose=False), "one row too few")


def test_interpolate_embeddings_check_names_a_path_that_is_not_linear():
    def spherical(a, b, steps):
        return sampling.interpolate(a, b, steps, method="slerp")

    assert_fails(checks.check_interpolate_embeddings(spherical, verbose=False), "not a straight line")


def test_interpolate_embeddings_check_names_float64_values():
    def float64(a, b, steps):
        return line(a, b, np.linspace(0, 1, steps)).astype("float64")

    assert_fails(checks.check_interpolate_embeddings(float64, verbose=False), "should be float32")


def test_interpolate_embeddings_check_reports_an_unwritten_exercise():
    assert checks.check_interpolate_embeddings(not_written, verbose=False).status == "not written"


# --- lesson 06: the TF Hub demo's truncation ----------------------------------------------------


def demo(number, dimension, truncation, seed):
    """``truncated_z_sample`` of biggan_generation_with_tf_hub.ipynb, as float32."""
    state = None if seed is None else np.random.RandomState(seed)
    values = scipy.stats.truncnorm.rvs(-2, 2, size=(number, dimension), random_state=state)
    return (truncation * values).astype("float32")


def test_demo_truncated_z_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_demo_truncated_z(checks.reference_demo_truncated_z))
    assert "✓ demo_truncated_z: all 3 checks passed." in capsys.readouterr().out


def test_demo_truncated_z_check_passes_the_demo_code():
    assert_passes(checks.check_demo_truncated_z(demo, verbose=False))


def test_demo_truncated_z_check_names_the_paper_resampling():
    def paper(number, dimension, truncation, seed):
        return sampling.truncated_normal((number, dimension), truncation, seed)

    result = checks.check_demo_truncated_z(paper, verbose=False)
    assert_fails(result, "the paper's truncation by resampling", "reaches 2 x truncation")


def test_demo_truncated_z_check_names_clipping():
    def clipped(number, dimension, truncation, seed):
        values = np.random.RandomState(seed).standard_normal((number, dimension))
        return (np.clip(values, -2, 2) * truncation).astype("float32")

    assert_fails(checks.check_demo_truncated_z(clipped, verbose=False), "you clipped a normal sample")


def test_demo_truncated_z_check_names_the_bound_without_scaling():
    def unscaled(number, dimension, truncation, seed):
        return demo(number, dimension, 1.0, seed)

    result = checks.check_demo_truncated_z(unscaled, verbose=False)
    assert_fails(result, "not multiplied by the truncation")


def test_demo_truncated_z_check_names_a_scaled_normal_sample():
    def scaled_normal(number, dimension, truncation, seed):
        return (np.random.RandomState(seed).standard_normal((number, dimension)) * truncation).astype("float32")

    assert_fails(checks.check_demo_truncated_z(scaled_normal, verbose=False), "beyond 2 x truncation")


def test_demo_truncated_z_check_names_the_seed_not_used():
    def unseeded(number, dimension, truncation, seed):
        return demo(number, dimension, truncation, None)

    assert_fails(checks.check_demo_truncated_z(unseeded, verbose=False), "the seed is not used")


def test_demo_truncated_z_check_names_another_random_generator():
    def other_generator(number, dimension, truncation, seed):
        values = scipy.stats.truncnorm.rvs(-2, 2, size=(number, dimension), random_state=np.random.default_rng(seed))
        return (truncation * values).astype("float32")

    result = checks.check_demo_truncated_z(other_generator, verbose=False)
    assert_fails(result, "not used the demo's way", "np.random.RandomState(seed)")


def test_demo_truncated_z_check_names_seed_0_taken_for_no_seed():
    def falsy_seed(number, dimension, truncation, seed):
        return demo(number, dimension, truncation, seed if seed else None)

    assert_fails(checks.check_demo_truncated_z(falsy_seed, verbose=False), "seed 0 is taken for no seed")


def test_demo_truncated_z_check_names_float64_values():
    def float64(number, dimension, truncation, seed):
        return demo(number, dimension, truncation, seed).astype("float64")

    assert_fails(checks.check_demo_truncated_z(float64, verbose=False), "the values are the demo's, but float64")


def test_demo_truncated_z_check_reports_an_unwritten_exercise():
    assert checks.check_demo_truncated_z(not_written, verbose=False).status == "not written"


# --- using the student's function, or ganlab's --------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "conditional_batch_norm",
        "block_conditions",
        "orthogonal_regularization",
        "regularized_weights",
        "truncated_normal",
        "interpolate_embeddings",
        "demo_truncated_z",
    ],
)
def test_solution_or_reference_finds_the_check_of_each_lesson_05_and_06_exercise(name, capsys):
    reference = object()

    assert checks.solution_or_reference(not_written, reference, name) is reference
    assert f"{name} is not written yet" in capsys.readouterr().out
