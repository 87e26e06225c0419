"""The vanilla GAN of lesson 01: two multilayer perceptrons.

Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014. G maps a latent
vector to a flat image through fully connected layers; D maps a flat image to one
logit. LeakyReLU in both keeps gradients flowing for negative inputs, which
matters for D: G learns only through D's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class VanillaConfig:
    """Sizes of the MLP GAN.

    Attributes:
        latent_dim: length of z. 64 is plenty for digits.
        image_shape: (height, width, channels) of the images.
        hidden_units: widths of G's hidden layers, smallest first; D uses them in
            reverse order, so the two networks have about the same capacity.
        dropout: dropout in D, which slows D's memorizing of a small data set.
    """

    latent_dim: int = 64
    image_shape: tuple = (28, 28, 1)
    hidden_units: tuple = (256, 512)
    dropout: float = 0.3

    def __post_init__(self):
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be positive. Received: latent_dim={self.latent_dim}")
        if len(self.image_shape) != 3:
            raise ValueError(
                f"image_shape must be (height, width, channels). Received: image_shape={self.image_shape}"
            )


def build_vanilla_generator(config=VanillaConfig()):
    """z -> Dense+LeakyReLU (per hidden width) -> Dense(H*W*C, tanh) -> image."""
    height, width, channels = config.image_shape
    latent = keras.Input(shape=(config.latent_dim,), name="latent")
    hidden = latent
    for index, units in enumerate(config.hidden_units):
        hidden = layers.Dense(units, name=f"dense_{index}")(hidden)
        hidden = layers.LeakyReLU(0.2)(hidden)
    # tanh, because the real images are scaled to [-1, 1]. The output layers compute in
    # float32 under mixed precision too (see ganlab.precision): images are float32.
    flat_image = layers.Dense(height * width * channels, activation="tanh", name="to_pixels", dtype="float32")(hidden)
    image = layers.Reshape((height, width, channels), dtype="float32")(flat_image)
    return keras.Model(latent, image, name="vanilla_generator")


def build_vanilla_discriminator(config=VanillaConfig()):
    """image -> Flatten -> Dense+LeakyReLU+Dropout (per width) -> Dense(1): a logit."""
    image = keras.Input(shape=config.image_shape, name="image")
    hidden = layers.Flatten()(image)
    for index, units in enumerate(reversed(config.hidden_units)):
        hidden = layers.Dense(units, name=f"dense_{index}")(hidden)
        hidden = layers.LeakyReLU(0.2)(hidden)
        hidden = layers.Dropout(config.dropout)(hidden)
    # No sigmoid: the losses work on logits (see ganlab.losses), in float32 (ganlab.precision).
    logit = layers.Dense(1, name="logit", dtype="float32")(hidden)
    return keras.Model(image, logit, name="vanilla_discriminator")
