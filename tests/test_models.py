"""Tests of ganlab.models: the vanilla MLP GAN and the DCGAN.

The networks are the "fast" recipe's sizes (width 8, hidden units (32, 64)),
small enough to count their weights by hand.
"""

import keras
import numpy as np
import pytest

from ganlab.models import (
    DCGANConfig,
    VanillaConfig,
    build_dcgan_discriminator,
    build_dcgan_generator,
    build_vanilla_discriminator,
    build_vanilla_generator,
)
from ganlab.models.dcgan import starting_size

FAST_DCGAN_28 = DCGANConfig(generator_width=8, discriminator_width=8)
FAST_DCGAN_32 = DCGANConfig(image_shape=(32, 32, 1), generator_width=8, discriminator_width=8)
FAST_VANILLA = VanillaConfig(hidden_units=(32, 64))


def latent_vectors(number, latent_dim=64, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal((number, latent_dim)).astype("float32")


def layer_names(model, layer_type=None):
    return [layer.name for layer in model.layers if layer_type is None or isinstance(layer, layer_type)]


# --- starting size ----------------------------------------------------------------


@pytest.mark.parametrize("image_size, start", [(28, 7), (32, 4), (64, 4), (24, 6), (10, 5), (96, 6)])
def test_dcgan_starting_size_halves_until_three_to_seven(image_size, start):
    assert starting_size(image_size) == start


@pytest.mark.parametrize("image_size", [1, 2, 4, 6, 7, 30, 34])
def test_dcgan_starting_size_rejects_sizes_that_are_not_three_to_seven_times_a_power_of_two(image_size):
    with pytest.raises(ValueError, match=f"3 to 7 times a power of two.*Received: image size {image_size}"):
        starting_size(image_size)


# --- DCGAN ------------------------------------------------------------------------


def test_dcgan_generator_28_makes_28x28_images_in_tanh_range():
    generator = build_dcgan_generator(FAST_DCGAN_28)

    # Large latent vectors drive tanh into saturation; it must still stay in [-1, 1].
    images = keras.ops.convert_to_numpy(generator(latent_vectors(8, scale=100.0), training=False))

    assert images.shape == (8, 28, 28, 1)
    assert np.abs(images).max() <= 1.0
    assert np.abs(images).max() > 0.99


def test_dcgan_generator_32_makes_32x32_images_in_tanh_range():
    generator = build_dcgan_generator(FAST_DCGAN_32)

    images = keras.ops.convert_to_numpy(generator(latent_vectors(5, scale=100.0), training=False))

    assert images.shape == (5, 32, 32, 1)
    assert np.abs(images).max() <= 1.0


def test_dcgan_discriminators_give_one_logit_per_image():
    for config in (FAST_DCGAN_28, FAST_DCGAN_32):
        size = config.image_shape[0]
        discriminator = build_dcgan_discriminator(config)
        images = np.zeros((3, size, size, 1), "float32")

        assert discriminator(images).shape == (3, 1)


def test_dcgan_28_blocks_are_named_by_resolution_with_widths_halving_towards_the_image():
    generator = build_dcgan_generator(FAST_DCGAN_28)
    discriminator = build_dcgan_discriminator(FAST_DCGAN_28)

    # 28 = 7 * 2^2: G goes 7x7 (16 channels) -> 14x14 (8) -> 28x28 (1).
    assert layer_names(generator, keras.layers.Conv2DTranspose) == ["block_14x14", "to_image_28x28"]
    assert generator.get_layer("project").units == 7 * 7 * 16
    assert generator.get_layer("block_14x14").filters == 8
    assert generator.get_layer("to_image_28x28").filters == 1
    # D mirrors it: 28x28 (8 channels) -> 14x14 (16) -> one logit.
    assert layer_names(discriminator, keras.layers.Conv2D) == ["block_28x28", "block_14x14"]
    assert [discriminator.get_layer(name).filters for name in ("block_28x28", "block_14x14")] == [8, 16]


def test_dcgan_32_blocks_start_from_4x4():
    generator = build_dcgan_generator(FAST_DCGAN_32)
    discriminator = build_dcgan_discriminator(FAST_DCGAN_32)

    # 32 = 4 * 2^3: G goes 4x4 (32) -> 8x8 (16) -> 16x16 (8) -> 32x32 (1).
    assert layer_names(generator, keras.layers.Conv2DTranspose) == [
        "block_8x8", "block_16x16", "to_image_32x32",
    ]
    assert generator.get_layer("project").units == 4 * 4 * 32
    assert layer_names(discriminator, keras.layers.Conv2D) == ["block_32x32", "block_16x16", "block_8x8"]
    assert [discriminator.get_layer(name).filters for name in ("block_32x32", "block_16x16", "block_8x8")] == [
        8, 16, 32,
    ]


def test_dcgan_28_weight_counts_match_a_count_by_hand():
    generator = build_dcgan_generator(FAST_DCGAN_28)
    discriminator = build_dcgan_discriminator(FAST_DCGAN_28)

    # G: project 64 * 784 (no bias) + BN 4 * 16 + block_14x14 4*4*16*8 (no bias) + BN 4 * 8
    #    + to_image 4*4*8*1 + 1 bias.
    assert generator.count_params() == 64 * 784 + 4 * 16 + 4 * 4 * 16 * 8 + 4 * 8 + 4 * 4 * 8 + 1
    # D: block_28x28 4*4*1*8 + 8 bias, block_14x14 4*4*8*16 (no bias) + BN 4 * 16,
    #    logit 7*7*16 + 1.
    assert discriminator.count_params() == 4 * 4 * 8 + 8 + 4 * 4 * 8 * 16 + 4 * 16 + 7 * 7 * 16 + 1


def test_dcgan_generator_uses_batch_norm_everywhere_but_on_its_output():
    generator = build_dcgan_generator(FAST_DCGAN_32)

    assert layer_names(generator, keras.layers.BatchNormalization) == [
        "project_bn", "block_8x8_bn", "block_16x16_bn",
    ]
    output_layer = generator.layers[-1]
    assert output_layer.name == "to_image_32x32"
    assert output_layer.get_config()["activation"] == "tanh"


@pytest.mark.parametrize("config", [FAST_DCGAN_28, FAST_DCGAN_32], ids=["28", "32"])
def test_dcgan_discriminator_has_no_batch_norm_in_its_first_block(config):
    discriminator = build_dcgan_discriminator(config)
    first_block = f"block_{config.image_shape[0]}x{config.image_shape[0]}"

    batch_norms = layer_names(discriminator, keras.layers.BatchNormalization)

    assert f"{first_block}_bn" not in batch_norms
    assert len(batch_norms) == config.number_of_upsamplings - 1  # every later block has one
    # The first convolution feeds a LeakyReLU(0.2) directly.
    types = [type(layer).__name__ for layer in discriminator.layers]
    first = types.index("Conv2D")
    assert discriminator.layers[first].name == first_block
    assert types[first + 1] == "LeakyReLU"
    assert discriminator.layers[first + 1].get_config()["negative_slope"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(latent_dim=0), "latent_dim must be positive"),
        (dict(image_shape=(28, 32, 1)), "must be \\(size, size, channels\\), square"),
        (dict(image_shape=(28, 28)), "must be \\(size, size, channels\\)"),
        (dict(image_shape=(7, 7, 1)), "3 to 7 times a power of two"),
        (dict(image_shape=(30, 30, 1)), "3 to 7 times a power of two"),
    ],
)
def test_bad_dcgan_configs_are_rejected_with_a_value_error(options, message):
    with pytest.raises(ValueError, match=message):
        DCGANConfig(**options)


# --- vanilla ----------------------------------------------------------------------


def test_vanilla_generator_makes_images_in_tanh_range():
    generator = build_vanilla_generator(FAST_VANILLA)

    images = keras.ops.convert_to_numpy(generator(latent_vectors(4, scale=100.0)))

    assert images.shape == (4, 28, 28, 1)
    assert np.abs(images).max() <= 1.0


def test_vanilla_generator_32_and_discriminator_shapes():
    config = VanillaConfig(image_shape=(32, 32, 1), hidden_units=(32, 64))
    generator = build_vanilla_generator(config)
    discriminator = build_vanilla_discriminator(config)

    images = generator(latent_vectors(2))

    assert images.shape == (2, 32, 32, 1)
    assert discriminator(images).shape == (2, 1)


def test_vanilla_discriminator_mirrors_the_generator_widths():
    generator = build_vanilla_generator(FAST_VANILLA)
    discriminator = build_vanilla_discriminator(FAST_VANILLA)

    assert [layer.units for layer in generator.layers if isinstance(layer, keras.layers.Dense)] == [32, 64, 784]
    assert [layer.units for layer in discriminator.layers if isinstance(layer, keras.layers.Dense)] == [64, 32, 1]
    assert len(layer_names(discriminator, keras.layers.Dropout)) == 2
    # G: 64*32+32 + 32*64+64 + 64*784+784; D: 784*64+64 + 64*32+32 + 32+1.
    assert generator.count_params() == 2080 + 2112 + 50960
    assert discriminator.count_params() == 50240 + 2080 + 33


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(latent_dim=0), "latent_dim must be positive"),
        (dict(image_shape=(28, 28)), "image_shape must be \\(height, width, channels\\)"),
    ],
)
def test_bad_vanilla_configs_are_rejected_with_a_value_error(options, message):
    with pytest.raises(ValueError, match=message):
        VanillaConfig(**options)
