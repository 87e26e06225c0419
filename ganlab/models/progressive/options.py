"""The recipe settings only the progressive GAN reads: ``ProgressiveOptions``, a recipe's ``options``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ganlab.models.progressive.gan import GrowthSchedule
from ganlab.recipes import ModelOptions


@dataclass(frozen=True)
class ProgressiveOptions(ModelOptions):
    """The progressive GAN's own recipe settings (``recipe.options``): its growth and its penalties.

    A dataclass of their own rather than fields of ``ProgressiveConfig``: that
    config is the networks' architecture (what a checkpoint's weights must
    match), while these say how the networks are trained; and rather than
    fields of ``Recipe``, which holds only what every model reads.
    ``ganlab train progressive --set NAME=VALUE`` takes them by their own
    names (``r1_weight=none``, ``schedule.batch_sizes=64,64,32,16``).

    Attributes:
        schedule: the ``GrowthSchedule`` (images per phase, batch size per
            resolution); its batch sizes replace the recipe's ``batch_size``,
            and a recipe's ``steps`` is its ``total_steps`` unless asked otherwise.
        penalty_samples: WGAN-GP's gradient penalty on only the first n image
            pairs of each critic batch; None (the default, the paper's) for all
            of them. Not the paper's implementation: a cheaper, noisier estimate
            of the same term (docs/results.md, "Progressive GAN").
        r1_weight: the R1 penalty's gamma (``loss="bce"`` only;
            ``losses.r1_penalty``), None for none.
        r1_interval: steps between two R1 penalties, each weighted by it
            (StyleGAN2's lazy regularization); 1 for every step.
    """

    schedule: GrowthSchedule = field(default_factory=GrowthSchedule)
    penalty_samples: int | None = None
    r1_weight: float | None = None
    r1_interval: int = 1

    def batch_sizes(self, batch_size):
        """The schedule's batch sizes, one per resolution (the recipe's ``batch_size`` is not used)."""
        return tuple(self.schedule.batch_sizes)

    def with_batch_size(self, batch_size):
        """The same options with one batch size at every resolution (``--batch-size``)."""
        return dataclasses.replace(self, schedule=self.schedule.with_batch_size(batch_size))

    @property
    def total_steps(self):
        """The steps of the whole schedule: a run's length unless ``steps`` is given."""
        return self.schedule.total_steps
