"""One process that imports the libraries once and forks a fresh test host, or notebook kernel, per submission.

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

Kernels: a second kind of zygote forks the notebook kernels
(``ganlab.grading.forked_kernel``): an IPython kernel starts as a new Python
that imports TensorFlow, Keras and Matplotlib in the notebook's first cell,
about 6 CPU-seconds per notebook graded. The kernel zygote imports those and
``ipykernel``, without running anything, and forks a child per notebook that
sets the kernel's limits, folder and environment, then becomes the kernel,
in a session of its own. Some environment variables are read when a library is
imported (``TF_CPP_MIN_LOG_LEVEL``, ``MPLBACKEND``, ``CUDA_VISIBLE_DEVICES``...):
a kernel zygote serves only the environments whose such variables are its own
(``import_time_environment``); another one is started for another. A kernel
zygote on a machine with a GPU refuses to start (CUDA does not survive a
fork): kernels are then started as before.

Run as ``python -m ganlab.grading.zygote SOCKET_PATH [host|kernel]``: it writes
``ready`` on standard output once it listens.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

# What each kind of forked process imports: the hidden tests (ganlab/grading/hidden/)
# for a test host; the course notebooks' imports and the IPython kernel for a kernel.
# Importing them here makes every forked process start with them loaded.
PRELOADED_MODULES = {
    "host": (
        "numpy", "tensorflow", "keras", "ganlab.grading.host", "ganlab.grading.testing",
        "ganlab.checks", "ganlab.data", "ganlab.losses", "ganlab.metrics", "ganlab.models", "ganlab.training",
    ),
    "kernel": (
        "numpy", "scipy.special", "scipy.stats", "tensorflow", "keras", "matplotlib.pyplot", "ipykernel.kernelapp",
        "IPython.display", "ganlab", "ganlab.checks", "ganlab.data", "ganlab.losses", "ganlab.metrics",
        "ganlab.models", "ganlab.training", "ganlab.runs", "ganlab.explorer",
        # Comet itself reads its settings when imported (ganlab.tracking sets them first), so
        # it is not preloaded; jsonschema, which it imports, is the larger part (1.1 s of 1.4 s,
        # parsing a grammar for its IRI format checks) and reads no setting.
        "jsonschema",
    ),
}
HOST_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
START_SECONDS = 120

# Variables that a forked kernel may see changed from its zygote's: read when they are used,
# not when a preloaded library is imported (tempfile's folder is looked up again in the child;
# TensorFlow reads its thread counts when its first operation runs, after the fork).
RUN_TIME_VARIABLES = (
    "GANLAB_", "COMET_", "JPY_", "PYTEST_", "TMPDIR", "TEMP", "TMP", "PWD", "OLDPWD",
    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
)


def import_time_environment(environment):
    """The variables of ``environment`` that a preloaded library may read when it is imported."""
    return {name: value for name, value in environment.items() if not name.startswith(RUN_TIME_VARIABLES)}


class Zygote:
    """A running zygote process, started by ``Zygote()`` and ended by ``close()`` (or when this process ends).

    ``kind``: "host" forks test hosts (in ``HOST_ENVIRONMENT``, without a GPU);
    "kernel" forks notebook kernels, and imports in ``environment`` (this
    process's by default), the kernels' environment.
    """

    def __init__(self, kind="host", environment=None):
        if kind not in PRELOADED_MODULES:
            raise ValueError(f"kind must be one of {sorted(PRELOADED_MODULES)}, not {kind!r}")
        if kind == "host":
            environment = {**os.environ, **HOST_ENVIRONMENT}
        self.folder = tempfile.mkdtemp(prefix="ganlab-zygote-")  # mode 0700: only this user reaches the socket
        self.address = os.path.join(self.folder, "socket")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ganlab.grading.zygote", self.address, kind],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=dict(environment if environment is not None else os.environ),
                cwd=self.folder,  # not the grader's folder: it would stand first on the kernels' sys.path
                start_new_session=True,  # Ctrl-C reaches the grader only
            )
        except OSError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        if not ready or self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError(f"the grading zygote ({kind}) did not start")

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()  # the zygote's signal to end
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_shared = {}  # (kind, import-time environment) -> Zygote, or False when it could not start
_shared_lock = threading.Lock()


def shared_address(kind="host", environment=None):
    """The socket address of this process's zygote of ``kind``, started on first use; None if it cannot start.

    A kernel zygote serves one import-time environment (``environment``, this
    process's by default): another environment gets a zygote of its own.
    """
    zygote = shared(kind, environment)
    return zygote.address if zygote else None


def shared(kind="host", environment=None):
    """This process's running ``Zygote`` of ``kind`` (see ``shared_address``), or None."""
    environment = dict(os.environ if environment is None else environment)
    key = (kind, tuple(sorted(import_time_environment(environment).items())) if kind == "kernel" else ())
    with _shared_lock:
        zygote = _shared.get(key)
        if zygote is None:
            try:
                zygote = Zygote(kind, environment)
            except (OSError, RuntimeError):
                _shared[key] = False  # start these processes the old way from now on
                return None
            _shared[key] = zygote
            atexit.register(zygote.close)
        return zygote if zygote and zygote.process.poll() is None else None


def fork_host(address, host_stdin, host_stdout):
    """Asks the zygote at ``address`` for a host reading ``host_stdin`` and writing ``host_stdout`` (fds); its pid."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(address)
        socket.send_fds(connection, [b"host"], [host_stdin, host_stdout])
        return _read_pid(connection)


def fork_kernel(address, arguments, folder, environment, limits, stdout, stderr):
    """Asks the kernel zygote at ``address`` for an IPython kernel; returns its pid and the connection to keep.

    ``arguments``: the kernel's command-line arguments (``-f CONNECTION_FILE``
    ...); ``folder``: its working folder; ``environment``: its whole
    environment; ``limits``: (address space, file size) in bytes; ``stdout``,
    ``stderr``: file descriptors for its output. The kernel ends itself when
    the returned connection closes (this process ended, or it closed it):
    close it once the kernel is shut down.
    """
    request = {"arguments": list(arguments), "folder": str(folder), "environment": dict(environment),
               "limits": [int(limit) for limit in limits]}
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(30)
        connection.connect(address)
        socket.send_fds(connection, [b"kernel " + json.dumps(request).encode() + b"\n"], [stdout, stderr])
        pid = _read_pid(connection)
    except BaseException:
        connection.close()
        raise
    return pid, connection


def _read_pid(connection):
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = connection.recv(64)
        if not chunk:
            raise OSError("the grading zygote closed the connection")
        reply += chunk
    if not reply.strip().isdigit():
        raise OSError(f"the grading zygote answered {reply[:40]!r}, not a process id")
    return int(reply)


def serve(address, kind="host"):
    """The zygote's loop: one forked host (or kernel) per connection, until standard input closes."""
    import importlib

    own_environment = import_time_environment(os.environ)  # before an import sets a default
    for name in PRELOADED_MODULES[kind]:
        importlib.import_module(name)
    if kind == "kernel" and sys.modules["tensorflow"].config.list_physical_devices("GPU"):
        os.write(1, b"gpu\n")  # CUDA, set up when TensorFlow listed the devices, does not survive a fork
        return
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(socket.SOMAXCONN)
    os.write(1, b"ready\n")
    kernels = set()
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
                    message, fds, _, _ = socket.recv_fds(connection, 65536, 2)
                    if len(fds) == 2 and kind == "host":
                        pid = _fork(fds, listener, connection)
                        connection.sendall(f"{pid}\n".encode())
                    elif len(fds) == 2 and message.startswith(b"kernel "):
                        while not message.endswith(b"\n"):
                            chunk = connection.recv(65536)
                            if not chunk:
                                raise OSError("the request ended early")
                            message += chunk
                        request = json.loads(message[len(b"kernel "):])
                        if import_time_environment(request["environment"]) != own_environment:
                            connection.sendall(b"another environment\n")  # its libraries would not be as imported
                            continue
                        pid = _fork_kernel(request, fds, listener, connection)
                        kernels.add(pid)
                        connection.sendall(f"{pid}\n".encode())
                except (OSError, ValueError, KeyError, TypeError):
                    pass  # a grader that went away mid-request, or a garbled one: nothing to do
                finally:
                    for fd in fds:
                        os.close(fd)
        kernels -= _reap()
    listener.close()
    for pid in kernels:  # kernels still running (their graders gone too): each is its own process group
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def _fork_kernel(request, fds, listener, connection):
    pid = os.fork()
    if pid:
        return pid
    # The child: becomes an IPython kernel, in a session of its own, never returns.
    try:
        listener.close()
        zygote_folder = os.getcwd()  # where the zygote started: first on its sys.path (``python -m``)
        os.setsid()  # its own process group: the kernel manager's signals reach its children too
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        address_space, file_size = request["limits"]
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        os.chdir(request["folder"])
        os.environ.clear()
        os.environ.update(request["environment"])
        tempfile.tempdir = None  # looked up again, in the kernel's TMPDIR
        # As ``python -m ipykernel_launcher`` would: no zygote folder on the path (IPython adds "").
        sys.path[:] = [entry for entry in sys.path if entry not in ("", zygote_folder)]
        sys.argv = ["ipykernel_launcher", *request["arguments"]]
        connection.settimeout(None)
        threading.Thread(target=_end_with_requester, args=(connection,), daemon=True).start()
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=request["arguments"])
        os._exit(0)
    finally:
        os._exit(1)  # only reached when the kernel raised


def _end_with_requester(connection):
    """In a forked kernel: waits until the grader's end of the request closes, then ends the kernel's group.

    A kernel started as a child of its grader ends when it sees its parent gone;
    a forked one is the zygote's child, so it watches its grader this way.
    """
    try:
        while connection.recv(4096):
            pass
    except OSError:
        pass
    os.killpg(0, signal.SIGKILL)


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
    """Collects the exit status of the processes that ended, so that none stays a zombie; returns their pids."""
    ended = set()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.add(pid)


if __name__ == "__main__":
    serve(sys.argv[1], *sys.argv[2:3])
