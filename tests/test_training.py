"""Tests of ganlab.training: the GAN's train step, its EMA, checkpoints and sampling.

The GANs are the "fast" recipe's tiny DCGANs (``ganlab.runs.build_gan``), trained
for a step or a few on one fixed batch of real digits, so every number below can
be worked out from the update rules.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlab import losses, recipes, runs
from ganlab.models import build_dcgan_discriminator, build_dcgan_generator
from ganlab.training import GAN, read_checkpoint_state, restore_checkpoint, save_checkpoint

FAST_DCGAN = recipes.get_recipe("dcgan", "fast")


def snapshot(variables):
    return [keras.ops.convert_to_numpy(variable).copy() for variable in variables]


def assert_all_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def train(gan, dataset, steps):
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)


def uncompiled_fast_gan(**options):
    network = recipes.network_for(recipes.get_recipe("dcgan", "fast"))
    return GAN(build_dcgan_generator(network), build_dcgan_discriminator(network), **options)


# --- the train step -----------------------------------------------------------------


def test_one_train_step_moves_every_weight_of_both_networks_by_the_learning_rate(fast_gan, fixed_batches):
    gan = fast_gan()
    generator_before = snapshot(gan.generator.trainable_variables)
    discriminator_before = snapshot(gan.discriminator.trainable_variables)

    train(gan, fixed_batches(), steps=1)

    # Adam's first update is lr * m / (sqrt(v) + eps) with m = g and v = g^2 after
    # bias correction: lr * g / (|g| + eps), a step of almost exactly lr for every
    # weight whose gradient is not tiny.
    for learning_rate, before, variables in (
        (FAST_DCGAN.g_learning_rate, generator_before, gan.generator.trainable_variables),
        (FAST_DCGAN.d_learning_rate, discriminator_before, gan.discriminator.trainable_variables),
    ):
        for old, variable in zip(before, variables):
            change = np.abs(keras.ops.convert_to_numpy(variable) - old)
            assert np.median(change) == pytest.approx(learning_rate, rel=1e-2), variable.path
            assert change.max() == pytest.approx(learning_rate, rel=1e-2), variable.path


def test_each_train_step_counts_one_generator_and_one_discriminator_update(fast_gan, fixed_batches):
    gan = fast_gan(run_eagerly=True)

    train(gan, fixed_batches(), steps=3)

    assert int(gan.step.numpy()) == 3
    assert int(gan.g_optimizer.iterations.numpy()) == 3
    assert int(gan.d_optimizer.iterations.numpy()) == 3


def test_two_discriminator_steps_update_the_discriminator_twice_per_generator_update(fast_gan, fixed_batches):
    gan = fast_gan(d_steps=2)

    train(gan, fixed_batches(), steps=3)

    assert int(gan.step.numpy()) == 3
    assert int(gan.g_optimizer.iterations.numpy()) == 3
    assert int(gan.d_optimizer.iterations.numpy()) == 6


def test_fit_reports_the_four_gan_metrics(fast_gan, fixed_batches):
    gan = fast_gan(run_eagerly=True)

    history = gan.fit(fixed_batches(), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False).history

    assert sorted(history) == ["d_fake_accuracy", "d_loss", "d_real_accuracy", "g_loss"]
    assert 0.0 <= history["d_real_accuracy"][0] <= 1.0
    assert 0.0 <= history["d_fake_accuracy"][0] <= 1.0
    assert history["d_loss"][0] > 0.0 and history["g_loss"][0] > 0.0  # BCE is positive


def test_train_step_accepts_image_label_pairs_and_ignores_the_labels(fast_gan, real_digits):
    from ganlab.data import make_dataset

    gan = fast_gan(run_eagerly=True)
    dataset = make_dataset(real_digits[:16], np.arange(16), batch_size=16, shuffle=False)

    train(gan, dataset, steps=1)

    assert int(gan.step.numpy()) == 1


# --- EMA ---------------------------------------------------------------------------


def test_ema_generator_starts_as_a_copy_of_the_generator(fast_gan):
    gan = fast_gan()

    assert gan.ema_generator is not gan.generator
    assert_all_equal(gan.ema_generator.weights, gan.generator.weights)
    assert gan.sampling_generator() is gan.ema_generator


def test_ema_weights_follow_the_warmed_up_decay_for_two_steps(fast_gan, fixed_batches):
    gan = fast_gan()
    dataset = fixed_batches()
    initial = snapshot(gan.generator.weights)

    train(gan, dataset, steps=1)
    after_one = snapshot(gan.generator.weights)
    ema_one = snapshot(gan.ema_generator.weights)
    train(gan, dataset, steps=1)
    after_two = snapshot(gan.generator.weights)
    ema_two = snapshot(gan.ema_generator.weights)

    # decay = min(0.999, (1 + step) / (10 + step)) with the step already counted:
    # step 1: 2/11; step 2: 3/12 = 1/4. Batch-norm statistics are averaged too.
    assert gan.ema_decay == 0.999
    for w0, w1, ema in zip(initial, after_one, ema_one):
        np.testing.assert_allclose(ema, 2 / 11 * w0 + 9 / 11 * w1, rtol=1e-5, atol=1e-7)
    for e1, w2, ema in zip(ema_one, after_two, ema_two):
        np.testing.assert_allclose(ema, 0.25 * e1 + 0.75 * w2, rtol=1e-5, atol=1e-7)
    # The moving variance of the first batch norm really moved, so the check covers it.
    assert not np.allclose(after_one[4], initial[4])


def test_without_ema_the_generator_itself_is_sampled(fast_gan):
    gan = uncompiled_fast_gan(ema_decay=None)

    assert gan.ema_generator is None
    assert gan.sampling_generator() is gan.generator


@pytest.mark.parametrize("ema_decay", [0.0, 1.0, 1.5, -0.5])
def test_ema_decay_outside_zero_to_one_is_rejected(ema_decay):
    with pytest.raises(ValueError, match=r"ema_decay must be None or in \(0, 1\)"):
        uncompiled_fast_gan(ema_decay=ema_decay)


# --- compile ------------------------------------------------------------------------


def adam():
    return keras.optimizers.Adam(FAST_DCGAN.d_learning_rate, beta_1=FAST_DCGAN.beta_1)


def test_compile_rejects_an_unknown_loss_and_lists_the_families():
    gan = uncompiled_fast_gan()

    with pytest.raises(ValueError, match=r"\('bce', 'minimax', 'hinge', 'wasserstein'\).*loss='lsgan'"):
        gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="lsgan")


def test_compile_rejects_one_optimizer_shared_by_both_networks():
    gan = uncompiled_fast_gan()
    shared = adam()

    with pytest.raises(ValueError, match="two different optimizer objects"):
        gan.compile(d_optimizer=shared, g_optimizer=shared)


@pytest.mark.parametrize("argument", ["d_optimizer", "g_optimizer"])
def test_compile_rejects_something_that_is_not_an_optimizer(argument):
    gan = uncompiled_fast_gan()
    optimizers = {"d_optimizer": adam(), "g_optimizer": adam(), argument: "adam"}

    with pytest.raises(ValueError, match=f"{argument} must be a keras.optimizers.Optimizer"):
        gan.compile(**optimizers)


@pytest.mark.parametrize("d_steps", [0, -1, 1.5])
def test_compile_rejects_a_d_steps_that_is_not_a_positive_integer(d_steps):
    gan = uncompiled_fast_gan()

    with pytest.raises(ValueError, match="d_steps must be a positive integer"):
        gan.compile(d_optimizer=adam(), g_optimizer=adam(), d_steps=d_steps)


@pytest.mark.parametrize(
    "loss, label_smoothing, message",
    [
        ("bce", 1.0, r"label_smoothing must be in \[0, 1\)"),
        ("bce", -0.1, r"label_smoothing must be in \[0, 1\)"),
        ("hinge", 0.1, "applies to the 'bce' and 'minimax' losses only"),
    ],
)
def test_compile_rejects_label_smoothing_out_of_range_or_with_a_loss_that_ignores_it(loss, label_smoothing, message):
    gan = uncompiled_fast_gan()

    with pytest.raises(ValueError, match=message):
        gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss=loss, label_smoothing=label_smoothing)


def test_compile_passes_label_smoothing_to_the_bce_discriminator_loss():
    gan = uncompiled_fast_gan()
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="bce", label_smoothing=0.1)

    real, fake = tf.constant([[2.0]]), tf.constant([[-1.0]])

    # 0.9 softplus(-2) + 0.1 softplus(2) + softplus(-1) (see test_losses).
    assert float(gan.discriminator_loss(real, fake)) == pytest.approx(0.640190, abs=1e-5)


def test_compile_chooses_the_loss_pair_of_the_family():
    gan = uncompiled_fast_gan()
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="hinge")

    assert gan.generator_loss is losses.hinge_generator_loss
    assert gan.discriminator_loss is losses.hinge_discriminator_loss


# --- checkpoints ----------------------------------------------------------------------


def test_a_restored_checkpoint_holds_every_weight_optimizer_state_step_and_random_state(
    fast_gan, fixed_batches, tmp_path
):
    original = fast_gan(seed=0, run_eagerly=True)
    train(original, fixed_batches(), steps=3)
    save_checkpoint(original, tmp_path / "checkpoint", extra_state={"experiment_key": "abc"})

    restored = fast_gan(seed=1)  # different initial weights and latent seed
    state = restore_checkpoint(restored, tmp_path / "checkpoint")

    assert state["step"] == 3 and state["experiment_key"] == "abc"
    assert_all_equal(restored.generator.weights, original.generator.weights)
    assert_all_equal(restored.discriminator.weights, original.discriminator.weights)
    assert_all_equal(restored.ema_generator.weights, original.ema_generator.weights)
    assert_all_equal(restored.d_optimizer.variables, original.d_optimizer.variables)
    assert_all_equal(restored.g_optimizer.variables, original.g_optimizer.variables)
    assert int(restored.step.numpy()) == 3
    assert int(restored.d_optimizer.iterations.numpy()) == 3
    np.testing.assert_array_equal(restored.seed_generator.state.numpy(), original.seed_generator.state.numpy())


def test_training_a_restored_copy_continues_exactly_like_the_original(fast_gan, fixed_batches, tmp_path):
    original = fast_gan(seed=0)
    train(original, fixed_batches(), steps=2)
    save_checkpoint(original, tmp_path / "checkpoint")
    restored = fast_gan(seed=1)
    restore_checkpoint(restored, tmp_path / "checkpoint")

    train(original, fixed_batches(), steps=2)
    train(restored, fixed_batches(), steps=2)

    # Same weights, optimizer moments and latent draws: the same two steps.
    assert int(restored.step.numpy()) == int(original.step.numpy()) == 4
    assert_all_equal(restored.generator.weights, original.generator.weights)
    assert_all_equal(restored.discriminator.weights, original.discriminator.weights)
    assert_all_equal(restored.ema_generator.weights, original.ema_generator.weights)


def test_save_checkpoint_replaces_the_old_one_keeps_it_as_previous_and_leaves_no_partial_folder(
    fast_gan, fixed_batches, tmp_path
):
    gan = fast_gan(run_eagerly=True)
    directory = tmp_path / "checkpoint"
    save_checkpoint(gan, directory)
    train(gan, fixed_batches(), steps=1)

    returned = save_checkpoint(gan, directory, extra_state={"seed": 7})

    assert returned == directory
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint", "checkpoint.previous"]
    assert read_checkpoint_state(tmp_path / "checkpoint.previous")["step"] == 0
    assert sorted(path.name for path in directory.iterdir()) == ["gan.weights.h5", "state.json"]
    state = json.loads((directory / "state.json").read_text())
    assert state["step"] == 1 and state["seed"] == 7
    assert read_checkpoint_state(directory) == state


def test_restoring_into_an_uncompiled_gan_is_refused(fast_gan, tmp_path):
    save_checkpoint(fast_gan(), tmp_path / "checkpoint")

    with pytest.raises(ValueError, match="Compile the GAN before restoring"):
        restore_checkpoint(uncompiled_fast_gan(ema_decay=0.999), tmp_path / "checkpoint")


def test_restoring_from_a_folder_without_a_checkpoint_names_the_missing_file(fast_gan, tmp_path):
    with pytest.raises(ValueError, match="gan.weights.h5 is missing"):
        restore_checkpoint(fast_gan(), tmp_path)
    with pytest.raises(ValueError, match="state.json is missing"):
        read_checkpoint_state(tmp_path)


# --- sampling -----------------------------------------------------------------------


def test_generate_with_a_seed_gives_the_same_images_every_time(fast_gan):
    gan = fast_gan()

    first = gan.generate(6, seed=3)

    assert first.shape == (6, 28, 28, 1) and first.dtype == np.float32
    assert np.abs(first).max() <= 1.0
    np.testing.assert_array_equal(gan.generate(6, seed=3), first)
    assert not np.allclose(gan.generate(6, seed=4), first)


def test_generate_decodes_numpy_standard_normal_latents_with_the_ema_generator_in_batches(fast_gan):
    gan = fast_gan()
    latent = np.random.default_rng(3).standard_normal((6, 64)).astype("float32")

    expected = keras.ops.convert_to_numpy(gan.ema_generator(latent, training=False))

    np.testing.assert_allclose(gan.generate(6, seed=3, batch_size=4), expected, atol=1e-6)
    np.testing.assert_allclose(gan.generate(latent), expected, atol=1e-6)


def test_generate_rejects_a_bad_number_or_latent_shape(fast_gan):
    gan = fast_gan()

    with pytest.raises(ValueError, match="must be positive"):
        gan.generate(0)
    with pytest.raises(ValueError, match=r"shape \(N, 64\)"):
        gan.generate(np.zeros((3, 10)))


def test_build_gan_is_reproducible_for_a_seed():
    recipe = recipes.get_recipe("vanilla", "fast")

    first, second = runs.build_gan(recipe, seed=5), runs.build_gan(recipe, seed=5)

    assert_all_equal(first.generator.weights, second.generator.weights)
    assert_all_equal(first.discriminator.weights, second.discriminator.weights)
