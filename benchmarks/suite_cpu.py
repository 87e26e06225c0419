"""Where the test suite spends its CPU: a pytest plugin that prints CPU seconds per test module.

    PYTHONPATH=benchmarks GANLAB_FAST=1 python -m pytest -p suite_cpu

Each test's CPU time is its process's own (user + system) plus that of the child
processes it waited for (``ganlab train`` runs, grading workers), measured
around the test in the process that runs it: under pytest-xdist, in each
worker. Notebook kernels and test hosts forked by a zygote
(``ganlab.grading.zygote``) are the zygote's children, not the test's: their
time is in no test, only in the whole command's (``/usr/bin/time``). At the
end the terminal summary lists the modules by CPU seconds, the slowest single
tests, and when each worker ran its first and last test (a worker that ends
long before the other shows tests that could be handed out better).

The suite's length on a machine is about its CPU seconds over its cores: more
workers do not help once every core is busy, only less work does. Run it
alone on the machine; it prints figures and asserts nothing.
"""

import os
import resource
import tempfile
import time
from pathlib import Path

import pytest

LOG = Path(os.environ.get("SUITE_CPU_LOG", Path(tempfile.gettempdir()) / "ganlab_suite_cpu.log"))


def _cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or the only process) starts the log
        LOG.write_text("")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cpu, wall = _cpu_seconds(), time.perf_counter()
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with LOG.open("a") as log:
        log.write(f"{_cpu_seconds() - cpu:.2f}\t{time.perf_counter() - wall:.2f}\t{time.time():.2f}\t{worker}\t{item.nodeid}\n")


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput") or not LOG.exists():
        return
    rows, workers = [], {}
    for line in LOG.read_text().splitlines():
        cpu, wall, end, worker, nodeid = line.split("\t", 4)
        rows.append((float(cpu), float(wall), nodeid.split("@")[0]))
        first, last = workers.get(worker, (float("inf"), 0.0))
        workers[worker] = (min(first, float(end) - float(wall)), max(last, float(end)))
    if not rows:
        return
    modules = {}
    for cpu, wall, nodeid in rows:
        name = nodeid.split("::")[0]
        total = modules.setdefault(name, [0.0, 0.0, 0])
        total[0] += cpu
        total[1] += wall
        total[2] += 1
    write = terminalreporter.write_line
    write("")
    write(f"CPU seconds per test module (all tests: {sum(row[0] for row in rows):.0f} CPU-s)")
    write(f"{'CPU-s':>8} {'wall-s':>8} {'tests':>6}  module")
    for name, (cpu, wall, count) in sorted(modules.items(), key=lambda pair: -pair[1][0]):
        write(f"{cpu:8.1f} {wall:8.1f} {count:6d}  {name}")
    write("")
    write("The 15 tests with the most CPU seconds (a module fixture is counted in its first test)")
    for cpu, wall, nodeid in sorted(rows, reverse=True)[:15]:
        write(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
    write("")
    write("Each worker's first test started and last test ended, in seconds from the first start")
    origin = min(first for first, _ in workers.values())
    for worker, (first, last) in sorted(workers.items()):
        write(f"{worker:>8} {first - origin:8.1f} {last - origin:8.1f}")
