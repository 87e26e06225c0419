"""BigGAN's GAN class, now in ``ganlab.models.biggan.gan``: the old import path, kept working."""

from ganlab.models.biggan.gan import (  # noqa: F401 (re-exported)
    STANDING_STATISTICS_BATCHES,
    BigGAN,
    check_standing_statistics_batches,
)
