"""The test host: runs the hidden tests of one submission, each exercise in its own process.

``python -m ganlab.grading.host`` is started (or forked by ``ganlab.grading.zygote``) for each submission
*before* the student's notebook runs. It loads the test set (from the source
text the grader read when the batch started, not from disk) and imports
TensorFlow, Keras and ganlab once; then, for each exercise, it forks a child
process that

- puts itself in a new process group, with a memory limit (``RLIMIT_AS``) and
  a file-size limit, in a new empty folder, its output going nowhere;
- runs the exercise's program (the notebook's imports, constants and the
  definitions the exercise needs; see ``ganlab.grading.source``);
- runs the exercise's tests one by one, each with the time left (``SIGALRM``),
  and sends each result, as it is known, through a pipe to the host.

The host kills the child's process group when the exercise's time is up or
its memory (resident, polled) goes over the limit; the tests already reported
keep their credit, the one running is marked with the reason. It does the same
when the grader goes away mid-exercise (its input closes), and then ends.

Protocol, one JSON document per line: the grader writes ``{"name", "source"}``
then one ``{"exercise", "pieces", "time_limit", "memory_limit"}`` per exercise;
the host answers ``{"ready": [...]}`` and one result per exercise.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
import types

from ganlab.grading.testing import Failure, load_test_set

_POLL_SECONDS = 0.1


class _TimeLimit(BaseException):
    """Raised in a test by SIGALRM; a BaseException, so that ``except Exception`` in student code lets it through."""


def main():
    # The protocol's channel is a private copy of stdout; fd 1 itself goes to
    # /dev/null, so that nothing printed (TensorFlow, student code) can mix in.
    channel = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    request = json.loads(sys.stdin.readline())
    tests = load_test_set(request["source"], request["name"])
    import keras  # noqa: F401  (loaded once here, shared by every child)
    import tensorflow  # noqa: F401

    channel.write(json.dumps({"ready": [[test.exercise, test.name, test.points] for test in tests]}) + "\n")
    channel.flush()
    for line in sys.stdin:
        job = json.loads(line)
        result = run_exercise([test for test in tests if test.exercise == job["exercise"]], job, channel.fileno())
        channel.write(json.dumps(result) + "\n")
        channel.flush()


def run_exercise(tests, job, channel_fd):
    """Runs ``tests`` on the exercise in a forked child; returns ``{"tests": [...], "error": ...}``."""
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_fd)
            os.close(channel_fd)
            # The child's own clock stops its tests half a second before the host's.
            _child(tests, job, write_fd, started + job["time_limit"] - 0.5)
        finally:
            os._exit(0)
    try:
        os.setpgid(pid, pid)  # here too, so that a kill right after the fork reaches the group
    except (ProcessLookupError, PermissionError):
        pass
    os.close(write_fd)
    reports, buffer, stopped = [], b"", None
    deadline = started + job["time_limit"]
    while True:
        ready, _, _ = select.select([read_fd, 0], [], [], _POLL_SECONDS)
        if 0 in ready:
            # The grader waits for this result before it writes again: input now means
            # its end of the pipe closed (it was killed or timed out). Stop, do not finish.
            stopped = "the grader stopped"
            break
        if read_fd in ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            reports += [json.loads(line) for line in lines if line.strip()]
            if len(buffer) > 1_000_000:  # not a report: someone else is writing
                stopped = "wrote garbage into the grader's pipe"
                break
        if time.monotonic() > deadline:
            stopped = f"time limit ({job['time_limit']:g} s for the exercise)"
            break
        if _resident_bytes(pid) > job["memory_limit"]:
            stopped = f"memory limit ({job['memory_limit'] / 2**30:.1f} GiB)"
            break
    _kill_group(pid)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    if stopped is None:
        stopped = _describe_exit(status)
    return {"tests": reports, "stopped": stopped, "seconds": round(time.monotonic() - started, 2)}


def _child(tests, job, write_fd, deadline):
    try:
        os.setpgid(0, 0)
    except PermissionError:  # the host set it first
        pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    limit = _virtual_bytes() + job["memory_limit"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**30, 2**30))
    os.chdir(tempfile.mkdtemp(prefix="ganlab-grading-"))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)

    def report(**fields):
        os.write(write_fd, (json.dumps(fields) + "\n").encode())

    module = types.ModuleType("submission")
    sys.modules["submission"] = module
    setup_error = None
    for piece in job["pieces"]:
        try:
            exec(compile(piece["padded"], f"<cell {piece['cell']}>", "exec"), module.__dict__)
        except BaseException as error:  # noqa: BLE001 - anything the student's code raises
            if not piece["is_import"] and setup_error is None:
                setup_error = "your definitions cannot run on their own: " + describe_error(error)
    exercise = module.__dict__.get(job["exercise"])
    signal.signal(signal.SIGALRM, _raise_time_limit)
    for test in tests:
        if setup_error or exercise is None:
            report(test=test.name, credit=0.0, message=setup_error or "not found")
            continue
        signal.setitimer(signal.ITIMER_REAL, max(0.01, deadline - time.monotonic()))
        try:
            value = test.function(exercise)
            credit, message = (1.0, "") if value is None or value is True else (float(value), "partly right")
        except Failure as failure:
            credit, message = failure.credit, failure.message
        except _TimeLimit:
            credit, message = 0.0, f"time limit ({job['time_limit']:g} s for the exercise)"
        except NotImplementedError:
            credit, message = 0.0, "not implemented"
        except MemoryError:
            credit, message = 0.0, "ran out of memory"
        except BaseException as error:  # noqa: BLE001
            credit, message = 0.0, describe_error(error)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        report(test=test.name, credit=min(1.0, max(0.0, credit)), message=message)


def describe_error(error):
    """``"raised ValueError at line 4 of cell 12"``: the type and the student's line, never the message.

    The message is left out on purpose: it may quote a hidden test's inputs.
    """
    where = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename.startswith("<cell "):
            where = f" at line {line} of {frame.f_code.co_filename.strip('<>')}"
    return f"raised {type(error).__name__}{where}"


def _raise_time_limit(signum, frame):
    raise _TimeLimit()


def _virtual_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _resident_bytes(pid):
    """Resident memory of ``pid`` and its descendants (0 once gone)."""
    try:
        import psutil

        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except Exception:
        return 0


def _kill_group(pid):
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _describe_exit(status):
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"the test process was killed ({name})"
    if os.WEXITSTATUS(status) != 0:
        return f"the test process exited with code {os.WEXITSTATUS(status)}"
    return None


if __name__ == "__main__":
    main()
