"""Exploring a trained class-conditional GAN: the TF Hub BigGAN demo, rebuilt on our model (lesson 06).

One package, one module per concern:

- ``demo``: the demo's two forms as functions: ``sample_category`` (one
  category, several z) and ``interpolate_categories`` (from category A to B),
  with ``truncated_latent`` and the two meanings of truncation.
- ``analysis``: ``truncation_side_by_side`` and ``truncation_tradeoff``
  (fidelity against variety, measured).
- ``memorization``: ``nearest_training_images`` (does G copy its training images?).
- ``plots``: grids, figures and the interpolation GIF of all of the above.
- ``widgets``: the two forms as ipywidgets, for a notebook (``sampling_widget``,
  ``interpolation_widget``).
- ``web``: the two forms as a local web page (``ganlab explore``; needs the
  ``ganlab[app]`` extra, Gradio). Not imported here: it is the only part that needs Gradio.

Every name of the modules above (except ``web``) is available from the
package itself, as lesson 06 uses them::

    from ganlab import explorer
    images = explorer.sample_category(gan, "7) Sneaker", number_of_samples=10, truncation=0.5)
    explorer.show_samples_row(images)
"""

from ganlab.explorer.analysis import truncation_side_by_side, truncation_tradeoff
from ganlab.explorer.demo import (
    INTERPOLATION_METHODS,
    INTERPOLATION_SAMPLES_RANGE,
    INTERPOLATION_STEPS_RANGE,
    NOISE_SEED_RANGE,
    NUMBER_OF_SAMPLES_RANGE,
    TRUNCATION_KINDS,
    TRUNCATION_RANGE,
    TRUNCATION_STEP,
    category_label,
    interpolate_categories,
    sample_category,
    truncated_latent,
)
from ganlab.explorer.memorization import DISTANCE_CHUNK_SIZE, EXTRA_CANDIDATES, nearest_training_images
from ganlab.explorer.plots import (
    interpolation_caption,
    interpolation_grid,
    plot_truncation_side_by_side,
    plot_truncation_tradeoff,
    samples_grid,
    sampling_caption,
    save_interpolation_gif,
    show_interpolation,
    show_nearest,
    show_samples_row,
)
from ganlab.explorer.widgets import Explorer, interpolation_widget, sampling_widget

__all__ = [
    "DISTANCE_CHUNK_SIZE",
    "EXTRA_CANDIDATES",
    "Explorer",
    "INTERPOLATION_METHODS",
    "INTERPOLATION_SAMPLES_RANGE",
    "INTERPOLATION_STEPS_RANGE",
    "NOISE_SEED_RANGE",
    "NUMBER_OF_SAMPLES_RANGE",
    "TRUNCATION_KINDS",
    "TRUNCATION_RANGE",
    "TRUNCATION_STEP",
    "category_label",
    "interpolate_categories",
    "interpolation_caption",
    "interpolation_grid",
    "interpolation_widget",
    "nearest_training_images",
    "plot_truncation_side_by_side",
    "plot_truncation_tradeoff",
    "sample_category",
    "samples_grid",
    "sampling_caption",
    "sampling_widget",
    "save_interpolation_gif",
    "show_interpolation",
    "show_nearest",
    "show_samples_row",
    "truncated_latent",
    "truncation_side_by_side",
    "truncation_tradeoff",
]
