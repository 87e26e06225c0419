"""Notebook kernels forked from a zygote that has imported TensorFlow, instead of started afresh.

A fresh IPython kernel is a new Python: the notebook's first cell then imports
TensorFlow, Keras, Matplotlib and ganlab, about 6 CPU-seconds before anything
of the student's runs, for every notebook graded. ``ganlab.grading.zygote``
keeps a process that has imported them (kind "kernel") and forks a child per
notebook that becomes the kernel; this module is the Jupyter side of it: a
kernel provisioner (``jupyter_client``'s class that starts, signals and waits
for a kernel process) that asks the zygote for the kernel.

What the kernel manager sees is the same: the same connection file and
ports, the same limits (``RLIMIT_AS`` and ``RLIMIT_FSIZE``, set by the forked
child as the wrapper of ``ganlab.grading.kernel`` sets them), the same folder
and environment, and its own process group, so signals and the kill on a time
limit reach the kernel and whatever it started. What differs:

- the kernel is the zygote's child, not this process's: its end is seen by
  polling (``psutil``), and the zygote collects its exit status;
- it ends itself when this process's end of the request closes (the grader
  died, or the provisioner cleaned up), where a started kernel watches its
  parent.

When no zygote can serve (none could start, a GPU machine, an error on the
way), the kernel is started as before: the notebook runs either way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from jupyter_client.provisioning import LocalProvisioner

from ganlab.grading import zygote


class ForkedKernelProvisioner(LocalProvisioner):
    """Starts the kernel by asking a kernel zygote to fork it (``ganlab.grading.zygote``).

    ``zygote_address``: that zygote's socket; None means this process's own for
    the kernel's environment, started on first use. ``limits``: the
    ``kernel.Limits`` whose address-space and file-size ceilings the kernel gets.
    """

    zygote_address = None
    limits = None

    async def launch_kernel(self, cmd, **kwargs):
        arguments = cmd[cmd.index("ipykernel_launcher") + 1:]
        environment = dict(kwargs.get("env") or os.environ)
        folder = kwargs.get("cwd") or os.getcwd()
        address = self.zygote_address or zygote.shared_address("kernel", environment)
        forked = None
        if address:
            try:
                forked = zygote.fork_kernel(
                    address, arguments, folder, environment,
                    (self.limits.address_space_bytes(), 2**31),
                    _file_descriptor(kwargs.get("stdout"), 1), _file_descriptor(kwargs.get("stderr"), 2),
                )
            except OSError:
                forked = None  # the zygote is gone or refused: start the kernel as before
        if forked is None:
            return await super().launch_kernel(cmd, **kwargs)
        pid, connection = forked
        self.process = ForkedProcess(pid, connection)
        self.pid = self.pgid = pid  # the forked kernel leads its own process group
        self.cwd = folder
        return self.connection_info

    async def cleanup(self, restart=False):
        if isinstance(self.process, ForkedProcess):
            self.process.release()
        await super().cleanup(restart=restart)


class ForkedProcess:
    """What ``LocalProvisioner`` uses of a ``subprocess.Popen``, for a kernel that is not this process's child."""

    stdin = stdout = stderr = None

    def __init__(self, pid, connection):
        import psutil

        self.pid, self.connection, self.returncode = pid, connection, None
        try:
            self._process = psutil.Process(pid)  # remembers its start time: a reused pid is not taken for it
        except psutil.Error:
            self._process, self.returncode = None, 1

    def poll(self):
        """None while the kernel runs, else 0: its exit status went to the zygote, its parent."""
        import psutil

        if self.returncode is None:
            try:
                ended = not self._process.is_running() or self._process.status() == psutil.STATUS_ZOMBIE
            except psutil.Error:
                ended = True
            if ended:
                self.returncode = 0
                self.release()
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            self._process.send_signal(signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def release(self):
        """Closes this end of the request: the kernel, if it still runs, ends its process group."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _file_descriptor(stream, default):
    """The file descriptor behind a ``Popen`` stream argument (a file, a descriptor, or None for ours)."""
    if stream is None:
        return default
    return stream if isinstance(stream, int) else stream.fileno()
