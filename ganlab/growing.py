"""Progressive growing, now in ``ganlab.models.progressive.gan``: the old import path, kept working."""

from ganlab.models.progressive.gan import (  # noqa: F401 (re-exported)
    PROGRESSIVE_LOSSES,
    GrowthCallback,
    GrowthSchedule,
    Phase,
    ProgressiveGAN,
    check_progressive_loss,
    growing_dataset,
    reset_optimizer_state,
)
