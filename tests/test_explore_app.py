"""Tests of ``ganlab explore``'s page (ganlab.explorer.web) through Gradio's Python client.

One server for the module: the shipped biggan-mnist on a free loopback port,
driven by ``gradio_client`` as the page's JavaScript drives it. What the page
draws is compared pixel for pixel with lesson 06's functions and widgets and
with ``ganlab sample``. The command's one-line refusals (no Gradio, a model
without classes) need no Gradio and run everywhere.
"""

import re
import sys
import types
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from commands import free_port
from PIL import Image

from ganlab import cli, explorer, viz

pytestmark = pytest.mark.xdist_group("explore_app")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """``(client, gan, url)``: the page of the shipped biggan-mnist, served in this process."""
    pytest.importorskip("gradio", reason="ganlab explore needs the optional extra 'app' (pip install -e '.[app]')")
    from gradio_client import Client

    from ganlab.explorer import web

    gan, dataset_name = web.load_explorable("biggan-mnist")
    app = web.build_app(gan, dataset_name, "biggan-mnist", directory=tmp_path_factory.mktemp("explore"))
    url = web.launch(app, port=free_port(), block=False, quiet=True)
    client = Client(url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))
    yield types.SimpleNamespace(client=client, gan=gan, url=url, app=app)
    client.close()
    app.close()


def pixels(path):
    return np.asarray(Image.open(path).convert("L"))


def samples(page, category="7", number=6, truncation=0.5, seed=3, kind="resample"):
    """The page's sampling form: ``(picture path, caption, [png, npz])``."""
    return page.client.predict(category, number, truncation, seed, kind, api_name="/samples")


def interpolation(page, a="3", b="7", number=2, steps=4, truncation=0.5, seed_a=5, seed_b=5, method="slerp",
                  kind="resample"):
    """The page's interpolation form: ``(picture path, GIF path, caption, [png, gif, npz])``."""
    return page.client.predict(a, b, number, steps, truncation, seed_a, seed_b, method, kind, api_name="/interpolation")


def run_cli(arguments, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(arguments)
    return stop.value.code, capsys.readouterr().err


# ---------------------------------------------------------------- the same images everywhere


def test_the_pages_samples_are_the_notebook_widgets_picture_pixel_for_pixel(page):
    picture, caption, files = samples(page, "7", 6, 0.5, 3, "scaled")

    widget = explorer.sampling_widget(page.gan, "mnist", category="7", number_of_samples=6, truncation=0.5,
                                      noise_seed=3, truncation_kind="scaled")
    np.testing.assert_array_equal(pixels(picture), np.asarray(widget.last_picture.convert("L")))
    stored = np.load(next(path for path in files if path.endswith(".npz")))
    np.testing.assert_array_equal(stored["images"], widget.last_images)
    np.testing.assert_array_equal(stored["labels"], [7] * 6)
    assert caption == "6 samples of 7) 7, truncation 0.50 (scaled), noise seed 3"
    assert sorted(path.rsplit(".", 1)[1] for path in files) == ["npz", "png"]


def test_the_pages_samples_are_ganlab_samples_images_and_grid_pixel_for_pixel(page, tmp_path, capsys):
    _, _, files = samples(page, "7", 6, 0.5, 3, "resample")
    status = cli.main(["sample", "biggan-mnist", "--class", "7", "--number", "6", "--truncation", "0.5",
                       "--seed", "3", "--out", str(tmp_path / "cli")])
    capsys.readouterr()

    assert status == 0
    from_page = np.load(next(path for path in files if path.endswith(".npz")))
    from_cli = np.load(tmp_path / "cli.npz")
    np.testing.assert_array_equal(from_page["images"], from_cli["images"])
    np.testing.assert_array_equal(from_page["labels"], from_cli["labels"])
    # ganlab sample lays 6 images out in ceil(sqrt(6)) = 3 columns at scale 2: the page's images, so laid out.
    np.testing.assert_array_equal(
        pixels(tmp_path / "cli.png"), np.asarray(viz.grid_to_pil(viz.image_grid(from_page["images"]), 2).convert("L"))
    )


def test_the_pages_interpolation_is_the_widgets_picture_and_ganlab_samples_images_and_gif(page, tmp_path, capsys):
    picture, animation, caption, files = interpolation(page, "3", "7", 2, 4, 0.5, 5, 5, "slerp")
    status = cli.main(["sample", "biggan-mnist", "--interpolate", "3", "7", "--number", "2", "--steps", "4",
                       "--truncation", "0.5", "--seed", "5", "--method", "slerp", "--out", str(tmp_path / "cli")])
    capsys.readouterr()
    widget = explorer.interpolation_widget(page.gan, "mnist", category_a="3", category_b="7", number_of_samples=2,
                                           steps=4, truncation=0.5, noise_seed_a=5, noise_seed_b=5, method="slerp")

    assert status == 0
    np.testing.assert_array_equal(pixels(picture), np.asarray(widget.last_picture.convert("L")))
    from_page = np.load(next(path for path in files if path.endswith(".npz")))
    from_cli = np.load(tmp_path / "cli.npz")
    for key in ("images", "class_a", "class_b", "steps"):
        np.testing.assert_array_equal(from_page[key], from_cli[key], err_msg=key)
    np.testing.assert_array_equal(from_page["images"].reshape(widget.last_images.shape), widget.last_images)
    import imageio.v2 as imageio

    page_frames, cli_frames = imageio.mimread(animation), imageio.mimread(tmp_path / "cli.gif")
    assert len(page_frames) == len(cli_frames) == 4
    for page_frame, cli_frame in zip(page_frames, cli_frames):
        np.testing.assert_array_equal(page_frame, cli_frame)
    assert caption == "3) 3 (seed 5) -> 7) 7 (seed 5): 2 x 4 steps, slerp, truncation 0.50 (resample)"


def test_the_page_opens_with_samples_and_an_interpolation_already_drawn(page):
    config = page.client.config
    values = {component.get("props", {}).get("elem_id"): component.get("props", {}).get("value")
              for component in config["components"]}

    assert values["samples-caption"] == "10 samples of 0) 0, truncation 1.00 (resample), noise seed 0"
    assert values["samples-picture"]["url"] and values["interpolation-animation"]["url"].endswith(".gif")
    assert values["interpolation-caption"].startswith("0) 0 (seed 0) -> 1) 1 (seed 0): 2 x 8 steps")


# ---------------------------------------------------------------- bad input, answered on the page


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("hat", 6, 0.5, 3, "resample"), "category='hat'"),
        (("12", 6, 0.5, 3, "resample"), "0) 0, 1) 1,"),
        (("7", 25, 0.5, 3, "resample"),
         "number_of_samples must be an integer from 1 to 20. Received: number_of_samples=25"),
        (("7", 0, 0.5, 3, "resample"), "number_of_samples=0"),
        (("7", 6, 3.0, 3, "resample"), "truncation must be a number from 0.02 to 2. Received: truncation=3.0"),
        (("7", 6, 0.5, 101, "resample"), "noise_seed=101"),
        (("7", 6, 0.5, "seven", "resample"), "noise_seed must be a whole number. Received: noise_seed='seven'"),
    ],
)
def test_a_bad_value_typed_on_the_page_is_answered_on_the_page_in_one_line(page, arguments, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as error:
        page.client.predict(*arguments, api_name="/samples")

    assert message in str(error.value)
    assert "\n" not in str(error.value) and "Traceback" not in str(error.value)


def test_the_page_leaves_no_file_beside_the_library(page):
    from ganlab.explorer import web

    # Gradio writes a .pyi stub beside the module of any subclass of its components.
    assert not Path(web.__file__).with_suffix(".pyi").exists()


def test_a_bad_interpolation_value_is_answered_naming_the_control(page):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="steps must be an integer from 2 to 10. Received: steps=11"):
        interpolation(page, steps=11)
    with pytest.raises(AppError, match="number_of_samples must be an integer from 1 to 5"):
        interpolation(page, number=6)
    with pytest.raises(AppError, match="category='boot'"):
        interpolation(page, b="boot")


@pytest.mark.slow
def test_the_server_answers_100_rapid_requests_good_and_bad_and_still_draws_right(page):
    from gradio_client.exceptions import AppError

    jobs = [
        page.client.submit("7", 1, 0.5, seed, "resample", api_name="/samples") if seed % 2 else
        page.client.submit("hat", 1, 0.5, seed, "resample", api_name="/samples")
        for seed in range(100)
    ]
    answered, refused = 0, 0
    for job in jobs:
        try:
            job.result(timeout=120)
            answered += 1
        except AppError:
            refused += 1

    assert (answered, refused) == (50, 50)
    picture, _, _ = samples(page, "2", 3, 1.0, 9)
    widget = explorer.sampling_widget(page.gan, "mnist", category="2", number_of_samples=3, noise_seed=9)
    np.testing.assert_array_equal(pixels(picture), np.asarray(widget.last_picture.convert("L")))


# ---------------------------------------------------------------- local and offline


def test_the_page_listens_on_loopback_with_gradios_analytics_off(page):
    import os

    assert page.url.startswith("http://127.0.0.1:")
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert page.app.analytics_enabled is False
    assert cli.build_parser().parse_args(["explore"]).host == "127.0.0.1"


def test_the_pages_html_loads_scripts_styles_and_fonts_from_the_server_only(page):
    html = urllib.request.urlopen(page.url, timeout=30).read().decode()
    theme = urllib.request.urlopen(page.url.rstrip("/") + "/theme.css", timeout=30).read().decode()

    addresses = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url\(([^)]+)\)", theme)
    assert addresses, "the page names no scripts or styles: the pattern no longer finds them"
    outside = [address for address in addresses if re.match(r"\s*['\"]?(https?:)?//", address)
               and not re.match(r"\s*['\"]?https?://(127\.0\.0\.1|localhost)[:/]", address)]
    assert outside == []
    assert "googleapis" not in html + theme


# ---------------------------------------------------------------- the command's one-line refusals


def test_explore_without_gradio_says_how_to_install_it_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # "import gradio" now raises ImportError
    loaded = []
    monkeypatch.setattr("ganlab.shipped.load_model", lambda model: loaded.append(model))

    status, err = run_cli(["explore", "biggan-mnist"], capsys)

    assert status == 2 and loaded == []  # said before the model is loaded
    assert err.count("\n") == 1
    assert "needs the optional extra 'app' (Gradio): pip install \"ganlab[app]\"" in err


def test_explore_of_a_model_without_classes_is_refused_in_one_line(monkeypatch, capsys):
    pytest.importorskip("gradio", reason="the refusal comes after the check for Gradio")
    unconditional = types.SimpleNamespace(num_classes=None)
    monkeypatch.setattr("ganlab.shipped.load_model", lambda model: (unconditional, "mnist"))

    status, err = run_cli(["explore", "runs/dcgan"], capsys)

    assert status == 2 and err.count("\n") == 1
    assert "ganlab explore: error: runs/dcgan is not a class-conditional model" in err
    assert "'ganlab sample runs/dcgan' draws its samples" in err


@pytest.mark.parametrize("arguments, message", [(["--port", "0"], "--port must be a port number from 1 to 65535"),
                                                (["nowhere"], "Unknown model")])
def test_explore_with_a_bad_port_or_model_is_refused_in_one_line(arguments, message, capsys):
    if arguments == ["nowhere"]:
        pytest.importorskip("gradio", reason="the model is looked for after the check for Gradio")
    status, err = run_cli(["explore", *arguments], capsys)

    assert status == 2 and err.count("\n") == 1 and message in err
