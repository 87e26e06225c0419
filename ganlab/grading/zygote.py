"""One process that imports the test host's libraries once and forks a fresh test host per submission.

Starting a test host (``ganlab.grading.host``) as a new Python process costs
about 5 CPU-seconds, nearly all of it importing TensorFlow and Keras, and a
batch starts one per submission. The zygote (the name Android gives its
process that forks every app) pays that import once: it imports the libraries
the hidden tests use, running no computation (``ganlab.startup`` only lists the
devices, as every import of TensorFlow through ganlab does), then waits on a
Unix socket. A grader that needs a host connects, hands over the two ends of
its pipes (``socket.send_fds``), and the zygote forks a child that becomes the
host on those pipes, with a copy of the zygote's memory (libraries imported,
no test set loaded, nothing of any submission). The host protocol is the same
as for a host started with ``python -m ganlab.grading.host``.

Isolation is that of a fresh host: each host is forked from the zygote, never
from another host, so nothing one submission's tests do reaches another's. The
test set still comes from the grader's request, not from disk, and the
libraries were imported before any notebook ran.

Lifetime: the zygote ends when its standard input closes, that is when the
grader process that started it ends (or calls ``Zygote.close``). A host ends
when the grader closes its pipe, as before. A grader that cannot start or reach
a zygote starts its hosts as processes of their own (``worker.TestHost``).

Run as ``python -m ganlab.grading.zygote SOCKET_PATH``: it writes ``ready`` on
standard output once it listens.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

# What the hidden tests import (ganlab/grading/hidden/): importing them here
# makes every forked host start with them loaded.
PRELOADED_MODULES = (
    "numpy", "tensorflow", "keras", "ganlab.grading.host", "ganlab.grading.testing",
    "ganlab.checks", "ganlab.data", "ganlab.losses", "ganlab.metrics", "ganlab.models", "ganlab.training",
)
HOST_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
START_SECONDS = 120


class Zygote:
    """A running zygote process, started by ``Zygote()`` and ended by ``close()`` (or when this process ends)."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="ganlab-zygote-")  # mode 0700: only this user reaches the socket
        self.address = os.path.join(self.folder, "socket")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ganlab.grading.zygote", self.address],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={**os.environ, **HOST_ENVIRONMENT}, start_new_session=True,  # Ctrl-C reaches the grader only
            )
        except OSError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        if not ready or self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError("the grading zygote did not start")

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()  # the zygote's signal to end
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_shared = None
_shared_lock = threading.Lock()


def shared_address():
    """The socket address of this process's zygote, started on first use; None if it cannot start."""
    global _shared
    with _shared_lock:
        if _shared is None:
            try:
                _shared = Zygote()
            except (OSError, RuntimeError):
                _shared = False  # start hosts the old way from now on
                return None
            atexit.register(_shared.close)
        return _shared.address if _shared and _shared.process.poll() is None else None


def fork_host(address, host_stdin, host_stdout):
    """Asks the zygote at ``address`` for a host reading ``host_stdin`` and writing ``host_stdout`` (fds); its pid."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(address)
        socket.send_fds(connection, [b"host"], [host_stdin, host_stdout])
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = connection.recv(64)
            if not chunk:
                raise OSError("the grading zygote closed the connection")
            reply += chunk
    if not reply.strip().isdigit():
        raise OSError(f"the grading zygote answered {reply[:40]!r}, not a process id")
    return int(reply)


def serve(address):
    """The zygote's loop: one forked host per connection, until standard input closes."""
    import importlib

    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(socket.SOMAXCONN)
    os.write(1, b"ready\n")
    while True:
        readable, _, _ = select.select([0, listener], [], [], 1.0)
        if 0 in readable and not os.read(0, 4096):
            break  # the grader is gone
        if listener in readable:
            try:
                connection, _ = listener.accept()
            except OSError:
                continue  # out of file descriptors, or the client gave up: the next one may do
            connection.settimeout(5)  # a client that connects and says nothing cannot stall the others
            fds = []
            with connection:
                try:
                    _, fds, _, _ = socket.recv_fds(connection, 16, 2)
                    if len(fds) == 2:
                        pid = _fork(fds, listener, connection)
                        connection.sendall(f"{pid}\n".encode())
                except OSError:
                    pass  # a grader that went away mid-request: nothing to do
                finally:
                    for fd in fds:
                        os.close(fd)
        _reap()
    listener.close()


def _fork(fds, listener, connection):
    pid = os.fork()
    if pid:
        return pid
    # The child: becomes a test host on the grader's pipes, never returns.
    try:
        listener.close()
        connection.close()
        os.dup2(fds[0], 0)
        os.dup2(fds[1], 1)
        for fd in fds:
            os.close(fd)
        sys.stdin = os.fdopen(0, "r")
        from ganlab.grading import host

        host.main()
        os._exit(0)
    finally:
        os._exit(1)  # only reached when the host raised


def _reap():
    """Collects the exit status of hosts that ended, so that none stays a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    serve(sys.argv[1])
