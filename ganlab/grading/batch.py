"""Grading a batch: parallel workers, the grade table written as rows arrive, feedback files.

Each submission is graded by its own worker process (``python -m
ganlab.grading.worker``), at most ``jobs`` at a time. The grade table is
rewritten whole (to a temporary file, then renamed) after every submission,
from the rows this process holds: a batch that is killed keeps every row
written so far, and a notebook that writes into the table is overwritten by
the next row. A second run skips the submissions already in the table
unless ``regrade`` is set.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ganlab.grading import testing, zygote
from ganlab.grading.kernel import KERNEL_ENVIRONMENT, Limits
from ganlab.grading.worker import ExerciseResult, Row

FIXED_COLUMNS = ("student", "submission")
TRAILING_COLUMNS = ("total", "maximum", "status", "reasons")


def find_submissions(paths):
    """The files to grade: each file given, and every ``*.ipynb`` under each folder given (sorted).

    A path that does not exist is refused before anything is graded: it is a
    typo on the command line, not a student's submission.
    """
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"SUBMISSION {path} does not exist.")
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def grade(
    paths, lesson, out, feedback=None, jobs=None, tests_directory=None, regrade=False,
    limits=Limits(), student_key=None, progress=sys.stderr,
):
    """Grades every submission of ``paths`` for lesson ``lesson`` ("01"); returns the rows (a list of ``Row``).

    ``out`` is the CSV grade table; ``feedback`` a folder for one Markdown
    file per student; ``tests_directory`` a private test set that replaces
    the built-in one of the lesson.
    """
    lesson = f"{int(lesson):02d}"
    tests_source = testing.test_set_source(lesson, tests_directory)
    tests = testing.load_test_set(tests_source, f"lesson_{lesson}")
    maxima = testing.exercises_of(tests)
    submissions = find_submissions(paths)
    out = Path(out)
    columns = [*FIXED_COLUMNS, *maxima, *TRAILING_COLUMNS]
    kept = _read_table(out, columns)
    if regrade:  # the submissions given are graded again; the table's other rows stay
        given = {str(path) for path in submissions}
        kept = [row for row in kept if row["submission"] not in given]
    done = {row["submission"] for row in kept}
    to_grade = [path for path in submissions if str(path) not in done]
    # The request starts the zygote (a process that imports TensorFlow): only when there is work.
    request = _request(lesson, tests_source, tests, limits, student_key) if to_grade else None
    table = _Table(out, columns, kept)
    bar = _Progress(len(to_grade), progress, skipped=len(submissions) - len(to_grade))
    rows, feedback_names = [], set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = [pool.submit(_grade_in_worker, path, request, limits, maxima) for path in to_grade]
        for future in concurrent.futures.as_completed(futures):
            row = future.result()
            rows.append(row)
            table.add(row)
            if feedback:
                write_feedback(row, Path(feedback), lesson, taken=feedback_names)
            bar.advance()
    bar.finish()
    return rows


def grade_one(path, lesson, limits=Limits(), tests_directory=None, student_key=None):
    """One submission graded as the batch grades it (in a worker process); returns its ``Row``."""
    lesson = f"{int(lesson):02d}"
    tests_source = testing.test_set_source(lesson, tests_directory)
    tests = testing.load_test_set(tests_source, f"lesson_{lesson}")
    request = _request(lesson, tests_source, tests, limits, student_key)
    return _grade_in_worker(path, request, limits, testing.exercises_of(tests))


def _request(lesson, tests_source, tests, limits, student_key):
    """What each worker is told (``worker.main``), with the zygotes that fork the test hosts and the kernels."""
    kernel_environment = {**_worker_environment(), **KERNEL_ENVIRONMENT}
    return {
        "lesson": lesson, "tests_source": tests_source, "limits": limits.__dict__, "student_key": student_key,
        "tests": [[test.exercise, test.points, test.name] for test in tests],
        "zygote": zygote.shared_address(),
        "kernel_zygote": zygote.shared_address("kernel", kernel_environment),
    }


def _worker_environment():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _grade_in_worker(path, request, limits, maxima):
    """One submission, in a worker process with an overall time limit; never raises."""
    started = time.monotonic()
    overall = limits.startup_seconds + limits.notebook_seconds + len(maxima) * (limits.exercise_seconds + 15) + 60
    # Its own process group: on a timeout, the worker and its test host go together (the
    # kernel, in a session of its own, ends when it sees its parent gone).
    worker = subprocess.Popen(
        [sys.executable, "-m", "ganlab.grading.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=_worker_environment(), start_new_session=True,
    )
    try:
        stdout, stderr = worker.communicate(json.dumps({**request, "path": str(path)}), timeout=overall)
        if worker.returncode == 0:
            return Row.from_json(json.loads(stdout))
        status = f"grader error: worker exit code {worker.returncode}: {_last_line(stderr)}"
    except subprocess.TimeoutExpired:
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.communicate()
        status = f"grader error: no result within {overall:g} s"
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        status = f"grader error: unreadable result ({type(error).__name__})"
    exercises = [ExerciseResult(name, maximum, reason="not graded (grader error)") for name, maximum in maxima.items()]
    return Row(str(path), Path(path).stem, exercises, status, round(time.monotonic() - started, 2))


def _last_line(text):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


class _Table:
    """The CSV grade table, rewritten whole after each row."""

    def __init__(self, path, columns, kept_rows):
        self.path, self.columns, self.rows = path, columns, list(kept_rows)
        self.lock = threading.Lock()
        self._write()

    def add(self, row):
        with self.lock:
            self.rows.append(_csv_row(row))
            self._write()

    def _write(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(temporary, self.path)


def _csv_row(row):
    values = {"student": row.student, "submission": row.submission}
    values.update({exercise.exercise: _number(exercise.earned) for exercise in row.exercises})
    values.update(total=_number(row.total), maximum=_number(row.maximum), status=row.status, reasons=" ".join(row.reasons().split()))
    return values


def _number(value):
    return f"{value:g}"


def _read_table(path, columns):
    """The graded rows of an earlier run's table (none if there is no table).

    Raises:
        ValueError: the file exists but is not a grade table of these exercises
            (another lesson's, say): it is not overwritten.
    """
    if not Path(path).exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            if reader.fieldnames is None:  # empty
                return []
            if reader.fieldnames != columns:
                raise ValueError(f"{path} exists and is not a grade table of this lesson (its columns are "
                                 f"{reader.fieldnames}): give another --out, or remove it")
            return [row for row in reader if row.get("submission") and not row["status"].startswith("grader error")]
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValueError(f"{path} exists and is not a readable grade table ({error}): give another --out") from None


def write_feedback(row, folder, lesson, taken=None):
    """``folder/<student>.md``: points per exercise, each hidden test by name, points and its author's message.

    ``taken``: the file names written so far in this batch; a second student of
    the same name gets ``<student>_2.md``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Lesson {lesson}: feedback for {row.student}",
        "",
        f"**Total: {_number(row.total)} / {_number(row.maximum)}**" + ("" if row.status == "graded" else f" ({row.status})"),
        "",
    ]
    for exercise in row.exercises:
        lines += [f"## `{exercise.exercise}`: {_number(exercise.earned)} / {_number(exercise.maximum)}", ""]
        if exercise.reason in ("not found", "not implemented", "not a notebook") or not exercise.tests:
            lines += [f"{exercise.reason or 'not graded'}.", ""]
            continue
        for test in exercise.tests:
            mark = "✓" if test.earned >= test.points else "✗"
            detail = f": {test.message}" if test.message else ""
            lines.append(f"- {mark} {test.name.replace('_', ' ')} ({_number(test.earned)} / {_number(test.points)}){detail}")
        lines.append("")
    safe = "".join(character if character.isalnum() or character in "-_." else "_" for character in row.student)
    name, number = safe or "student", 1
    while taken is not None and name in taken:
        number += 1
        name = f"{safe or 'student'}_{number}"
    if taken is not None:
        taken.add(name)
    (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


class _Progress:
    """``[#####.....] 12/30 graded, 3 min 10 s left`` on stderr, one line per row when not a terminal."""

    def __init__(self, total, stream, skipped=0):
        self.total, self.stream, self.done = total, stream, 0
        self.started = time.monotonic()
        self.terminal = bool(stream) and hasattr(stream, "isatty") and stream.isatty()
        if stream and skipped:
            stream.write(f"{skipped} submission(s) already in the table: skipped (--regrade grades them again)\n")
        self._draw()

    def advance(self):
        self.done += 1
        self._draw()

    def finish(self):
        if self.stream and self.terminal:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self):
        if not self.stream or not self.total:
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        width = 30
        filled = int(width * self.done / self.total)
        eta = "estimating time left" if left is None else f"{_duration(left)} left"
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} graded, {eta}"
        if self.terminal:
            self.stream.write("\r" + line)
        elif self.done:
            self.stream.write(line + "\n")
        self.stream.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
