"""Hides TensorFlow's start-up messages on a machine without a GPU, in one place.

Importing TensorFlow 2.19+ writes lines like these to the process's standard
error, from C++, before its logging is set up (so ``TF_CPP_MIN_LOG_LEVEL`` does
not hide them), and the first use of a device adds a "CUDA error"::

    I0000 ... port.cc:153] oneDNN custom operations are on. You may see slightly ...
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 ... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: ...

On a CPU-only machine they say nothing a student can act on, and a "CUDA error"
as the first output of a lesson reads like a failure. ``import ganlab`` installs
a one-shot import hook: the first ``import tensorflow`` (directly, or through
``import keras``) runs with file descriptor 2 redirected to a temporary file,
and TensorFlow then looks for GPUs while still redirected (that is when cuInit
runs). Afterwards every captured line is written back to standard error,
except the known start-up lines and only when no GPU was found: on a GPU
machine the CUDA lines matter and all of them are shown. An import that fails
shows everything it wrote, and its exception, as usual.

Import ``ganlab`` before ``keras`` or ``tensorflow`` for this to take effect
(the notebooks' first cell does).
"""

from __future__ import annotations

import importlib.abc
import os
import re
import sys
import tempfile

# Lines TensorFlow writes at start-up on a machine without a GPU. Matched anywhere
# in a line, so that the time stamps and thread ids in front do not matter.
STARTUP_NOISE = (
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"oneDNN custom operations are on",
    r"Could not find cuda drivers on your machine",
    r"failed call to cuInit",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
)
_NOISE = re.compile("|".join(STARTUP_NOISE))


def without_startup_noise(text):
    """``text`` without the lines of ``STARTUP_NOISE`` (other lines unchanged, in order)."""
    return "".join(line for line in text.splitlines(keepends=True) if not _NOISE.search(line))


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of a module with file descriptor 2 captured."""

    def __init__(self, loader, after_import):
        self.loader = loader
        self.after_import = after_import

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved_descriptor = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as captured:
            os.dup2(captured.fileno(), 2)
            show_everything = True
            try:
                self.loader.exec_module(module)
                # A GPU machine keeps every line: there the CUDA messages matter.
                show_everything = self.after_import(module)
            finally:
                sys.stderr.flush()
                os.dup2(saved_descriptor, 2)
                os.close(saved_descriptor)
                captured.seek(0)
                text = captured.read().decode("utf-8", errors="replace")
                sys.stderr.write(text if show_everything else without_startup_noise(text))
                sys.stderr.flush()


class QuietImport(importlib.abc.MetaPathFinder):
    """A one-shot import hook: the first import of ``module_name`` runs quietly.

    Args:
        module_name: the top-level module to import quietly.
        after_import: called with the imported module while standard error is
            still captured; returns True to show every captured line, False to
            drop the lines of ``STARTUP_NOISE``.
    """

    def __init__(self, module_name, after_import):
        self.module_name = module_name
        self.after_import = after_import

    def find_spec(self, name, path=None, target=None):
        if name != self.module_name:
            return None
        sys.meta_path.remove(self)  # one shot: later imports are the plain ones
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader, self.after_import)
                return spec
        return None


def _tensorflow_has_a_gpu(tensorflow):
    return bool(tensorflow.config.list_physical_devices("GPU"))


def hide_tensorflow_startup_messages():
    """Makes the first ``import tensorflow`` quiet on a CPU-only machine (see the module docstring).

    Does nothing when TensorFlow is already imported, when it was already
    called, or when ``GANLAB_SHOW_STARTUP_MESSAGES=1`` (for debugging an
    installation). Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless it is set, which
    hides TensorFlow's later info and warning lines (errors still show).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("GANLAB_SHOW_STARTUP_MESSAGES", "") not in ("", "0"):
        return
    if "tensorflow" in sys.modules or any(isinstance(finder, QuietImport) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, QuietImport("tensorflow", _tensorflow_has_a_gpu))
