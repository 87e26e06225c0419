"""Lesson 02's DCGAN (Radford et al. 2016): transposed convolutions and batch norm.

- ``networks.py``: ``DCGANConfig`` and the two builders;
- the GAN class: ``ganlab.training.GAN`` itself (one batch size, no classes).
"""

from ganlab.models.dcgan.networks import DCGANConfig, build_dcgan_discriminator, build_dcgan_generator, starting_size

__all__ = ["DCGANConfig", "build_dcgan_discriminator", "build_dcgan_generator", "starting_size"]
