"""Hidden tests of lesson 02, DCGAN."""

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
from keras import layers

import keras
from ganlab import checks, data, training
from ganlab.checks.dcgan import _tiny_gan
from ganlab.grading.testing import expect_check_passes, expect, expect_close, fraction, hidden_test, to_numpy
from ganlab.models import DCGANConfig



# --- build_dcgan_generator ---------------------------------------------------------


@hidden_test("build_dcgan_generator", points=2)
def dcgan_generator_passes_the_notebook_check(build_dcgan_generator):
    expect_check_passes(checks.check_build_dcgan_generator, build_dcgan_generator)


@hidden_test("build_dcgan_generator", points=2)
def dcgan_generator_follows_config_channels_and_width(build_dcgan_generator):
    config = DCGANConfig(latent_dim=5, image_shape=(28, 28, 3), generator_width=6, discriminator_width=4)
    model = build_dcgan_generator(config)
    images = to_numpy(model(np.random.default_rng(0).normal(size=(3, 5)).astype("float32"), training=False))
    expect(images.shape == (3, 28, 28, 3), "for config.image_shape = (28, 28, 3) the generator must draw 3 channels: "
           "read them from config.image_shape[-1].")
    widths = [layer.filters for layer in model._flatten_layers() if isinstance(layer, layers.Conv2DTranspose)][:-1]
    expect(widths and widths[-1] == 6, "the last hidden block must have config.generator_width channels, for any "
           "config (not a number written in the code).")


# --- build_dcgan_discriminator ------------------------------------------------------


@hidden_test("build_dcgan_discriminator", points=2)
def dcgan_discriminator_passes_the_notebook_check(build_dcgan_discriminator):
    expect_check_passes(checks.check_build_dcgan_discriminator, build_dcgan_discriminator)


@hidden_test("build_dcgan_discriminator", points=2)
def dcgan_discriminator_follows_config_channels_and_width(build_dcgan_discriminator):
    config = DCGANConfig(latent_dim=5, image_shape=(28, 28, 3), generator_width=4, discriminator_width=6)
    model = build_dcgan_discriminator(config)
    logits = to_numpy(model(np.zeros((2, 28, 28, 3), "float32"), training=False))
    expect(logits.shape == (2, 1), "for 3-channel images D must still give one logit per image: its input is "
           "config.image_shape.")
    widths = [layer.filters for layer in model._flatten_layers() if isinstance(layer, layers.Conv2D)
              and not isinstance(layer, layers.Conv2DTranspose)]
    expect(widths and widths[0] == 6, "the first block must have config.discriminator_width channels, for any config.")


# --- train_with_checkpoints -----------------------------------------------------------


@hidden_test("train_with_checkpoints", points=2)
def training_with_checkpoints_passes_the_notebook_check(train_with_checkpoints):
    expect_check_passes(checks.check_train_with_checkpoints, train_with_checkpoints)


@hidden_test("train_with_checkpoints", points=2)
def training_takes_a_folder_name_as_text_and_no_callbacks(train_with_checkpoints):
    images = np.random.default_rng(5).uniform(-1, 1, (8, 2, 2, 1)).astype("float32")
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        directory = str(Path(folder) / "run" / "checkpoint")  # a str, as a student's notebook often gives
        passed = 0
        for total_steps, seed in ((3, 1), (4, 2)):
            gan = _tiny_gan(seed)
            returned = train_with_checkpoints(gan, data.make_dataset(images, batch_size=4, seed=seed), directory,
                                              total_steps, 5)  # callbacks left to its default, ()
            passed += int(to_numpy(returned)) == total_steps == int(gan.step.numpy())
        passed += training.read_checkpoint_state(Path(directory)).get("step") == 4
    expect(passed == 3, "called with the folder as a str, without callbacks (the default ()), and fewer steps than "
           "one round, it must train to total_steps, resume, and return the step reached.", credit=fraction(passed, 3))


# --- interpolate_latents -----------------------------------------------------------------


@hidden_test("interpolate_latents", points=2)
def interpolation_passes_the_notebook_check(interpolate_latents):
    expect_check_passes(checks.check_interpolate_latents, interpolate_latents)


@hidden_test("interpolate_latents", points=1)
def slerp_keeps_the_ends_of_vectors_of_different_lengths(interpolate_latents):
    rng = np.random.default_rng(1)
    a, b = 2.0 * rng.normal(size=7), 5.0 * rng.normal(size=7)
    path = to_numpy(interpolate_latents(a.astype("float32"), b.astype("float32"), 6, method="slerp"))
    expect_close(path, checks.reference_interpolate_latents(a, b, 6, "slerp"), "slerp between vectors of "
                 "different lengths must start at a and end at b exactly (do not normalize them).", rtol=1e-4)


@hidden_test("interpolate_latents", points=1)
def slerp_of_opposite_vectors_is_finite(interpolate_latents):
    a = np.random.default_rng(2).normal(size=5).astype("float32")
    path = to_numpy(interpolate_latents(a, -a, 5, method="slerp"))
    expect(path.shape == (5, 5) and np.all(np.isfinite(path)), "for opposite vectors slerp must give 5 finite points.")
    expect_close(path, checks.reference_interpolate_latents(a, -a, 5, "slerp"), "for opposite vectors (angle pi, "
                 "sin(omega) about 1e-16) slerp must not divide by (almost) zero: fall back to the straight line.",
                 atol=1e-4)


@hidden_test("interpolate_latents", points=1)
def linear_path_with_two_steps_is_just_the_ends(interpolate_latents):
    a, b = np.zeros(3, "float32"), np.ones(3, "float32")
    path = to_numpy(interpolate_latents(a, b, 2))
    expect_close(path, np.stack([a, b]), "with steps=2 the path is exactly [a, b].")
    expect(path.dtype == np.float32, "return float32 latent vectors, the dtype the generator takes.")
