"""Experiment tracking with Comet: online, offline, or off.

Comet (https://www.comet.com) keeps a record of each training run: its
hyperparameters, its loss curves, the sample grids it produced and the command
that started it, so that runs can be compared later. This module wraps the
``comet_ml`` package in one function, ``start_experiment``, and one small class,
``Tracker``, whose methods never stop training when Comet misbehaves.

The three ways to track a run
-----------------------------

online
    Everything is sent to comet.com while the run goes; the run's page is at
    ``tracker.url``. This needs a Comet API key: set the environment variable
    ``COMET_API_KEY`` or run ``comet login`` once (it writes ``~/.comet.config``).

offline
    Everything is written on disk under ``<run_directory>/comet/``. When the
    run ends, Comet packs it into one zip file and we print the command that
    sends it to comet.com later, from any machine with a key::

        comet upload <run_directory>/comet/<experiment key>.zip

    Offline needs neither a key nor a network, which is why CI and the tests
    use it.

off
    Nothing is recorded and nothing is written; every method does nothing.

``mode="auto"`` (the default) means online when a key is configured and
offline otherwise. Online falls back to offline, saying so in one printed
line, whenever it cannot work: no key, no network, a wrong key, or a Comet
server that takes longer than ``connect_timeout_seconds`` to answer. An online
experiment that fails in the middle of a run (the network drops, the server
answers with an error) continues offline in the same way, under the same key.

Example::

    from ganlab.tracking import start_experiment

    with start_experiment(run_directory="runs/vanilla",
                          parameters={"learning_rate": 2e-4}) as tracker:
        for step in range(1000):
            ...
            tracker.log_metrics({"d_loss": d_loss, "g_loss": g_loss}, step=step)
        tracker.log_image(sample_grid, name="samples", step=step)

Resuming an interrupted run
---------------------------

``tracker.key`` is the experiment's key. Training stores it in its checkpoints;
``start_experiment(..., experiment_key=key)`` continues the same experiment
(Comet's ``comet_ml.start(mode="get_or_create")``):

* online: later metrics are added to the experiment's page; when the key is
  not on comet.com yet (the first part ran offline), a new experiment with
  that key is created.
* offline: a new zip ``<key>-<suffix>.zip`` is written next to the first.
  Upload the zips in the order they were written: the first creates the
  experiment, the next ones add to it.

Safety
------

* Comet's automatic logging is switched off: it would patch Keras and
  TensorFlow, capture everything printed, and upload the source code, the git
  diff and details of the machine, where secrets can hide. We log explicitly.
* The API key is never printed and never logged; our messages and the text we
  log are scrubbed of it.
* A Comet error never stops training: each method catches it and prints one
  warning line (once per method), and training goes on. Online, the first
  error switches the experiment to offline, so that the rest of the run is
  still recorded (in the run's ``comet/`` folder).
* Nothing is left talking to Comet after the program ends: each experiment is
  ended when the program exits (an online one waits at most
  ``END_TIMEOUT_SECONDS``), and an unreachable server is detected by one short
  connection attempt before Comet is asked to start, so that no Comet thread
  is still retrying in the background.
"""

from __future__ import annotations

import atexit
import logging
import os
import shlex
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

TRACKING_MODES = ("auto", "online", "offline", "off")

# How long ``Tracker.end()`` waits for an online experiment to finish sending its
# data. After that we stop waiting (training must not stall on a slow network);
# Comet keeps sending in the background while the program runs.
END_TIMEOUT_SECONDS = 10.0

# Environment settings read by ``comet_ml`` when it is imported. Auto-logging is
# forced off because it is a privacy matter (code, git patch, environment, and
# everything printed would be uploaded) and because we log explicitly. The others
# are only defaults: a user who sets them knows what they want.
_FORCED_COMET_ENVIRONMENT = {
    # No monkey-patching of Keras, TensorFlow, scikit-learn, ... at import time.
    "COMET_DISABLE_AUTO_LOGGING": "1",
}
_DEFAULT_COMET_ENVIRONMENT = {
    # Comet may send its own crash reports (with our tracebacks) to Sentry,
    # a third-party service; not from a course machine.
    "COMET_ERROR_TRACKING_ENABLE": "false",
    # No product announcements in the middle of a student's output.
    "COMET_DISABLE_ANNOUNCEMENT": "1",
}


class Tracker:
    """One experiment: log to it, then ``end()`` it.

    Made by ``start_experiment``; an "off" tracker has no experiment and every
    method does nothing.

    Attributes:
        mode: "online", "offline" or "off": what is really happening, after
            any fallback (ask for "online" and get "offline" if Comet was
            unreachable).
        key: the experiment key (store it to resume), or None when off.
        url: the experiment's page on comet.com when online, else None.
        archive_path: the offline zip, set by ``end()`` in offline mode, else None.

    ``start_offline(key)``, when given, starts an offline experiment that
    continues the one with this key: an online experiment that fails in the
    middle of a run goes on with it.
    """

    def __init__(self, experiment=None, mode="off", offline_directory=None, redact=None, start_offline=None):
        if mode not in ("online", "offline", "off"):
            raise ValueError(f"mode must be 'online', 'offline' or 'off', not {mode!r}")
        self.mode = mode if experiment is not None else "off"
        self._experiment = experiment
        self._offline_directory = offline_directory
        # A function that removes the API key from text. It is kept as a
        # function, not as the key itself, so that printing the tracker's
        # attributes cannot show the key.
        self._redact = redact if redact is not None else (lambda text: text)
        self._start_offline = start_offline
        self._methods_that_failed = set()
        self._ended = False
        self.key = None
        self.url = None
        self.archive_path = None
        if experiment is not None:
            self.key = self._call_comet("get_key", experiment.get_key)
            if self.mode == "online":
                self.url = self._call_comet("url", lambda: experiment.url)
            # A script that forgets ``end()`` still gets its archive and the
            # upload line: ``end`` runs when the program exits.
            atexit.register(self.end)

    # -- logging ---------------------------------------------------------------

    def log_parameters(self, parameters):
        """Log hyperparameters, e.g. ``{"learning_rate": 2e-4, "batch_size": 64}``.

        Nested dictionaries are allowed; Comet shows them as ``outer|inner``.
        """
        self._log(
            "log_parameters",
            lambda experiment: experiment.log_parameters(self.scrub(dict(parameters))),
        )

    def log_metrics(self, metrics, step=None):
        """Log numbers at a training step, e.g. ``{"d_loss": 0.69, "g_loss": 1.2}``.

        Values may be Python numbers, NumPy scalars or scalar tensors.
        """

        if self._experiment is None:
            return
        try:
            # float() turns NumPy scalars and TensorFlow scalar tensors into
            # plain numbers, which is what Comet stores.
            numbers = {str(name): float(value) for name, value in dict(metrics).items()}
        except (TypeError, ValueError) as error:  # our caller's mistake, not Comet's
            self._warn("log_metrics", error)
            return
        self._log("log_metrics", lambda experiment: experiment.log_metrics(numbers, step=_step_or_none(step)))

    def log_image(self, image, name=None, step=None):
        """Log an image: a path to an image file (PNG, ...) or an array.

        Arrays are height x width (grayscale) or height x width x channels with
        1, 3 (RGB) or 4 (RGBA) channels; either uint8 in [0, 255] or floats in
        [0, 1] (floats outside are clipped). The course's images live in
        [-1, 1]: convert them first with ``(images + 1) / 2``.
        """

        if self._experiment is None:
            return
        try:
            picture = os.fspath(image) if isinstance(image, (str, os.PathLike)) else _to_pil_image(image)
        except (TypeError, ValueError) as error:  # a wrong array: our caller's mistake, not Comet's
            self._warn("log_image", error)
            return
        name = None if name is None else self._redact(str(name))
        self._log("log_image", lambda experiment: experiment.log_image(picture, name=name, step=_step_or_none(step)))

    def log_text(self, text, step=None):
        """Log a piece of text (shown in the experiment's Text tab)."""
        self._log(
            "log_text",
            lambda experiment: experiment.log_text(
                self._redact(str(text)), step=_step_or_none(step)
            ),
        )

    def log_other(self, key, value):
        """Log one named value that is not a metric, e.g. ``("dataset", "mnist")``."""
        self._log(
            "log_other", lambda experiment: experiment.log_other(str(key), self.scrub(value))
        )

    def log_command(self, argv=None):
        """Log the command that started the run (default: ``sys.argv``).

        It is logged as the "command" value (the Other tab), quoted so that it
        can be pasted back into a shell. In a notebook, pass something more
        useful than ``sys.argv``, e.g. ``["notebook", "01_vanilla_gan.ipynb"]``.
        """
        arguments = sys.argv if argv is None else argv
        self.log_other("command", shlex.join(str(argument) for argument in arguments))

    def scrub(self, value):
        """``value`` with the API key replaced by "***" in every string inside it.

        For what is written elsewhere than Comet, such as the command that
        a checkpoint records.
        """
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.scrub(item) for item in value)
        return value

    # -- ending ----------------------------------------------------------------

    def end(self):
        """Finish the experiment; safe to call more than once.

        Returns the offline zip's path (offline), the experiment's URL
        (online), or None (off, or the archive could not be found).
        """
        if self._ended:
            return self.archive_path if self.mode == "offline" else self.url
        self._ended = True
        atexit.unregister(self.end)
        if self._experiment is None:
            return None

        if self.mode == "offline":
            # Offline, ``end()`` writes the zip on the local disk: no network,
            # so we can simply wait for it.
            self._call_comet("end", self._experiment.end)
            self.archive_path = self._find_archive()
            if self.archive_path is None:
                _say("Comet wrote no offline archive (see its messages above).")
            else:
                _say(f"Comet offline archive: {self.archive_path}")
                _say(f"Upload it with: comet upload {self.archive_path}")
            return self.archive_path

        # Online, ``end()`` sends what is left, which can take long on a bad
        # network. It runs in a background thread and we wait at most
        # END_TIMEOUT_SECONDS for it.
        finished, _, error = _run_in_background(
            self._experiment.end, END_TIMEOUT_SECONDS, "ganlab-comet-end"
        )
        if error is not None:
            self._warn("end", error)
        elif not finished:
            _say(
                f"Comet is still sending data after {END_TIMEOUT_SECONDS:g} s; "
                "training is not waiting for it (it goes on in the background "
                "while this program runs)."
            )
        _say(f"Comet experiment: {self.url}")
        return self.url

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception, traceback):
        self.end()
        return False  # never hide an exception raised inside the ``with`` block

    def __repr__(self):
        return f"Tracker(mode={self.mode!r}, key={self.key!r}, url={self.url!r})"

    # -- internals -------------------------------------------------------------

    def _log(self, method_name, log):
        """Run ``log(experiment)``, turning any error into one printed warning.

        Online, the first error (or an experiment that Comet has marked dead)
        switches to offline, and ``log`` is done again there.
        """
        if self._experiment is None:
            return
        if self._ended:
            self._warn(method_name, RuntimeError("the experiment has already ended"))
            return
        if self.mode == "online" and not getattr(self._experiment, "alive", True):
            self._continue_offline(method_name, RuntimeError("Comet stopped sending (the experiment is no longer alive)"))
        else:
            try:
                log(self._experiment)
                return
            except Exception as error:  # tracking must never stop training
                if self.mode != "online":
                    self._warn(method_name, error)
                    return
                self._continue_offline(method_name, error)
        if self._experiment is not None:
            self._call_comet(method_name, lambda: log(self._experiment))

    def _continue_offline(self, method_name, error):
        """Leave a failing online experiment for an offline one with the same key (or for "off")."""
        failed, self._experiment = self._experiment, None
        message = self._redact(f"{type(error).__name__}: {error}")
        # The failed experiment is ended in the background without waiting: its
        # network may be what failed. (It is a daemon thread: it cannot keep
        # the program alive.)
        _run_in_background(failed.end, 0, "ganlab-comet-end-failed")
        try:
            if self._start_offline is None:
                raise RuntimeError("no offline folder was given")
            self._experiment = self._start_offline(self.key)
        except Exception as offline_error:
            self.mode = "off"
            reason = self._redact(f"{type(offline_error).__name__}: {offline_error}")
            _say(
                f"warning: Comet online failed during {method_name} ({message}) and offline could not "
                f"start ({reason}); tracking is off for the rest of the run, training goes on.",
                file=sys.stderr,
            )
            return
        self.mode = "offline"
        _say(
            f"warning: Comet online failed during {method_name} ({message}); the rest of the run is "
            f"logged offline in {Path(self._offline_directory).resolve()}, training goes on.",
            file=sys.stderr,
        )

    def _call_comet(self, method_name, function):
        try:
            return function()
        except Exception as error:  # tracking must never stop training
            self._warn(method_name, error)
            return None

    def _warn(self, method_name, error):
        # Once per method: a failing log_metrics called every step would
        # otherwise flood the output.
        if method_name in self._methods_that_failed:
            return
        self._methods_that_failed.add(method_name)
        message = self._redact(f"{type(error).__name__}: {error}")
        _say(
            f"warning: Comet {method_name} failed ({message}); training goes on, "
            f"further {method_name} errors are not shown.",
            file=sys.stderr,
        )

    def _find_archive(self):
        """The zip that Comet wrote for this experiment, or None.

        Comet names it ``<key>.zip`` (``<key>-<suffix>.zip`` when resuming) in
        the offline directory, or in a temporary directory when ours was not
        writable; the newest such file is ours.
        """
        directories = [
            self._offline_directory,
            getattr(self._experiment, "offline_directory", None),  # Comet's fallback
        ]
        candidates = []
        for directory in directories:
            if directory and self.key:
                candidates.extend(Path(directory).glob(f"{self.key}*.zip"))
        if not candidates:
            return None
        return str(max(candidates, key=lambda path: path.stat().st_mtime).resolve())


def start_experiment(
    mode="auto",
    run_directory=".",
    project_name="ganlab",
    experiment_name=None,
    parameters=None,
    experiment_key=None,
    connect_timeout_seconds=5.0,
):
    """Start tracking a run and return its ``Tracker``.

    Args:
        mode: one of ``TRACKING_MODES``. "auto": online if a Comet API key is
            configured (``COMET_API_KEY`` or Comet's config file), else
            offline. "online" falls back to offline (with a printed line) when
            it cannot connect. "off": record nothing.
        run_directory: the run's folder; offline data goes to ``<run_directory>/comet``.
        project_name: the Comet project the experiment belongs to.
        experiment_name: a readable name for the experiment (Comet makes one up otherwise).
        parameters: hyperparameters to log right away (a dictionary).
        experiment_key: the ``tracker.key`` of an earlier run, to continue it
            (see "Resuming" in the module's documentation).
        connect_timeout_seconds: how long to wait for comet.com before
            falling back to offline: first for a connection to its server,
            then for Comet to start the experiment.

    Returns:
        A ``Tracker``; also a context manager that ends the experiment.
    """
    if mode not in TRACKING_MODES:
        raise ValueError(f"tracking mode must be one of {TRACKING_MODES}, not {mode!r}")
    if mode == "off":
        # Nothing goes to Comet, but what the run writes itself (its checkpoint's
        # command) is still scrubbed of a key in the environment.
        return Tracker(redact=_make_redactor(os.environ.get("COMET_API_KEY")))

    try:
        comet_ml = _import_comet()
    except Exception as error:  # e.g. comet_ml not installed
        _say(f"Comet is unavailable ({type(error).__name__}: {error}); tracking is off.")
        return Tracker()

    api_key = _configured_api_key(comet_ml)
    redact = _make_redactor(api_key)
    _redact_comet_messages(redact)

    if experiment_key is not None and not comet_ml.is_valid_experiment_key(experiment_key):
        _say(
            f"{experiment_key!r} is not a Comet experiment key "
            "(32 to 50 letters and digits); starting a new experiment instead."
        )
        experiment_key = None

    offline_directory = Path(run_directory) / "comet"
    settings = _experiment_settings(comet_ml, offline_directory, experiment_name)

    def start_arguments(key):
        return dict(
            project_name=project_name,
            experiment_key=key,
            # "create" makes a new experiment; "get_or_create" continues the one
            # with this key, or creates it if comet.com does not know it yet.
            mode="create" if key is None else "get_or_create",
            experiment_config=settings,
        )

    def start_offline(key):
        offline_directory.mkdir(parents=True, exist_ok=True)  # Comet wants the folder to exist already
        return comet_ml.start(online=False, **start_arguments(key))

    experiment = None
    wants_online = mode == "online" or (mode == "auto" and api_key is not None)
    if mode == "online" and api_key is None:
        _say(
            "Comet online was asked for, but no Comet API key is configured "
            "(set COMET_API_KEY or run `comet login`); logging offline instead."
        )
    elif wants_online:
        experiment = _start_online(comet_ml, start_arguments(experiment_key), connect_timeout_seconds, redact)

    if experiment is not None:
        tracker = Tracker(experiment, "online", offline_directory, redact=redact, start_offline=start_offline)
        _say(f"Comet online: {tracker.url}")
    else:
        try:
            experiment = start_offline(experiment_key)
        except Exception as error:
            message = redact(f"{type(error).__name__}: {error}")
            _say(f"Comet offline could not start ({message}); tracking is off.")
            return Tracker()
        tracker = Tracker(experiment, "offline", offline_directory, redact=redact)
        _say(f"Comet offline: logging to {offline_directory.resolve()}")

    if parameters:
        tracker.log_parameters(parameters)
    return tracker


def _import_comet():
    """Import ``comet_ml`` here, not at the top of the module.

    Importing it takes seconds and changes the process (logging, exception
    hook), so ``import ganlab`` must not do it. Its settings are read from the
    environment at import time, so they are set just before.
    """
    os.environ.update(_FORCED_COMET_ENVIRONMENT)
    for name, value in _DEFAULT_COMET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import comet_ml

    return comet_ml


def _configured_api_key(comet_ml):
    """The API key Comet would use (environment, then its config files), or None.

    Used only to decide between online and offline, and to scrub the key out of
    messages; it is never passed anywhere, so Comet reads it itself.
    """
    try:
        return comet_ml.get_api_key(None, comet_ml.get_config()) or None
    except Exception:
        return None


def _make_redactor(secret):
    """A function that replaces ``secret`` by "***" in a text."""
    if not secret:
        return lambda text: text
    return lambda text: text.replace(secret, "***")


class _RedactingFilter(logging.Filter):
    """Removes the API key from the messages of Comet's own logger.

    Comet hides the key in what it prints, except after the server has refused
    it ("discard invalid API key so it would be displayed ... without masking",
    in ``comet_ml._online``): a mistyped key is still a secret.
    """

    def __init__(self, redact):
        super().__init__("ganlab-redact")
        self.redact = redact

    def filter(self, record):
        record.msg, record.args = self.redact(record.getMessage()), ()
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _redact_comet_messages(redact):
    """Put a ``_RedactingFilter`` on the handlers of Comet's logger (once per key)."""
    for handler in logging.getLogger("comet_ml").handlers:
        for old in [item for item in handler.filters if isinstance(item, _RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_RedactingFilter(redact))


def _experiment_settings(comet_ml, offline_directory, experiment_name):
    """Comet's settings with every automatic capture switched off: we log explicitly."""
    return comet_ml.ExperimentConfig(
        name=experiment_name,
        offline_directory=str(offline_directory),
        # Nothing about the code, the git repository or the machine: these can
        # hold secrets (a key in a script, a token in an environment dump).
        log_code=False,
        log_git_metadata=False,
        log_git_patch=False,
        log_env_details=False,
        log_env_gpu=False,
        log_env_cpu=False,
        log_env_host=False,
        log_env_network=False,
        log_env_disk=False,
        # Not the command line either (we log it with log_command), nor
        # everything printed, nor the model graph.
        parse_args=False,
        auto_output_logging=False,
        log_graph=False,
        # No automatic metrics or parameters from Keras/TensorFlow hooks: the
        # callbacks log exactly what the lessons show.
        auto_param_logging=False,
        auto_metric_logging=False,
        auto_histogram_weight_logging=False,
        auto_histogram_gradient_logging=False,
        auto_histogram_activation_logging=False,
        auto_histogram_tensorboard_logging=False,
        auto_log_co2=False,
        # Comet's end-of-run summary repeats what we print.
        display_summary_level=0,
    )


def _start_online(comet_ml, start_arguments, timeout_seconds, redact):
    """An online experiment, or None (after printing why) if Comet cannot be reached.

    Without a network, or with a wrong key, ``comet_ml.start`` keeps retrying
    for about half a minute, and prints its errors whenever it gives up (even
    after our program has moved on). So first one TCP connection to Comet's
    server is tried; only when it opens is Comet asked to start, in a
    background thread, and we wait at most ``timeout_seconds`` for each.
    """
    started = time.monotonic()
    address = _comet_server_address(comet_ml)
    if address is not None:
        finished, _, error = _run_in_background(
            lambda: socket.create_connection(address, timeout=timeout_seconds).close(),
            timeout_seconds,
            "ganlab-comet-reach",
        )
        if error is not None or not finished:
            reason = f"{type(error).__name__}: {error}" if error is not None else "no answer"
            _say(
                f"Comet online failed: its server {address[0]}:{address[1]} cannot be reached within "
                f"{timeout_seconds:g} s ({redact(reason)}). Logging offline instead."
            )
            return None

    def end_late_experiment(experiment):
        # The connection succeeded after we gave up waiting: end that unused
        # experiment so that it does not keep a connection open.
        try:
            experiment.end()
        except Exception:
            pass

    finished, experiment, error = _run_in_background(
        lambda: comet_ml.start(online=True, **start_arguments),
        # Both waits together stay within the timeout (with a little time for Comet).
        max(timeout_seconds - (time.monotonic() - started), 0.1 * timeout_seconds),
        "ganlab-comet-connect",
        use_late_result=end_late_experiment,
    )
    if error is not None:
        reason = redact(f"{type(error).__name__}: {error}")
    elif not finished:
        reason = (
            f"no answer from Comet within {timeout_seconds:g} s (no network, or a wrong "
            "API key?); Comet may print more connection errors later, they can be ignored"
        )
    elif not experiment.alive:
        # Comet printed its own error above; the experiment object is dead.
        reason = "Comet could not connect (see its message above)"
        end_late_experiment(experiment)
    else:
        return experiment
    _say(f"Comet online failed: {reason}. Logging offline instead.")
    return None


def _comet_server_address(comet_ml):
    """``(host, port)`` that Comet connects to first, or None if unknown.

    The Comet server (comet.com, or ``COMET_URL_OVERRIDE``), or the proxy in
    between when one is configured (``HTTPS_PROXY``...): behind a proxy the
    server itself cannot be reached directly, yet Comet works.
    """
    try:
        url = urllib.parse.urlsplit(comet_ml.config.get_backend_address(comet_ml.get_config()))
        proxy = urllib.request.getproxies().get(url.scheme)
        if proxy and not urllib.request.proxy_bypass(url.hostname):
            url = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return url.hostname, url.port or (443 if url.scheme == "https" else 80)
    except Exception:  # a comet_ml without this function: let comet_ml.start try
        return None


def _run_in_background(function, timeout_seconds, thread_name, use_late_result=None):
    """Run ``function()`` in a daemon thread, waiting at most ``timeout_seconds``.

    Returns ``(finished, result, error)``. If it finishes after the timeout,
    its result is given to ``use_late_result`` (in the background thread).

    A daemon thread, because the program must be able to exit while it is
    still waiting for the network (Python waits for ordinary threads, and for
    the workers of ``concurrent.futures``, before exiting).
    """
    lock = threading.Lock()
    outcome = {"gave_up": False}

    def run():
        try:
            result, error = function(), None
        except Exception as exception:
            result, error = None, exception
        with lock:
            outcome["result"], outcome["error"] = result, error
            late = outcome["gave_up"]
        if late and use_late_result is not None and error is None:
            use_late_result(result)

    thread = threading.Thread(target=run, name=thread_name, daemon=True)
    thread.start()
    thread.join(timeout_seconds)
    with lock:
        if "error" not in outcome:
            outcome["gave_up"] = True
            return False, None, None
        return True, outcome["result"], outcome["error"]


def _say(message, file=None):
    """Print one line of ours, marked so that it stands out from Comet's own lines."""
    print(f"[tracking] {message}", file=file or sys.stdout, flush=True)


def _step_or_none(step):
    return None if step is None else int(step)


def _to_pil_image(image):
    """An array (uint8, or floats in [0, 1]) as a PIL image, which Comet saves as PNG.

    We convert here rather than passing the array to Comet, because Comet
    stretches each array between its own minimum and maximum, which would make
    a nearly black sample look bright.
    """
    from PIL import Image  # Pillow, imported only when an image is logged

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"an image must be HxW or HxWxC with C in 1, 3, 4; got shape {array.shape}"
        )
    if array.dtype != np.uint8:
        array = np.round(np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
    return Image.fromarray(array)
