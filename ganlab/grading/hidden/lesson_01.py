"""Hidden tests of lesson 01, the vanilla GAN."""

import numpy as np
import tensorflow as tf
from keras import layers, ops

import keras
from ganlab import checks, losses
from ganlab.checks import reference_gan_train_step
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test, to_numpy
from ganlab.models import VanillaConfig



def _dense_widths(model):
    return [layer.units for layer in model._flatten_layers() if isinstance(layer, layers.Dense)]


# --- build_generator -----------------------------------------------------------


@hidden_test("build_generator", points=2)
def build_generator_passes_the_notebook_check(build_generator):
    expect_check_passes(checks.check_build_generator, build_generator)


@hidden_test("build_generator", points=2)
def generator_makes_non_square_color_images(build_generator):
    config = VanillaConfig(latent_dim=3, image_shape=(4, 6, 3), hidden_units=(8, 12))
    images = to_numpy(build_generator(config)(np.random.default_rng(0).normal(size=(5, 3)).astype("float32")))
    expect(images.shape == (5, 4, 6, 3), "the generator must give (N, height, width, channels) for any "
           "config.image_shape, including non-square images with 3 channels.")
    expect(np.all(np.abs(images) <= 1.0), "the pixels of color images must be in [-1, 1] too.")


@hidden_test("build_generator", points=2)
def generator_has_one_hidden_layer_per_width_for_any_depth(build_generator):
    passed = 0
    for hidden_units in ((8,), (8, 16, 24)):
        config = VanillaConfig(latent_dim=4, image_shape=(3, 3, 1), hidden_units=hidden_units)
        passed += _dense_widths(build_generator(config))[:-1] == list(hidden_units)
    expect(passed == 2, "the number of hidden layers must follow len(config.hidden_units) (one, two or three "
           "widths), not a fixed two.", credit=fraction(passed, 2))


@hidden_test("build_generator", points=1)
def generator_output_depends_on_the_latent_vector(build_generator):
    config = VanillaConfig(latent_dim=6, image_shape=(5, 5, 1), hidden_units=(16,))
    generator = build_generator(config)
    latent = np.random.default_rng(1).normal(size=(2, 6)).astype("float32")
    images = to_numpy(generator(latent, training=False))
    expect(np.abs(images[0] - images[1]).max() > 1e-6, "two different latent vectors must give two different images.")
    single = to_numpy(generator(latent[:1], training=False))
    expect_close(single[0], images[0], "an image must not depend on the other images of the batch.", atol=1e-5)


# --- build_discriminator -------------------------------------------------------


@hidden_test("build_discriminator", points=2)
def build_discriminator_passes_the_notebook_check(build_discriminator):
    expect_check_passes(checks.check_build_discriminator, build_discriminator)


@hidden_test("build_discriminator", points=2)
def discriminator_takes_non_square_color_images_at_any_depth(build_discriminator):
    passed = 0
    for hidden_units in ((8,), (8, 16, 24)):
        config = VanillaConfig(latent_dim=3, image_shape=(4, 6, 3), hidden_units=hidden_units, dropout=0.1)
        model = build_discriminator(config)
        logits = to_numpy(model(np.zeros((7, 4, 6, 3), "float32"), training=False))
        passed += logits.shape == (7, 1) and _dense_widths(model)[:-1] == list(reversed(hidden_units))
    expect(passed == 2, "for non-square color images and one or three hidden widths, D must give (N, 1) logits "
           "through one hidden layer per width of reversed(config.hidden_units).", credit=fraction(passed, 2))


@hidden_test("build_discriminator", points=1)
def discriminator_dropout_follows_config(build_discriminator):
    config = VanillaConfig(latent_dim=3, image_shape=(3, 3, 1), hidden_units=(8, 8), dropout=0.4)
    model = build_discriminator(config)
    rates = [layer.rate for layer in model._flatten_layers() if isinstance(layer, layers.Dropout)]
    expect(rates and all(abs(rate - 0.4) < 1e-9 for rate in rates), "the Dropout rate must be config.dropout "
           "for every config, not a number written in the code.")


@hidden_test("build_discriminator", points=1)
def discriminator_is_deterministic_in_inference(build_discriminator):
    config = VanillaConfig(latent_dim=3, image_shape=(5, 5, 1), hidden_units=(32, 32), dropout=0.5)
    model = build_discriminator(config)
    images = np.random.default_rng(2).uniform(-1, 1, (16, 5, 5, 1)).astype("float32")
    first, second = to_numpy(model(images, training=False)), to_numpy(model(images, training=False))
    expect(np.array_equal(first, second), "with training=False, D must give the same logits twice: dropout "
           "belongs to training only (use layers.Dropout, which knows the difference).")


# --- the losses ----------------------------------------------------------------


def _softplus(x):
    return np.logaddexp(0.0, np.asarray(x, "float64"))


@hidden_test("discriminator_loss", points=2)
def discriminator_loss_passes_the_notebook_check(discriminator_loss):
    expect_check_passes(checks.check_discriminator_loss, discriminator_loss)


@hidden_test("discriminator_loss", points=2)
def discriminator_loss_is_right_for_random_logits_and_shapes(discriminator_loss):
    passed, cases = 0, 0
    for seed, shape in ((0, (16, 1)), (1, (5,)), (2, (1, 1))):
        rng = np.random.default_rng(seed)
        real, fake = rng.normal(0, 3, shape).astype("float32"), rng.normal(0, 3, shape).astype("float32")
        got = float(to_numpy(discriminator_loss(ops.convert_to_tensor(real), ops.convert_to_tensor(fake))))
        passed += abs(got - (_softplus(-real).mean() + _softplus(fake).mean())) < 1e-4
        cases += 1
    expect(passed == cases, "the loss is wrong for some batches of other sizes and shapes ((N, 1) or (N,)).",
           credit=fraction(passed, cases))


@hidden_test("discriminator_loss", points=2)
def discriminator_loss_takes_different_numbers_of_real_and_fake_images(discriminator_loss):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(8, 1)).astype("float32"), rng.normal(size=(3, 1)).astype("float32")
    got = float(to_numpy(discriminator_loss(ops.convert_to_tensor(real), ops.convert_to_tensor(fake))))
    expect(abs(got - (_softplus(-real).mean() + _softplus(fake).mean())) < 1e-4,
           "with 8 real images and 3 fakes the loss must be the mean over the real images plus the mean over the "
           "fakes: average each term on its own (no sum of the two vectors).")


@hidden_test("discriminator_loss", points=1)
def discriminator_loss_is_exact_for_confident_logits(discriminator_loss):
    real = np.array([[30.0], [-28.0]], "float32")
    fake = np.array([[-25.0], [21.0]], "float32")
    got = float(to_numpy(discriminator_loss(ops.convert_to_tensor(real), ops.convert_to_tensor(fake))))
    right = _softplus(-real).mean() + _softplus(fake).mean()
    expect(np.isfinite(got) and abs(got - right) < 1e-3 * right, "for confident logits (|logit| = 25 or 30) the "
           "loss must still be exact: log(sigmoid(x) + epsilon) is off there; softplus is not.")


@hidden_test("generator_loss", points=2)
def generator_loss_passes_the_notebook_check(generator_loss):
    expect_check_passes(checks.check_generator_loss, generator_loss)


@hidden_test("generator_loss", points=2)
def generator_loss_is_right_for_random_logits_and_shapes(generator_loss):
    passed = 0
    for seed, shape in ((0, (16, 1)), (1, (5,)), (2, (1, 1))):
        fake = np.random.default_rng(seed).normal(0, 3, shape).astype("float32")
        got = float(to_numpy(generator_loss(ops.convert_to_tensor(fake))))
        passed += abs(got - _softplus(-fake).mean()) < 1e-4
    expect(passed == 3, "the loss is wrong for some batches of other sizes and shapes ((N, 1) or (N,)).",
           credit=fraction(passed, 3))


@hidden_test("generator_loss", points=1)
def generator_loss_is_exact_for_confident_logits(generator_loss):
    fake = np.array([[-30.0], [-20.0], [25.0]], "float32")
    got = float(to_numpy(generator_loss(ops.convert_to_tensor(fake))))
    right = _softplus(-fake).mean()
    expect(np.isfinite(got) and abs(got - right) < 1e-3 * right, "for confident logits (|logit| = 20 to 30) the loss "
           "must still be exact: log(sigmoid(x) + epsilon) is off there; softplus is not.")


@hidden_test("generator_loss", points=1)
def generator_loss_gradient_is_the_non_saturating_one(generator_loss):
    fake = tf.constant(np.array([[-4.0], [0.0], [3.0], [-1.0]], "float32"))
    with tf.GradientTape() as tape:
        tape.watch(fake)
        loss = generator_loss(fake)
    gradient = tape.gradient(loss, fake)
    expect(gradient is not None, "the loss must be differentiable with respect to the logits (TensorFlow ops).")
    expect_close(to_numpy(gradient), -1.0 / (1.0 + np.exp(to_numpy(fake))) / 4,
                 "the gradient must be -sigmoid(-logit) / N: strong where D calls the fakes fake.")


# --- gan_train_step --------------------------------------------------------------


def _networks(seed):
    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="relu"), layers.Dense(4, activation="tanh"),
                                  layers.Reshape((2, 2, 1))])
    discriminator = keras.Sequential([keras.Input((2, 2, 1)), layers.Flatten(), layers.Dense(8, activation="relu"),
                                      layers.Dense(1)])
    return generator, discriminator


def _with_reference_losses(step):
    # A broken loss of the notebook costs its own exercise, not this one.
    step.__globals__["discriminator_loss"] = losses.bce_discriminator_loss
    step.__globals__["generator_loss"] = losses.bce_generator_loss
    return step


def _run_steps(step, seed, batches):
    generator, discriminator = _networks(seed)
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2)
    seed_generator = keras.random.SeedGenerator(seed)
    history = []
    for real in batches:
        d_loss, g_loss = step(generator, discriminator, g_optimizer, d_optimizer, ops.convert_to_tensor(real), 3,
                              seed_generator)
        history.append((float(to_numpy(d_loss)), float(to_numpy(g_loss))))
    weights = [to_numpy(w) for w in generator.weights + discriminator.weights]
    return history, weights


@hidden_test("gan_train_step", points=2)
def gan_train_step_passes_the_notebook_check(gan_train_step):
    expect_check_passes(checks.check_gan_train_step, _with_reference_losses(gan_train_step))


@hidden_test("gan_train_step", points=2)
def three_adam_steps_match_the_reference_on_keras_models(gan_train_step):
    step = _with_reference_losses(gan_train_step)
    passed = 0
    for seed in (0, 1):
        batches = [np.random.default_rng(seed + k).uniform(-1, 1, (6, 2, 2, 1)).astype("float32") for k in range(3)]
        got_history, got_weights = _run_steps(step, seed, batches)
        want_history, want_weights = _run_steps(reference_gan_train_step, seed, batches)
        passed += np.allclose(got_history, want_history, rtol=1e-3, atol=1e-4) and all(
            np.allclose(a, b, rtol=1e-3, atol=1e-4) for a, b in zip(got_weights, want_weights))
    expect(passed == 2, "three Adam steps on small Keras networks do not give the reference's losses and weights "
           "(D first on real and new fakes, then G through the updated D on new latent vectors).",
           credit=fraction(passed, 2))


@hidden_test("gan_train_step", points=2)
def train_step_runs_in_a_graph_with_an_unknown_batch_size(gan_train_step):
    step = _with_reference_losses(gan_train_step)
    generator, discriminator = _networks(3)
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    seed_generator = keras.random.SeedGenerator(3)

    @tf.function(input_signature=[tf.TensorSpec((None, 2, 2, 1), tf.float32)])
    def graph_step(real_images):
        return step(generator, discriminator, g_optimizer, d_optimizer, real_images, 3, seed_generator)

    for size in (5, 3):
        d_loss, g_loss = graph_step(tf.zeros((size, 2, 2, 1)))
        expect(np.isfinite(float(d_loss)) and np.isfinite(float(g_loss)),
               "the step must give finite losses for every batch.")
    # Reaching here means the step traced with a batch of unknown size (the last batch of an epoch is smaller):
    # take the batch size from ops.shape(real_images)[0], not real_images.shape[0] (None in a graph).
