"""The recipe settings only BigGAN reads: ``BigGANOptions``, a recipe's ``options``."""

from __future__ import annotations

from dataclasses import dataclass

from ganlab.recipes import ModelOptions


@dataclass(frozen=True)
class BigGANOptions(ModelOptions):
    """BigGAN's own recipe settings (``recipe.options``): its regularizer, augmentation and sampling statistics.

    A dataclass of their own rather than fields of ``BigGANConfig``: that
    config is the networks' architecture (what a checkpoint's weights must
    match, and what the shipped models' ``config.json`` holds), while these say
    how the networks are trained and sampled; and rather than fields of
    ``Recipe``, which holds only what every model reads.
    ``ganlab train biggan --set NAME=VALUE`` takes them by their own names
    (``orthogonal_strength=0``, ``augment=translation``).

    Attributes:
        orthogonal_strength: beta of the orthogonal regularization of G
            (``ganlab.regularizers``); None or 0 for none.
        augment: the DiffAugment policy (``ganlab.augment``), such as
            ``"translation,cutout"``; empty for none.
        standing_statistics_batches: batches of z averaged into the sampling
            generator's standing statistics; None for BigGAN-PyTorch's 16.
    """

    orthogonal_strength: float | None = None
    augment: str = ""
    standing_statistics_batches: int | None = None
