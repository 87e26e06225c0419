"""The demo's two forms as ipywidgets, for a notebook: controls that redraw the images when they move.

- ``sampling_widget``: one category, several z (``demo.sample_category``).
- ``interpolation_widget``: from category A with noise seed A to category B
  with noise seed B (``demo.interpolate_categories``).

In a notebook, the widgets are the last expression of a cell::

    from ganlab import explorer
    explorer.sampling_widget(gan, "fashion_mnist")

Jupyter (Notebook 7, JupyterLab 3 or later) renders ipywidgets 8 as installed
by ``pip install -e ".[notebooks]"``, with nothing to enable. Colab renders
the core ipywidgets (sliders, drop-downs, ``Output``) of the version it ships:
the notebook's first cells need only install the course (its set-up cell does)
and must not install another ipywidgets. ``google.colab.output.enable_custom_widget_manager()``
is for third-party widget packages (loaded from a CDN) and is not needed here.
The controls call Python, so they need a running kernel; in a saved or
exported notebook only the last picture of each widget remains, so results
meant to stay in the notebook are drawn with the plain functions
(``show_samples_row(sample_category(...))``). The same forms as a web page,
without Jupyter: ``ganlab explore`` (``ganlab.explorer.web``).
"""

from __future__ import annotations

import io

from ganlab import data, viz
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
    check_choice,
    check_integer,
    check_interpolation,
    check_truncation,
    interpolate_categories,
    sample_category,
)
from ganlab.explorer.plots import interpolation_caption, interpolation_grid, sampling_caption, samples_grid


class Explorer:
    """Controls, an output area and the function they drive: what the two widget builders return.

    Moving a control calls ``redraw``, which calls the explorer's function
    with the values of all controls (as keyword arguments) and draws the
    images into ``output``. Display the explorer as the last expression of a
    cell (or with ``IPython.display.display``).

    Attributes:
        controls: a dict, argument name -> ipywidgets control.
        output: the ``ipywidgets.Output`` the pictures go into.
        widget: the ``ipywidgets.VBox`` of the controls and the output (what is displayed).
        last_images: the images of the last redraw (as the function returned them).
        last_parameters: the control values of the last redraw.
        last_picture: the PIL image drawn last.
        redraw_count: how many times the explorer has drawn.
    """

    def __init__(self, controls, compute, to_grid, describe, scale=3):
        import ipywidgets

        self.controls = dict(controls)
        self.output = ipywidgets.Output()
        self.last_images = None
        self.last_parameters = None
        self.last_picture = None
        self.redraw_count = 0
        self._compute, self._to_grid, self._describe, self._scale = compute, to_grid, describe, scale
        rows = [ipywidgets.HBox(list(group)) for group in _groups(list(self.controls.values()), 3)]
        self.widget = ipywidgets.VBox(rows + [self.output])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    def parameters(self):
        """The controls' current values, by argument name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self):
        """Computes the images of the current control values and draws them into ``output``.

        In a notebook an error (such as a shape mismatch) is shown in the
        output area, below the last good picture; elsewhere it is raised.
        """
        from IPython.display import Image, clear_output, display

        parameters = self.parameters()
        with self.output:
            images = self._compute(**parameters)
            picture = viz.grid_to_pil(self._to_grid(images), self._scale)
            self.last_images, self.last_parameters, self.last_picture = images, parameters, picture
            self.redraw_count += 1
            clear_output(wait=True)  # replace the old picture only when the new one is ready: no flicker
            print(self._describe(parameters))
            display(Image(data=_png_bytes(picture)))
        return images

    def _on_change(self, change):
        self.redraw()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self):
        return f"Explorer(controls={list(self.controls)}, redraw_count={self.redraw_count})"


def sampling_widget(
    gan,
    dataset_name="fashion_mnist",
    category=0,
    number_of_samples=8,
    truncation=1.0,
    noise_seed=0,
    truncation_kind="resample",
    scale=3,
):
    """The demo's sampling form as ipywidgets: category, number of samples, truncation, noise seed.

    The controls are named as the arguments of ``sample_category``:
    ``category`` (a drop-down of ``ganlab.data.category_options``),
    ``number_of_samples`` (1-20), ``truncation`` (0.02-2, step 0.02),
    ``noise_seed`` (0-100) and ``truncation_kind``. Sliders redraw when
    released, not while dragged. See the module docstring for Jupyter and
    Colab.

    Args:
        gan: a ``ganlab.models.biggan.BigGAN``.
        dataset_name: whose class names fill the drop-down.
        category, number_of_samples, truncation, noise_seed, truncation_kind:
            the starting values, checked as ``sample_category`` checks them.
        scale: screen pixels per image pixel.

    Returns:
        An ``Explorer``; ``explorer.controls["truncation"].value = 0.5`` redraws.
    """
    import ipywidgets

    label = category_label(gan, category, dataset_name)
    check_integer("number_of_samples", number_of_samples, *NUMBER_OF_SAMPLES_RANGE)
    truncation = check_truncation("truncation", truncation)
    check_integer("noise_seed", noise_seed, *NOISE_SEED_RANGE)
    check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    options = data.category_options(dataset_name)
    controls = {
        "category": ipywidgets.Dropdown(options=options, value=options[label], description="category", **_STYLE),
        "number_of_samples": _int_slider("number_of_samples", number_of_samples, NUMBER_OF_SAMPLES_RANGE),
        "truncation": _truncation_slider(truncation),
        "noise_seed": _int_slider("noise_seed", noise_seed, NOISE_SEED_RANGE),
        "truncation_kind": ipywidgets.Dropdown(
            options=list(TRUNCATION_KINDS), value=truncation_kind, description="truncation_kind", **_STYLE
        ),
    }

    def compute(**parameters):
        return sample_category(gan, dataset_name=dataset_name, **parameters)

    return Explorer(controls, compute, samples_grid, sampling_caption, scale)


def interpolation_widget(
    gan,
    dataset_name="fashion_mnist",
    category_a=0,
    category_b=1,
    number_of_samples=2,
    steps=5,
    truncation=1.0,
    noise_seed_a=0,
    noise_seed_b=0,
    method="linear",
    truncation_kind="resample",
    scale=3,
):
    """The demo's interpolation form as ipywidgets: two categories and seeds, samples, steps, truncation.

    The controls are named as the arguments of ``interpolate_categories``:
    ``category_a``, ``category_b`` (drop-downs), ``number_of_samples`` (1-5),
    ``steps`` (2-10), ``truncation`` (0.02-2), ``noise_seed_a``,
    ``noise_seed_b`` (0-100), ``method`` (linear or slerp) and
    ``truncation_kind``. The picture has one interpolation per row.

    Returns:
        An ``Explorer`` (see ``sampling_widget``).
    """
    import ipywidgets

    label_a, label_b, truncation = check_interpolation(
        gan, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b, method,
        dataset_name,
    )
    check_choice("truncation_kind", truncation_kind, TRUNCATION_KINDS)
    options = data.category_options(dataset_name)
    controls = {
        "category_a": ipywidgets.Dropdown(options=options, value=options[label_a], description="category_a", **_STYLE),
        "category_b": ipywidgets.Dropdown(options=options, value=options[label_b], description="category_b", **_STYLE),
        "number_of_samples": _int_slider("number_of_samples", number_of_samples, INTERPOLATION_SAMPLES_RANGE),
        "steps": _int_slider("steps", steps, INTERPOLATION_STEPS_RANGE),
        "truncation": _truncation_slider(truncation),
        "noise_seed_a": _int_slider("noise_seed_a", noise_seed_a, NOISE_SEED_RANGE),
        "noise_seed_b": _int_slider("noise_seed_b", noise_seed_b, NOISE_SEED_RANGE),
        "method": ipywidgets.Dropdown(options=list(INTERPOLATION_METHODS), value=method, description="method", **_STYLE),
        "truncation_kind": ipywidgets.Dropdown(
            options=list(TRUNCATION_KINDS), value=truncation_kind, description="truncation_kind", **_STYLE
        ),
    }

    def compute(**parameters):
        return interpolate_categories(gan, dataset_name=dataset_name, **parameters)

    return Explorer(controls, compute, interpolation_grid, interpolation_caption, scale)


# Descriptions are the argument names: show them whole.
_STYLE = {"style": {"description_width": "initial"}}


def _int_slider(name, value, value_range):
    import ipywidgets

    low, high = value_range
    return ipywidgets.IntSlider(
        value=int(value), min=low, max=high, step=1, description=name, continuous_update=False, **_STYLE
    )


def _truncation_slider(value):
    import ipywidgets

    low, high = TRUNCATION_RANGE
    return ipywidgets.FloatSlider(
        value=float(value),
        min=low,
        max=high,
        step=TRUNCATION_STEP,
        readout_format=".2f",
        description="truncation",
        continuous_update=False,
        **_STYLE,
    )


def _groups(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def _png_bytes(picture):
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()
