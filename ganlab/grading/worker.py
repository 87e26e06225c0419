"""Grading one submission: run the notebook once, then each exercise's hidden tests apart.

``grade_submission`` does it in the calling process; ``python -m
ganlab.grading.worker`` does it for the batch (``ganlab.grading.batch``),
reading its request as JSON on stdin and writing the graded row as JSON on
stdout, so that nothing a submission does can reach the process that writes
the grade table.

The order matters: the test host (``ganlab.grading.host``) is started and has
loaded the tests and the libraries *before* the student's kernel runs, so a
notebook that rewrites files on disk cannot change the tests that grade it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ganlab.grading import source as source_module
from ganlab.grading import zygote as zygote_module
from ganlab.grading.kernel import Limits, run_notebook


@dataclasses.dataclass
class TestResult:
    name: str
    points: float
    earned: float
    message: str  # the test author's message, or why it did not run; "" when passed


@dataclasses.dataclass
class ExerciseResult:
    exercise: str
    maximum: float
    earned: float = 0.0
    reason: str = ""  # why points were lost, "" when none
    tests: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Row:
    """One submission's grades."""

    submission: str
    student: str
    exercises: list
    status: str
    seconds: float = 0.0

    @property
    def total(self):
        return round(sum(exercise.earned for exercise in self.exercises), 2)

    @property
    def maximum(self):
        return round(sum(exercise.maximum for exercise in self.exercises), 2)

    def reasons(self):
        return "; ".join(f"{exercise.exercise}: {exercise.reason}" for exercise in self.exercises if exercise.reason)

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        exercises = [
            ExerciseResult(**{**exercise, "tests": [TestResult(**test) for test in exercise["tests"]]})
            for exercise in data["exercises"]
        ]
        return cls(**{**data, "exercises": exercises})


# A forked host only compiles the test set before "ready" (its libraries are
# loaded): a minute without an answer means it is stuck, not slow.
FORKED_READY_SECONDS = 60


class TestHost:
    """The test host (``ganlab.grading.host``) of one submission.

    Forked by the zygote at ``zygote_address`` (``ganlab.grading.zygote``) when
    one is given and answers, else started as a process of its own.
    """

    def __init__(self, tests_source, name, zygote_address=None):
        self.process = self.pid = None
        request = {"name": name, "source": tests_source}
        reply = None
        if zygote_address:
            # A forked host that fails before "ready" (it died, hangs, or the zygote
            # was half gone) costs nothing but the fallback: a host of its own.
            try:
                self._fork_from_zygote(zygote_address)
                self._send(request)
                reply = self._receive(timeout=FORKED_READY_SECONDS)
            except (OSError, RuntimeError, ValueError):
                self._abandon_fork()
        if reply is None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ganlab.grading.host"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env={**os.environ, **zygote_module.HOST_ENVIRONMENT},
            )
            self.stdin, self.stdout = self.process.stdin, self.process.stdout
            self._send(request)
            reply = self._receive()
        self.tests = [(exercise, test, points) for exercise, test, points in reply["ready"]]

    def _fork_from_zygote(self, address):
        host_stdin, to_host = os.pipe()
        from_host, host_stdout = os.pipe()
        try:
            self.pid = zygote_module.fork_host(address, host_stdin, host_stdout)
        except OSError:
            os.close(to_host)
            os.close(from_host)
            raise
        finally:
            os.close(host_stdin)
            os.close(host_stdout)
        self.stdin, self.stdout = os.fdopen(to_host, "w"), os.fdopen(from_host, "r")

    def _abandon_fork(self):
        """Kills a forked host that did not become ready and closes its pipes (the zygote reaps it)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
        for pipe in (getattr(self, "stdin", None), getattr(self, "stdout", None)):
            if pipe is not None:
                with contextlib.suppress(OSError, ValueError):
                    pipe.close()
        self.pid = self.stdin = self.stdout = None

    def run(self, exercise, pieces, limits):
        self._send({
            "exercise": exercise, "pieces": pieces,
            "time_limit": limits.exercise_seconds, "memory_limit": limits.exercise_memory_bytes,
        })
        return self._receive()

    def close(self):
        """Closes the host's input (its signal to end); kills it if it has not ended within 10 s."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.stdin.close()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            return
        if self.stdout.closed:
            return  # closed already
        self.stdin.close()
        # Not this process's child (the zygote reaps it): its end shows as the end of its output.
        ended = False
        with contextlib.suppress(OSError, ValueError):
            while select.select([self.stdout], [], [], 10)[0]:
                if not os.read(self.stdout.fileno(), 65536):
                    ended = True
                    break
        if not ended:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
        self.stdout.close()

    def _send(self, message):
        self.stdin.write(json.dumps(message) + "\n")
        self.stdin.flush()

    def _receive(self, timeout=None):
        if timeout is not None and not select.select([self.stdout], [], [], timeout)[0]:
            raise RuntimeError(f"the test host did not answer within {timeout} s")
        line = self.stdout.readline()
        if not line:
            code = self.process.poll() if self.process is not None else "unknown"
            raise RuntimeError(f"the test host stopped (exit code {code})")
        return json.loads(line)


def grade_submission(
    path, lesson, tests_source, limits=Limits(), student_key=None, execution=None, scratch=None, tests=None,
    zygote_address=None, kernel_zygote_address=None,
):
    """Grades the notebook at ``path`` for lesson ``lesson`` with the test set ``tests_source``; returns a ``Row``.

    ``tests``: the test set's ``HiddenTest``s (or ``(exercise, name, points)``
    triples), when the caller has loaded it already (loading it here imports
    TensorFlow). ``execution`` (a ``kernel.Execution`` of this very notebook)
    skips running it: the test suite shares one run of each course notebook
    this way. ``zygote_address``: the zygote that forks the test host
    (``ganlab.grading.zygote``); None means this process's own, started on
    first use; False, a host started as a process of its own.
    ``kernel_zygote_address``: the same for the notebook's kernel
    (``ganlab.grading.forked_kernel``).
    """
    from ganlab.grading.testing import HiddenTest, exercises_of, load_test_set

    path = Path(path)
    if tests is None:
        tests = load_test_set(tests_source, f"lesson_{lesson}")
    tests = [test if isinstance(test, HiddenTest) else HiddenTest(*test, None) for test in tests]
    maxima = exercises_of(tests)
    exercises = [ExerciseResult(name, maximum) for name, maximum in maxima.items()]
    try:
        submission = source_module.read_submission(path)
    except source_module.NotANotebook as error:
        for exercise in exercises:
            exercise.reason = "not a notebook"
        return Row(str(path), path.stem, exercises, f"not a notebook: {error}")
    student = source_module.student_name(path, submission, student_key)
    # Only a notebook with some written exercise needs the test host (an
    # untouched lesson is graded from its source alone).
    written = [name for name in maxima if submission.find(name) and not source_module.is_stub(submission.find(name)[1])]
    host = None
    if written:
        if zygote_address is None:
            zygote_address = zygote_module.shared_address()
        host = TestHost(tests_source, f"lesson_{lesson}", zygote_address)
    if not written and execution is None:
        # Nothing to test: running the notebook would change no point.
        for exercise in exercises:
            exercise.reason = _unwritten_reason(exercise.exercise, submission)
        return Row(str(path), student, exercises, "graded without running: no exercise is written")
    try:
        if execution is None:
            with tempfile.TemporaryDirectory(prefix="ganlab-submission-", dir=scratch) as folder:
                execution = run_notebook(submission.notebook, folder, limits, environment={"TMPDIR": folder},
                                         zygote_address=kernel_zygote_address)
        for exercise in exercises:
            _grade_exercise(exercise, submission, execution, host, limits, tests)
    finally:
        if host is not None:
            host.close()
    status = "graded"
    if execution.stop is not None:
        status = f"stopped at cell {execution.stop.cell}: {execution.stop.kind}"
    if execution.errors:
        cells = ", ".join(f"{cell} ({name})" for cell, name in execution.errors[:5])
        more = f" and {len(execution.errors) - 5} more" if len(execution.errors) > 5 else ""
        status += f"; errors in cells {cells}{more}"
    return Row(str(path), student, exercises, status, execution.seconds)


def _unwritten_reason(name, submission):
    """ "not found" (with the cell whose syntax error may hide it) or "not implemented"; None if written."""
    found = submission.find(name)
    if found is None:
        syntax = [f"cell {cell} ({message})" for cell, message in submission.unparsable
                  if name in submission.notebook.cells[cell].source]
        return "not found" + (f": syntax error in {syntax[0]}" if syntax else "")
    return "not implemented" if source_module.is_stub(found[1]) else None


def _grade_exercise(exercise, submission, execution, host, limits, all_tests):
    tests = [(test.name, test.points) for test in all_tests if test.exercise == exercise.exercise]
    found = submission.find(exercise.exercise)
    exercise.reason = _unwritten_reason(exercise.exercise, submission) or ""
    if not exercise.reason and not execution.reached(found[0].cell):
        exercise.reason = f"not reached: {execution.stop.message}"
    if exercise.reason:
        exercise.tests = [TestResult(name, points, 0.0, exercise.reason) for name, points in tests]
        return
    pieces = [
        {"cell": piece.cell, "padded": piece.padded(), "is_import": piece in submission.imports}
        for piece in submission.program(exercise.exercise)
    ]
    reply = host.run(exercise.exercise, pieces, limits)
    reported = {report["test"]: report for report in reply["tests"]}
    stopped_reported = False
    for name, points in tests:
        if name in reported:
            credit, message = reported[name]["credit"], reported[name]["message"]
        elif not stopped_reported:
            credit, message, stopped_reported = 0.0, reply["stopped"] or "did not finish", True
        else:
            credit, message = 0.0, "not run"
        exercise.tests.append(TestResult(name, points, round(points * credit, 2), message if credit < 1 else ""))
    exercise.earned = round(sum(test.earned for test in exercise.tests), 2)
    failed = [test for test in exercise.tests if test.earned < test.points]
    if failed and all(test.message == "not implemented" for test in failed) and exercise.earned == 0:
        exercise.reason = "not implemented"
    elif failed:
        exercise.reason = "; ".join(f"{test.name} ({test.message})" for test in failed if test.message != "not run")


def main():
    request = json.loads(sys.stdin.read())
    row = grade_submission(
        request["path"], request["lesson"], request["tests_source"], Limits(**request["limits"]),
        request.get("student_key"), scratch=request.get("scratch"), tests=request["tests"],
        zygote_address=request.get("zygote") or False, kernel_zygote_address=request.get("kernel_zygote") or False,
    )
    sys.stdout.write(json.dumps(row.to_json()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
