"""Checks of lesson 05, BigGAN: ``conditional_batch_norm``, ``block_conditions``,
``orthogonal_regularization``, ``regularized_weights``, ``truncated_normal``.

Each check runs the student's function on small arrays whose answers are
worked out here with plain NumPy from the definitions of Brock et al. (2019)
and BigGAN-PyTorch (``layers.py``'s ``ccbn``, ``BigGAN.py``'s hierarchical
latents, ``utils.py``'s ``ortho``). A wrong answer is compared with what the
typical mistakes give on the same input, so that the report can name the
mistake: the gain without its ``1 +``, instance norm instead of batch norm,
the z chunk before the embedding, the diagonal of ``W^T W`` left in, the
shared embedding regularized, clipping instead of resampling.
"""

from __future__ import annotations

import math
import re

import keras
import numpy as np

from ganlab.checks.common import Mistake, _scalar, _to_numpy, run_check
from ganlab.checks.progressive_gan import _expect_array

BATCH_NORM_EPSILON = 1e-5
ORTHOGONAL_STRENGTH = 1e-4


def _random(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).normal(0.0, scale, shape)).astype("float32")


# --- conditional batch norm ---------------------------------------------------------------


def reference_conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon=BATCH_NORM_EPSILON):
    """Batch norm with the batch's statistics, then a per-image gain and bias from ``condition``.

    ```
    x_hat = (x - mean(x)) / sqrt(var(x) + epsilon)     # per channel, over axes (0, 1, 2), biased variance
    y = x_hat * (1 + condition @ gain_kernel)[:, None, None, :] + (condition @ bias_kernel)[:, None, None, :]
    ```

    What ``ganlab.layers.ConditionalBatchNorm`` computes in training mode,
    written out with the kernels given (that layer owns its kernels).

    Args:
        x: feature maps ``(N, H, W, C)``.
        condition: conditioning vectors ``(N, D)``.
        gain_kernel, bias_kernel: ``(D, C)``.
        epsilon: added to the variance.

    Returns:
        A float32 tensor of the shape of ``x``.
    """
    from keras import ops

    x = ops.cast(x, "float32")
    condition = ops.cast(condition, "float32")
    mean, variance = ops.moments(x, axes=(0, 1, 2), keepdims=True)  # [1, 1, 1, C]
    normalized = (x - mean) / ops.sqrt(variance + epsilon)
    gain = 1.0 + ops.matmul(condition, ops.cast(gain_kernel, "float32"))  # [N, C]
    bias = ops.matmul(condition, ops.cast(bias_kernel, "float32"))  # [N, C]
    return normalized * gain[:, None, None, :] + bias[:, None, None, :]


def _normalized_numpy(x, axes=(0, 1, 2), epsilon=BATCH_NORM_EPSILON, ddof=0, subtract_mean=True,
                      divide_by="std", epsilon_inside=True):
    """Normalization of ``x`` over ``axes``, with switches for the typical mistakes."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True, ddof=ddof)
    centred = x - mean if subtract_mean else x
    if divide_by == "std":
        scale = np.sqrt(variance + epsilon) if epsilon_inside else np.sqrt(variance) + epsilon
    elif divide_by == "variance":
        scale = variance + epsilon
    else:
        scale = 1.0
    return centred / scale


def _modulated(normalized, gain, bias, one_plus=True, bias_first=False):
    gain = (1.0 + gain if one_plus else gain)[:, None, None, :]
    bias = bias[:, None, None, :]
    return (normalized + bias) * gain if bias_first else normalized * gain + bias


def check_conditional_batch_norm(conditional_batch_norm, verbose=True):
    """Checks ``conditional_batch_norm(x, condition, gain_kernel, bias_kernel, epsilon=1e-5)``.

    Catches: the gain without its ``1 +``, statistics per image (instance
    norm) or over the channels (layer norm), the unbiased variance, the
    standard deviation not used (or the variance without its square root),
    epsilon left out or added outside the square root, the epsilon argument
    ignored, gain and bias swapped, the bias added before the gain, one gain
    for the whole batch.
    """

    def body(conditional_batch_norm, report):
        # Per-channel offsets, so that a mean not subtracted shows.
        x = _random((4, 2, 2, 3), seed=11, scale=1.5) + np.array([1.0, -2.0, 0.5], "float32")
        condition = _random((4, 5), seed=12)
        zeros = np.zeros((5, 3), "float32")
        hint = (
            "mean and variance per channel over the batch and the pixels: ops.moments(x, axes=(0, 1, 2), "
            "keepdims=True); then (x - mean) / ops.sqrt(variance + epsilon)."
        )
        _expect_array(
            conditional_batch_norm(x, condition, zeros, zeros),
            _normalized_numpy(x),
            [
                (np.zeros(x.shape), "with zero kernels your output is all zeros: the gain lacks its `1 +`",
                 "gain = 1 + condition @ gain_kernel: with zero kernels it must be plain batch norm (gain 1, "
                 "bias 0), which is how BigGAN's layers start."),
                (_normalized_numpy(x, axes=(1, 2)), "you normalized each image on its own (statistics over "
                 "axes (1, 2): instance norm); batch norm's statistics are over the batch and the pixels", hint),
                (_normalized_numpy(x, axes=(3,)), "you normalized over the channels (one mean per pixel); batch "
                 "norm has one mean and variance per channel", hint),
                (_normalized_numpy(x, axes=(1, 2, 3)), "you normalized each image over its pixels and channels "
                 "(layer norm); batch norm has one mean and variance per channel, over the batch and the pixels",
                 hint),
                (_normalized_numpy(x, axes=(0, 1, 2, 3)), "you used one mean and variance for all channels; "
                 "batch norm has one per channel", "reduce over axes (0, 1, 2) only, with keepdims=True."),
                (_normalized_numpy(x, ddof=1), "you used the unbiased variance (divided by N*H*W - 1); batch "
                 "norm uses the biased one (divided by N*H*W)", "ops.var or ops.moments (or np.var with its "
                 "default ddof=0)."),
                (_normalized_numpy(x, subtract_mean=False), "you did not subtract the batch mean", hint),
                (_normalized_numpy(x, divide_by=None), "you subtracted the mean but did not divide by the "
                 "standard deviation: the variance is not used", hint),
                (_normalized_numpy(x, divide_by="variance"), "you divided by the variance, not by its square "
                 "root (the standard deviation)", "(x - mean) / ops.sqrt(variance + epsilon)."),
            ],
            "conditional_batch_norm of (4, 2, 2, 3) maps with zero kernels (it must be plain batch norm)",
            hint,
        )
        report.ok(
            "with zero kernels it is plain batch norm: per channel, the batch's mean and biased variance "
            "over axes (0, 1, 2)."
        )

        # One channel of variance exactly 1e-5 (values +-sqrt(1e-5)): with epsilon 1e-5 inside the
        # square root it becomes +-1/sqrt(2); without epsilon +-1.
        small = math.sqrt(1e-5)
        tiny = np.array([small, -small, -small, small], "float32").reshape(4, 1, 1, 1)
        tiny = np.concatenate([tiny, _random((4, 1, 1, 1), seed=13)], axis=-1)  # [4, 1, 1, 2]
        condition_2, zeros_2 = condition[:, :2], np.zeros((2, 2), "float32")
        _expect_array(
            conditional_batch_norm(tiny, condition_2, zeros_2, zeros_2),
            _normalized_numpy(tiny),
            [
                (_normalized_numpy(tiny, epsilon=0.0), "for a channel of variance 1e-5 you give +-1; with "
                 "epsilon = 1e-5 added to the variance it is +-1/sqrt(2) = +-0.7071: epsilon is missing",
                 "(x - mean) / ops.sqrt(variance + epsilon)."),
                (_normalized_numpy(tiny, epsilon_inside=False), "you added epsilon to the standard deviation; "
                 "it belongs inside the square root, added to the variance",
                 "(x - mean) / ops.sqrt(variance + epsilon)."),
            ],
            "a channel of variance 1e-5 (values +-0.00316) with the default epsilon 1e-5",
            "(x - mean) / ops.sqrt(variance + epsilon), epsilon = 1e-5 by default.",
        )
        _expect_array(
            conditional_batch_norm(tiny, condition_2, zeros_2, zeros_2, epsilon=1e-3),
            _normalized_numpy(tiny, epsilon=1e-3),
            [
                (_normalized_numpy(tiny), "with epsilon=1e-3 you give the result of epsilon 1e-5: your function "
                 "ignores its epsilon argument", "use the argument: ops.sqrt(variance + epsilon)."),
            ],
            "the same channel with epsilon=1e-3",
            "use the epsilon argument: ops.sqrt(variance + epsilon).",
        )
        report.ok("epsilon is added to the variance, inside the square root (and the epsilon argument is used).")

        gain_kernel = _random((5, 3), seed=14, scale=0.5)
        bias_kernel = _random((5, 3), seed=15, scale=0.5)
        normalized = _normalized_numpy(x)
        gain = condition.astype(np.float64) @ gain_kernel
        bias = condition.astype(np.float64) @ bias_kernel
        modulation_hint = (
            "gain = 1 + condition @ gain_kernel and bias = condition @ bias_kernel, both (N, C); then "
            "normalized * gain[:, None, None, :] + bias[:, None, None, :]."
        )
        _expect_array(
            conditional_batch_norm(x, condition, gain_kernel, bias_kernel),
            _modulated(normalized, gain, bias),
            [
                (_modulated(normalized, bias, gain), "gain and bias are swapped: you multiply by 1 + condition @ "
                 "bias_kernel and add condition @ gain_kernel", modulation_hint),
                (_modulated(normalized, gain, bias, one_plus=False), "the gain lacks its `1 +`: you multiply by "
                 "condition @ gain_kernel", "gain = 1 + condition @ gain_kernel: with zero kernels the layer "
                 "must be plain batch norm."),
                (_modulated(normalized, gain, bias, bias_first=True), "you added the bias before multiplying by "
                 "the gain", "normalized * gain + bias: the gain scales the normalized maps, then the bias shifts "
                 "them."),
                (_modulated(normalized, np.broadcast_to(gain.mean(0), gain.shape),
                            np.broadcast_to(bias.mean(0), bias.shape)),
                 "every image got the same gain and bias (averaged over the batch); each image has its own, "
                 "from its own condition", modulation_hint),
            ],
            "conditional_batch_norm with random kernels (5, 3)",
            modulation_hint,
        )
        report.ok(
            "each image gets its own per-channel gain 1 + condition @ gain_kernel and bias condition @ bias_kernel."
        )

    return run_check("conditional_batch_norm", conditional_batch_norm, body, verbose)


# --- hierarchical latents -------------------------------------------------------------------


def reference_block_conditions(latent, class_embedding, number_of_blocks):
    """``(first, conditions)``: BigGAN's hierarchical latents, as ``BigGANGenerator.latent_and_conditions``.

    ```
    z_0, z_1, ..., z_B = split(z, B + 1)          B = number_of_blocks, equal chunks
    first = z_0                                   into the first linear layer
    conditions[i] = concat([class_embedding, z_{i+1}])      block i's conditional batch norms
    ```

    Returns:
        ``first`` ``(N, latent_dim / (B + 1))`` and a list of ``B`` tensors
        ``(N, embedding_dim + latent_dim / (B + 1))``.
    """
    from keras import ops

    latent = ops.convert_to_tensor(latent, "float32")
    class_embedding = ops.cast(class_embedding, latent.dtype)
    chunks = ops.split(latent, number_of_blocks + 1, axis=-1)  # (B + 1) x [N, chunk]
    return chunks[0], [ops.concatenate([class_embedding, chunk], axis=-1) for chunk in chunks[1:]]


def _split_numpy(latent, number_of_blocks):
    return np.split(np.asarray(latent, dtype=np.float64), number_of_blocks + 1, axis=-1)


def _conditions_numpy(latent, class_embedding, number_of_blocks):
    chunks = _split_numpy(latent, number_of_blocks)
    embedding = np.asarray(class_embedding, dtype=np.float64)
    return chunks[0], [np.concatenate([embedding, chunk], axis=-1) for chunk in chunks[1:]]


def _first_and_conditions(result, number_of_blocks):
    """``result`` as ``(first, [conditions])`` NumPy arrays, or a Mistake that says what came back."""
    if result is None:
        raise Mistake("block_conditions returned None.", "end it with `return first, conditions`.")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake(
            f"block_conditions should return a pair (first, conditions); got {type(result).__name__}"
            + (f" of length {len(result)}." if isinstance(result, (tuple, list)) else "."),
            "return first, conditions: the first chunk of z, and the list of the blocks' conditioning vectors.",
        )
    first, conditions = result
    if not isinstance(conditions, (tuple, list)):
        raise Mistake(
            f"conditions should be a list, one conditioning vector per block; got {type(conditions).__name__}.",
            "conditions = [ops.concatenate([class_embedding, chunk], axis=-1) for chunk in chunks[1:]].",
        )
    return _to_numpy(first), [_to_numpy(condition) for condition in conditions]


def check_block_conditions(block_conditions, verbose=True):
    """Checks ``block_conditions(latent, class_embedding, number_of_blocks)`` -> ``(first, conditions)``.

    Catches: z not split (the whole z everywhere), z split into
    ``number_of_blocks`` chunks instead of ``number_of_blocks + 1``, chunk 0
    given to a block too (off by one), the chunk before the embedding, the
    embedding left out or not the one shared by every block, the z chunk left
    out, the wrong number of conditions.
    """

    def body(block_conditions, report):
        # Readable numbers: z holds 1 ... 24, the embedding -101 ... -108.
        latent = np.arange(1, 25, dtype="float32").reshape(2, 12)
        embedding = -np.arange(101, 109, dtype="float32").reshape(2, 4)
        blocks = 3
        chunks = _split_numpy(latent, blocks)  # 4 x [2, 3]
        split_hint = (
            "chunks = ops.split(latent, number_of_blocks + 1, axis=-1): chunk 0 for the first linear layer, "
            "one chunk for each block."
        )
        first, conditions = _first_and_conditions(block_conditions(latent, embedding, blocks), blocks)
        if first.shape == latent.shape and np.allclose(first, latent):
            raise Mistake(
                "first is the whole z (2, 12): z was not split. With 3 blocks z is cut into 4 chunks of 3, "
                "and first is chunk 0, z[:, :3].",
                split_hint,
            )
        if first.shape == (2, 4) and np.allclose(first, latent[:, :4]):
            raise Mistake(
                "first holds 4 of z's 12 numbers: you split z into number_of_blocks = 3 chunks. There are "
                "number_of_blocks + 1 = 4: one for the first linear layer and one for each block.",
                split_hint,
            )
        _expect_array(
            first, chunks[0],
            [(chunks[1], "first is chunk 1 of z; it should be chunk 0, z[:, :3] (off by one)", split_hint)],
            "first, for z (2, 12) and 3 blocks (chunks of 3)", split_hint,
        )
        report.ok("first is chunk 0 of z (z split into number_of_blocks + 1 equal chunks).")

        if len(conditions) == blocks + 1:
            raise Mistake(
                f"you returned {len(conditions)} conditions for 3 blocks: chunk 0 was given to a block too. "
                "Chunk 0 goes to the first linear layer only; block i gets chunk i + 1.",
                "conditions = [... for chunk in chunks[1:]].",
            )
        if len(conditions) != blocks:
            raise Mistake(
                f"3 blocks need 3 conditions, one per block; got {len(conditions)}.",
                "one condition for each of chunks[1:], which has number_of_blocks chunks.",
            )
        concat_hint = "conditions[i] = ops.concatenate([class_embedding, chunks[i + 1]], axis=-1)."
        for index, condition in enumerate(conditions):
            right = np.concatenate([embedding, chunks[index + 1]], axis=-1)
            if condition.shape == right.shape and np.allclose(condition[:, 4:], chunks[index + 1]) and not np.allclose(
                condition[:, :4], embedding
            ):
                raise Mistake(
                    f"block {index}'s condition ends with the right z chunk, but its first 4 numbers are not the "
                    f"class embedding you were given ({condition[0, :4].round(3).tolist()} instead of "
                    f"{embedding[0].tolist()}): every block gets the same, shared embedding.",
                    "use class_embedding itself in every condition: " + concat_hint,
                )
            _expect_array(
                condition,
                right,
                [
                    (np.concatenate([embedding, latent], axis=-1), f"block {index} gets the whole z: z is not "
                     "split between the blocks", split_hint + " Then " + concat_hint),
                    (np.concatenate([chunks[index + 1], embedding], axis=-1), f"block {index}'s condition has the "
                     "z chunk before the embedding; BigGAN-PyTorch concatenates [y, z_chunk], the embedding first",
                     concat_hint),
                    (np.concatenate([embedding, chunks[index]], axis=-1), f"block {index} gets chunk {index} of z, "
                     f"not chunk {index + 1}: off by one (chunk 0 belongs to the first linear layer alone)",
                     concat_hint),
                    (chunks[index + 1], f"block {index}'s condition is its z chunk alone: the class embedding is "
                     "missing (your function ignores class_embedding)", concat_hint),
                    (np.asarray(embedding, np.float64), f"block {index}'s condition is the class embedding alone: "
                     "its z chunk is missing", concat_hint),
                ],
                f"the condition of block {index} (embedding 4 wide, chunks of 3)",
                concat_hint,
            )
        report.ok("block i gets concat([class_embedding, chunk i + 1]): the embedding first, then its own chunk.")

        # Another shape, as tensors: 5 blocks, z of 12 (chunks of 2), one image, an embedding of 3.
        from keras import ops

        latent = _random((1, 12), seed=16)
        embedding = _random((1, 3), seed=17)
        first, conditions = _first_and_conditions(
            block_conditions(ops.convert_to_tensor(latent), ops.convert_to_tensor(embedding), 5), 5
        )
        right_first, right_conditions = _conditions_numpy(latent, embedding, 5)
        hint = "use number_of_blocks, not a fixed number: " + split_hint
        _expect_array(first, right_first, [], "first, for 5 blocks and z of 12 (chunks of 2)", hint)
        if len(conditions) != 5:
            raise Mistake(f"5 blocks need 5 conditions; got {len(conditions)}.", hint)
        for index, (condition, right) in enumerate(zip(conditions, right_conditions)):
            _expect_array(condition, right, [], f"the condition of block {index} of 5", hint)
        report.ok("works for any number of blocks, and on tensors (5 blocks, z of 12: chunks of 2).")

    return run_check("block_conditions", block_conditions, body, verbose)


# --- orthogonal regularization --------------------------------------------------------------


def _off_diagonal_squares(matrix):
    matrix = np.asarray(matrix, dtype=np.float64)
    return float(np.sum(np.square(matrix * (1.0 - np.eye(matrix.shape[0])))))


def _keras_orthogonal(kernel, factor, mode):
    regularizer = keras.regularizers.OrthogonalRegularizer(factor=factor, mode=mode)
    return float(_to_numpy(regularizer(keras.ops.convert_to_tensor(kernel, "float32"))))


def _orthogonal_value(orthogonal_regularization, kernel, what, **strength):
    try:
        value = orthogonal_regularization(kernel, **strength)
    except (NotImplementedError, Mistake):
        raise
    except Exception as error:
        if kernel.ndim > 2:
            raise Mistake(
                f"on a convolution kernel {kernel.shape} your function raised {type(error).__name__}: "
                f"{_first_line(error)}",
                "reshape the kernel first: W = ops.reshape(kernel, (-1, kernel.shape[-1])), shape "
                "(kh * kw * in, out).",
            ) from None
        raise
    return _scalar(value, what)


def _first_line(error):
    # TensorFlow's errors start with "{{function_node ...}}": the message is what follows.
    lines = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(error)).strip().splitlines()
    return lines[0][:200] if lines else ""


def check_orthogonal_regularization(orthogonal_regularization, verbose=True):
    """Checks ``orthogonal_regularization(kernel, strength=1e-4)`` against values worked out by hand.

    Catches: the diagonal of W^T W left in (``||W^T W||^2``), the original
    ``||W^T W - I||^2``, Keras' ``OrthogonalRegularizer`` formula, W W^T (the
    fan_in x fan_in Gram matrix) instead of W^T W, the Frobenius norm without
    its square, absolute values instead of squares, the strength ignored or
    its default not 1e-4, a convolution kernel not reshaped to
    (kh * kw * in, out).
    """

    def body(orthogonal_regularization, report):
        # W (fan_in 3, out 2) has the columns (1, 0, 2) and (2, 1, 1):
        #   W^T W = [[5, 4], [4, 6]]: the off-diagonal squares sum to 4^2 + 4^2 = 32,
        #   with strength 0.5: 16.
        kernel = np.array([[1.0, 2.0], [0.0, 1.0], [2.0, 1.0]], "float32")
        strength = 0.5
        got = _orthogonal_value(orthogonal_regularization, kernel, "orthogonal_regularization", strength=strength)
        right = 16.0
        formula_hint = (
            "W^T W is (out, out); zero its diagonal (multiply by 1 - ops.eye(out)), then strength * "
            "ops.sum(ops.square(...))."
        )
        variants = [
            (strength * 93.0, "you kept the diagonal of W^T W: ||W^T W||^2 counts the filters' squared norms too",
             "multiply W^T W by (1 - ops.eye(out)) before squaring: BigGAN leaves the filters' norms free."),
            (strength * 73.0, "you computed ||W^T W - I||^2, the original orthogonal regularization; BigGAN's "
             "variant removes the diagonal instead of subtracting I",
             "W^T W * (1 - I): only the overlaps between different filters are penalized."),
            (strength * 42.0, "you used W W^T, the (fan_in, fan_in) Gram matrix of the rows; the filters are the "
             "columns of W (Keras kernels are (fan_in, out)): use W^T W",
             "gram = ops.matmul(ops.transpose(W), W), shape (out, out)."),
            (strength * math.sqrt(32.0), "you took the Frobenius norm without squaring it (a square root of the "
             "sum of squares)", "strength * ops.sum(ops.square(off_diagonal)): the squared norm, no square root."),
            (strength * 8.0, "you summed absolute values of the overlaps; the penalty sums their squares",
             "ops.sum(ops.square(off_diagonal))."),
            (strength * 16.0, "you halved the sum of squares; the paper's R = beta * ||W^T W * (1 - I)||_F^2 has "
             "no 1/2", "strength * ops.sum(ops.square(off_diagonal))."),
            (_keras_orthogonal(kernel, strength, "columns"), "you used Keras' OrthogonalRegularizer (mean absolute "
             "cosine of normalized columns), a different formula from BigGAN's", formula_hint),
            (_keras_orthogonal(kernel, strength, "rows"), "you used Keras' OrthogonalRegularizer (mean absolute "
             "cosine of normalized rows), a different formula from BigGAN's", formula_hint),
            (strength * _off_diagonal_squares(kernel.reshape(2, -1) @ kernel.reshape(2, -1).T),
             "the (3, 2) kernel was reshaped to (out, -1) = (2, 3): that mixes the axes (PyTorch stores weights "
             "(out, in), Keras (in, out)); the filters are the columns of W = reshape(kernel, (-1, out))",
             "W = ops.reshape(kernel, (-1, kernel.shape[-1])): (kh * kw * in, out), the output axis last; then "
             "W^T W."),
            (32.0, "with strength=0.5 you return 32, the sum without the strength: the strength is ignored",
             "multiply by the strength argument."),
            (32.0 * ORTHOGONAL_STRENGTH, "with strength=0.5 you return 32 * 1e-4: the strength argument is "
             "ignored (a fixed 1e-4)", "multiply by the strength argument, not by a constant."),
        ]
        _expect_relative_value(got, right, variants, "orthogonal_regularization of a (3, 2) kernel with strength=0.5",
                      formula_hint)
        report.ok("a (3, 2) kernel: W^T W = [[5, 4], [4, 6]], off-diagonal squares 32, times strength 0.5: 16.")

        got = _orthogonal_value(orthogonal_regularization, kernel, "orthogonal_regularization")
        if not (math.isfinite(got) and abs(got - 32.0 * ORTHOGONAL_STRENGTH) <= 1e-3 * 32.0 * ORTHOGONAL_STRENGTH):
            raise Mistake(
                f"with the default strength the (3, 2) kernel should give 32 * 1e-4 = 0.0032; got {got:.6g}.",
                "the default is the paper's beta: def orthogonal_regularization(kernel, strength=1e-4).",
            )
        report.ok("the default strength is the paper's 1e-4.")

        # A convolution kernel (kh 2, kw 1, in 3, out 2); reshaped to (6, 2) it is W6 below, whose
        # columns (1, 2, 0, 1, 2, 0) and (0, 1, 1, 3, 0, 2) overlap by 5: 2 * 5^2 = 50.
        w6 = np.array([[1, 0], [2, 1], [0, 1], [1, 3], [2, 0], [0, 2]], "float32")
        conv_kernel = w6.reshape(2, 1, 3, 2)
        got = _orthogonal_value(orthogonal_regularization, conv_kernel, "orthogonal_regularization", strength=1.0)
        reshape_hint = (
            "W = ops.reshape(kernel, (-1, kernel.shape[-1])): (kh * kw * in, out), the output axis last, as "
            "Keras stores Conv2D kernels."
        )
        rows = conv_kernel.reshape(2, -1)
        by_input = conv_kernel.reshape(-1, 3)
        per_position = sum(
            _off_diagonal_squares(conv_kernel[i, j].T @ conv_kernel[i, j]) for i in range(2) for j in range(1)
        )
        _expect_relative_value(
            got,
            50.0,
            [
                (_off_diagonal_squares(rows @ rows.T), "the conv kernel (2, 1, 3, 2) was reshaped to (out, -1) "
                 "= (2, 6): that mixes the axes; the filters are W = reshape(kernel, (-1, out))", reshape_hint),
                (_off_diagonal_squares(rows.T @ rows), "the conv kernel (2, 1, 3, 2) was reshaped to (2, 6), "
                 "which mixes the axes", reshape_hint),
                (_off_diagonal_squares(by_input.T @ by_input), "the conv kernel was reshaped to (-1, in) = (4, 3); "
                 "the output axis is the last one: (-1, out)", reshape_hint),
                (_off_diagonal_squares(w6 @ w6.T), "on the conv kernel you used W W^T (6 x 6) instead of W^T W "
                 "(2 x 2)", "gram = ops.matmul(ops.transpose(W), W) after the reshape."),
                (per_position, "you computed one Gram matrix per kernel position and added them; the filters are "
                 "whole (kh * kw * in)-long columns", reshape_hint),
            ],
            "orthogonal_regularization of a conv kernel (2, 1, 3, 2) with strength=1",
            reshape_hint,
        )
        report.ok("a conv kernel (2, 1, 3, 2) is reshaped to (kh * kw * in, out) = (6, 2): 2 * 5^2 = 50.")

    return run_check("orthogonal_regularization", orthogonal_regularization, body, verbose)


def _expect_relative_value(got, right, variants, what, hint):
    """A Mistake naming the variant ``got`` matches, relative tolerance 1e-4 (the values may be small)."""

    def close(a, b):
        return math.isfinite(a) and abs(a - b) <= 1e-4 * max(abs(b), 1e-12)

    if close(got, right):
        return
    for value, diagnosis, variant_hint in variants:
        if math.isfinite(value) and close(got, value) and not close(right, value):
            raise Mistake(f"{diagnosis}: expected {right:.6g}, got {got:.6g}.", variant_hint)
    raise Mistake(f"{what}: expected {right:.6g}, got {got:.6g}.", hint)


# --- the weights that are regularized --------------------------------------------------------


def reference_regularized_weights(generator):
    """The weights BigGAN orthogonally regularizes: G's trainable weights with two or more axes,
    except the shared class embedding (as ``ganlab.regularizers.generator_orthogonal_penalty``).
    """
    embedding = getattr(generator, "shared_embedding", None)
    excluded = {id(weight) for weight in embedding.weights} if embedding is not None else set()
    return [weight for weight in generator.trainable_weights if len(weight.shape) >= 2 and id(weight) not in excluded]


def _weight_names(weights, limit=3):
    names = [getattr(weight, "path", getattr(weight, "name", "?")) for weight in weights]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_regularized_weights(regularized_weights, verbose=True):
    """Checks ``regularized_weights(generator)`` on a tiny ``BigGANGenerator``.

    Catches: the shared embedding included, weights with fewer than two axes
    (biases, batch norm's gamma and beta, self-attention's gamma) included,
    non-trainable weights (spectral norm's ``vector_u``, batch norm's moving
    statistics) included, kernels missing, weights listed twice, values
    returned instead of the weights themselves.
    """

    def body(regularized_weights, report):
        from ganlab.models import BigGANConfig, build_biggan_generator

        generator = build_biggan_generator(
            BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8)
        )
        embedding_ids = {id(weight) for weight in generator.shared_embedding.weights}
        trainable_ids = {id(weight) for weight in generator.trainable_weights}
        expected = [
            weight
            for weight in generator.trainable_weights
            if len(weight.shape) >= 2 and id(weight) not in embedding_ids
        ]
        returned = regularized_weights(generator)
        if returned is None:
            raise Mistake("regularized_weights returned None.", "end it with `return [...]`, a list of weights.")
        if not isinstance(returned, (list, tuple)):
            raise Mistake(
                f"regularized_weights should return a list of weights; got {type(returned).__name__}.",
                "return [weight for weight in generator.trainable_weights if ...].",
            )
        returned = list(returned)
        not_variables = [item for item in returned if not isinstance(item, keras.Variable)]
        if not_variables:
            raise Mistake(
                f"{len(not_variables)} of the {len(returned)} items you returned are not weights "
                f"(keras.Variable) but {type(not_variables[0]).__name__} objects: the penalty must reach the "
                "variables themselves for the optimizer to follow its gradient.",
                "return the variables from generator.trainable_weights, not their values.",
            )
        if any(id(weight) in embedding_ids for weight in returned):
            raise Mistake(
                "the shared class embedding (generator.shared_embedding) is in your list.",
                "the paper leaves the shared embedding out of the orthogonal regularization (BigGAN-PyTorch passes "
                "it as the blacklist): skip the ids of generator.shared_embedding.weights.",
            )
        report.ok("the shared class embedding is left out.")
        frozen = [weight for weight in returned if id(weight) not in trainable_ids]
        if frozen:
            raise Mistake(
                f"{len(frozen)} of your weights are not trainable ({_weight_names(frozen)}): spectral norm's "
                "vector_u and batch norm's moving statistics are not learned.",
                "start from generator.trainable_weights, not generator.weights.",
            )
        report.ok("only trainable weights (no spectral norm vector_u, no moving statistics).")
        flat = [weight for weight in returned if len(weight.shape) < 2]
        if flat:
            raise Mistake(
                f"{len(flat)} of your weights have fewer than two axes ({_weight_names(flat)}): biases, batch "
                "norm's gamma and beta, self-attention's gamma are not regularized.",
                "keep the weights with len(weight.shape) >= 2 (dense and convolution kernels).",
            )
        report.ok("only weights with two or more axes (no biases, gains or scalars).")
        returned_ids = [id(weight) for weight in returned]
        if len(set(returned_ids)) != len(returned_ids):
            raise Mistake(
                f"some weights are in your list more than once ({len(returned_ids)} items, "
                f"{len(set(returned_ids))} different weights).",
                "list each trainable weight once: one comprehension over generator.trainable_weights.",
            )
        missing = [weight for weight in expected if id(weight) not in set(returned_ids)]
        if missing:
            raise Mistake(
                f"{len(missing)} of the generator's {len(expected)} kernels are missing from your list "
                f"({_weight_names(missing)}).",
                "go through all of generator.trainable_weights (nested layers included): every weight with two "
                "or more axes except the shared embedding.",
            )
        report.ok(f"every kernel of G is there: {len(expected)} weights of two or more axes, each once.")

    return run_check("regularized_weights", regularized_weights, body, verbose)


# --- the truncation trick --------------------------------------------------------------------


def _truncated_normal_std(threshold):
    """The standard deviation of N(0, 1) conditioned on |z| <= threshold, from the closed form."""
    density = math.exp(-threshold**2 / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(threshold / math.sqrt(2))  # P(|z| <= threshold)
    return math.sqrt(1.0 - 2.0 * threshold * density / mass)


def _sample(truncated_normal, shape, truncation, seed, what):
    values = truncated_normal(shape, truncation, seed=seed)
    if values is None:
        raise Mistake(f"{what} returned None.", "end it with `return values`.")
    array = np.asarray(keras.ops.convert_to_numpy(values))
    if array.shape != shape:
        raise Mistake(
            f"truncated_normal({shape}, ...) should return an array of shape {shape}; got {array.shape}.",
            "draw exactly `shape` values: random.standard_normal(shape).",
        )
    return array


def check_truncated_normal(truncated_normal, verbose=True):
    """Checks ``truncated_normal(shape, truncation, seed=None)``: the paper's truncation by resampling.

    Catches: the wrong shape or dtype (float32), values beyond the threshold
    (a normal sample scaled by the truncation, or the TF Hub demo's
    ``truncnorm(-2, 2) * truncation``), clipping instead of resampling,
    another distribution than the bell shape cut at the threshold, the seed
    not used, ``truncation=None`` (no truncation: plain N(0, 1) values) not
    handled.
    """

    def body(truncated_normal, report):
        resample_hint = (
            "draw z = random.standard_normal(shape); while any |z| > truncation, draw those entries again "
            "(z[outside] = random.standard_normal(outside.sum()))."
        )
        shape, truncation = (1000, 8), 0.5
        values = _sample(truncated_normal, shape, truncation, 0, "truncated_normal")
        if values.dtype != np.float32:
            raise Mistake(
                f"the values should be float32, the dtype of the networks' inputs; got {values.dtype}.",
                "return values.astype('float32').",
            )
        report.ok("returns float32 values of the requested shape.")
        values = values.astype(np.float64)
        largest = float(np.abs(values).max())
        if not np.all(np.isfinite(values)) or largest > truncation * (1 + 1e-6):
            outside = float(np.mean(np.abs(values) > truncation * (1 + 1e-6)))
            if largest <= 2 * truncation * (1 + 1e-6) and outside > 0.05:
                raise Mistake(
                    f"with truncation={truncation}, {outside:.0%} of your values are beyond it (up to "
                    f"{largest:.3g}, within 2 x truncation): that is the TF Hub demo's truncnorm(-2, 2) * "
                    "truncation, a scaled sample. The paper's truncation is a threshold: every |z| <= truncation.",
                    resample_hint,
                )
            if abs(values.std() - truncation) < 0.05 * truncation:
                raise Mistake(
                    f"with truncation={truncation} your values have standard deviation {values.std():.3g} and reach "
                    f"{largest:.3g}: you scaled a normal sample (normal * truncation) instead of truncating it.",
                    "truncation is a threshold, not a scale: " + resample_hint,
                )
            raise Mistake(
                f"with truncation={truncation}, {outside:.1%} of your values are beyond the threshold "
                f"(the largest |z| is {largest:.3g}).",
                resample_hint,
            )
        at_threshold = float(np.mean(np.abs(values) >= truncation * (1 - 1e-6)))
        if at_threshold > 0.005:
            raise Mistake(
                f"{at_threshold:.0%} of your values are exactly +-{truncation}: you clipped the normal sample. "
                "Clipping piles every rejected value on the two thresholds.",
                resample_hint,
            )
        report.ok(f"every |z| <= truncation ({truncation}), and none piled on the threshold (no clipping).")

        threshold = 1.5
        spread = _sample(truncated_normal, (1000, 8), threshold, 1, "truncated_normal").astype(np.float64)
        right_std = _truncated_normal_std(threshold)
        if abs(spread.std() - right_std) > 0.04 * right_std or abs(spread.mean()) > 0.05:
            raise Mistake(
                f"with truncation={threshold} your values have mean {spread.mean():.3f} and standard deviation "
                f"{spread.std():.3f}; a standard normal with the values beyond {threshold} drawn again has mean 0 "
                f"and standard deviation {right_std:.3f} (a uniform sample would have "
                f"{threshold / math.sqrt(3):.3f}).",
                "keep the bell shape inside the interval: " + resample_hint,
            )
        report.ok(f"the values follow N(0, 1) cut at the threshold (standard deviation {right_std:.3f} at 1.5).")

        seed_hint = (
            "make one generator from the seed and draw everything from it: random = np.random.default_rng(seed)."
        )
        first = _sample(truncated_normal, (4, 6), 0.8, 7, "truncated_normal")
        again = _sample(truncated_normal, (4, 6), 0.8, 7, "truncated_normal")
        other = _sample(truncated_normal, (4, 6), 0.8, 8, "truncated_normal")
        if not np.array_equal(first, again):
            raise Mistake("two calls with seed=7 gave different values: the seed is not used.", seed_hint)
        if np.array_equal(first, other):
            raise Mistake(
                "seed=7 and seed=8 gave the same values: the seed is ignored (a fixed seed inside?).", seed_hint
            )
        report.ok("the same seed gives the same values, another seed other values.")

        none_hint = (
            "truncation=None means no truncation: draw values = random.standard_normal(shape) and resample only "
            "when truncation is not None."
        )
        try:
            plain = _sample(truncated_normal, (2000, 4), None, 2, "truncated_normal")
        except TypeError as error:
            raise Mistake(f"truncated_normal((2000, 4), None) raised TypeError: {error}", none_hint) from None
        plain = plain.astype(np.float64)
        if abs(plain.std() - 1.0) > 0.05 or float(np.abs(plain).max()) < 2.5:
            raise Mistake(
                f"with truncation=None your 8,000 values have standard deviation {plain.std():.3f} and reach "
                f"{np.abs(plain).max():.3g}; None means no truncation: plain N(0, 1) values (standard deviation 1, "
                "some beyond 2.5).",
                none_hint,
            )
        report.ok("truncation=None gives plain N(0, 1) values: no truncation.")

    return run_check("truncated_normal", truncated_normal, body, verbose)
