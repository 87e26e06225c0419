"""Lesson 01's vanilla GAN (Goodfellow et al. 2014): MLP generator and discriminator.

- ``networks.py``: ``VanillaConfig`` and the two builders;
- the GAN class: ``ganlab.training.GAN`` itself (one batch size, no classes).
"""

from ganlab.models.vanilla.networks import VanillaConfig, build_vanilla_discriminator, build_vanilla_generator

__all__ = ["VanillaConfig", "build_vanilla_discriminator", "build_vanilla_generator"]
