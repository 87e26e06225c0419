"""The DCGAN of lesson 02 (Radford et al., "Unsupervised Representation Learning
with Deep Convolutional Generative Adversarial Networks", ICLR 2016).

The paper's guidelines, all followed here:

- no pooling: G upsamples with strided transposed convolutions, D downsamples
  with strided convolutions;
- batch norm in G (not on its output) and in D (not on its input);
- ReLU in G with tanh on the output, LeakyReLU(0.2) in D;
- no fully connected hidden layers (the one Dense in G only projects z).

Channel widths halve at every doubling of resolution, so every block costs about
the same. G starts from a small square (7x7 for 28x28 images, 4x4 for 32x32).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class DCGANConfig:
    """Sizes of the DCGAN.

    Attributes:
        latent_dim: length of z.
        image_shape: (height, width, channels); height must be a starting size
            (3 to 7) times a power of two, such as 28 = 7 * 4 or 32 = 4 * 8.
        generator_width: channels of G's last hidden block (full resolution / 2);
            each block nearer to z has twice as many.
        discriminator_width: channels of D's first block; each later block twice.
        kernel_size: 4 (divisible by the stride 2, so transposed convolutions
            do not leave checkerboard artifacts from uneven overlap).
    """

    latent_dim: int = 64
    image_shape: tuple = (28, 28, 1)
    generator_width: int = 32
    discriminator_width: int = 32
    kernel_size: int = 4

    def __post_init__(self):
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be positive. Received: latent_dim={self.latent_dim}")
        if len(self.image_shape) != 3 or self.image_shape[0] != self.image_shape[1]:
            raise ValueError(
                "image_shape must be (size, size, channels), square. "
                f"Received: image_shape={self.image_shape}"
            )
        starting_size(self.image_shape[0])  # raises for an unsupported size

    @property
    def number_of_upsamplings(self):
        size = self.image_shape[0]
        return (size // starting_size(size)).bit_length() - 1


def starting_size(image_size):
    """The side of G's first feature map: halve until odd or at most 7.

    28 -> 7, 32 -> 4, 64 -> 4. Raises ValueError when no halving is possible.
    """
    size = image_size
    while size % 2 == 0 and size > 7:
        size //= 2
    if size == image_size or not 3 <= size <= 7:
        raise ValueError(
            "image size must be 3 to 7 times a power of two (at least one doubling), such as "
            f"28 or 32. Received: image size {image_size}"
        )
    return size


def build_dcgan_generator(config=DCGANConfig()):
    """z -> Dense -> [s, s, w*2^k] -> (ConvTranspose stride 2, BN, ReLU)* -> tanh image."""
    size, _, channels = config.image_shape
    first_size = starting_size(size)
    upsamplings = config.number_of_upsamplings
    latent = keras.Input(shape=(config.latent_dim,), name="latent")

    first_width = config.generator_width * 2 ** (upsamplings - 1)
    # Bias is redundant right before batch norm, which subtracts the mean anyway.
    hidden = layers.Dense(first_size * first_size * first_width, use_bias=False, name="project")(latent)
    hidden = layers.Reshape((first_size, first_size, first_width))(hidden)  # [N, s, s, C]
    hidden = layers.BatchNormalization(name="project_bn")(hidden)
    hidden = layers.ReLU()(hidden)

    resolution = first_size
    for block in range(upsamplings - 1):
        resolution *= 2
        width = config.generator_width * 2 ** (upsamplings - 2 - block)
        name = f"block_{resolution}x{resolution}"
        hidden = layers.Conv2DTranspose(
            width, config.kernel_size, strides=2, padding="same", use_bias=False, name=name
        )(hidden)
        hidden = layers.BatchNormalization(name=f"{name}_bn")(hidden)
        hidden = layers.ReLU()(hidden)

    # The last upsampling writes the image itself: no batch norm on G's output.
    # In float32 under mixed precision too (ganlab.precision): images are float32.
    image = layers.Conv2DTranspose(
        channels, config.kernel_size, strides=2, padding="same", activation="tanh",
        name=f"to_image_{size}x{size}", dtype="float32",
    )(hidden)
    return keras.Model(latent, image, name="dcgan_generator")


def build_dcgan_discriminator(config=DCGANConfig()):
    """image -> (Conv stride 2, [BN], LeakyReLU)* -> Flatten -> Dense(1): a logit."""
    size = config.image_shape[0]
    image = keras.Input(shape=config.image_shape, name="image")
    hidden = image
    resolution = size
    for block in range(config.number_of_upsamplings):
        width = config.discriminator_width * 2**block
        name = f"block_{resolution}x{resolution}"
        hidden = layers.Conv2D(
            width, config.kernel_size, strides=2, padding="same", use_bias=block == 0, name=name
        )(hidden)
        # No batch norm on D's input block (the DCGAN paper): it would erase the
        # image statistics D needs to compare.
        if block > 0:
            hidden = layers.BatchNormalization(name=f"{name}_bn")(hidden)
        hidden = layers.LeakyReLU(0.2)(hidden)
        resolution //= 2
    hidden = layers.Flatten()(hidden)  # [N, s * s * C]
    logit = layers.Dense(1, name="logit", dtype="float32")(hidden)  # float32 under mixed precision too
    return keras.Model(image, logit, name="dcgan_discriminator")
