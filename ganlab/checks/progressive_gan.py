"""Checks of lesson 04, the Progressive GAN: ``pixel_norm``, ``minibatch_stddev``,
``equalized_dense`` (a layer class), ``fade_in``.

Each check runs the student's code on small random arrays and compares with a
plain NumPy transcription of the definition (Karras et al. 2018 and the
official ``networks.py``). A wrong answer is compared with what the typical
mistakes give on the same input, so that the report can name the mistake:
the wrong axis, consecutive instead of strided groups, the variance instead of
the standard deviation, scaling at initialization instead of at run time,
alpha the wrong way round.
"""

from __future__ import annotations

import math

import numpy as np

from ganlab.checks.common import Mistake, _to_numpy, run_check

EPSILON = 1e-8


def _random(shape, seed):
    return np.random.default_rng(seed).normal(0.0, 1.5, shape).astype("float32")


def _expect_array(got, right, variants, what, hint, tolerance=1e-4):
    """Raises a Mistake unless ``got`` matches ``right``, naming the variant it matches if any.

    Args:
        got: the student's result.
        right: the expected array.
        variants: ``(array, diagnosis, hint)`` for each typical mistake.
        what: the sentence start for an unknown mistake.
        hint: its hint.
    """
    got = _to_numpy(got)
    if got.shape != right.shape:
        for array, diagnosis, variant_hint in variants:
            if array.shape == got.shape and np.allclose(got, array, atol=tolerance, rtol=tolerance):
                raise Mistake(f"{diagnosis} (output shape {got.shape}, expected {right.shape}).", variant_hint)
        raise Mistake(f"{what}: expected shape {right.shape}, got {got.shape}.", hint)
    if np.allclose(got, right, atol=tolerance, rtol=tolerance):
        return
    for array, diagnosis, variant_hint in variants:
        if array.shape == got.shape and np.allclose(got, array, atol=tolerance, rtol=tolerance):
            raise Mistake(f"{diagnosis}.", variant_hint)
    where = np.unravel_index(np.argmax(np.abs(got - right)), right.shape)
    raise Mistake(
        f"{what}: at index {tuple(int(i) for i in where)} expected {right[where]:.5g}, got {got[where]:.5g}.", hint
    )


# --- pixel norm ------------------------------------------------------------------------


def reference_pixel_norm(x, epsilon=EPSILON):
    """``x * rsqrt(mean(x^2 over the last axis) + epsilon)`` (``ganlab.layers.PixelNorm``)."""
    from ganlab.layers import PixelNorm

    return PixelNorm(epsilon)(x)


def _pixel_norm_numpy(x, axis=-1, root=True, mean=True, epsilon=EPSILON):
    x = np.asarray(x, dtype=np.float64)
    reduce = np.mean if mean else np.sum
    square = reduce(np.square(x), axis=axis, keepdims=True) + epsilon
    return x / (np.sqrt(square) if root else square)


def check_pixel_norm(pixel_norm, verbose=True):
    """Checks ``pixel_norm(x, epsilon=1e-8)`` on NHWC feature maps and on latent vectors.

    Catches: the mean over the wrong axis (pixels, or everything), the sum
    (an L2 norm) instead of the mean, no square root, no epsilon (a zero
    vector gives NaN).
    """

    def body(pixel_norm, report):
        x = _random((2, 3, 3, 4), seed=1)
        right = _pixel_norm_numpy(x)
        got = _to_numpy(pixel_norm(x))
        _expect_array(
            got,
            right,
            [
                (_pixel_norm_numpy(x, axis=(1, 2)), "you averaged over the pixels (axes 1 and 2), not the channels",
                 "the channels are the last axis of NHWC maps: ops.mean(ops.square(x), axis=-1, keepdims=True)."),
                (_pixel_norm_numpy(x, axis=1), "you averaged over axis 1 (the rows), not the channels",
                 "the channels are the last axis: axis=-1."),
                (_pixel_norm_numpy(x, axis=(1, 2, 3)), "you averaged over the whole image, not each pixel's channels",
                 "one normalization per pixel: reduce over axis=-1 only, with keepdims=True."),
                (_pixel_norm_numpy(x, mean=False), "you divided by the L2 norm (the square root of the sum); "
                 "pixel norm uses the mean of the squares",
                 "ops.mean, not ops.sum: the result then has root mean square 1."),
                (_pixel_norm_numpy(x, root=False), "you divided by the mean square, without the square root",
                 "x * ops.rsqrt(mean_square + epsilon), or x / ops.sqrt(...)."),
            ],
            "pixel_norm of a (2, 3, 3, 4) array",
            "x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + epsilon).",
        )
        report.ok("feature maps (N, H, W, C): each pixel's channels have root mean square 1.")

        latent = _random((5, 7), seed=2)
        _expect_array(
            pixel_norm(latent), _pixel_norm_numpy(latent), [],
            "pixel_norm of latent vectors (5, 7)", "reduce over axis=-1, so (N, C) vectors work too.",
        )
        report.ok("latent vectors (N, C) are normalized too (the axis is the last one, whatever the rank).")

        zeros = _to_numpy(pixel_norm(np.zeros((1, 2, 2, 3), "float32")))
        if not np.all(np.isfinite(zeros)) or np.any(zeros):
            raise Mistake(
                f"an all-zero input should stay 0; got {zeros.reshape(-1)[:3].tolist()}...",
                "add epsilon (1e-8) inside the square root: 0 / sqrt(0) is NaN.",
            )
        report.ok("an all-zero input stays 0 (epsilon inside the square root).")

    return run_check("pixel_norm", pixel_norm, body, verbose)


# --- minibatch standard deviation ---------------------------------------------------------


def reference_minibatch_stddev(x, group_size=4):
    """One extra feature map, as ``ganlab.layers.MinibatchStdDev``."""
    from ganlab.layers import MinibatchStdDev

    return MinibatchStdDev(group_size)(x)


def _minibatch_stddev_numpy(
    x, group_size=4, strided=True, variance=False, subtract_mean=True, per_channel=False, tiled=True
):
    """A NumPy transcription of the official ``minibatch_stddev_layer`` (NHWC), with mistake switches."""
    x = np.asarray(x, dtype=np.float64)
    batch, height, width, channels = x.shape
    group = min(group_size, batch)
    members = batch // group
    if strided:
        y = x.reshape(group, members, height, width, channels)  # [M, N/M, H, W, C]: image n in group n mod (N/M)
    else:
        y = x.reshape(members, group, height, width, channels).transpose(1, 0, 2, 3, 4)  # consecutive groups
    if subtract_mean:
        y = y - y.mean(axis=0, keepdims=True)
    y = np.square(y).mean(axis=0)  # [N/M, H, W, C]
    if not variance:
        y = np.sqrt(y + EPSILON)
    if per_channel:
        y = y.mean(axis=(1, 2), keepdims=True)  # [N/M, 1, 1, C]
        extra = np.tile(y, (group, height, width, 1)) if strided else np.repeat(y, group, axis=0)
        extra = np.broadcast_to(extra, (batch, height, width, channels))
    else:
        y = y.mean(axis=(1, 2, 3))  # [N/M]
        # Image n gets the value of its group: n mod (N/M) (strided), or n // M (consecutive, or tiled=False).
        values = np.tile(y, group) if strided and tiled else np.repeat(y, group)
        extra = np.broadcast_to(values[:, None, None, None], (batch, height, width, 1))
    return np.concatenate([x, extra], axis=-1)


def check_minibatch_stddev(minibatch_stddev, verbose=True):
    """Checks ``minibatch_stddev(x, group_size=4)`` on NHWC maps against the official algorithm.

    Catches: the input not kept, consecutive groups instead of strided ones,
    the variance instead of the standard deviation, the group mean not
    subtracted, one value per channel instead of one feature map, values tiled
    in the wrong order, the group size not capped at the batch size.
    """

    def body(minibatch_stddev, report):
        x = _random((8, 2, 2, 3), seed=3)
        right = _minibatch_stddev_numpy(x)
        got = _to_numpy(minibatch_stddev(x))
        if got.shape != right.shape:
            per_channel = _minibatch_stddev_numpy(x, per_channel=True)
            if got.shape == (8, 2, 2, 6) and np.allclose(got, per_channel, atol=1e-4):
                raise Mistake(
                    "you appended one map per channel (shape (8, 2, 2, 6)); the paper appends one feature map "
                    "(8, 2, 2, 4), the statistic averaged over the channels and the pixels.",
                    "after the std over the group, ops.mean over axes (1, 2, 3) of the [N/M, H, W, C] tensor.",
                )
            raise Mistake(
                f"for x of shape (8, 2, 2, 3) the output should be (8, 2, 2, 4), the input with one more "
                f"feature map; got {got.shape}.",
                "ops.concatenate([x, statistic_map], axis=-1).",
            )
        if not np.allclose(got[..., :3], x, atol=1e-5):
            raise Mistake(
                "the first C channels of the output should be the input itself.",
                "append the statistic as a last channel: ops.concatenate([x, y], axis=-1).",
            )
        report.ok("output (N, H, W, C + 1): the input followed by one extra feature map.")
        _expect_array(
            got,
            right,
            [
                (_minibatch_stddev_numpy(x, strided=False),
                 "your groups are consecutive images (0-3 and 4-7); the official reshape [M, N/M, ...] puts "
                 "image n in group n mod (N/M): images 0, 2, 4, 6 form one group",
                 "ops.reshape(x, (group, batch // group, H, W, C)) with the group axis FIRST, statistic over "
                 "axis 0, then ops.tile(y, (group, H, W, 1))."),
                (_minibatch_stddev_numpy(x, variance=True),
                 "you used the variance; the paper uses the standard deviation, sqrt(variance + 1e-8)",
                 "ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)."),
                (_minibatch_stddev_numpy(x, subtract_mean=False),
                 "you did not subtract the group mean: that is the root mean square, not the standard deviation",
                 "y = y - ops.mean(y, axis=0, keepdims=True) before squaring."),
                (_minibatch_stddev_numpy(x, tiled=False),
                 "your groups are right but the values go back to the wrong images: image n must get the value "
                 "of group n mod (N/M)",
                 "ops.tile(y, (group, H, W, 1)) repeats the N/M values in order, M times; ops.repeat would "
                 "give consecutive images the same value."),
            ],
            "the extra feature map of an (8, 2, 2, 3) batch, group size 4",
            "reshape to (M, N/M, H, W, C) with M = min(group_size, N); subtract the mean over axis 0; sqrt(mean of squares + 1e-8) over "
            "axis 0; mean over the remaining H, W, C axes; tile back to (N, H, W, 1).",
        )
        report.ok("strided groups (image n in group n mod N/M), group mean subtracted, standard deviation.")
        report.ok("averaged over channels and pixels, and tiled back so each image gets its group's value.")

        small = _random((2, 2, 2, 3), seed=4)
        try:
            got_small = minibatch_stddev(small, group_size=4)
        except Exception as error:
            raise Mistake(
                f"a batch of 2 with group_size=4 raised {type(error).__name__}: {error}",
                "the group size is min(group_size, N): a batch smaller than 4 forms one group.",
            ) from None
        _expect_array(
            got_small, _minibatch_stddev_numpy(small), [],
            "a batch of 2 with group_size=4 (one group of 2)",
            "group = min(group_size, batch): a batch smaller than the group size is one group.",
        )
        report.ok("the group size is min(group_size, N): a batch of 2 is one group.")

    return run_check("minibatch_stddev", minibatch_stddev, body, verbose)


# --- the equalized learning rate ------------------------------------------------------------


def check_equalized_dense(equalized_dense_class, verbose=True):
    """Checks an ``EqualizedDense(units, gain=sqrt(2))`` Keras layer class.

    Catches: weights not drawn from N(0, 1) (the He scale put into the stored
    weights at initialization instead of at run time), a non-zero starting
    bias, no run-time scale, the scale without the gain, the fan-out instead
    of the fan-in, the bias scaled too.
    """

    def body(layer_class, report):
        fan_in, units = 256, 32
        layer = layer_class(units)
        x = _random((4, fan_in), seed=5)
        output = _to_numpy(layer(x))
        if output.shape != (4, units):
            raise Mistake(
                f"EqualizedDense({units}) on inputs (4, {fan_in}) should give (4, {units}); got {output.shape}.",
                "the kernel has shape (fan_in, units): ops.matmul(inputs, kernel * scale) + bias.",
            )
        kernel = getattr(layer, "kernel", None)
        bias = getattr(layer, "bias", None)
        if kernel is None or bias is None:
            raise Mistake(
                "the layer should have the weights self.kernel and self.bias.",
                "in build: self.kernel = self.add_weight(name=\"kernel\", shape=(fan_in, self.units), "
                "initializer=keras.initializers.RandomNormal(0.0, 1.0)), and self.bias likewise with zeros.",
            )
        stored = _to_numpy(kernel)
        he_scale = math.sqrt(2) / math.sqrt(fan_in)
        if abs(stored.std() - he_scale) < 0.3 * he_scale:
            raise Mistake(
                f"the stored kernel has standard deviation {stored.std():.3f}, the He scale sqrt(2)/sqrt(fan_in) "
                f"= {he_scale:.3f}: you scaled the weights at initialization. That is He initialization, and "
                "Adam then changes layers at different relative speeds.",
                "store N(0, 1) weights (RandomNormal(0.0, 1.0)) and multiply by the scale in call, every time.",
            )
        if not 0.9 < stored.std() < 1.1 or abs(stored.mean()) > 0.1:
            raise Mistake(
                f"the stored kernel should be drawn from N(0, 1); its mean is {stored.mean():.3f} and its "
                f"standard deviation {stored.std():.3f}.",
                "initializer=keras.initializers.RandomNormal(0.0, 1.0).",
            )
        report.ok("the stored kernel is drawn from N(0, 1).")
        if np.any(_to_numpy(bias)):
            raise Mistake("the bias should start at 0.", 'initializer="zeros".')
        report.ok("the bias starts at 0.")

        weights = _random((fan_in, units), seed=6) / 1.5
        bias_values = _random((units,), seed=7)
        kernel.assign(weights)
        bias.assign(bias_values)
        x64, w64, b64 = (np.asarray(v, dtype=np.float64) for v in (x, weights, bias_values))

        def output_with(scale, scale_bias=False):
            return (x64 @ w64 + b64) * scale if scale_bias else x64 @ (w64 * scale) + b64

        _expect_array(
            layer(x),
            output_with(he_scale),
            [
                (output_with(1.0), "the kernel is used without the run-time scale (gain / sqrt(fan_in)); scaling "
                 "once at initialization is not the same: the stored weights must stay of size 1",
                 "in call: ops.matmul(inputs, self.kernel * self.scale) + self.bias, with self.scale = gain / "
                 "sqrt(fan_in)."),
                (output_with(1.0 / math.sqrt(fan_in)), "the scale lacks the gain: 1 / sqrt(fan_in) instead of "
                 "sqrt(2) / sqrt(fan_in)", "self.scale = self.gain / math.sqrt(fan_in)."),
                (output_with(math.sqrt(2) / math.sqrt(units)), "the scale uses the fan-out (units); He's constant "
                 "uses the fan-in (the input features)", "fan_in = input_shape[-1]; self.scale = self.gain / "
                 "math.sqrt(fan_in)."),
                (output_with(2.0 / fan_in), "the scale is squared: gain^2 / fan_in (the variance) instead of "
                 "gain / sqrt(fan_in) (the standard deviation)", "self.scale = self.gain / math.sqrt(fan_in)."),
                (output_with(he_scale, scale_bias=True), "the bias is scaled too; only the kernel is",
                 "ops.matmul(inputs, self.kernel * self.scale) + self.bias."),
            ],
            f"EqualizedDense({units}) output with known weights",
            "y = x @ (W * gain / sqrt(fan_in)) + b.",
        )
        report.ok("output = x @ (W * sqrt(2) / sqrt(fan_in)) + b, scaled at run time.")

        linear = layer_class(8, gain=1.0)
        _to_numpy(linear(x))
        linear.kernel.assign(weights[:, :8])
        _expect_array(
            linear(x), x64 @ (w64[:, :8] / math.sqrt(fan_in)), [],
            "EqualizedDense(8, gain=1.0) with known weights",
            "use the gain argument: self.scale = self.gain / math.sqrt(fan_in).",
        )
        report.ok("gain=1.0 (for to_rgb and D's score) gives the scale 1 / sqrt(fan_in).")

    return run_check("equalized_dense", equalized_dense_class, body, verbose)


# --- the fade-in ----------------------------------------------------------------------------


def check_fade_in(fade_in, verbose=True):
    """Checks ``fade_in(alpha, old, new)`` with numbers and a ``keras.Variable`` alpha.

    Catches: alpha the wrong way round, the old path dropped, the new path
    dropped, a result that is not a blend.
    """

    def body(fade_in, report):
        old = _random((2, 4, 4, 1), seed=8)
        new = _random((2, 4, 4, 1), seed=9)
        for alpha in (0.0, 0.25, 1.0):
            right = old + alpha * (new - old)
            _expect_array(
                fade_in(alpha, old, new),
                right,
                [
                    (new + alpha * (old - new), f"alpha is the wrong way round: at alpha={alpha} you give "
                     "mostly the new block", "old at alpha 0, new at alpha 1: old + alpha * (new - old)."),
                    (alpha * new, f"at alpha={alpha} the old path is missing: you return alpha * new",
                     "(1 - alpha) * old + alpha * new."),
                    ((1 - alpha) * old, f"at alpha={alpha} the new path is missing: you return (1 - alpha) * old",
                     "(1 - alpha) * old + alpha * new."),
                ],
                f"fade_in({alpha}, old, new)",
                "old + alpha * (new - old).",
            )
        report.ok("old at alpha 0, new at alpha 1, linear in between.")

        import keras

        alpha = keras.Variable(0.75, dtype="float32", trainable=False)
        _expect_array(
            fade_in(alpha, old, new), old + 0.75 * (new - old), [],
            "fade_in with a keras.Variable alpha of 0.75",
            "use alpha as a number in arithmetic (no float(...) or if on it), so that a variable works.",
        )
        report.ok("alpha may be a keras.Variable, as it is during training.")

    return run_check("fade_in", fade_in, body, verbose)
