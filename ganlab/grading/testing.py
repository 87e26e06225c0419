"""The format of a hidden test set, and the helpers its tests use.

A test set is one Python file per lesson, ``lesson_NN.py``, of small test
functions, each marked with the exercise it grades and its points::

    from ganlab.grading.testing import Failure, expect, hidden_test

    @hidden_test("generator_loss", points=2)
    def generator_loss_is_the_mean_over_any_batch_size(generator_loss):
        for size in (1, 3, 64):
            ...
            expect(abs(got - right) < 1e-5, "the loss must be a mean over the batch, whatever its size.")

- The function receives the student's object (function or class) of that name.
- Passing gives all its points; ``expect`` (or ``raise Failure(message)``) fails it
  with the message, which is what the student reads in the feedback (never the
  test's code or inputs); ``Failure(message, credit=0.5)`` or returning a number
  in [0, 1] gives partial credit.
- Any other exception raised by the student's code fails the test; the feedback
  names the exception's type and the line of the student's code, not its text
  (which may quote the test's inputs).
- The exercises of a lesson, and their order in the grade table, are those the
  tests name, in the order they first appear; an exercise's maximum is the sum
  of its tests' points.

``ganlab grade --tests DIR`` reads ``DIR/lesson_NN.py`` instead of the built-in
set of that lesson (``ganlab/grading/hidden/``); a private file can start with
``from ganlab.grading.hidden.lesson_01 import *`` to keep the public tests and
add its own.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import numpy as np

BUILT_IN_TESTS = Path(__file__).resolve().parent / "hidden"


class Failure(AssertionError):
    """A hidden test failed; ``message`` is shown to the student, ``credit`` (0 to 1) is kept."""

    def __init__(self, message, credit=0.0):
        super().__init__(message)
        self.message = message
        self.credit = float(credit)


@dataclasses.dataclass(frozen=True)
class HiddenTest:
    exercise: str
    points: float
    name: str
    function: object = dataclasses.field(compare=False, repr=False)


def hidden_test(exercise, points=1):
    """Marks a function as a hidden test of ``exercise`` worth ``points``."""
    if points <= 0:
        raise ValueError(f"a hidden test's points must be positive. Received: points={points}")

    def mark(function):
        function.hidden_test = HiddenTest(exercise, float(points), function.__name__, function)
        return function

    return mark


def expect(condition, message, credit=0.0):
    """Fails the test with ``message`` (shown to the student) unless ``condition`` holds."""
    if not condition:
        raise Failure(message, credit)


def expect_close(got, expected, message, rtol=1e-4, atol=1e-5):
    """Fails with ``message`` unless ``got`` has ``expected``'s shape and values (within tolerances)."""
    got = np.asarray(to_numpy(got), dtype="float64")
    expected = np.asarray(expected, dtype="float64")
    expect(got.shape == expected.shape, f"{message} (the shape is wrong)")
    expect(bool(np.all(np.isfinite(got))), f"{message} (NaN or infinite values)")
    expect(bool(np.allclose(got, expected, rtol=rtol, atol=atol)), message)


def expect_check_passes(check, function):
    """Fails with the check's problem and hint unless the notebook's own check (``ganlab.checks``) passes."""
    result = check(function, verbose=False)
    if result.passed:
        return
    if result.status == "not written":  # the check met a stub: the exercise is not implemented
        raise NotImplementedError(result.message)
    # The report's last ✗ item, wrapped over several lines, and its hint.
    lines = [line.strip() for line in str(result.message).splitlines() if line.strip()]
    starts = [index for index, line in enumerate(lines) if line.startswith("✗")]
    problem = lines[starts[-1]:] if starts else lines[-1:]
    problem[0:1] = [problem[0].lstrip("✗ ")] if problem else []
    raise Failure(" ".join(["the notebook's own check does not pass:", *problem]))


def to_numpy(value):
    """A NumPy array of a tensor, a variable or anything array-like."""
    if hasattr(value, "numpy") and callable(value.numpy):
        return np.asarray(value.numpy())
    try:
        from keras import ops

        return np.asarray(ops.convert_to_numpy(value))
    except Exception:
        return np.asarray(value)


def fraction(passed, total):
    """Partial credit: the share of cases passed, as a test's return value."""
    return passed / total if total else 1.0


def test_set_source(lesson, directory=None):
    """The source text of lesson ``lesson``'s test set ("01"), from ``directory`` or the built-in set."""
    folder = Path(directory) if directory else BUILT_IN_TESTS
    path = folder / f"lesson_{lesson}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no hidden tests for lesson {lesson}: {path} does not exist")
    return path.read_text(encoding="utf-8")


def load_test_set(source, name):
    """The ``HiddenTest``s defined by a test set's source, in the order of the file."""
    module = types.ModuleType(f"ganlab_hidden_tests_{name}")
    exec(compile(source, f"<hidden tests {name}>", "exec"), module.__dict__)
    tests = [value.hidden_test for value in vars(module).values() if isinstance(getattr(value, "hidden_test", None), HiddenTest)]
    if not tests:
        raise ValueError(f"the test set {name} defines no @hidden_test function")
    return tests


def exercises_of(tests):
    """``{exercise: maximum points}`` in the order the tests name them."""
    maxima = {}
    for test in tests:
        maxima[test.exercise] = maxima.get(test.exercise, 0.0) + test.points
    return maxima
