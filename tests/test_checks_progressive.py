"""Lesson 04's checks: they pass the references and name each typical mistake.

One test per mistake, each a small wrong implementation a student could write.
"""

import math

import keras
import pytest
from check_results import assert_fails, assert_passes
from keras import ops

from ganlab import checks, layers


def not_written(*args, **kwargs):
    raise NotImplementedError("Exercise: see the instructions above")


# --- pixel norm ------------------------------------------------------------------------


def test_pixel_norm_check_passes_the_reference_and_reports_it(capsys):
    assert_passes(checks.check_pixel_norm(checks.reference_pixel_norm))
    assert "✓ pixel_norm: all 3 checks passed." in capsys.readouterr().out


def test_pixel_norm_check_names_the_wrong_axis():
    def over_pixels(x, epsilon=1e-8):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=(1, 2), keepdims=True) + epsilon)

    assert_fails(checks.check_pixel_norm(over_pixels, verbose=False), "averaged over the pixels")


def test_pixel_norm_check_names_the_l2_norm_instead_of_the_mean():
    def l2(x, epsilon=1e-8):
        return x * ops.rsqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + epsilon)

    assert_fails(checks.check_pixel_norm(l2, verbose=False), "L2 norm")


def test_pixel_norm_check_names_a_missing_square_root():
    def no_root(x, epsilon=1e-8):
        return x / (ops.mean(ops.square(x), axis=-1, keepdims=True) + epsilon)

    assert_fails(checks.check_pixel_norm(no_root, verbose=False), "without the square root")


def test_pixel_norm_check_catches_a_missing_epsilon():
    def no_epsilon(x, epsilon=1e-8):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True))

    assert_fails(checks.check_pixel_norm(no_epsilon, verbose=False), "add epsilon")


def test_pixel_norm_check_reports_an_unwritten_exercise():
    assert checks.check_pixel_norm(not_written, verbose=False).status == "not written"


# --- minibatch stddev --------------------------------------------------------------------


def consecutive_groups(x, group_size=4):
    batch, height, width, channels = x.shape
    group = min(group_size, batch)
    y = ops.reshape(x, (batch // group, group, height, width, channels))  # [M, G, ...]: consecutive
    y = ops.sqrt(ops.mean(ops.square(y - ops.mean(y, axis=1, keepdims=True)), axis=1) + 1e-8)
    y = ops.mean(y, axis=(1, 2, 3), keepdims=True)
    y = ops.repeat(y, group, axis=0)
    return ops.concatenate([x, ops.tile(y, (1, height, width, 1))], axis=-1)


def strided(x, group_size=4, variance=False, subtract_mean=True, repeat=False):
    batch, height, width, channels = x.shape
    group = min(group_size, batch)
    y = ops.reshape(x, (group, batch // group, height, width, channels))
    if subtract_mean:
        y = y - ops.mean(y, axis=0, keepdims=True)
    y = ops.mean(ops.square(y), axis=0)
    if not variance:
        y = ops.sqrt(y + 1e-8)
    y = ops.mean(y, axis=(1, 2, 3), keepdims=True)
    y = ops.repeat(y, group, axis=0) if repeat else ops.tile(y, (group, 1, 1, 1))
    return ops.concatenate([x, ops.tile(y, (1, height, width, 1))], axis=-1)


def test_minibatch_stddev_check_passes_the_reference():
    assert_passes(checks.check_minibatch_stddev(checks.reference_minibatch_stddev, verbose=False))


def test_minibatch_stddev_check_passes_a_correct_strided_implementation():
    assert_passes(checks.check_minibatch_stddev(strided, verbose=False))


def test_minibatch_stddev_check_names_consecutive_groups():
    assert_fails(checks.check_minibatch_stddev(consecutive_groups, verbose=False), "consecutive images")


def test_minibatch_stddev_check_names_the_variance():
    def variance(x, group_size=4):
        return strided(x, group_size, variance=True)

    assert_fails(checks.check_minibatch_stddev(variance, verbose=False), "you used the variance")


def test_minibatch_stddev_check_names_a_missing_mean_subtraction():
    def no_mean(x, group_size=4):
        return strided(x, group_size, subtract_mean=False)

    assert_fails(checks.check_minibatch_stddev(no_mean, verbose=False), "did not subtract the group mean")


def test_minibatch_stddev_check_names_values_going_back_to_the_wrong_images():
    def repeated(x, group_size=4):
        return strided(x, group_size, repeat=True)

    assert_fails(checks.check_minibatch_stddev(repeated, verbose=False), "values go back to the wrong images")


def test_minibatch_stddev_check_names_one_map_per_channel():
    def per_channel(x, group_size=4):
        batch, height, width, channels = x.shape
        y = ops.reshape(x, (4, batch // 4, height, width, channels))
        y = ops.sqrt(ops.mean(ops.square(y - ops.mean(y, axis=0, keepdims=True)), axis=0) + 1e-8)
        y = ops.mean(y, axis=(1, 2), keepdims=True)  # [M, 1, 1, C]
        return ops.concatenate([x, ops.tile(y, (4, height, width, 1))], axis=-1)

    assert_fails(checks.check_minibatch_stddev(per_channel, verbose=False), "one map per channel")


def test_minibatch_stddev_check_catches_a_group_size_not_capped_at_the_batch():
    def uncapped(x, group_size=4):
        batch, height, width, channels = x.shape
        y = ops.reshape(x, (group_size, batch // group_size, height, width, channels))
        return strided(x, group_size) if batch >= group_size else ops.concatenate([x, y[0, ..., :1]], axis=-1)

    assert_fails(checks.check_minibatch_stddev(uncapped, verbose=False), "min(group_size")


# --- equalized dense ---------------------------------------------------------------------


def dense_class(scale_at_init=False, scale=None, scale_bias=False):
    """An EqualizedDense-like layer class with one of the typical mistakes."""

    class Dense(keras.layers.Layer):
        def __init__(self, units, gain=math.sqrt(2), **kwargs):
            super().__init__(**kwargs)
            self.units, self.gain = units, gain

        def build(self, input_shape):
            fan_in = input_shape[-1]
            he = self.gain / math.sqrt(fan_in)
            std = he if scale_at_init else 1.0
            self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                          initializer=keras.initializers.RandomNormal(0.0, std))
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            self.scale = 1.0 if scale_at_init else (scale(self.gain, fan_in, self.units) if scale else he)

        def call(self, inputs):
            if scale_bias:
                return (ops.matmul(inputs, self.kernel) + self.bias) * self.scale
            return ops.matmul(inputs, self.kernel * self.scale) + self.bias

    return Dense


def test_equalized_dense_check_passes_the_library_layer_and_a_correct_class():
    assert_passes(checks.check_equalized_dense(layers.EqualizedDense, verbose=False))
    assert_passes(checks.check_equalized_dense(dense_class(), verbose=False))


def test_equalized_dense_check_names_scaling_at_initialization_instead_of_at_run_time():
    result = checks.check_equalized_dense(dense_class(scale_at_init=True), verbose=False)
    assert_fails(result, "you scaled the weights at initialization")


def test_equalized_dense_check_names_the_scale_without_the_gain():
    wrong = dense_class(scale=lambda gain, fan_in, units: 1 / math.sqrt(fan_in))
    assert_fails(checks.check_equalized_dense(wrong, verbose=False), "lacks the gain")


def test_equalized_dense_check_names_the_fan_out():
    wrong = dense_class(scale=lambda gain, fan_in, units: gain / math.sqrt(units))
    assert_fails(checks.check_equalized_dense(wrong, verbose=False), "uses the fan-out")


def test_equalized_dense_check_names_a_scaled_bias():
    assert_fails(checks.check_equalized_dense(dense_class(scale_bias=True), verbose=False), "bias is scaled")


# --- fade-in -----------------------------------------------------------------------------


def test_fade_in_check_passes_the_library_function():
    assert_passes(checks.check_fade_in(layers.fade_in, verbose=False))


def test_fade_in_check_names_alpha_the_wrong_way_round():
    def reversed_alpha(alpha, old, new):
        return new + alpha * (old - new)

    assert_fails(checks.check_fade_in(reversed_alpha, verbose=False), "alpha is the wrong way round")


def test_fade_in_check_names_a_missing_old_path():
    assert_fails(checks.check_fade_in(lambda alpha, old, new: alpha * new, verbose=False), "old path is missing")


def test_fade_in_check_catches_a_python_only_alpha():
    def python_alpha(alpha, old, new):
        return old if float(alpha) < 0.5 else new

    result = checks.check_fade_in(python_alpha, verbose=False)
    assert not result.passed


@pytest.mark.parametrize("name", ["pixel_norm", "minibatch_stddev", "equalized_dense", "fade_in"])
def test_solution_or_reference_finds_the_check_of_each_lesson_04_exercise(name, capsys):
    reference = object()

    assert checks.solution_or_reference(not_written, reference, name) is reference
    assert f"{name} is not written yet" in capsys.readouterr().out
