"""Tests of ganlab.losses against values computed by hand.

Notation: ``softplus(x) = ln(1 + e^x)``, so ``softplus(0) = ln 2``,
``-ln(sigmoid(x)) = softplus(-x)`` and ``-ln(1 - sigmoid(x)) = softplus(x)``.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from ganlab import losses
from ganlab.losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    discriminator_accuracy,
    drift_penalty,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    minimax_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)

LN2 = math.log(2.0)


def softplus(x):
    return math.log1p(math.exp(x))


def value(tensor):
    return float(ops.convert_to_numpy(tensor))


def logits(*values):
    """A column of logits ``(N, 1)``, the discriminators' output shape."""
    return tf.constant(values, dtype=tf.float32, shape=(len(values), 1))


# --- binary cross-entropy -------------------------------------------------------------


def test_bce_discriminator_loss_of_an_undecided_discriminator_is_two_ln_two():
    # D(x) = sigmoid(0) = 1/2 for both: -ln(1/2) - ln(1 - 1/2) = 2 ln 2.
    assert value(bce_discriminator_loss(logits(0.0, 0.0), logits(0.0))) == pytest.approx(2 * LN2)


def test_bce_discriminator_loss_averages_each_term_over_its_own_batch():
    real, fake = logits(2.0, -1.0), logits(-3.0)

    expected = (softplus(-2.0) + softplus(1.0)) / 2 + softplus(-3.0)  # 0.7201 + 0.0486

    assert value(bce_discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.768682, abs=1e-6)


def test_bce_discriminator_loss_with_label_smoothing_targets_one_minus_s_for_real_images():
    real, fake = logits(2.0), logits(-1.0)

    smoothed = value(bce_discriminator_loss(real, fake, label_smoothing=0.1))

    # Target 0.9 on the real logit 2: 0.9 softplus(-2) + 0.1 softplus(2); fakes keep target 0.
    expected = 0.9 * softplus(-2.0) + 0.1 * softplus(2.0) + softplus(-1.0)
    assert smoothed == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.640190, abs=1e-6)
    assert smoothed > value(bce_discriminator_loss(real, fake))  # confident reals now cost more


def test_label_smoothing_does_not_change_the_loss_of_an_undecided_discriminator():
    # At logit 0 both cross-entropy terms are ln 2, whatever the target.
    loss = bce_discriminator_loss(logits(0.0), logits(0.0), label_smoothing=0.3)
    assert value(loss) == pytest.approx(2 * LN2)


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.0, 1.5])
def test_label_smoothing_outside_zero_to_one_is_rejected(label_smoothing):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        bce_discriminator_loss(logits(0.0), logits(0.0), label_smoothing=label_smoothing)


def test_bce_losses_are_exact_where_log_of_sigmoid_would_underflow():
    # sigmoid(-200) rounds to 0 in float32, yet softplus(200) = 200 exactly enough.
    assert value(bce_generator_loss(logits(-200.0))) == pytest.approx(200.0)
    assert value(bce_discriminator_loss(logits(-200.0), logits(200.0))) == pytest.approx(400.0)


def test_bce_generator_loss_at_logit_zero_is_ln_two():
    assert value(bce_generator_loss(logits(0.0, 0.0))) == pytest.approx(LN2)


def test_non_saturating_and_minimax_generator_losses_at_a_rejected_fake():
    # D rejects the fake: logit -3, D(G(z)) = sigmoid(-3) = 0.0474.
    fake = logits(-3.0)

    assert value(bce_generator_loss(fake)) == pytest.approx(softplus(3.0), rel=1e-6)  # 3.0486
    assert value(minimax_generator_loss(fake)) == pytest.approx(-softplus(-3.0), rel=1e-5)  # -0.0486


def test_non_saturating_loss_gives_twenty_times_the_gradient_of_minimax_at_a_rejected_fake():
    fake = tf.Variable([[-3.0]])
    with tf.GradientTape(persistent=True) as tape:
        non_saturating = bce_generator_loss(fake)
        minimax = minimax_generator_loss(fake)
    non_saturating_gradient = value(tape.gradient(non_saturating, fake)[0, 0])
    minimax_gradient = value(tape.gradient(minimax, fake)[0, 0])

    # d/dx softplus(-x) = -sigmoid(-x) = -sigmoid(3) = -0.9526;
    # d/dx -softplus(x) = -sigmoid(x) = -sigmoid(-3) = -0.0474: almost flat.
    sigmoid_3 = 1.0 / (1.0 + math.exp(-3.0))
    assert non_saturating_gradient == pytest.approx(-sigmoid_3, rel=1e-5)
    assert minimax_gradient == pytest.approx(-(1.0 - sigmoid_3), rel=1e-4)
    assert non_saturating_gradient / minimax_gradient == pytest.approx(math.exp(3.0), rel=1e-4)


# --- hinge and Wasserstein ------------------------------------------------------------


def test_hinge_discriminator_loss_only_pushes_scores_inside_the_margin():
    real = logits(2.0, -0.5)  # relu(1 - 2) = 0, relu(1 + 0.5) = 1.5: mean 0.75
    fake = logits(2.0, -0.5)  # relu(1 + 2) = 3, relu(1 - 0.5) = 0.5: mean 1.75

    assert value(hinge_discriminator_loss(real, fake)) == pytest.approx(2.5)


def test_hinge_discriminator_loss_is_zero_beyond_the_margins():
    assert value(hinge_discriminator_loss(logits(1.0, 5.0), logits(-1.0, -7.0))) == 0.0


def test_hinge_generator_loss_is_minus_the_mean_fake_score():
    assert value(hinge_generator_loss(logits(2.0, -0.5))) == pytest.approx(-0.75)


def test_wasserstein_losses_are_differences_of_mean_scores():
    real = logits(2.0, -0.5)  # mean 0.75
    fake = logits(1.0, 3.0)  # mean 2

    assert value(wasserstein_discriminator_loss(real, fake)) == pytest.approx(2.0 - 0.75)
    assert value(wasserstein_generator_loss(fake)) == pytest.approx(-2.0)


# --- penalties ------------------------------------------------------------------------


def linear_critic(weights):
    """D(x) = sum(w * x) over each image: its gradient is w everywhere, of norm ||w||."""
    weights = tf.constant(weights, dtype=tf.float32)

    def critic(images, training=False):
        return tf.reduce_sum(weights * images, axis=(1, 2, 3))[:, tf.newaxis]

    return critic


@pytest.mark.parametrize(
    "weights, expected",
    [
        ([[3.0, 4.0], [0.0, 0.0]], (5.0 - 1.0) ** 2),  # ||w|| = 5: (5 - 1)^2 = 16
        ([[0.3, 0.0], [0.0, 0.4]], (0.5 - 1.0) ** 2),  # ||w|| = 0.5: 0.25
        ([[0.6, 0.0], [0.0, 0.8]], 0.0),  # ||w|| = 1: already 1-Lipschitz
    ],
)
def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared(weights, expected):
    weights = np.array(weights, np.float32).reshape(1, 2, 2, 1)
    real = tf.random.stateless_normal((3, 2, 2, 1), seed=(1, 2))
    fake = tf.random.stateless_normal((3, 2, 2, 1), seed=(3, 4))

    penalty = gradient_penalty(linear_critic(weights), real, fake, seed=5)

    # The gradient of a linear critic is the same at every mixed point.
    assert value(penalty) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_gradient_penalty_takes_the_gradient_at_real_plus_mixing_times_fake_minus_real():
    # D(x) = sum(x^2) / 2 has gradient x: at x_hat = real + m (fake - real) with
    # real = 0 and fake = 2 on 4 pixels, ||x_hat|| = sqrt(4 (2m)^2) = 4m.
    def critic(images, training=False):
        return 0.5 * tf.reduce_sum(tf.square(images), axis=(1, 2, 3))[:, tf.newaxis]

    real = tf.zeros((2, 2, 2, 1))
    fake = tf.fill((2, 2, 2, 1), 2.0)
    mixing = tf.constant([0.25, 0.5], shape=(2, 1, 1, 1))

    penalty = gradient_penalty(critic, real, fake, mixing=mixing)

    # Norms 1 and 2: ((1 - 1)^2 + (2 - 1)^2) / 2 = 0.5. Mixing the other way
    # (fake + m (real - fake)) would give norms 3 and 2, a penalty of 2.5.
    assert value(penalty) == pytest.approx(0.5, rel=1e-5)


def test_gradient_penalty_draws_the_same_mixing_for_the_same_seed():
    def critic(images, training=False):
        return 0.5 * tf.reduce_sum(tf.square(images), axis=(1, 2, 3))[:, tf.newaxis]

    real, fake = tf.zeros((4, 2, 2, 1)), tf.ones((4, 2, 2, 1))

    first = value(gradient_penalty(critic, real, fake, seed=11))

    assert value(gradient_penalty(critic, real, fake, seed=11)) == first
    # Every mixing factor is in [0, 1], so every norm 2m is in [0, 2]: penalty <= 1.
    assert 0.0 <= first <= 1.0


def test_penalty_samples_puts_the_penalty_on_the_first_pairs_and_the_other_terms_on_the_whole_batch():
    from ganlab.losses import wgan_gp_discriminator_loss

    # D(x) = sum(x^2) / 2, gradient x. real = 0 and fake = 2 on 4 pixels: D(real) = 0, D(fake) = 8,
    # and at x_hat = m * fake the gradient norm is 4m.
    def critic(images):
        return 0.5 * tf.reduce_sum(tf.square(images), axis=(1, 2, 3))[:, tf.newaxis]

    real, fake = tf.zeros((4, 2, 2, 1)), tf.fill((4, 2, 2, 1), 2.0)
    mixing = tf.constant([0.25, 0.5, 0.0, 0.0], shape=(4, 1, 1, 1))

    every, *_, every_penalty = wgan_gp_discriminator_loss(critic, real, fake, mixing=mixing)
    first_two, *_, first_two_penalty = wgan_gp_discriminator_loss(critic, real, fake, mixing=mixing, penalty_samples=2)

    # Norms 1, 2, 0, 0: all four give ((1-1)^2 + (2-1)^2 + 1 + 1) / 4 = 0.75; the first two, 0.5.
    assert value(every_penalty) == pytest.approx(0.75, rel=1e-5)
    assert value(first_two_penalty) == pytest.approx(0.5, rel=1e-5)
    # mean(D(fake)) - mean(D(real)) = 8 and the drift 0.001 * mean(D(real)^2) = 0 over the whole batch.
    assert value(every) == pytest.approx(8 + 10 * 0.75, rel=1e-5)
    assert value(first_two) == pytest.approx(8 + 10 * 0.5, rel=1e-5)


@pytest.mark.parametrize("penalty_samples", [0, -2, 2.5, True])
def test_penalty_samples_must_be_a_positive_integer(penalty_samples):
    from ganlab.losses import wgan_gp_discriminator_loss

    with pytest.raises(ValueError, match=r"penalty_samples must be None \(the whole batch\) or a positive integer"):
        wgan_gp_discriminator_loss(lambda images: images, tf.zeros((2, 1)), tf.zeros((2, 1)), penalty_samples=penalty_samples)


def test_the_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm_whatever_the_images():
    from ganlab.losses import r1_penalty

    # D(x) = sum(w * x): the gradient is w at every image, so R1 = ||w||^2 = 0.25 + 1 + 4 = 5.25.
    weights = tf.constant([0.5, -1.0, 2.0, 0.0], shape=(1, 2, 2, 1))

    def critic(images):
        return tf.reduce_sum(images * weights, axis=(1, 2, 3))[:, tf.newaxis]

    images = tf.random.stateless_normal((3, 2, 2, 1), seed=(1, 2))
    assert value(r1_penalty(critic, images)) == pytest.approx(5.25, rel=1e-6)
    # A loss scale multiplies the inner gradient and divides it back: the same value.
    assert value(r1_penalty(critic, images, loss_scale=1024.0)) == pytest.approx(5.25, rel=1e-6)


def test_the_r1_penalty_averages_each_real_image_s_squared_gradient_norm():
    from ganlab.losses import r1_penalty

    # D(x) = sum(x^2) / 2, gradient x: images of 4 pixels at 1 and at 2 give ||x||^2 = 4 and 16.
    def critic(images):
        return 0.5 * tf.reduce_sum(tf.square(images), axis=(1, 2, 3))[:, tf.newaxis]

    images = tf.concat([tf.ones((1, 2, 2, 1)), tf.fill((1, 2, 2, 1), 2.0)], axis=0)
    assert value(r1_penalty(critic, images)) == pytest.approx((4 + 16) / 2, rel=1e-6)


def test_drift_penalty_is_the_mean_squared_real_score():
    assert value(drift_penalty(logits(1.0, -2.0, 3.0))) == pytest.approx((1 + 4 + 9) / 3)


# --- accuracy -------------------------------------------------------------------------


def test_discriminator_accuracy_counts_positive_reals_and_negative_fakes():
    # A logit of exactly 0 (D undecided) is counted as right for neither.
    real = logits(2.0, -1.0, 0.0, 0.5)  # 2 of 4 above 0
    fake = logits(-1.0, 0.0, 3.0)  # 1 of 3 below 0

    real_accuracy, fake_accuracy = discriminator_accuracy(real, fake)

    assert value(real_accuracy) == pytest.approx(0.5)
    assert value(fake_accuracy) == pytest.approx(1 / 3)


# --- the losses catch mistakes --------------------------------------------------------


def test_swapping_real_and_fake_logits_gives_a_different_discriminator_loss():
    # A confident, correct D: real scores 3, fake scores -2.
    real, fake = logits(3.0), logits(-2.0)

    right = value(bce_discriminator_loss(real, fake))  # softplus(-3) + softplus(-2) = 0.1755
    swapped = value(bce_discriminator_loss(fake, real))  # softplus(2) + softplus(3) = 5.1755

    assert right == pytest.approx(softplus(-3.0) + softplus(-2.0), rel=1e-6)
    assert swapped == pytest.approx(softplus(2.0) + softplus(3.0), rel=1e-6)
    assert swapped - right == pytest.approx(5.0, rel=1e-5)
    assert value(hinge_discriminator_loss(fake, real)) != value(hinge_discriminator_loss(real, fake))
    assert value(wasserstein_discriminator_loss(fake, real)) == -value(
        wasserstein_discriminator_loss(real, fake)
    )


def test_a_generator_loss_with_the_sign_flipped_is_told_apart():
    fake = logits(-1.0, 2.0)

    assert value(hinge_generator_loss(fake)) == pytest.approx(-0.5)
    assert value(-hinge_generator_loss(fake)) != value(hinge_generator_loss(fake))
    # Minimax is not the non-saturating loss with a sign flip: -softplus(x) != softplus(-x).
    assert value(minimax_generator_loss(fake)) != pytest.approx(-value(bce_generator_loss(fake)))


def test_loss_families_pair_each_generator_loss_with_its_discriminator_loss():
    assert losses.LOSS_FAMILIES == {
        "bce": (bce_generator_loss, bce_discriminator_loss),
        "minimax": (minimax_generator_loss, bce_discriminator_loss),
        "hinge": (hinge_generator_loss, hinge_discriminator_loss),
        "wasserstein": (wasserstein_generator_loss, wasserstein_discriminator_loss),
    }
