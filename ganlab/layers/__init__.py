"""ganlab's Keras layers, one per file, each serializable as ``ganlab>ClassName``.

Progressive GAN (Karras et al., "Progressive Growing of GANs for Improved
Quality, Stability, and Variation", ICLR 2018), used in lesson 04:

- ``PixelNorm`` (pixel_norm.py): each pixel's feature vector scaled to unit
  root mean square; G's replacement for batch normalization.
- ``MinibatchStdDev`` (minibatch_stddev.py): one extra feature map in D, the
  standard deviation of the features over groups of images.
- ``EqualizedDense``, ``EqualizedConv2D`` (equalized.py): weights stored as
  N(0, 1) draws and scaled by ``gain / sqrt(fan_in)`` at run time (the
  equalized learning rate).
- ``fade_in(alpha, old, new)`` (fade_in.py): the blend of the old and the new
  path while a new resolution grows in.

BigGAN (Brock et al., "Large Scale GAN Training for High Fidelity Natural
Image Synthesis", ICLR 2019), used in lessons 05 and 06:

- ``SpectralNorm`` (spectral_norm.py): a Dense, Conv2D or Embedding whose
  forward pass uses ``W / sigma(W)`` (Miyato et al. 2018).
- ``ConditionalBatchNorm`` (conditional_batch_norm.py): batch norm whose gain
  and bias are linear in a conditioning vector (class embedding and z chunk).
- ``SelfAttention`` (self_attention.py): SAGAN's attention over the pixels.
"""

from ganlab.layers.equalized import EqualizedConv2D, EqualizedDense
from ganlab.layers.fade_in import fade_in
from ganlab.layers.minibatch_stddev import MinibatchStdDev
from ganlab.layers.pixel_norm import PixelNorm
from ganlab.layers.conditional_batch_norm import ConditionalBatchNorm
from ganlab.layers.self_attention import SelfAttention
from ganlab.layers.spectral_norm import SpectralNorm

__all__ = [
    "EqualizedConv2D",
    "EqualizedDense",
    "MinibatchStdDev",
    "PixelNorm",
    "fade_in",
    "ConditionalBatchNorm",
    "SelfAttention",
    "SpectralNorm",
]
