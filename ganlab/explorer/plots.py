"""Pictures of the explorer's results: image grids, figures and the interpolation GIF.

Every front end draws with these functions, so that the notebook's widgets, the
web page and the figures of lesson 06 show the same pixels for the same images:
``samples_grid`` and ``interpolation_grid`` lay the images out, and
``ganlab.viz.grid_to_pil`` enlarges the grid (nearest neighbour) into a picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganlab import viz
from ganlab.explorer.demo import TRUNCATION_KINDS
from ganlab.explorer.memorization import nearest_training_images

# Images per row of a sample grid: the TF Hub demo's 20 samples are two rows of ten.
SAMPLES_PER_ROW = 10


def samples_grid(images):
    """``sample_category``'s images ``(N, H, W, C)`` as one [0, 1] grid, at most ten per row."""
    images = check_images(images, 4, "(N, H, W, C)")
    return viz.image_grid(images, columns=min(len(images), SAMPLES_PER_ROW))


def interpolation_grid(images):
    """``interpolate_categories``' images ``(rows, steps, H, W, C)`` as one [0, 1] grid, one interpolation per row."""
    images = check_images(images, 5, "(number_of_samples, steps, H, W, C)")
    rows, steps = images.shape[:2]
    return viz.image_grid(images.reshape((rows * steps,) + images.shape[2:]), columns=steps)


def sampling_caption(parameters):
    """One line saying what a sample grid shows, from ``sample_category``'s arguments (a dict)."""
    return (
        f"{parameters['number_of_samples']} samples of {parameters['category']}, "
        f"truncation {parameters['truncation']:.2f} ({parameters['truncation_kind']}), "
        f"noise seed {parameters['noise_seed']}"
    )


def interpolation_caption(parameters):
    """One line saying what an interpolation grid shows, from ``interpolate_categories``' arguments (a dict)."""
    return (
        f"{parameters['category_a']} (seed {parameters['noise_seed_a']}) -> {parameters['category_b']} "
        f"(seed {parameters['noise_seed_b']}): {parameters['number_of_samples']} x {parameters['steps']} steps, "
        f"{parameters['method']}, truncation {parameters['truncation']:.2f} ({parameters['truncation_kind']})"
    )


def show_samples_row(images, title=None, path=None, scale=3):
    """Images ``(N, H, W, C)`` in one row, as a matplotlib figure (saved as PNG at ``path`` when given)."""
    images = check_images(images, 4, "(N, H, W, C)")
    return _grid_figure(viz.image_grid(images, columns=len(images)), title, path, scale)


def show_interpolation(images, title=None, path=None, scale=3):
    """``interpolate_categories``' images: one interpolation per row, from A (left) to B (right).

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    title = title or "from category A (left) to category B (right)"
    return _grid_figure(interpolation_grid(images), title, path, scale)


def save_interpolation_gif(images, path, seconds_per_frame=0.3, scale=3, back_and_forth=False):
    """Writes an interpolation as an animated GIF: frame s shows step s of every sample, side by side.

    Args:
        images: ``(number_of_samples, steps, H, W, C)`` in [-1, 1] (``interpolate_categories``).
        path: the ``.gif`` file to write.
        seconds_per_frame: how long each step is shown; the last one is held three times as long.
        scale: pixels per image pixel (nearest neighbour).
        back_and_forth: also play from B back to A, for a smooth loop.

    Returns:
        The path of the GIF.
    """
    import imageio.v2 as imageio

    images = check_images(images, 5, "(number_of_samples, steps, H, W, C)")
    rows, steps = images.shape[:2]
    frames = [np.asarray(viz.grid_to_pil(viz.image_grid(images[:, step], columns=rows), scale)) for step in range(steps)]
    if back_and_forth:
        frames = frames + frames[-2:0:-1]
    durations = [1000 * seconds_per_frame] * len(frames)
    durations[steps - 1] *= 3  # hold category B
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, frames, duration=durations, loop=0)
    return path



def plot_truncation_side_by_side(side_by_side, truncations, title=None, path=None):
    """Draws ``truncation_side_by_side``'s result: one panel per meaning, one row per truncation.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    truncations = list(truncations)
    figure, panels = plt.subplots(1, 2, figsize=(12, 0.75 * len(truncations) + 1.2))
    captions = {"resample": "resample (the paper): |z| <= t", "scaled": "scaled (TF Hub demo): z = t * truncnorm(-2, 2)"}
    for axes, kind in zip(panels, TRUNCATION_KINDS):
        images = np.asarray(side_by_side[kind])
        if len(images) != len(truncations):
            raise ValueError(
                f"side_by_side[{kind!r}] must hold one row per truncation ({len(truncations)}). "
                f"Received: {len(images)} rows"
            )
        rows, columns = images.shape[:2]
        height = images.shape[2]
        grid = viz.image_grid(images.reshape((rows * columns,) + images.shape[2:]), columns=columns)
        axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
        axes.set_yticks([row * (height + 2) + height / 2 for row in range(rows)])
        axes.set_yticklabels([f"t = {value:g}" for value in truncations])
        axes.set_xticks([])
        axes.set_title(captions[kind])
    return _finished(figure, title, path)


def plot_truncation_tradeoff(rows, title=None, path=None, other_rows=None, other_label="another model"):
    """Plots ``truncation_tradeoff``'s rows: scores and fractions against truncation.

    Left: the Inception-style score (higher is better) and FID (lower is
    better, right axis). Right: precision (fidelity), recall and variety
    (variety) and class accuracy. The truncation axis runs from large to
    small, so that reading left to right is trading variety for fidelity.
    ``other_rows`` (another model's sweep, such as one trained without
    orthogonal regularization) are drawn beside, dotted, labelled ``other_label``.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows must hold at least one row of truncation_tradeoff. Received: rows=[]")
    truncations = [float(row["truncation"]) for row in rows]
    figure, (score_axes, fraction_axes) = plt.subplots(1, 2, figsize=(11, 5.2 if other_rows else 3.8))
    score_line = score_axes.plot(
        truncations, [row["inception_score"] for row in rows], "o-", color="C0", label="Inception-style score (higher: better)"
    )
    score_axes.set_ylabel("Inception-style score")
    fid_axes = score_axes.twinx()
    fid_line = fid_axes.plot(truncations, [row["fid"] for row in rows], "s--", color="C3", label="FID (lower: better)")
    fid_axes.set_ylabel("FID")
    score_axes.legend(handles=score_line + fid_line, loc="best", fontsize="small")
    score_axes.set_title("Scores")
    measures = (
        ("precision", "precision (fidelity)"),
        ("recall", "recall (variety)"),
        ("variety", "variety within a class"),
        ("class_accuracy", "class accuracy"),
    )
    for index, (name, label) in enumerate(measures):
        if all(name in row for row in rows):
            fraction_axes.plot(truncations, [row[name] for row in rows], "o-", color=f"C{index}", label=label)
        if other_rows and all(name in row for row in other_rows):
            fraction_axes.plot(
                [float(row["truncation"]) for row in other_rows], [row[name] for row in other_rows], ":",
                color=f"C{index}", label=f"{label}, {other_label}",
            )
    if other_rows:
        fid_axes.plot(
            [float(row["truncation"]) for row in other_rows], [row["fid"] for row in other_rows], ":", color="C3",
        )
    fraction_axes.set_ylim(-0.02, max(1.02, *(row.get("variety", 0) + 0.05 for row in rows)))
    fraction_axes.set_title("Fidelity and variety")
    if other_rows:
        # Eight lines: the legend goes below the plot, where it hides none of them.
        fraction_axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="x-small")
    else:
        fraction_axes.legend(loc="best", fontsize="small")
    for axes in (score_axes, fraction_axes):
        axes.set_xlabel("truncation (more variety  <-  ->  more fidelity)")
        # From the largest truncation on the left to the smallest on the right, in any order given.
        axes.set_xlim(max(truncations) * 1.05, min(truncations) - 0.05 * max(truncations))
    return _finished(figure, title, path)



def show_nearest(samples, training_images, k=3, title=None, path=None):
    """Each sample (left) beside its ``k`` nearest training images, with their distances.

    Returns:
        The matplotlib figure (saved as PNG at ``path`` when given).
    """
    import matplotlib.pyplot as plt

    samples = np.asarray(samples, dtype=np.float32)
    indices, distances = nearest_training_images(samples, training_images, k)
    training_images = np.asarray(training_images)
    figure, axes = plt.subplots(len(samples), k + 1, figsize=(1.3 * (k + 1), 1.4 * len(samples) + 0.4), squeeze=False)
    for row, sample in enumerate(samples):
        pictures = [sample] + [training_images[index] for index in indices[row]]
        captions = ["sample"] + [f"#{index}: {distance:.1f}" for index, distance in zip(indices[row], distances[row])]
        for column, (picture, caption) in enumerate(zip(pictures, captions)):
            cell = axes[row, column]
            picture = viz.to_unit_range(picture)
            cell.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
            cell.set_title(caption, fontsize="small")
            cell.axis("off")
    figure.suptitle(title or f"Each sample and its {k} nearest training images (#index: pixel distance)", fontsize="medium")
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def _grid_figure(grid, title, path, scale):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(grid.shape[1] * scale / 100 + 0.5, grid.shape[0] * scale / 100 + 0.7))
    axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    axes.axis("off")
    if title:
        axes.set_title(title)  # over the one axes, not the figure: closer to the grid
    return _finished(figure, path=path)


def check_images(images, ndim, shape_text):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != ndim or len(images) == 0:
        raise ValueError(f"images must have shape {shape_text}. Received: images.shape={images.shape}")
    return images


def _finished(figure, title=None, path=None):
    """The figure with its title, laid out, and saved to ``path`` when one is given."""
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure
