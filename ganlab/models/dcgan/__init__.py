"""Lesson 02's DCGAN (Radford et al. 2016): transposed convolutions and batch norm.

- ``networks.py``: ``DCGANConfig`` and the two builders;
- the GAN class: ``ganlab.training.GAN`` itself (one batch size, no classes).
"""

from ganlab.models.dcgan.networks import DCGANConfig, build_dcgan_discriminator, build_dcgan_generator, starting_size

__all__ = ["DCGANConfig", "build_dcgan_discriminator", "build_dcgan_generator", "starting_size"]

# The declaration (ganlab.registry): the GAN class, the builders and the recipes, in one place.
from ganlab.recipes import Recipe  # noqa: E402
from ganlab.registry import ModelDeclaration  # noqa: E402
from ganlab.training import GAN  # noqa: E402

DECLARATION = ModelDeclaration(
    name="dcgan",
    title="the DCGAN",
    gan_class=GAN,
    build_generator=build_dcgan_generator,
    build_discriminator=build_dcgan_discriminator,
    # Lesson 02 and `ganlab train dcgan`: Radford et al.'s setting (Adam, beta_1 0.5,
    # batch 64, EMA of G 0.999 for sampling) with a learning rate of 1e-3 instead of
    # 2e-4 and a generator wider than the discriminator (48 vs 32 channels): both
    # measured on a 2-core CPU, docs/results.md, "DCGAN".
    recipe=Recipe(
        model="dcgan",
        network=DCGANConfig(generator_width=48, discriminator_width=32),
        steps=4000,  # lesson 02's training; its time on the machines measured: docs/results.md, "DCGAN"
        d_learning_rate=1e-3,
        g_learning_rate=1e-3,
    ),
    fast=dict(
        network=DCGANConfig(generator_width=8, discriminator_width=8), steps=30, steps_per_round=10,
        evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
    full=dict(network=DCGANConfig(generator_width=64, discriminator_width=64), steps=20000, steps_per_round=1000),
)
