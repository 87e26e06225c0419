"""The networks of the Progressive GAN of lesson 04 (Karras et al., "Progressive
Growing of GANs for Improved Quality, Stability, and Variation", ICLR 2018).

Both networks hold the blocks of every resolution from the start, and each call
says how far to go: ``generator(latent, resolution=16, alpha=0.3)``. Growing to
a new resolution therefore keeps every trained weight of the earlier blocks
(the same layer objects are used), and a new block is *faded in*:

```
G at 16x16, fading:  lerp(upsample(to_rgb_8x8(h_8)), to_rgb_16x16(block_16x16(h_8)), alpha)
D at 16x16, fading:  lerp(from_rgb_8x8(downsample(x)), block_16x16(from_rgb_16x16(x)), alpha)
```

with ``alpha`` going from 0 to 1 during the transition phase (``alpha=None``:
the stable phase, the new block alone). As in the official code
(``tkarras/progressive_growing_of_gans``, ``networks.py``, ``G_paper`` and
``D_paper``):

- G: latent -> pixel norm -> dense to 4x4 (gain sqrt(2)/4) -> conv 3x3, then per
  resolution: nearest-neighbour upsample, two 3x3 convs; LeakyReLU(0.2) and
  pixel norm after every conv; a linear 1x1 ``to_rgb`` (gain 1) per resolution.
  No tanh: the output is linear, and clipped to [-1, 1] only for showing.
- D: a 1x1 ``from_rgb`` per resolution, then per resolution two 3x3 convs and a
  2x2 average pool; the 4x4 block has minibatch stddev, a 3x3 conv, a dense layer
  and a linear dense output (gain 1). No batch norm anywhere: WGAN-GP's penalty
  is per image, which batch norm would break.
- Every weight is equalized (``EqualizedConv2D``, ``EqualizedDense``).
- G's upsample and first conv of a block run as one strided transposed
  convolution, and D's second conv and average pool as one strided
  convolution: the official code's ``fused_scale=True`` (its default), with
  4/9 of the separate layers' multiply-adds (``EqualizedConv2D``, ``resample``).
  G computes the same images either way; D, fused, takes its LeakyReLU after
  the pool instead of before, as the official code does (``block``).
  ``ProgressiveConfig(fused_resampling=False)`` runs the layers separately.

Channel widths come from one formula, ``min(channel_base // resolution, channel_max)``.

One difference from the official code: G's first dense layer (``dense_4x4``) has one
bias per output unit (4 x 4 x C of them), where ``G_paper`` reshapes to 4x4 first and
then adds one bias per channel (C of them). At the start both are zero and the
images are the same; in training ours may learn a different offset at each of the 16
positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
from keras import ops

from ganlab.layers import EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm, fade_in
from ganlab.models.config import SavesConfig, check_square_image_shape

FIRST_RESOLUTION = 4
LEAKY_RELU_SLOPE = 0.2


@dataclass(frozen=True)
class ProgressiveConfig:
    """Sizes of the Progressive GAN.

    Attributes:
        latent_dim: length of z (512 in the paper).
        image_shape: (size, size, channels) of the final images; size a power
            of two from 8 up (32 for the course's padded MNIST).
        channel_base, channel_max: channels at a resolution are
            ``min(channel_base // resolution, channel_max)``; the paper's networks
            use 16384 and 512: the official code's ``nf(log2(R) - 1) =
            fmap_base / 2**(log2(R) - 1)`` with ``fmap_base`` 8192 is 16384 / R
            channels at resolution R (512 up to 32x32).
        minibatch_group_size: group size of D's minibatch stddev (4, the official
            code's default; the paper's text takes the whole minibatch).
        fused_resampling: fuse G's upsampling into the next conv and D's
            average pool into the conv before it (the official ``fused_scale``,
            True there too); False runs them as separate layers. The same
            weights give the same images either way; D's LeakyReLU moves
            after the pool (``ProgressiveDiscriminator.block``).
    """

    latent_dim: int = 128
    image_shape: tuple = (32, 32, 1)
    channel_base: int = 2048
    channel_max: int = 128
    minibatch_group_size: int = 4
    fused_resampling: bool = True

    def __post_init__(self):
        check_square_image_shape(self.image_shape)
        for name in ("latent_dim", "channel_base", "channel_max", "minibatch_group_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive. Received: {name}={getattr(self, name)}")
        if not isinstance(self.fused_resampling, bool):
            raise ValueError(f"fused_resampling must be True or False. Received: fused_resampling={self.fused_resampling!r}")

    @property
    def resolutions(self):
        """4, 8, ... up to the image size."""
        levels = int(math.log2(self.image_shape[0] // FIRST_RESOLUTION)) + 1
        return tuple(FIRST_RESOLUTION * 2**level for level in range(levels))

    def channels(self, resolution):
        """Feature maps of the block at ``resolution``: ``min(channel_base // resolution, channel_max)``."""
        return max(1, min(self.channel_base // resolution, self.channel_max))

    def check_resolution(self, resolution):
        if resolution not in self.resolutions:
            raise ValueError(f"resolution must be one of {self.resolutions}. Received: resolution={resolution!r}")


def upsample(images, factor=2):
    """Nearest-neighbour upsampling of NHWC images by an integer ``factor`` (each pixel becomes a square)."""
    if factor == 1:
        return images
    return ops.repeat(ops.repeat(images, factor, axis=1), factor, axis=2)


def downsample(images, factor=2):
    """Box-filter downsampling of NHWC images: the mean of each ``factor`` x ``factor`` square."""
    if factor == 1:
        return images
    return ops.average_pool(images, pool_size=factor, strides=factor, padding="valid")


def _level(resolution):
    """0 for 4x4, 1 for 8x8, 2 for 16x16, ...: the index of a resolution's layers."""
    return int(math.log2(resolution // FIRST_RESOLUTION))


def _leaky_relu(x):
    # max(x, 0.2 x), written as the official code writes it. (TensorFlow's fused
    # LeakyRelu op makes its graph optimizer fail, noisily, on the second
    # derivatives that the gradient penalty takes.)
    return ops.maximum(x, LEAKY_RELU_SLOPE * x)


@keras.saving.register_keras_serializable(package="ganlab")
class ProgressiveGenerator(SavesConfig, keras.Model):
    """G of the Progressive GAN: latent vectors to images at any resolution of the config.

    Call arguments:
        latent: ``(N, latent_dim)``.
        resolution: output size (4, 8, ...); the final size when None.
        alpha: None in a stable phase; during a transition, how far the block of
            ``resolution`` is faded in over the upsampled output of the one
            below (0: only the old, 1: only the new). A scalar or a
            ``keras.Variable``, so that one traced graph serves a whole phase.

    Returns:
        Images ``(N, resolution, resolution, channels)``, unbounded (about [-1, 1]).
    """

    config_class = ProgressiveConfig

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config if config is not None else ProgressiveConfig()
        config = self.config
        channels = config.image_shape[-1]
        self.normalize_latent = PixelNorm(name="latent_pixel_norm")
        # The official G's first dense layer uses gain sqrt(2)/4: its output is
        # 16 pixels wide, so each gets a quarter of the usual standard deviation.
        self.dense_4x4 = EqualizedDense(16 * config.channels(4), gain=math.sqrt(2) / 4, name="dense_4x4")
        self.conv_4x4 = EqualizedConv2D(config.channels(4), 3, name="conv_4x4")
        # Lists indexed by level (0 for 4x4, 1 for 8x8, ...): Keras tracks and saves
        # the layers in lists. Blocks are named by resolution.
        # A block's first conv works on the upsampled features: fused, it upsamples them itself.
        upsampling = "up" if config.fused_resampling else None
        self.block_convs = [
            [
                EqualizedConv2D(
                    config.channels(resolution), 3, resample=resampling, name=f"block_{resolution}x{resolution}_conv{index}"
                )
                for index, resampling in ((0, upsampling), (1, None))
            ]
            for resolution in config.resolutions[1:]
        ]
        # Linear 1x1 convs to pixels (gain 1: nothing nonlinear follows them), in
        # float32 under mixed precision too (ganlab.precision): images are float32.
        self.to_rgb = [
            EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_{resolution}x{resolution}", dtype="float32")
            for resolution in config.resolutions
        ]
        self.pixel_norm = PixelNorm(name="pixel_norm")
        self._build_every_block()
        self.built = True

    def _build_every_block(self):
        # One pass through the final resolution with a fade builds every layer,
        # so that optimizers, EMA copies and checkpoints see all weights from the start.
        self.call(ops.zeros((1, self.config.latent_dim)), resolution=self.config.resolutions[-1], alpha=0.5)
        for resolution in self.config.resolutions[:-1]:
            self.call(ops.zeros((1, self.config.latent_dim)), resolution=resolution)

    def block(self, x, resolution):
        """The block at ``resolution``: 2x nearest upsample, then two 3x3 convs, each with LeakyReLU and pixel norm."""
        if not self.config.fused_resampling:
            x = upsample(x)  # fused: the first conv upsamples
        for conv in self.block_convs[_level(resolution) - 1]:
            x = self.pixel_norm(_leaky_relu(conv(x)))
        return x

    def features(self, latent, resolution):
        """The feature maps of the block at ``resolution`` (before ``to_rgb``)."""
        x = self.normalize_latent(latent)
        x = self.dense_4x4(x)
        x = ops.reshape(x, (-1, 4, 4, self.config.channels(4)))  # [N, 4, 4, C]
        x = self.pixel_norm(_leaky_relu(x))
        x = self.pixel_norm(_leaky_relu(self.conv_4x4(x)))
        for block_resolution in self.config.resolutions[1:]:
            if block_resolution <= resolution:
                x = self.block(x, block_resolution)
        return x

    def call(self, latent, resolution=None, alpha=None, training=False):
        resolution = resolution or self.config.resolutions[-1]
        self.config.check_resolution(resolution)
        if alpha is None or resolution == FIRST_RESOLUTION:
            return self.to_rgb[_level(resolution)](self.features(latent, resolution))
        old_features = self.features(latent, resolution // 2)
        new_features = self.block(old_features, resolution)
        old_images = upsample(self.to_rgb[_level(resolution) - 1](old_features))  # [N, R, R, C], blocky
        new_images = self.to_rgb[_level(resolution)](new_features)  # [N, R, R, C]
        return fade_in(alpha, old_images, new_images)


@keras.saving.register_keras_serializable(package="ganlab")
class ProgressiveDiscriminator(SavesConfig, keras.Model):
    """D of the Progressive GAN: images at any resolution of the config to one score each.

    Call arguments:
        images: ``(N, resolution, resolution, channels)``.
        resolution: the images' size; read from their static shape when None.
        alpha: None in a stable phase; during a transition, how far the block of
            ``resolution`` is faded in over the one below, which sees the images
            downsampled 2x.

    Returns:
        Scores ``(N, 1)`` (a critic: unbounded, no sigmoid).
    """

    config_class = ProgressiveConfig

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config if config is not None else ProgressiveConfig()
        config = self.config
        self.from_rgb = [
            EqualizedConv2D(config.channels(resolution), 1, name=f"from_rgb_{resolution}x{resolution}")
            for resolution in config.resolutions
        ]
        # A block's second conv is followed by the average pool: fused, it pools itself.
        downsampling = "down" if config.fused_resampling else None
        self.block_convs = [
            [
                EqualizedConv2D(config.channels(resolution), 3, name=f"block_{resolution}x{resolution}_conv0"),
                EqualizedConv2D(
                    config.channels(resolution // 2), 3, resample=downsampling,
                    name=f"block_{resolution}x{resolution}_conv1",
                ),
            ]
            for resolution in config.resolutions[1:]
        ]
        self.minibatch_stddev = MinibatchStdDev(config.minibatch_group_size, name="minibatch_stddev_4x4")
        self.conv_4x4 = EqualizedConv2D(config.channels(4), 3, name="conv_4x4")
        self.dense_4x4 = EqualizedDense(config.channels(4), name="dense_4x4")
        self.score = EqualizedDense(1, gain=1.0, name="score", dtype="float32")  # float32 under mixed precision
        self._build_every_block()
        self.built = True

    def _build_every_block(self):
        size, channels = self.config.image_shape[0], self.config.image_shape[-1]
        # Four images: the minibatch stddev layer needs the batch divisible by its group.
        batch = self.config.minibatch_group_size
        self.call(ops.zeros((batch, size, size, channels)), alpha=0.5)
        for resolution in self.config.resolutions[:-1]:
            self.call(ops.zeros((batch, resolution, resolution, channels)))

    def block(self, x, resolution):
        """The block at ``resolution``: two 3x3 convs, then a 2x2 average pool (to resolution / 2).

        Fused, the pool is inside the second conv, so it comes before the
        LeakyReLU instead of after it: ``lrelu(pool(conv(x)))`` against
        ``pool(lrelu(conv(x)))``. That is the official code's order in its
        default, fused form (``conv2d_downscale2d``); the paper's table lists
        the separate one. (In G, fusing changes nothing: the upsampling comes
        before the conv, and both are linear.)
        """
        first, second = self.block_convs[_level(resolution) - 1]
        x = _leaky_relu(first(x))
        if self.config.fused_resampling:
            return _leaky_relu(second(x))
        return downsample(_leaky_relu(second(x)))

    def call(self, images, resolution=None, alpha=None, training=False):
        resolution = resolution or images.shape[1]
        self.config.check_resolution(resolution)
        x = _leaky_relu(self.from_rgb[_level(resolution)](images))
        if resolution > FIRST_RESOLUTION:
            x = self.block(x, resolution)
            if alpha is not None:
                # The old path sees the images at half the resolution, through its own from_rgb.
                old = _leaky_relu(self.from_rgb[_level(resolution) - 1](downsample(images)))
                x = fade_in(alpha, old, x)
        for block_resolution in reversed(self.config.resolutions[1:]):
            if block_resolution < resolution:
                x = self.block(x, block_resolution)
        # The 4x4 block: minibatch stddev (one extra feature map), conv, dense, score.
        x = self.minibatch_stddev(x)  # [N, 4, 4, C + 1]
        x = _leaky_relu(self.conv_4x4(x))
        x = ops.reshape(x, (-1, 16 * self.config.channels(4)))  # [N, 4 * 4 * C]
        x = _leaky_relu(self.dense_4x4(x))
        return self.score(x)






def build_progressive_generator(config=None):
    """A ``ProgressiveGenerator`` with every block built (see the module docstring)."""
    return ProgressiveGenerator(config or ProgressiveConfig(), name="progressive_generator")


def build_progressive_discriminator(config=None):
    """A ``ProgressiveDiscriminator`` with every block built (see the module docstring)."""
    return ProgressiveDiscriminator(config or ProgressiveConfig(), name="progressive_discriminator")
