"""Running the ``ganlab`` command from tests: which executable, in what environment, on which port.

Shared by the tests that start real ``ganlab`` processes (``test_cli.py``,
``test_interruptions.py``, the explorer's page tests) and by ``conftest.py``.
pytest puts this folder on ``sys.path``, so they import it as ``commands``.
"""

import dataclasses
import os
import socket
import sys
from pathlib import Path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ganlab_command():
    """The installed console script of this Python, else ``python -m ganlab.cli``."""
    script = Path(sys.executable).with_name("ganlab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ganlab.cli"]


def fast_offline_environment(folder):
    """Fast budget, no network, no Comet key or configuration of the machine running the tests."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("COMET_", "GANLAB_"))
    }
    environment.update(
        GANLAB_FAST="1",
        GANLAB_OFFLINE="1",
        KERAS_HOME=str(folder / "empty_keras_home"),
        COMET_CONFIG=str(folder / "no.comet.config"),
    )
    return environment


@dataclasses.dataclass
class Finished:
    """How a ``ganlab`` command ended: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str
