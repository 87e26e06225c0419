"""The networks of the BigGAN of lessons 05 and 06 (Brock et al., "Large Scale GAN
Training for High Fidelity Natural Image Synthesis", ICLR 2019), class-conditional, at 32x32.

As in the official code (``ajbrock/BigGAN-PyTorch``, ``BigGAN.py`` and
``layers.py``), with every convolution and dense layer spectrally normalized
(``ganlab.layers.SpectralNorm``: the forward pass uses W / sigma(W)) and
orthogonally initialized:

```
G:  z = [z_0, z_1, z_2, z_3]                     hierarchical latents: one chunk per block, plus one
    e = shared_embedding(y)                      one class embedding, used by every block
    x = reshape(linear(z_0), (4, 4, C))
    for each block (4 -> 8 -> 16 -> 32), with cond_i = [e, z_i]:
        h = conv3x3(upsample(relu(CBN(x, cond_i))))
        h = conv3x3(relu(CBN(h, cond_i)))
        x = h + conv1x1(upsample(x))
        (self-attention after the block that reaches attention_resolution)
    image = tanh(conv3x3(relu(BN(x))))

D:  h = residual blocks 32 -> 16 -> 8, then two at 8x8 (D_arch[32]; self-attention at attention_resolution)
    h = sum over pixels of relu(h)                (N, C)
    D(x, y) = linear(h) + sum(embed_D(y) * h)     the projection discriminator (Miyato & Koyama 2018)
```

G takes an already embedded class, ``generator([latent, generator.embed(labels)])``,
so that classes can be mixed and interpolated in embedding space (as in
BigGAN-PyTorch, whose ``G.forward(z, y)`` takes ``G.shared(y)``). D takes the
integer labels, ``discriminator([images, labels])``.

Every block has the same width (``generator_width`` / ``discriminator_width``
channels), as BigGAN-PyTorch's 32x32 architecture (``ch * 4`` throughout).

Spectral norm as Miyato et al. and BigGAN-PyTorch (``layers.SN``): each
kernel W stays as the optimizer left it, and every forward pass uses
``W / sigma(W)``, sigma from one power iteration whose vector u is kept in
training only (``ganlab.layers.SpectralNorm`` says how this differs from
``keras.layers.SpectralNormalization``). The EMA generator's kernels are
averages of raw kernels, normalized the same way when it samples.

Where this differs from the official code:

- Self-attention at 16x16 in both networks (``attention_resolution=16``): BigGAN-PyTorch's
  CIFAR scripts (``scripts/launch_cifar_noema.sh``) and DiffAugment's
  (``DiffAugment-biggan-cifar/scripts``) train 32x32 without attention
  (``--G_attn 0 --D_attn 0``); BigGAN's ImageNet models have it at 64x64.
  ``attention_resolution=None`` removes it.
- ``shared_embedding=False``: each conditional batch norm's gain and bias come from a
  spectrally normalized dense layer on the one-hot class; BigGAN-PyTorch's
  ``G_shared=False`` uses a plain ``nn.Embedding`` there (no spectral norm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
from keras import ops

from ganlab.layers import ConditionalBatchNorm, SelfAttention
from ganlab.layers.spectral_norm import spectral_normalized
from ganlab.models.config import SavesConfig, check_square_image_shape, with_tuples
from ganlab.models.progressive import downsample, upsample

FIRST_RESOLUTION = 4
# Batch norm as in BigGAN-PyTorch: PyTorch's momentum 0.1 is Keras' 0.9; BN_eps 1e-5.
BATCH_NORM_MOMENTUM = 0.9
BATCH_NORM_EPSILON = 1e-5


@dataclass(frozen=True)
class BigGANConfig:
    """Sizes and switches of BigGAN.

    Attributes:
        latent_dim: length of z. With hierarchical latents it is split into
            (number of G blocks + 1) equal chunks, so it must be divisible by
            that (4 at 32x32: 120 gives chunks of 30). The paper uses 120 at
            128x128 (six chunks of 20).
        num_classes: classes of the data set (10 for MNIST and Fashion-MNIST).
        embedding_dim: width of the shared class embedding. 128 in the paper,
            for 1000 classes; 10 classes need far fewer.
        generator_width, discriminator_width: channels of every block.
            BigGAN-PyTorch's 32x32 networks use 256 (``ch=64`` times 4). The
            defaults are sized for a CPU: at 32 a train step of 64 images
            with 2 D steps took about 0.8 s on 2 shared cores, at 64 about 4 s.
        attention_resolution: where both networks get a self-attention layer:
            after G's block that reaches this size and D's block that comes
            down to it. From 8 to half the image size, or None for no attention.
        image_shape: (size, size, channels); size a power of two from 8 up.
        hierarchical: split z over the blocks (True), or feed all of it to the
            first linear layer and condition batch norm on the class only (False).
        shared_embedding: one class embedding for every block (True, BigGAN);
            False: ``generator.embed`` gives the one-hot class, and each
            conditional batch norm's linear layers turn it into their own
            per-class gains and biases (BigGAN-PyTorch's ``G_shared=False``,
            SAGAN's conditional batch norm).
    """

    latent_dim: int = 120
    num_classes: int = 10
    embedding_dim: int = 32
    generator_width: int = 32
    discriminator_width: int = 32
    attention_resolution: int | None = 16
    image_shape: tuple = (32, 32, 1)
    hierarchical: bool = True
    shared_embedding: bool = True

    def __post_init__(self):
        size = check_square_image_shape(self.image_shape)
        for name in ("latent_dim", "num_classes", "embedding_dim", "generator_width", "discriminator_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if self.num_classes < 2:
            raise ValueError(
                f"num_classes must be at least 2 for a class-conditional GAN. Received: num_classes={self.num_classes}"
            )
        if self.hierarchical and self.latent_dim % self.latent_chunks:
            raise ValueError(
                f"With hierarchical latents z is split into {self.latent_chunks} equal chunks (one per G block, plus "
                f"one for the first layer): latent_dim must be divisible by {self.latent_chunks}. "
                f"Received: latent_dim={self.latent_dim}"
            )
        allowed = tuple(2**power for power in range(3, int(math.log2(size))))
        if self.attention_resolution is not None and self.attention_resolution not in allowed:
            raise ValueError(
                f"attention_resolution must be one of {allowed} (where both G and D have a block) or None. "
                f"Received: attention_resolution={self.attention_resolution!r}"
            )
        if self.attention_resolution is not None:
            for name in ("generator_width", "discriminator_width"):
                if getattr(self, name) < 8:
                    raise ValueError(
                        f"Self-attention needs at least 8 channels (its keys have width / 8). "
                        f"Received: {name}={getattr(self, name)}"
                    )

    @property
    def generator_resolutions(self):
        """The output size of each G block: 8, 16, ..., the image size."""
        levels = int(math.log2(self.image_shape[0] // FIRST_RESOLUTION))
        return tuple(FIRST_RESOLUTION * 2 ** (level + 1) for level in range(levels))

    @property
    def discriminator_blocks(self):
        """``(input size, downsample)`` of each D block, as BigGAN-PyTorch's ``D_arch``.

        Up to 32x32 (``D_arch[32]``): halve down to 8x8, then two blocks that
        stay at 8x8 (32 -> 16 -> 8 -> 8 -> 8). Larger images (``D_arch[64]``,
        ``[128]``, ...): halve down to 4x4, then one block at 4x4.
        """
        size = self.image_shape[0]
        last = 8 if size <= 32 else FIRST_RESOLUTION
        blocks = []
        while size > last:
            blocks.append((size, True))
            size //= 2
        return tuple(blocks) + ((last, False),) * (2 if last == 8 else 1)

    @property
    def latent_chunks(self):
        """How many pieces z is split into: one per G block plus one with hierarchical latents, else 1."""
        return len(self.generator_resolutions) + 1 if self.hierarchical else 1

    @property
    def chunk_size(self):
        return self.latent_dim // self.latent_chunks

    @property
    def class_embedding_dim(self):
        """Width of what ``generator.embed`` returns: the shared embedding, or the one-hot class."""
        return self.embedding_dim if self.shared_embedding else self.num_classes

    @property
    def condition_dim(self):
        """Width of each block's conditioning vector: the class embedding, plus a z chunk if hierarchical."""
        return self.class_embedding_dim + (self.chunk_size if self.hierarchical else 0)


def _conv(filters, kernel_size, name, dtype=None):
    return spectral_normalized(
        keras.layers.Conv2D(
            filters, kernel_size, padding="same", kernel_initializer="orthogonal", name=name, dtype=dtype
        ),
        dtype=dtype,
    )


@keras.saving.register_keras_serializable(package="ganlab")
class GeneratorBlock(keras.layers.Layer):
    """BigGAN's residual up-block (BigGAN-PyTorch ``GBlock``): twice the size, ``filters`` channels.

    ```
    h = conv3x3_0(upsample(relu(CBN_0(x, cond))))
    h = conv3x3_1(relu(CBN_1(h, cond)))
    y = h + conv1x1(upsample(x))
    ```

    Upsampling is nearest-neighbour. Both conditional batch norms see the
    same conditioning vector (the block's ``[embedding, z_i]``).

    Call arguments:
        inputs: ``[x, cond]``, ``(N, R, R, C_in)`` and ``(N, D)``.
        training, batch_statistics: as in ``ConditionalBatchNorm``.

    Returns:
        ``(N, 2R, 2R, filters)``.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.norm_0 = ConditionalBatchNorm(BATCH_NORM_MOMENTUM, BATCH_NORM_EPSILON, name="norm_0")
        self.conv_0 = _conv(self.filters, 3, "conv_0")
        self.norm_1 = ConditionalBatchNorm(BATCH_NORM_MOMENTUM, BATCH_NORM_EPSILON, name="norm_1")
        self.conv_1 = _conv(self.filters, 3, "conv_1")
        self.shortcut = _conv(self.filters, 1, "shortcut")

    def call(self, inputs, training=False, batch_statistics=None):
        x, cond = inputs
        h = ops.relu(self.norm_0([x, cond], training=training, batch_statistics=batch_statistics))
        h = self.conv_0(upsample(h), training=training)
        h = ops.relu(self.norm_1([h, cond], training=training, batch_statistics=batch_statistics))
        h = self.conv_1(h, training=training)
        return h + self.shortcut(upsample(x), training=training)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape[0]
        return (batch, None if height is None else 2 * height, None if width is None else 2 * width, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package="ganlab")
class DiscriminatorBlock(keras.layers.Layer):
    """BigGAN's residual down-block (BigGAN-PyTorch ``DBlock``, ``wide=True``).

    ```
    h = conv3x3_1(relu(conv3x3_0(relu(x))))      relu(x) only with preactivation
    h = avgpool_2x2(h)                           when downsampling
    shortcut = avgpool(conv1x1(x))               preactivation: conv, then pool
             = conv1x1(avgpool(x))               the first block (on pixels): pool, then conv
             = x                                 no downsampling and the same width
    y = h + shortcut
    ```

    Args:
        filters: output channels (also the hidden width: ``wide`` D).
        downsample: halve the size with a 2x2 average pool.
        preactivation: start with a ReLU (every block but the first, which
            sees the images themselves).

    Call arguments:
        inputs: ``(N, R, R, C_in)``.

    Returns:
        ``(N, R/2, R/2, filters)`` when downsampling, else ``(N, R, R, filters)``.
    """

    def __init__(self, filters, downsample=True, preactivation=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.downsample = bool(downsample)
        self.preactivation = bool(preactivation)
        self.conv_0 = _conv(self.filters, 3, "conv_0")
        self.conv_1 = _conv(self.filters, 3, "conv_1")

    def build(self, input_shape):
        # A learned 1x1 shortcut wherever the identity does not fit (as learnable_sc).
        if input_shape[-1] != self.filters or self.downsample:
            self.shortcut = _conv(self.filters, 1, "shortcut")
        else:
            self.shortcut = None

    def call(self, x, training=False):
        h = ops.relu(x) if self.preactivation else x
        h = self.conv_0(h, training=training)
        h = self.conv_1(ops.relu(h), training=training)
        if self.downsample:
            h = downsample(h)
        shortcut = x
        if self.preactivation:
            if self.shortcut is not None:
                shortcut = self.shortcut(shortcut, training=training)
            if self.downsample:
                shortcut = downsample(shortcut)
        else:
            if self.downsample:
                shortcut = downsample(shortcut)
            if self.shortcut is not None:
                shortcut = self.shortcut(shortcut, training=training)
        return h + shortcut

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        if self.downsample:
            height, width = (None if side is None else side // 2 for side in (height, width))
        return (batch, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "downsample": self.downsample,
            "preactivation": self.preactivation,
        }


@keras.saving.register_keras_serializable(package="ganlab")
class BigGANGenerator(SavesConfig, keras.Model):
    """G of BigGAN: latent vectors and class embeddings to images.

    Call arguments:
        inputs: ``[latent, class_embedding]``: ``(N, latent_dim)`` and
            ``(N, config.class_embedding_dim)``, the latter from
            ``generator.embed(labels)`` (or a mix of such embeddings).
        training: batch statistics in batch norm, power iterations in spectral norm.
        batch_statistics: batch norm alone in training mode when True (with
            ``training=False``): how standing statistics are measured.

    Returns:
        Images ``(N, size, size, channels)`` in [-1, 1] (tanh).

    Attributes:
        shared_embedding: the one ``keras.layers.Embedding`` (not spectrally
            normalized, not orthogonally regularized), or None without a shared embedding.
    """

    config_class = BigGANConfig

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config if config is not None else BigGANConfig()
        config = self.config
        if config.shared_embedding:
            # Entries from N(0, 1) (PyTorch's nn.Embedding default), so that a class embedding
            # starts about as long as the z chunk beside it (both about sqrt(width)), rather
            # than the unit-norm rows of BigGAN-PyTorch's G_init="ortho". Measured with the
            # paper's learning rates, it made no difference after 300 steps (11% of the
            # samples of the class asked for either way); the learning rates did (README,
            # "The BigGAN recipe"). BigGAN-PyTorch found that spectral norm on G's embedding
            # "seems to randomly cripple G": none here.
            self.shared_embedding = keras.layers.Embedding(
                config.num_classes, config.embedding_dim,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name="shared_embedding",
            )
        else:
            self.shared_embedding = None
        width = config.generator_width
        units = FIRST_RESOLUTION * FIRST_RESOLUTION * width
        self.linear = spectral_normalized(keras.layers.Dense(units, kernel_initializer="orthogonal", name="linear"))
        # Blocks are named by the resolution they produce.
        self.blocks = [GeneratorBlock(width, name=f"block_{size}x{size}") for size in config.generator_resolutions]
        size = config.attention_resolution
        self.attention = SelfAttention(name=f"attention_{size}x{size}") if size is not None else None
        self.output_norm = keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, epsilon=BATCH_NORM_EPSILON, name="output_batch_norm"
        )
        # In float32 under mixed precision too (ganlab.precision): images are float32.
        self.output_conv = _conv(config.image_shape[-1], 3, "output_conv", dtype="float32")
        # One pass builds every layer, so that optimizers, EMA copies and checkpoints see all weights.
        latent = ops.zeros((2, config.latent_dim))
        self.call([latent, self.embed(ops.zeros((2,), "int32"))])
        self.built = True

    def embed(self, labels):
        """The class embeddings of integer ``labels`` ``(N,)``: ``(N, config.class_embedding_dim)``.

        The shared embedding's rows, or the one-hot classes without a shared embedding.
        """
        labels = ops.reshape(ops.convert_to_tensor(labels), (-1,))
        if self.shared_embedding is not None:
            return self.shared_embedding(labels)
        return ops.one_hot(ops.cast(labels, "int32"), self.config.num_classes)

    def latent_and_conditions(self, latent, class_embedding):
        """What z feeds where: ``(first, conditions)``.

        ``first`` goes into the first linear layer; ``conditions[i]`` is block
        i's conditioning vector. Hierarchical: ``first = z_0`` and
        ``conditions[i] = concat(class_embedding, z_{i+1})``; otherwise
        ``first = z`` and every condition is the class embedding.
        """
        config = self.config
        class_embedding = ops.cast(class_embedding, latent.dtype)
        if not config.hierarchical:
            return latent, [class_embedding] * len(self.blocks)
        chunks = ops.split(latent, config.latent_chunks, axis=-1)  # latent_chunks x [N, chunk_size]
        return chunks[0], [ops.concatenate([class_embedding, chunk], axis=-1) for chunk in chunks[1:]]

    def call(self, inputs, training=False, batch_statistics=None):
        latent, class_embedding = self._check_inputs(inputs)
        if batch_statistics is None:
            batch_statistics = training
        first, conditions = self.latent_and_conditions(latent, class_embedding)
        width = self.config.generator_width
        x = ops.reshape(self.linear(first, training=training), (-1, FIRST_RESOLUTION, FIRST_RESOLUTION, width))
        for block, condition, size in zip(self.blocks, conditions, self.config.generator_resolutions):
            x = block([x, condition], training=training, batch_statistics=batch_statistics)  # [N, size, size, C]
            if size == self.config.attention_resolution:
                x = self.attention(x, training=training)
        x = ops.relu(self.output_norm(x, training=batch_statistics))
        return ops.tanh(self.output_conv(x, training=training))

    def batch_norm_layers(self):
        """Every ``keras.layers.BatchNormalization`` of G, in order (what standing statistics measure)."""
        layers = []
        for block in self.blocks:
            layers += [block.norm_0.batch_norm, block.norm_1.batch_norm]
        return layers + [self.output_norm]

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "BigGANGenerator is called on [latent, class_embedding], "
                "with class_embedding = generator.embed(labels). "
                f"Received: {type(inputs).__name__}"
            )
        latent, class_embedding = inputs
        config = self.config
        if len(latent.shape) != 2 or latent.shape[-1] != config.latent_dim:
            raise ValueError(
                f"latent must have shape (N, {config.latent_dim}). Received: latent.shape={tuple(latent.shape)}"
            )
        if len(class_embedding.shape) != 2 or class_embedding.shape[-1] != config.class_embedding_dim:
            raise ValueError(
                f"class_embedding must have shape (N, {config.class_embedding_dim}) (generator.embed(labels)). "
                f"Received: class_embedding.shape={tuple(class_embedding.shape)}"
            )
        if None not in (latent.shape[0], class_embedding.shape[0]) and latent.shape[0] != class_embedding.shape[0]:
            raise ValueError(
                "latent and class_embedding must have one row per image. "
                f"Received: latent.shape={tuple(latent.shape)}, class_embedding.shape={tuple(class_embedding.shape)}"
            )
        return latent, class_embedding


@keras.saving.register_keras_serializable(package="ganlab")
class BigGANDiscriminator(SavesConfig, keras.Model):
    """D of BigGAN: a projection discriminator from images and integer labels to logits.

    ```
    h = features(images)                                   (N, C): blocks, relu, sum over pixels
    D(images, labels) = linear(h) + sum(embed_D(labels) * h, axis=1)
    ```

    ``embed_D`` is D's own class embedding (not G's), a spectrally normalized
    ``keras.layers.Embedding`` as BigGAN-PyTorch's ``SNEmbedding``.

    Call arguments:
        inputs: ``[images, labels]``: ``(N, size, size, channels)`` and integer
            classes ``(N,)`` (or ``(N, 1)``).
        training: power iterations in spectral norm.

    Returns:
        Logits ``(N, 1)``.
    """

    config_class = BigGANConfig

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config if config is not None else BigGANConfig()
        config = self.config
        width = config.discriminator_width
        # Blocks are named by their place and the resolution they take in (block_2_8x8).
        self.blocks = [
            DiscriminatorBlock(
                width, downsample=downsample, preactivation=index > 0, name=f"block_{index}_{size}x{size}"
            )
            for index, (size, downsample) in enumerate(config.discriminator_blocks)
        ]
        size = config.attention_resolution
        self.attention = SelfAttention(name=f"attention_{size}x{size}") if size is not None else None
        # The logits are computed in float32 under mixed precision too (ganlab.precision).
        self.linear = spectral_normalized(
            keras.layers.Dense(1, kernel_initializer="orthogonal", name="linear", dtype="float32"), dtype="float32"
        )
        self.class_embedding = spectral_normalized(
            keras.layers.Embedding(config.num_classes, width, embeddings_initializer="orthogonal", name="class_embedding")
        )
        images = ops.zeros((2, *config.image_shape))
        self.call([images, ops.zeros((2,), "int32")])
        self.built = True

    def features(self, images, training=False):
        """``h``: the residual blocks (and self-attention), ReLU, then the sum over pixels: ``(N, C)``."""
        x = images
        for block, (size, _) in zip(self.blocks, self.config.discriminator_blocks):
            x = block(x, training=training)
            if block.downsample and size // 2 == self.config.attention_resolution:
                x = self.attention(x, training=training)
        return ops.sum(ops.relu(x), axis=(1, 2))  # [N, C]

    def call(self, inputs, training=False):
        images, labels = self._check_inputs(inputs)
        h = ops.cast(self.features(images, training=training), "float32")
        class_embedding = self.class_embedding(ops.cast(ops.reshape(labels, (-1,)), "int32"), training=training)
        projection = ops.sum(ops.cast(class_embedding, "float32") * h, axis=1, keepdims=True)  # [N, 1]
        return self.linear(h, training=training) + projection

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"BigGANDiscriminator is called on [images, labels]. Received: {type(inputs).__name__}"
            )
        images, labels = inputs
        labels = ops.convert_to_tensor(labels)
        expected = tuple(self.config.image_shape)
        if tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"images must have shape (N, {', '.join(map(str, expected))}). "
                f"Received: images.shape={tuple(images.shape)}"
            )
        if len(labels.shape) not in (1, 2) or (len(labels.shape) == 2 and labels.shape[1] != 1):
            raise ValueError(
                f"labels must be integer classes of shape (N,). Received: labels.shape={tuple(labels.shape)}"
            )
        if None not in (images.shape[0], labels.shape[0]) and images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"images and labels must have one label per image. Received: images.shape={tuple(images.shape)}, "
                f"labels.shape={tuple(labels.shape)}"
            )
        return images, labels


def config_from_dict(values):
    """A ``BigGANConfig`` from ``dataclasses.asdict`` output (JSON turns tuples into lists)."""
    return BigGANConfig(**with_tuples(values))


def build_biggan_generator(config=None):
    """A ``BigGANGenerator`` with every layer built (see the module docstring)."""
    return BigGANGenerator(config or BigGANConfig(), name="biggan_generator")


def build_biggan_discriminator(config=None):
    """A ``BigGANDiscriminator`` with every layer built (see the module docstring)."""
    return BigGANDiscriminator(config or BigGANConfig(), name="biggan_discriminator")
