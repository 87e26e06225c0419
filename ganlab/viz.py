"""Pictures: image grids, loss curves, progress GIFs.

Images everywhere in ganlab are float arrays in [-1, 1], NHWC. These helpers map
them to [0, 1] for display. PNG and GIF files are written with Pillow and
imageio (fast, no figure needed); curves use matplotlib.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ganlab import data


def to_unit_range(images):
    """[-1, 1] -> [0, 1], clipped."""
    return np.clip((np.asarray(images, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0)


def image_grid(images, columns=None, gap=2):
    """Tiles N images into one picture, row by row.

    Args:
        images: ``(N, H, W, C)`` in [-1, 1].
        columns: images per row; ``ceil(sqrt(N))`` when None.
        gap: pixels of white between images.

    Returns:
        ``(rows*(H+gap)-gap, columns*(W+gap)-gap, C)`` float32 in [0, 1].
    """
    images = to_unit_range(data.check_images(images, channels=(1, 3)))
    if columns is not None and (isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1):
        raise ValueError(f"columns must be a positive integer or None. Received: columns={columns!r}")
    number, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(number))
    rows = math.ceil(number / columns)
    grid = np.ones(
        (rows * (height + gap) - gap, columns * (width + gap) - gap, channels), dtype=np.float32
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top : top + height, left : left + width] = image
    return grid


def grid_to_pil(grid, scale=2):
    """A [0, 1] grid as a Pillow image, enlarged ``scale`` times (nearest neighbour)."""
    from PIL import Image

    pixels = (grid * 255).round().astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    picture = Image.fromarray(pixels)
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return picture


def save_image_grid(images, path, columns=None, scale=2):
    """Writes ``image_grid(images)`` as a PNG and returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid_to_pil(image_grid(images, columns), scale).save(path)
    return path


def show_images(images, columns=None, title=None, scale=2):
    """Shows an image grid inline in a notebook (or a window elsewhere)."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, columns)
    figure, axes = plt.subplots(
        figsize=(grid.shape[1] * scale / 100 + 0.5, grid.shape[0] * scale / 100 + 0.7)
    )
    axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    axes.axis("off")
    if title:
        axes.set_title(title)
    plt.show()
    return figure


def plot_training_curves(rows, path=None):
    """Plots D/G losses and D's accuracies against the step.

    Args:
        rows: a list of dicts with ``step``, ``d_loss``, ``g_loss``,
            ``d_real_accuracy``, ``d_fake_accuracy`` (``MetricsLogger.history``),
            or the path of a ``metrics.csv``.
        path: save the figure there as PNG when given.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    if isinstance(rows, (str, Path)):
        rows = read_metrics_csv(rows)
    rows = [row for row in rows if row.get("d_loss") not in (None, "")]
    steps = [float(row["step"]) for row in rows]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(11, 3.8))
    loss_axes.plot(steps, [float(row["d_loss"]) for row in rows], label="discriminator loss")
    loss_axes.plot(steps, [float(row["g_loss"]) for row in rows], label="generator loss")
    loss_axes.set_xlabel("step")
    loss_axes.set_title("Losses")
    loss_axes.legend()
    accuracy_axes.plot(steps, [float(row["d_real_accuracy"]) for row in rows], label="on real images")
    accuracy_axes.plot(steps, [float(row["d_fake_accuracy"]) for row in rows], label="on fakes")
    accuracy_axes.axhline(0.5, color="gray", linestyle=":", linewidth=1)
    accuracy_axes.set_ylim(-0.02, 1.02)
    accuracy_axes.set_xlabel("step")
    accuracy_axes.set_title("Discriminator accuracy (0.5 = cannot tell)")
    accuracy_axes.legend()
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def read_metrics_csv(path):
    """Rows of a ``metrics.csv`` as dicts of strings."""
    import csv

    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def save_gif(frame_paths, path, seconds_per_frame=0.4, hold_last_seconds=1.5):
    """Writes PNG frames (such as the sample grids over training) as a looping GIF.

    Returns the path of the GIF.
    """
    import imageio.v2 as imageio

    frame_paths = [Path(frame) for frame in frame_paths]
    if not frame_paths:
        raise ValueError("save_gif needs at least one frame. Received: frame_paths=[]")
    frames = [imageio.imread(frame) for frame in frame_paths]
    durations = [seconds_per_frame] * (len(frames) - 1) + [hold_last_seconds]
    imageio.mimsave(path, frames, duration=[1000 * d for d in durations], loop=0)
    return Path(path)
