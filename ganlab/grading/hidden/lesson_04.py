"""Hidden tests of lesson 04, the progressive GAN."""

import numpy as np
import tensorflow as tf

from ganlab import checks
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test, to_numpy



@hidden_test("pixel_norm", points=2)
def pixel_norm_passes_the_notebook_check(pixel_norm):
    expect_check_passes(checks.check_pixel_norm, pixel_norm)


@hidden_test("pixel_norm", points=1)
def pixel_norm_uses_the_epsilon_given(pixel_norm):
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 4)).astype("float32")
    expect_close(pixel_norm(x, epsilon=1.0), checks.reference_pixel_norm(x, epsilon=1.0),
                 "with epsilon=1.0 the result must be x * rsqrt(mean(x^2) + 1.0): use the epsilon argument.")


@hidden_test("pixel_norm", points=1)
def pixel_norm_at_several_seeds_and_shapes(pixel_norm):
    passed = 0
    for seed, shape in enumerate(((5, 17), (1, 2, 3, 9), (3, 1, 1, 512))):
        x = np.random.default_rng(seed).normal(0, 3, shape).astype("float32")
        got = to_numpy(pixel_norm(tf.constant(x)))
        passed += got.shape == shape and np.allclose(got, to_numpy(checks.reference_pixel_norm(x)), rtol=1e-4, atol=1e-5)
    expect(passed == 3, "wrong for some shapes (latents, one pixel, 512 channels).", credit=fraction(passed, 3))


@hidden_test("minibatch_stddev", points=2)
def minibatch_stddev_passes_the_notebook_check(minibatch_stddev):
    expect_check_passes(checks.check_minibatch_stddev, minibatch_stddev)


@hidden_test("minibatch_stddev", points=2)
def minibatch_stddev_uses_the_group_size_given(minibatch_stddev):
    passed = 0
    for seed, (batch, group_size) in enumerate(((8, 2), (6, 3), (4, 1))):
        x = np.random.default_rng(seed).normal(size=(batch, 3, 2, 5)).astype("float32")
        got = to_numpy(minibatch_stddev(x, group_size=group_size))
        want = to_numpy(checks.reference_minibatch_stddev(x, group_size=group_size))
        passed += got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-5)
    expect(passed == 3, "with group_size 2, 3 or 1 (and non-square maps) the result must follow the group size "
           "given, not 4.", credit=fraction(passed, 3))


@hidden_test("EqualizedDense", points=3)
def equalized_dense_passes_the_notebook_check(EqualizedDense):
    expect_check_passes(checks.check_equalized_dense, EqualizedDense)


@hidden_test("EqualizedDense", points=2)
def equalized_dense_uses_the_gain_given_and_any_input_rank(EqualizedDense):
    layer = EqualizedDense(3, gain=0.5)
    x = np.random.default_rng(1).normal(size=(2, 4, 7)).astype("float32")
    y = to_numpy(layer(x))
    kernel, bias = (to_numpy(weight) for weight in (layer.kernel, layer.bias))
    expect(y.shape == (2, 4, 3), "a (batch, time, fan_in) input must give (batch, time, units).")
    expect_close(y, x @ (kernel * 0.5 / np.sqrt(7)) + bias, "with gain=0.5 and fan_in 7 the kernel must be scaled "
                 "by 0.5 / sqrt(7) at run time: use self.gain.")
    expect(len(layer.trainable_weights) == 2, "the layer must have exactly two trainable weights: kernel and bias.")


@hidden_test("fade_in", points=2)
def fade_in_passes_the_notebook_check(fade_in):
    expect_check_passes(checks.check_fade_in, fade_in)


@hidden_test("fade_in", points=1)
def fade_in_takes_one_alpha_per_image_and_stays_differentiable(fade_in):
    rng = np.random.default_rng(2)
    old, new = (tf.constant(rng.normal(size=(3, 2, 2, 1)).astype("float32")) for _ in range(2))
    alpha = tf.constant(np.array([0.0, 0.25, 1.0], "float32").reshape(3, 1, 1, 1))
    with tf.GradientTape() as tape:
        tape.watch([old, new])
        blend = fade_in(alpha, old, new)
        total = tf.reduce_sum(blend)
    expect_close(blend, old + to_numpy(alpha) * (to_numpy(new) - to_numpy(old)),
                 "with one alpha per image (shape (N, 1, 1, 1)) each image must be blended by its own alpha.")
    gradients = tape.gradient(total, [old, new])
    expect(all(g is not None for g in gradients), "the blend must stay differentiable (no NumPy conversion): "
           "G learns through both paths during the fade.")
    expect_close(gradients[1], np.broadcast_to(to_numpy(alpha), (3, 2, 2, 1)),
                 "the gradient with respect to the new path must be alpha.")
