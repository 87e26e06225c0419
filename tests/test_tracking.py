"""Tests of ganlab.tracking: Comet online / offline / off, without internet.

Every test runs with no Comet API key and Comet's config files pointed at a
temporary folder, so that a key on the developer's machine changes nothing.
Offline archives are opened with zipfile to check what was really recorded.
"""

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ganlab import tracking
from ganlab.tracking import TRACKING_MODES, Tracker, start_experiment

FAKE_API_KEY = "not-a-real-key-12345"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def isolated_comet(tmp_path, monkeypatch):
    """No API key anywhere: not in the environment, not in any config file."""
    for name in list(os.environ):
        # Any COMET_* setting of the machine running the tests (a key, an
        # experiment key, an offline directory, ...) could change the results.
        if name.startswith("COMET_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    # Nor a proxy of the machine: the reachability check would ask it instead.
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(home))  # ~/.comet.config
    monkeypatch.setenv("COMET_CONFIG", str(home / ".comet.config"))
    monkeypatch.chdir(tmp_path)  # Comet also reads ./.comet.config and ./.env
    return tmp_path


def read_archive(archive_path):
    """(messages, files) of an offline zip: the JSON messages and every file's bytes."""
    with zipfile.ZipFile(archive_path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    messages = [json.loads(line) for line in files["messages.json"].splitlines() if line.strip()]
    return messages, files


def payloads(messages, message_type):
    return [message["payload"] for message in messages if message["type"] == message_type]


def logged_metrics(messages):
    metrics = [payload["metric"] for payload in payloads(messages, "metric_msg")]
    return {(metric["metricName"], metric["step"]): metric["metricValue"] for metric in metrics}


def logged_parameters(messages):
    return {
        payload["param"]["paramName"]: payload["param"]["paramValue"]
        for payload in payloads(messages, "parameter_msg")
        if payload["param"]["source"] == "manual"
    }


def logged_others(messages):
    return {payload["key"]: payload["value"] for payload in payloads(messages, "log_other")}


def logged_images(messages, files):
    """{image name: PNG bytes} of the images in an archive."""
    return {
        payload["additional_params"]["figName"]: files[payload["file_path"]]
        for payload in payloads(messages, "file_upload")
        if payload["upload_type"] == "visualization"
    }


def all_bytes_under(folder):
    return b"".join(path.read_bytes() for path in Path(folder).rglob("*") if path.is_file())


def test_offline_experiment_writes_zip_containing_logged_metrics_parameters_and_image(
    isolated_comet,
):
    run_directory = isolated_comet / "run"
    tracker = start_experiment(
        "offline",
        run_directory=run_directory,
        parameters={"learning_rate": 0.0002, "batch_size": 64},
    )
    assert tracker.mode == "offline"
    assert tracker.key and tracker.url is None and tracker.archive_path is None

    tracker.log_metrics({"d_loss": 0.6931, "g_loss": np.float32(1.25)}, step=3)
    tracker.log_image(np.linspace(0.0, 1.0, 28 * 28).reshape(28, 28, 1), name="samples", step=3)
    tracker.log_command(["ganlab", "train", "vanilla", "--steps", "10"])
    tracker.log_other("dataset", "mnist")
    archive_path = tracker.end()

    assert archive_path == tracker.archive_path
    assert Path(archive_path).parent == (run_directory / "comet").resolve()
    assert Path(archive_path).name.startswith(tracker.key)
    messages, files = read_archive(archive_path)
    metrics = logged_metrics(messages)
    assert metrics[("d_loss", 3)] == pytest.approx(0.6931)
    assert metrics[("g_loss", 3)] == pytest.approx(1.25)
    assert logged_parameters(messages) == {"learning_rate": 0.0002, "batch_size": 64}
    others = logged_others(messages)
    assert others["command"] == "ganlab train vanilla --steps 10"
    assert others["dataset"] == "mnist"
    assert logged_images(messages, files)["samples"].startswith(PNG_SIGNATURE)


def test_ending_twice_returns_the_same_archive_and_writes_only_one(isolated_comet):
    tracker = start_experiment("offline", run_directory=isolated_comet)
    first = tracker.end()
    assert tracker.end() == first
    assert len(list((isolated_comet / "comet").glob("*.zip"))) == 1


def test_printed_upload_line_contains_comet_upload_and_the_zip_path(isolated_comet, capfd):
    tracker = start_experiment("offline", run_directory=isolated_comet / "run")
    archive_path = tracker.end()
    printed = capfd.readouterr().out
    assert f"comet upload {archive_path}" in printed
    assert os.path.isabs(archive_path) and os.path.isfile(archive_path)


def test_auto_without_api_key_logs_offline(isolated_comet):
    tracker = start_experiment("auto", run_directory=isolated_comet)
    assert tracker.mode == "offline"
    assert tracker.end().endswith(".zip")


def test_off_logs_nothing_and_writes_nothing(isolated_comet):
    run_directory = isolated_comet / "run"
    tracker = start_experiment("off", run_directory=run_directory, parameters={"a": 1})
    tracker.log_metrics({"loss": 1.0}, step=0)
    tracker.log_image(np.zeros((4, 4)), name="x", step=0)
    tracker.log_text("hello")
    tracker.log_other("k", "v")
    tracker.log_command(["ganlab"])
    assert (tracker.mode, tracker.key, tracker.url) == ("off", None, None)
    assert tracker.scrub("nothing secret") == "nothing secret"
    assert tracker.end() is None and tracker.archive_path is None
    assert not run_directory.exists()


def test_online_with_bad_key_and_unreachable_server_logs_offline_without_starting_comet_online(
    isolated_comet, monkeypatch, capfd, comet_server_out_of_reach
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    # A closed port on this machine, not the internet (see conftest.py): an online
    # experiment left retrying would print its errors after the test session.
    monkeypatch.setenv("COMET_URL_OVERRIDE", comet_server_out_of_reach)
    comet_ml = tracking._import_comet()
    real_start = comet_ml.start
    online_starts = []

    def start(online=True, **arguments):
        if online:
            online_starts.append(arguments)
        return real_start(online=online, **arguments)

    monkeypatch.setattr(comet_ml, "start", start)
    tracker = start_experiment("online", run_directory=isolated_comet / "run", connect_timeout_seconds=2)
    assert tracker.mode == "offline" and online_starts == []
    tracker.log_metrics({"d_loss": 0.5}, step=1)
    tracker.log_text(f"a text that mentions {FAKE_API_KEY}")
    archive_path = tracker.end()

    printed = capfd.readouterr()
    assert "Comet online failed: its server 127.0.0.1" in printed.out and "offline" in printed.out
    assert FAKE_API_KEY not in printed.out + printed.err
    _, files = read_archive(archive_path)
    assert not any(FAKE_API_KEY.encode() in content for content in files.values())
    assert FAKE_API_KEY.encode() not in all_bytes_under(isolated_comet)


def test_online_server_that_does_not_answer_is_given_up_after_the_connect_timeout(
    isolated_comet, monkeypatch, capfd
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)

    def silent_server(address, timeout):
        time.sleep(30)  # a network that swallows the connection attempt

    monkeypatch.setattr(tracking.socket, "create_connection", silent_server)
    started = time.monotonic()
    tracker = start_experiment("online", run_directory=isolated_comet, connect_timeout_seconds=0.2)
    # A guard against a hang, not a benchmark.
    assert time.monotonic() - started < 10
    assert tracker.mode == "offline"
    assert "cannot be reached within 0.2 s (no answer)" in capfd.readouterr().out
    tracker.end()


def test_comet_messages_about_a_refused_key_do_not_show_the_key(isolated_comet, monkeypatch):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    tracker = start_experiment("offline", run_directory=isolated_comet)
    # Comet's console handler keeps the stderr of the moment it was set up: read it here instead.
    console = io.StringIO()
    for handler in logging.getLogger("comet_ml").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", console)
    # What comet_ml logs after the server refused a key (it stops masking it then).
    logging.getLogger("comet_ml._online").error("Invalid API key %s", FAKE_API_KEY)
    tracker.end()
    assert "Invalid API key ***" in console.getvalue()
    assert FAKE_API_KEY not in console.getvalue()


def test_api_key_in_logged_parameters_command_and_image_name_is_redacted_in_the_archive(
    isolated_comet, monkeypatch
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    tracker = start_experiment("offline", run_directory=isolated_comet, parameters={"note": f"key={FAKE_API_KEY}"})
    tracker.log_command(["ganlab", "train", "dcgan", "--set", f"comment={FAKE_API_KEY}"])
    tracker.log_other("environment", {"COMET_API_KEY": FAKE_API_KEY})
    tracker.log_image(np.zeros((4, 4)), name=f"grid {FAKE_API_KEY}", step=0)
    messages, files = read_archive(tracker.end())

    assert tracker.scrub(["ganlab", f"--set=comment={FAKE_API_KEY}", 3]) == ["ganlab", "--set=comment=***", 3]
    assert logged_parameters(messages) == {"note": "key=***"}
    assert logged_others(messages)["command"] == "ganlab train dcgan --set comment=***"
    assert not any(FAKE_API_KEY.encode() in content for content in files.values())
    assert FAKE_API_KEY.encode() not in all_bytes_under(isolated_comet)


def test_tracking_off_still_scrubs_the_key_from_what_the_run_writes_itself(isolated_comet, monkeypatch):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    tracker = start_experiment("off", run_directory=isolated_comet)
    assert tracker.scrub(["ganlab", "train", f"--set=comment={FAKE_API_KEY}"]) == ["ganlab", "train", "--set=comment=***"]


def test_online_without_api_key_says_so_and_logs_offline(isolated_comet, capfd):
    tracker = start_experiment("online", run_directory=isolated_comet)
    assert tracker.mode == "offline"
    assert "no Comet API key" in capfd.readouterr().out
    tracker.end()


def test_comet_error_during_log_metrics_does_not_propagate_and_is_reported_once(
    isolated_comet, monkeypatch, capfd
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)  # configured, but unused offline
    tracker = start_experiment("offline", run_directory=isolated_comet)

    def broken_log_metrics(*arguments, **keywords):
        raise RuntimeError(f"server refused key {FAKE_API_KEY}")

    monkeypatch.setattr(tracker._experiment, "log_metrics", broken_log_metrics)
    tracker.log_metrics({"loss": 1.0}, step=0)
    tracker.log_metrics({"loss": 2.0}, step=1)
    tracker.log_parameters({"still_working": True})
    messages, _ = read_archive(tracker.end())

    printed = capfd.readouterr()
    assert printed.err.count("Comet log_metrics failed") == 1
    assert "RuntimeError" in printed.err and "***" in printed.err
    assert FAKE_API_KEY not in printed.out + printed.err
    assert logged_parameters(messages) == {"still_working": True}


def test_bad_image_is_reported_and_not_raised(isolated_comet, capfd):
    tracker = start_experiment("offline", run_directory=isolated_comet)
    tracker.log_image(np.zeros((2, 8, 8, 3)), name="a batch, not an image", step=0)
    tracker.end()
    assert "Comet log_image failed" in capfd.readouterr().err


def test_log_image_accepts_a_png_path_and_uint8_rgb_arrays(isolated_comet):
    from PIL import Image

    png_path = isolated_comet / "grid.png"
    Image.fromarray(np.full((8, 8, 3), 200, dtype=np.uint8)).save(png_path)
    tracker = start_experiment("offline", run_directory=isolated_comet)
    tracker.log_image(png_path, name="from_file", step=1)
    tracker.log_image(np.zeros((8, 8, 3), dtype=np.uint8), name="rgb", step=1)
    messages, files = read_archive(tracker.end())

    images = logged_images(messages, files)
    assert images["from_file"] == png_path.read_bytes()
    assert images["rgb"].startswith(PNG_SIGNATURE)


def test_context_manager_ends_the_experiment(isolated_comet):
    with start_experiment("offline", run_directory=isolated_comet) as tracker:
        tracker.log_metrics({"loss": 1.0}, step=0)
    assert tracker.archive_path is not None and os.path.isfile(tracker.archive_path)


def test_offline_resume_with_experiment_key_writes_a_second_zip_for_the_same_experiment(
    isolated_comet,
):
    first = start_experiment("offline", run_directory=isolated_comet)
    first.log_metrics({"loss": 1.0}, step=0)
    first_archive = first.end()

    second = start_experiment("offline", run_directory=isolated_comet, experiment_key=first.key)
    second.log_metrics({"loss": 0.5}, step=1)
    second_archive = second.end()

    assert second.key == first.key
    assert second_archive != first_archive
    with zipfile.ZipFile(second_archive) as archive:
        metadata = json.loads(archive.read("experiment.json"))
    # At upload time, Comet adds to the experiment if it exists, else creates it.
    assert metadata["resume_strategy"] == "get_or_create"
    assert metadata["offline_id"] == first.key


def test_invalid_experiment_key_starts_a_new_experiment(isolated_comet, capfd):
    tracker = start_experiment("offline", run_directory=isolated_comet, experiment_key="oops")
    assert tracker.mode == "offline" and tracker.key != "oops"
    assert "not a Comet experiment key" in capfd.readouterr().out
    tracker.end()


def test_unknown_mode_is_rejected():
    assert TRACKING_MODES == ("auto", "online", "offline", "off")
    with pytest.raises(ValueError, match="tracking mode"):
        start_experiment("sometimes")


def test_tracker_without_experiment_is_off():
    tracker = Tracker()
    assert tracker.mode == "off"
    tracker.log_metrics({"loss": 1.0}, step=0)
    assert tracker.end() is None


def test_importing_tracking_does_not_import_comet():
    # Load the file on its own, so that the rest of ganlab is not imported.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('tracking', {tracking.__file__!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "assert 'comet_ml' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


class FakeExperiment:
    """Stands in for a comet_ml experiment, to test our own waiting logic offline."""

    def __init__(self, online, end_seconds=0.0):
        self.alive = True
        self.online = online
        self.url = "https://www.comet.com/someone/ganlab/" + "0" * 32 if online else None
        self.end_seconds = end_seconds
        self.ended = threading.Event()
        self.metrics = []

    def get_key(self):
        return "0" * 32

    def log_parameters(self, parameters):
        pass

    def log_metrics(self, metrics, step=None):
        self.metrics.append((metrics, step))

    def end(self):
        time.sleep(self.end_seconds)
        self.ended.set()


def fake_comet(monkeypatch, connect_seconds=0.0, end_seconds=0.0):
    """Make start_experiment use a fake comet_ml whose online start and end are slow."""
    experiments = []

    def start(online, **arguments):
        experiment = FakeExperiment(online, end_seconds)
        experiments.append(experiment)
        if online:
            time.sleep(connect_seconds)
        return experiment

    module = types.SimpleNamespace(
        start=start,
        get_config=lambda: None,
        get_api_key=lambda api_key, config: FAKE_API_KEY,
        is_valid_experiment_key=lambda key: True,
        ExperimentConfig=dict,
    )
    monkeypatch.setattr(tracking, "_import_comet", lambda: module)
    return experiments


def test_online_experiment_that_is_slow_to_end_does_not_stall_training(
    isolated_comet, monkeypatch, capfd
):
    fake_comet(monkeypatch, end_seconds=30)
    monkeypatch.setattr(tracking, "END_TIMEOUT_SECONDS", 0.5)
    tracker = start_experiment("auto", run_directory=isolated_comet)
    assert tracker.mode == "online" and tracker.url.startswith("https://")
    tracker.log_metrics({"loss": np.float64(0.25)}, step=np.int64(7))
    assert tracker._experiment.metrics == [({"loss": 0.25}, 7)]

    started = time.monotonic()
    assert tracker.end() == tracker.url
    assert time.monotonic() - started < 5
    assert "still sending data" in capfd.readouterr().out


def test_online_experiment_that_connects_too_late_is_ended_and_replaced_by_offline(
    isolated_comet, monkeypatch, capfd
):
    experiments = fake_comet(monkeypatch, connect_seconds=1.0)
    tracker = start_experiment("online", run_directory=isolated_comet, connect_timeout_seconds=0.2)
    assert tracker.mode == "offline"
    assert "no answer from Comet within 0.2 s" in capfd.readouterr().out
    late_online = next(experiment for experiment in experiments if experiment.online)
    assert late_online.ended.wait(timeout=10)  # ended in the background, not left open
    tracker.end()


class RefusedKey(Exception):
    """Like comet_ml's InvalidAPIKey, whose message holds the key."""


def comet_with_online_start(monkeypatch, start_online):
    """The real comet_ml, offline as it is, with ``start(online=True)`` replaced by ``start_online``.

    Its server counts as reachable, so ``start_online`` decides what happens.
    """
    real = tracking._import_comet()

    def start(online=True, **arguments):
        return start_online(**arguments) if online else real.start(online=False, **arguments)

    module = types.SimpleNamespace(**{name: getattr(real, name) for name in dir(real) if not name.startswith("_")})
    module.start = start
    monkeypatch.setattr(tracking, "_import_comet", lambda: module)
    monkeypatch.setattr(tracking, "_comet_server_address", lambda comet_ml: None)


@pytest.mark.parametrize(
    "error",
    [
        RefusedKey(f"Invalid COMET_API_KEY: {FAKE_API_KEY}"),
        RuntimeError("500 Server Error: Internal Server Error for url: https://www.comet.com/clientlib/"),
    ],
    ids=["refused key", "server error"],
)
def test_online_start_that_raises_logs_offline_and_prints_the_reason_without_the_key(
    isolated_comet, monkeypatch, capfd, error
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)

    def start_online(**arguments):
        raise error

    comet_with_online_start(monkeypatch, start_online)
    tracker = start_experiment("online", run_directory=isolated_comet)
    assert tracker.mode == "offline"
    tracker.log_metrics({"loss": 1.0}, step=0)
    messages, _ = read_archive(tracker.end())
    assert logged_metrics(messages) == {("loss", 0): 1.0}
    printed = capfd.readouterr()
    assert f"Comet online failed: {type(error).__name__}" in printed.out
    assert FAKE_API_KEY not in printed.out + printed.err


class FailingOnlineExperiment(FakeExperiment):
    """An online experiment that works until the network drops: then every method raises."""

    def __init__(self):
        super().__init__(online=True)
        self.failing = False

    def log_metrics(self, metrics, step=None):
        if self.failing:
            raise ConnectionError(f"connection to Comet lost (key {FAKE_API_KEY})")
        super().log_metrics(metrics, step)

    def log_other(self, key, value):
        if self.failing:
            raise ConnectionError("connection to Comet lost")


def test_online_experiment_failing_mid_run_continues_offline_under_the_same_key(
    isolated_comet, monkeypatch, capfd
):
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    online = FailingOnlineExperiment()
    comet_with_online_start(monkeypatch, lambda **arguments: online)
    tracker = start_experiment("online", run_directory=isolated_comet / "run")
    assert tracker.mode == "online"
    tracker.log_metrics({"loss": 1.0}, step=0)
    online.failing = True
    for step in (1, 2):
        tracker.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
    tracker.log_other("dataset", "mnist")
    archive_path = tracker.end()

    assert online.metrics == [({"loss": 1.0}, 0)]
    assert online.ended.wait(timeout=10)  # the failed online experiment is ended, not left open
    assert tracker.mode == "offline"
    assert Path(archive_path).name.startswith("0" * 32)  # the online experiment's key: upload joins them
    messages, _ = read_archive(archive_path)
    assert logged_metrics(messages) == {("loss", 1): 0.5, ("loss", 2): pytest.approx(1 / 3)}
    assert logged_others(messages)["dataset"] == "mnist"
    printed = capfd.readouterr()
    assert printed.err.count("Comet online failed during log_metrics") == 1
    assert "logged offline in" in printed.err
    assert FAKE_API_KEY not in printed.out + printed.err


def test_online_experiment_that_comet_marks_dead_continues_offline(isolated_comet, monkeypatch, capfd):
    online = FakeExperiment(online=True)
    comet_with_online_start(monkeypatch, lambda **arguments: online)
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    tracker = start_experiment("online", run_directory=isolated_comet)
    online.alive = False  # what Comet does when its connection fails for good
    tracker.log_metrics({"loss": 0.25}, step=3)
    messages, _ = read_archive(tracker.end())
    assert online.metrics == []
    assert logged_metrics(messages) == {("loss", 3): 0.25}
    assert "no longer alive" in capfd.readouterr().err


def test_metric_that_is_not_a_number_is_reported_and_the_experiment_stays_online(
    isolated_comet, monkeypatch, capfd
):
    online = FakeExperiment(online=True)
    comet_with_online_start(monkeypatch, lambda **arguments: online)
    monkeypatch.setenv("COMET_API_KEY", FAKE_API_KEY)
    tracker = start_experiment("online", run_directory=isolated_comet)
    tracker.log_metrics({"loss": "high"}, step=0)
    tracker.log_metrics({"loss": 0.5}, step=1)
    assert tracker.mode == "online" and online.metrics == [({"loss": 0.5}, 1)]
    assert "Comet log_metrics failed (ValueError" in capfd.readouterr().err
    tracker.end()


def test_behind_a_proxy_the_reachability_check_asks_the_proxy(isolated_comet, monkeypatch):
    monkeypatch.setenv("COMET_URL_OVERRIDE", "https://comet.example.org/clientlib/")
    comet_ml = tracking._import_comet()
    assert tracking._comet_server_address(comet_ml) == ("comet.example.org", 443)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    assert tracking._comet_server_address(comet_ml) == ("proxy.example.org", 3128)
