"""The demo's two forms as a local web page: ``ganlab explore`` (Gradio).

    ganlab explore                          # biggan-fashion-mnist on http://127.0.0.1:7860
    ganlab explore biggan-mnist --port 8000
    ganlab explore runs/biggan              # any run folder of 'ganlab train biggan'

The page holds the TF Hub BigGAN demo's two forms over the same functions as
the notebook's widgets (``ganlab.explorer.demo``) and draws with the same grids
at the same scale (``ganlab.explorer.plots``), so the page, lesson 06 and
``ganlab sample`` show the same pixels for the same settings:

- samples of one category: category, number of samples (1-20), truncation
  (0.02-2, the paper's threshold or the demo's scale), noise seed (0-100);
- an interpolation: categories A and B, seeds A and B, interpolations (1-5),
  steps (2-10), linear or slerp; a grid and an animated GIF.

Each shows a download of what is drawn: the PNG, and an NPZ of the images
(float32 in [-1, 1], as ``ganlab sample`` writes). A bad value typed on the
page (a number out of range, an unknown class) is answered on the page in one
line and the last picture stays.

Offline and local: the server listens on 127.0.0.1 unless ``host`` says
otherwise; Gradio's analytics (usage reports and its version check) are off;
the theme uses the system's fonts (Gradio's themes can load Google Fonts); no
page asset comes from a CDN. Gradio is an optional extra: ``pip install
"ganlab[app]"``.

Why Gradio (docs/training.md says more): one server process for every visitor
(Voila would start a Jupyter kernel, and TensorFlow, per visitor), page events
that are plain calls of the explorer's functions, a queue in front of the one
model, and a Python client (``gradio_client``) that drives the page as the
browser does, with which the tests compare its pixels with the notebook's.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    interpolate_categories,
    sample_category,
)
from ganlab.explorer.plots import (
    interpolation_caption,
    interpolation_grid,
    samples_grid,
    sampling_caption,
    save_interpolation_gif,
)

DEFAULT_MODEL = "biggan-fashion-mnist"
# Loopback: the page is seen from this machine only, unless --host says otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860  # Gradio's own default
# Screen pixels per image pixel: the widgets' scale, so the page's picture is the notebook's.
PICTURE_SCALE = 3
INSTALL_HINT = "pip install \"ganlab[app]\" (in the course folder: pip install -e \".[app]\")"
# The system's fonts, named only: nothing for the browser to fetch.
SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
MONOSPACE_FONTS = ("ui-monospace", "Consolas", "monospace")
# Pictures are 3x enlargements of 32x32 images: a browser that scales them further keeps the pixels sharp.
PAGE_CSS = ".ganlab-picture img { image-rendering: pixelated; }"


def require_gradio():
    """Gradio, imported with its analytics off; a ``ValueError`` in one line when the extra is missing.

    ``GRADIO_ANALYTICS_ENABLED=False`` stops Gradio's usage reports and its
    check for a newer version, both requests to the internet.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import gradio
    except ImportError as error:
        raise ValueError(f"the web page needs the optional extra 'app' (Gradio): {INSTALL_HINT}") from error
    return gradio


def load_explorable(model):
    """``(gan, dataset_name)`` of a shipped model or a run folder, refusing one that is not class-conditional.

    Raises:
        ValueError: in one line, for an unknown model or a model without classes to choose.
    """
    from ganlab import shipped

    gan, dataset_name = shipped.load_model(model)
    if getattr(gan, "num_classes", None) is None:
        raise ValueError(
            f"{model} is not a class-conditional model: the explorer chooses classes, so it needs a BigGAN "
            f"(a run of 'ganlab train biggan', or biggan-mnist / biggan-fashion-mnist). "
            f"'ganlab sample {model}' draws its samples."
        )
    return gan, dataset_name


# --- what the page draws, without Gradio ----------------------------------------------


@dataclass(frozen=True)
class Drawing:
    """What one form shows: the picture (a PNG file), one line saying what it is, and the files to download.

    Attributes:
        images: the images drawn, float32 in [-1, 1], as the demo's function returned them.
        picture: the PNG of the grid, enlarged ``PICTURE_SCALE`` times.
        caption: one line, as the widgets print above their picture.
        files: the downloads: the PNG, (an interpolation's GIF,) and the NPZ.
        animation: an interpolation's GIF (None for samples).
    """

    images: np.ndarray
    picture: Path
    caption: str
    files: tuple
    animation: Path | None = None


def draw_samples(gan, dataset_name, directory, category, number_of_samples, truncation, noise_seed, truncation_kind):
    """``sample_category``'s images drawn into ``directory`` as the page shows them.

    Writes ``samples_<settings>.png`` (the grid, as ``sampling_widget`` draws
    it) and ``samples_<settings>.npz`` (keys ``images``, float32 ``(N, H, W, C)``
    in [-1, 1], and ``labels``, as ``ganlab sample --class`` writes, plus the
    settings). The same settings give the same file names and contents.

    Raises:
        ValueError: a value outside the demo's ranges or an unknown category, in one line.
    """
    label = category_label(gan, category, dataset_name)
    parameters = {
        "category": data.category_options(dataset_name)[label],
        "number_of_samples": number_of_samples,
        "truncation": truncation,
        "noise_seed": noise_seed,
        "truncation_kind": truncation_kind,
    }
    images = sample_category(gan, dataset_name=dataset_name, **parameters)
    stem = f"samples_class{label}_n{number_of_samples}_t{truncation:.2f}_{truncation_kind}_seed{noise_seed}"
    picture = _save_picture(samples_grid(images), Path(directory) / f"{stem}.png")
    arrays = Path(directory) / f"{stem}.npz"
    np.savez_compressed(
        arrays, images=images, labels=np.full(number_of_samples, label, dtype=np.int64), truncation=truncation,
        truncation_kind=truncation_kind, noise_seed=noise_seed,
    )
    return Drawing(images, picture, sampling_caption(parameters), (picture, arrays))


def draw_interpolation(
    gan, dataset_name, directory, category_a, category_b, number_of_samples, steps, truncation, noise_seed_a,
    noise_seed_b, method, truncation_kind,
):
    """``interpolate_categories``' images drawn into ``directory`` as the page shows them: a grid and a GIF.

    Writes ``interpolation_<settings>.png`` (one interpolation per row, as
    ``interpolation_widget`` draws it), ``.gif`` (``save_interpolation_gif``, as
    ``ganlab sample --interpolate``) and ``.npz`` (key ``images``,
    ``(rows * steps, H, W, C)`` row by row, ``class_a``, ``class_b`` and
    ``steps``, as ``ganlab sample --interpolate`` writes, plus the settings).

    Raises:
        ValueError: a value outside the demo's ranges or an unknown category, in one line.
    """
    options = data.category_options(dataset_name)
    label_a = category_label(gan, category_a, dataset_name)
    label_b = category_label(gan, category_b, dataset_name)
    parameters = {
        "category_a": options[label_a],
        "category_b": options[label_b],
        "number_of_samples": number_of_samples,
        "steps": steps,
        "truncation": truncation,
        "noise_seed_a": noise_seed_a,
        "noise_seed_b": noise_seed_b,
        "method": method,
        "truncation_kind": truncation_kind,
    }
    images = interpolate_categories(gan, dataset_name=dataset_name, **parameters)  # [N, steps, H, W, C]
    stem = (
        f"interpolation_class{label_a}-{label_b}_seed{noise_seed_a}-{noise_seed_b}_{number_of_samples}x{steps}"
        f"_t{truncation:.2f}_{truncation_kind}_{method}"
    )
    picture = _save_picture(interpolation_grid(images), Path(directory) / f"{stem}.png")
    animation = save_interpolation_gif(images, Path(directory) / f"{stem}.gif")
    arrays = Path(directory) / f"{stem}.npz"
    np.savez_compressed(
        arrays, images=images.reshape((-1,) + images.shape[2:]), class_a=label_a, class_b=label_b, steps=steps,
        truncation=truncation, truncation_kind=truncation_kind, noise_seed_a=noise_seed_a,
        noise_seed_b=noise_seed_b, method=method,
    )
    return Drawing(images, picture, interpolation_caption(parameters), (picture, animation, arrays), animation)


def _save_picture(grid, path):
    viz.grid_to_pil(grid, PICTURE_SCALE).save(path)
    return path


def whole_number(name, value):
    """A number from a page's box as an int: 8 and 8.0 are 8; 8.5 or text is a ``ValueError`` naming ``name``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{name} must be a whole number. Received: {name}={value!r}")


def decimal_number(name, value):
    """A number from a page's box as a float; anything else is a ``ValueError`` naming ``name``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{name} must be a number. Received: {name}={value!r}")


# --- the page ---------------------------------------------------------------------------


def build_app(gan, dataset_name, model_name="", directory=None):
    """The Gradio page of the two forms for ``gan``; launch it with ``launch``.

    The first pictures are drawn here, so that the page opens with them.
    Each control redraws its form when its value changes; while a slider
    is dragged, only its latest value waits for the drawing in progress
    (``trigger_mode="always_last"``). Drawing is serialized by a lock: the
    model serves one request at a time, and a burst waits in Gradio's queue.

    Args:
        gan: a class-conditional ``ganlab.models.biggan.BigGAN``.
        dataset_name: whose class names the drop-downs list.
        model_name: shown in the page's title.
        directory: where the pictures and downloads are written (default: a
            new temporary folder, removed when Python exits).

    Returns:
        A ``gradio.Blocks``.
    """
    gr = require_gradio()
    if directory is None:
        directory = tempfile.mkdtemp(prefix="ganlab-explore-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    options = data.category_options(dataset_name)
    lock = threading.Lock()

    def on_page(drawer):
        """``drawer`` as a page event: a bad value becomes a one-line message on the page (gradio.Error)."""

        def event(*values):
            try:
                with lock:
                    return drawer(*values)
            except ValueError as error:
                raise gr.Error(" ".join(str(error).split()), print_exception=False) from None

        return event

    def samples_event(category, number_of_samples, truncation, noise_seed, truncation_kind):
        drawing = draw_samples(
            gan, dataset_name, directory, category, whole_number("number_of_samples", number_of_samples),
            decimal_number("truncation", truncation), whole_number("noise_seed", noise_seed), truncation_kind,
        )
        return str(drawing.picture), drawing.caption, [str(path) for path in drawing.files]

    def interpolation_event(category_a, category_b, number_of_samples, steps, truncation, noise_seed_a, noise_seed_b,
                            method, truncation_kind):
        drawing = draw_interpolation(
            gan, dataset_name, directory, category_a, category_b,
            whole_number("number_of_samples", number_of_samples), whole_number("steps", steps),
            decimal_number("truncation", truncation), whole_number("noise_seed_a", noise_seed_a),
            whole_number("noise_seed_b", noise_seed_b), method, truncation_kind,
        )
        return str(drawing.picture), str(drawing.animation), drawing.caption, [str(path) for path in drawing.files]

    first_samples = samples_event(options[0], 10, 1.0, 0, "resample")
    first_interpolation = interpolation_event(options[0], options[1], 2, 8, 1.0, 0, 0, "linear", "resample")

    def slider_without_range_check(*arguments, **options):
        """Gradio's slider, its range checked by the explorer's functions, which name the control in their message.

        Gradio's own check answers the page too, but also prints a traceback in
        the server's terminal for each value typed out of range. (Replaced on
        the instance: a subclass of a Gradio component makes Gradio write a
        ``.pyi`` file beside this module.)
        """
        control = gr.Slider(*arguments, **options)

        def preprocess(payload):
            number = isinstance(payload, (int, float)) and not isinstance(payload, bool)
            return gr.Number.round_to_precision(payload, control.precision) if number else payload

        control.preprocess = preprocess
        return control

    def slider(label, value_range, value, info=None):
        low, high = value_range
        # elem_id: the label's words joined by "-", for the browser test and the page's style.
        return slider_without_range_check(low, high, value=value, step=1, precision=0, label=label, info=info,
                      elem_id=label.replace(" ", "-"))

    def truncation_controls(form):
        low, high = TRUNCATION_RANGE
        truncation = slider_without_range_check(
            low, high, value=1.0, step=TRUNCATION_STEP, precision=2, label="truncation",
            info="smaller: each image closer to its class's typical look, less variety", elem_id=f"{form}-truncation",
        )
        kind = gr.Radio(
            list(TRUNCATION_KINDS), value="resample", label="truncation kind", elem_id=f"{form}-truncation-kind",
            info="resample: every |z| <= t (the paper); scaled: z = t * truncnorm(-2, 2) (the TF Hub demo)",
        )
        return truncation, kind

    title = f"ganlab explore: {model_name}" if model_name else "ganlab explore"
    with gr.Blocks(title=title, analytics_enabled=False) as app:
        gr.Markdown(
            f"# {title}\n"
            f"The TF Hub BigGAN demo on the course's class-conditional GAN ({dataset_name}, 32x32): "
            "samples of one category, and an interpolation between two. Lesson 06 explains every control."
        )
        gr.Markdown("## Samples of one category")
        with gr.Row():
            category = gr.Dropdown(options, value=options[0], label="category", allow_custom_value=True,
                                   elem_id="category")
            number_of_samples = slider("number of samples", NUMBER_OF_SAMPLES_RANGE, 10)
            noise_seed = slider("noise seed", NOISE_SEED_RANGE, 0, info="the same seed draws the same z")
        with gr.Row():
            truncation, truncation_kind = truncation_controls("samples")
        samples_caption = gr.Textbox(first_samples[1], label="shown", interactive=False, elem_id="samples-caption")
        samples_picture = gr.Image(
            first_samples[0], type="filepath", format="png", label="samples", buttons=["download"],
            elem_id="samples-picture", elem_classes="ganlab-picture", interactive=False,
        )
        samples_files = gr.File(first_samples[2], file_count="multiple", label="download (PNG, NPZ)",
                                elem_id="samples-files", interactive=False)
        sampling_inputs = [category, number_of_samples, truncation, noise_seed, truncation_kind]
        gr.on(
            [control.change for control in sampling_inputs], on_page(samples_event), inputs=sampling_inputs,
            outputs=[samples_picture, samples_caption, samples_files], trigger_mode="always_last",
            api_name="samples", show_progress="minimal",
        )

        gr.Markdown("## Interpolation between two categories")
        with gr.Row():
            category_a = gr.Dropdown(options, value=options[0], label="category A", allow_custom_value=True,
                                     elem_id="category-A")
            category_b = gr.Dropdown(options, value=options[1], label="category B", allow_custom_value=True,
                                     elem_id="category-B")
            noise_seed_a = slider("noise seed A", NOISE_SEED_RANGE, 0)
            noise_seed_b = slider("noise seed B", NOISE_SEED_RANGE, 0, info="equal seeds: only the class changes")
        with gr.Row():
            interpolations = slider("interpolations", INTERPOLATION_SAMPLES_RANGE, 2)
            steps = slider("steps", INTERPOLATION_STEPS_RANGE, 8)
            method = gr.Radio(list(INTERPOLATION_METHODS), value="linear", label="z path",
                              info="linear: a straight line; slerp: along a great circle")
        with gr.Row():
            interpolation_truncation, interpolation_truncation_kind = truncation_controls("interpolation")
        interpolation_caption_line = gr.Textbox(first_interpolation[2], label="shown", interactive=False,
                                                elem_id="interpolation-caption")
        with gr.Row():
            interpolation_picture = gr.Image(
                first_interpolation[0], type="filepath", format="png", label="interpolation grid (A left, B right)",
                buttons=["download"], elem_id="interpolation-picture", elem_classes="ganlab-picture",
                interactive=False, scale=3,
            )
            interpolation_animation = gr.Image(
                first_interpolation[1], type="filepath", format="gif", label="animated", buttons=["download"],
                elem_id="interpolation-animation", elem_classes="ganlab-picture", interactive=False, scale=1,
            )
        interpolation_files = gr.File(first_interpolation[3], file_count="multiple", label="download (PNG, GIF, NPZ)",
                                      elem_id="interpolation-files", interactive=False)
        interpolation_inputs = [
            category_a, category_b, interpolations, steps, interpolation_truncation, noise_seed_a, noise_seed_b,
            method, interpolation_truncation_kind,
        ]
        gr.on(
            [control.change for control in interpolation_inputs], on_page(interpolation_event),
            inputs=interpolation_inputs,
            outputs=[interpolation_picture, interpolation_animation, interpolation_caption_line, interpolation_files],
            trigger_mode="always_last", api_name="interpolation", show_progress="minimal",
        )
    return app


def theme():
    """Gradio's default look with the system's fonts: its own fonts would be downloaded."""
    gr = require_gradio()
    return gr.themes.Default(font=list(SYSTEM_FONTS), font_mono=list(MONOSPACE_FONTS))


def launch(app, host=DEFAULT_HOST, port=DEFAULT_PORT, block=True, quiet=False):
    """Serves ``app`` at ``http://host:port`` and returns its address (``block=False``: serves in the background).

    No public share link, no browser opened, no server-side rendering (it
    would start a Node.js server), no MCP server; the page's errors show their
    one-line message.
    """
    app.queue(default_concurrency_limit=1)
    try:
        _, local_url, _ = app.launch(
            server_name=host, server_port=port, share=False, inbrowser=False, prevent_thread_lock=not block,
            show_error=True, quiet=quiet, ssr_mode=False, mcp_server=False, pwa=False, enable_monitoring=False,
            footer_links=["api", "settings"], theme=theme(), css=PAGE_CSS,
        )
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise ValueError(
            f"cannot serve on {host}:{port} ({' '.join(str(error).split()[:8])}...): choose another --port or --host"
        ) from error
    return local_url


def serve(model=DEFAULT_MODEL, host=DEFAULT_HOST, port=DEFAULT_PORT):
    """``ganlab explore``: loads ``model`` and serves its page until interrupted.

    Gradio is checked before the model is loaded, so that a missing extra is
    said at once.
    """
    require_gradio()
    gan, dataset_name = load_explorable(model)
    app = build_app(gan, dataset_name, model_name=str(model))
    print(f"ganlab explore: {model} ({dataset_name}); stop with Ctrl+C", flush=True)
    launch(app, host=host, port=port, block=True)
    return 0
