"""Running a notebook once, in its own kernel, with limits of time, memory and output.

The kernel is an IPython kernel of the grader's own interpreter (whatever
kernel specs are installed), started through a small wrapper that sets
``RLIMIT_AS`` (a ceiling on address space, well above what TensorFlow
reserves) and ``RLIMIT_FSIZE`` before it becomes the kernel. Its own stdout
and stderr go to /dev/null, and outputs are kept up to a budget: a notebook
printing megabytes costs its time, not the grader's memory.

Limits:

- time per cell and for the whole notebook (nbclient's ``timeout_func`` gives
  each cell the smaller of the two that is left);
- memory: the resident memory of the kernel and its child processes, polled
  several times a second; over the limit, they are killed.

On Linux without a GPU the kernel is forked from a kernel zygote that
has imported TensorFlow, Keras, Matplotlib and ganlab already
(``ganlab.grading.forked_kernel``): the same kernel, limits and folder, about
6 CPU-seconds sooner per notebook. Elsewhere, or when the zygote cannot serve,
it starts as a new process.

An error in a cell does not stop the run (the grader reads the exercises from
the source, so a later exercise keeps its chance); a time limit, a dead
kernel or the memory limit stops it, and the exercises defined in that cell
or after it are not graded.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time

import nbformat

# What the kernel sees, over the grader's environment: the course's fast budget,
# no network data, Comet offline, no display.
KERNEL_ENVIRONMENT = {
    "GANLAB_FAST": "1",
    "GANLAB_BUDGET": "fast",  # GANLAB_BUDGET wins over GANLAB_FAST: pin it too
    "GANLAB_OFFLINE": "1",  # data from what ships offline; never wait on a download
    "COMET_API_KEY": "",  # no key, even from ~/.comet.config: Comet logs offline
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiets the kernel's debugger warning
}


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much a submission may use. Times in seconds, memory in bytes."""

    cell_seconds: float = 300.0
    notebook_seconds: float = 900.0
    memory_bytes: int = 4 * 2**30  # resident memory of the kernel and its children
    output_bytes: int = 2 * 2**20  # outputs kept per notebook; the rest is dropped
    exercise_seconds: float = 60.0  # all the hidden tests of one exercise
    exercise_memory_bytes: int = 2 * 2**30
    startup_seconds: float = 120.0

    def address_space_bytes(self):
        """The kernel's RLIMIT_AS: TensorFlow alone reserves a few GiB it never touches."""
        return self.memory_bytes + 12 * 2**30


@dataclasses.dataclass
class Stop:
    """Why the run stopped early, and where."""

    cell: int
    kind: str  # "cell time limit", "notebook time limit", "memory limit", "kernel died", "kernel did not start"
    message: str


@dataclasses.dataclass
class Execution:
    """What running the notebook showed: the executed copy, the errors, the stop."""

    notebook: nbformat.NotebookNode
    errors: list  # (cell index, exception name) of every cell that raised
    stop: Stop | None
    seconds: float
    peak_memory_bytes: int

    def reached(self, cell):
        """True when the cell ran to its end (with or without an error)."""
        return self.stop is None or cell < self.stop.cell


# The kernel command: set the limits, then become the IPython kernel.
_LIMITS_WRAPPER = (
    "import os, resource, sys\n"
    "address_space, file_size = int(sys.argv[1]), int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


def _kernel_spec_manager(limits):
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class LimitedKernelSpecs(KernelSpecManager):
        """Every kernel name means this interpreter's IPython kernel, started under the limits."""

        def get_kernel_spec(self, kernel_name):
            spec = get_kernel_dict()
            spec["argv"] = [
                sys.executable, "-c", _LIMITS_WRAPPER, str(limits.address_space_bytes()), str(2**31),
                *spec["argv"],
            ]
            return KernelSpec(resource_dir=RESOURCES, **spec)

    return LimitedKernelSpecs()


def run_notebook(notebook, working_directory, limits=Limits(), environment=None, zygote_address=None):
    """Runs every code cell of ``notebook`` in a fresh kernel in ``working_directory``; returns an ``Execution``.

    Never raises for what the notebook does: errors, hangs, a dead kernel or
    too much memory are described in the result. ``environment`` is added to
    ``KERNEL_ENVIRONMENT`` and the grader's own. ``zygote_address``: the kernel
    zygote that forks the kernel (``ganlab.grading.forked_kernel``); None means
    this process's own for that environment, started on first use; False, a
    kernel started as a new process (always, except on Linux).
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook = nbformat.from_dict(notebook)
    started = time.monotonic()
    deadline = started + limits.notebook_seconds
    state = {"cell": 0, "output_bytes": 0, "truncated": False, "limited_by_notebook": False}
    errors = []

    class LimitedClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None:
                size = len(str(out.get("text", ""))) + len(str(out.get("data", ""))) + len(str(out.get("traceback", "")))
                state["output_bytes"] += size
                if state["output_bytes"] > limits.output_bytes and out in outs:
                    outs.remove(out)
                    if not state["truncated"]:
                        state["truncated"] = True
                        outs.append(nbformat.v4.new_output("stream", name="stdout", text="[grader: output over the limit dropped]\n"))
            return out

        async def async_start_new_kernel_client(self):
            kernel_client = await super().async_start_new_kernel_client()
            for channel in (kernel_client.shell_channel, kernel_client.iopub_channel):
                _poll_in_slices(channel)
            return kernel_client

    def cell_timeout(cell):
        left = deadline - time.monotonic()
        state["limited_by_notebook"] = left < limits.cell_seconds
        return max(1, int(min(limits.cell_seconds, left)))

    kernel_manager = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_kernel_spec_manager(limits))
    # Linux only: elsewhere a fork of a process that has loaded these libraries is not known safe.
    if zygote_address is not False and sys.platform.startswith("linux"):
        kernel_manager.provisioner = _forked_provisioner(kernel_manager, limits, zygote_address)
    client = LimitedClient(
        notebook,
        km=kernel_manager,
        timeout_func=cell_timeout,
        startup_timeout=int(limits.startup_seconds),
        allow_errors=True,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(working_directory)}},
    )
    client.on_cell_execute = lambda cell, cell_index: state.update(cell=cell_index)
    client.on_cell_error = lambda cell, cell_index, execute_reply: errors.append(
        (cell_index, execute_reply["content"].get("ename", "Error"))
    )
    watchdog = _MemoryWatchdog(kernel_manager, limits.memory_bytes)
    client.on_notebook_start = lambda notebook: watchdog.start()
    stop = None
    devnull = open(os.devnull, "wb")
    try:
        client.execute(
            cleanup_kc=True,
            env={**os.environ, **KERNEL_ENVIRONMENT, **(environment or {})},
            stdout=devnull,
            stderr=devnull,
        )
    except CellTimeoutError:
        if state["limited_by_notebook"]:
            stop = Stop(state["cell"], "notebook time limit", f"the notebook went over its {limits.notebook_seconds:g} s")
        else:
            stop = Stop(state["cell"], "cell time limit", f"cell {state['cell']} went over its {limits.cell_seconds:g} s")
    except DeadKernelError:
        if watchdog.exceeded:
            stop = Stop(state["cell"], "memory limit", f"cell {state['cell']} went over {limits.memory_bytes / 2**30:.1f} GiB of memory")
        else:
            stop = Stop(state["cell"], "kernel died", f"the kernel died in cell {state['cell']}")
    except RuntimeError as error:  # nbclient: the kernel did not start or did not answer
        stop = Stop(state["cell"], "kernel did not start", f"the kernel stopped answering ({error})")
    finally:
        watchdog.stop()
        devnull.close()
        _ensure_dead(watchdog.processes.values())
    return Execution(notebook, errors, stop, round(time.monotonic() - started, 2), watchdog.peak)


# How long one wait for a kernel's message may last before the socket is looked at again.
POLL_SLICE_SECONDS = 1.0


def _poll_in_slices(channel, slice_seconds=POLL_SLICE_SECONDS):
    """Makes ``channel.get_msg(timeout)`` wait in slices of ``slice_seconds``, up to the same ``timeout``.

    jupyter_client's asyncio channel can miss the wake-up of a message that
    has arrived: in the test suite, a cell's execute_reply (lesson 06's
    interpolation widget, three times in about twenty full runs) was noticed only when
    the cell's 600-s time limit ended the wait, and the notebook went on as if
    nothing had happened. The end of each wait looks at the socket again, so
    short slices notice such a message within a second.
    """
    import queue

    wait = channel.get_msg

    async def get_msg(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await wait(timeout=slice_seconds if left is None else min(slice_seconds, left))
            except queue.Empty:
                if left is not None and left <= slice_seconds:
                    raise

    channel.get_msg = get_msg


def _forked_provisioner(kernel_manager, limits, zygote_address):
    import uuid

    from ganlab.grading.forked_kernel import ForkedKernelProvisioner

    kernel_manager.kernel_id = kernel_manager.kernel_id or str(uuid.uuid4())
    provisioner = ForkedKernelProvisioner(
        kernel_id=kernel_manager.kernel_id, kernel_spec=kernel_manager.kernel_spec, parent=kernel_manager,
    )
    provisioner.zygote_address, provisioner.limits = zygote_address, limits
    return provisioner


class _MemoryWatchdog:
    """Polls the kernel's resident memory (with its children); kills them all over the limit."""

    def __init__(self, kernel_manager, limit_bytes, period=0.2):
        self.kernel_manager, self.limit, self.period = kernel_manager, limit_bytes, period
        self.exceeded, self.peak = False, 0
        self.processes = {}  # pid -> psutil.Process seen: kill() checks that the pid was not reused
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        if not self._thread.is_alive() and not self._done.is_set():
            self._thread.start()

    def stop(self):
        self._done.set()

    def _run(self):
        import psutil

        while not self._done.wait(self.period):
            pid = _kernel_pid(self.kernel_manager)
            if pid is None:
                continue
            try:
                kernel = psutil.Process(pid)
                processes = [kernel, *kernel.children(recursive=True)]
                resident = sum(process.memory_info().rss for process in processes)
            except psutil.Error:
                continue
            self.peak = max(self.peak, resident)
            for process in processes:
                self.processes.setdefault(process.pid, process)
            if resident > self.limit:
                self.exceeded = True
                for process in reversed(processes):
                    try:
                        process.kill()
                    except psutil.Error:
                        pass


def _kernel_pid(kernel_manager):
    provisioner = getattr(kernel_manager, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None)


def _ensure_dead(processes):
    """Kills the kernel and whatever it started (as the watchdog saw them), if nbclient's shutdown left any."""
    import psutil

    for process in processes:
        try:
            process.kill()  # psutil refuses when the pid now belongs to another process
        except psutil.Error:
            pass
