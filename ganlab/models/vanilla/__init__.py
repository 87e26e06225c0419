"""Lesson 01's vanilla GAN (Goodfellow et al. 2014): MLP generator and discriminator.

- ``networks.py``: ``VanillaConfig`` and the two builders;
- the GAN class: ``ganlab.training.GAN`` itself (one batch size, no classes).
"""

from ganlab.models.vanilla.networks import VanillaConfig, build_vanilla_discriminator, build_vanilla_generator

__all__ = ["VanillaConfig", "build_vanilla_discriminator", "build_vanilla_generator"]

# The declaration (ganlab.registry): the GAN class, the builders and the recipes, in one place.
from ganlab.recipes import Recipe  # noqa: E402
from ganlab.registry import ModelDeclaration  # noqa: E402
from ganlab.training import GAN  # noqa: E402

DECLARATION = ModelDeclaration(
    name="vanilla",
    title="the vanilla GAN",
    gan_class=GAN,
    build_generator=build_vanilla_generator,
    build_discriminator=build_vanilla_discriminator,
    # Lesson 01: Goodfellow et al.'s MLP GAN. Adam 2e-4 with beta_1 0.5 (the DCGAN
    # paper's setting) is stable for MLPs too.
    recipe=Recipe(model="vanilla", network=VanillaConfig(), batch_size=64, steps=6000, ema_decay=0.999),
    fast=dict(
        network=VanillaConfig(hidden_units=(32, 64)), steps=30, steps_per_round=10,
        evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
    full=dict(steps=30000, batch_size=128, steps_per_round=1000),
)
