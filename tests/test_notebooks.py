"""Every course notebook runs end to end, solutions/ and lessons/ alike.

How the student notebooks (lessons/) are tested: their exercises are stubs that
raise ``NotImplementedError``, yet they must run without any error, because
every later cell goes through ``ganlab.checks``: the code after an exercise
uses the student's function when it works and the library's reference
otherwise (saying so), and check cells report what is wrong instead of
raising. So an error anywhere in a lesson is a real failure (a broken cell, a
missing import, a library change), never an unsolved exercise.

Each notebook runs in a fresh Jupyter kernel of this interpreter, the one
``ganlab grade`` uses (``ganlab.grading.kernel``), with the "fast" budget,
Comet offline, no network data, and the Agg matplotlib backend, in a
temporary folder (as in Colab, nothing may rely on the repository's files next
to the notebook). Each course notebook runs once per session (the
``executed_notebook`` fixture of conftest.py), shared with the grading tests.
The first cell that raised, timed out or killed the kernel fails the test,
which names the notebook, the cell (index and first line) and the error.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

from ganlab import lessons
from ganlab.grading.kernel import KERNEL_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = lessons.notebook_paths(ROOT)

# A guard against hangs, not a speed test: a fast-mode cell takes seconds.
CELL_TIMEOUT_SECONDS = 600
KERNEL_STARTUP_TIMEOUT_SECONDS = 120

# What every notebook's kernel sees: the fast budget, offline data, Comet offline, Agg
# (the grader's kernel environment: ganlab.grading.kernel.KERNEL_ENVIRONMENT).
NOTEBOOK_ENVIRONMENT = KERNEL_ENVIRONMENT

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def execute_notebook(path, working_directory, environment=None):
    """Run every cell of the notebook at ``path`` in a fresh kernel; return the executed notebook.

    The kernel is the one ``ganlab grade`` uses (``ganlab.grading.kernel``):
    this interpreter's, in ``working_directory``, with ``environment`` over the
    course's fast-mode variables.

    Raises:
        AssertionError: a cell raised, timed out or killed the kernel; the
            message names the notebook, the cell and the error, and where the
            executed notebook (with its outputs) was saved.
    """
    from ganlab.grading import kernel, source

    path = Path(path)
    limits = kernel.Limits(cell_seconds=CELL_TIMEOUT_SECONDS, notebook_seconds=3600, memory_bytes=8 * 2**30,
                           output_bytes=2**30, startup_seconds=KERNEL_STARTUP_TIMEOUT_SECONDS)
    execution = kernel.run_notebook(source.read_submission(path).notebook, working_directory, limits, environment)
    fail_on_error(path, execution, working_directory)
    return execution.notebook


def fail_on_error(path, execution, working_directory):
    """Raises an AssertionError naming the first cell that raised, timed out or killed the kernel, if any."""
    failures = [(cell, None) for cell, _ in execution.errors]
    if execution.stop is not None:
        failures.append((execution.stop.cell, execution.stop.message))
    if not failures:
        return
    cell, message = min(failures, key=lambda failure: failure[0])
    notebook = execution.notebook
    if message is None:
        error = next(output for output in notebook.cells[cell].outputs if output.get("output_type") == "error")
        message = "\n".join(error.get("traceback", [])) or f"{error.get('ename')}: {error.get('evalue')}"
    executed_copy = Path(working_directory) / f"executed_{path.name}"
    nbformat.write(notebook, executed_copy)
    raise AssertionError(
        f"{path.parent.name}/{path.name} failed at {lessons.describe_cell(notebook.cells[cell], cell)}:\n"
        f"{_ANSI_ESCAPE.sub('', message)}\n(the executed notebook is saved in {executed_copy})"
    )


def notebook_parameters():
    assert NOTEBOOKS, "solutions/ and lessons/ hold the course's notebooks"
    return [pytest.param(path, id=f"{path.parent.name}/{path.name}") for path in NOTEBOOKS]


def exercises_of(solution_path):
    """The exercise functions of a solutions notebook, in order."""
    solution = nbformat.read(solution_path, as_version=4)
    return [name for cell in solution.cells if cell.cell_type == "code" for name in lessons.exercise_names(cell.source)]


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_parameters())
def test_notebook_runs_end_to_end_in_fast_mode(path, executed_notebook):
    # One run per notebook and session, shared with the grading tests (tests/conftest.py).
    execution = executed_notebook(path)
    fail_on_error(path, execution, execution.folder)
    executed = execution.notebook
    printed = lessons.printed_lines(executed)
    name = f"{path.parent.name}/{path.name}"
    if path.parent.name == lessons.SOLUTIONS_FOLDER:
        # The solutions pass their own checks: no check reports a problem (✗)
        # and no cell falls back on ganlab's reference.
        complaints = [line for line in printed if line.startswith("✗") or "ganlab's reference" in line]
        assert complaints == [], f"{name}: the solution fails its own checks: {complaints}"
    else:
        # Every exercise is really a stub, and the notebook went on past it:
        # its check, or the fallback on the reference, said "not written".
        # A class exercise ("EqualizedDense.build", "EqualizedDense.call") is one
        # exercise: its check stops at the first stub it meets, naming it.
        exercises = exercises_of(ROOT / lessons.SOLUTIONS_FOLDER / path.name)
        exercises = list(dict.fromkeys(exercise.split(".")[0] for exercise in exercises))
        unreported = [
            exercise
            for exercise in exercises
            if not any(exercise in line and "not written" in line for line in printed)
        ]
        assert unreported == [], f"{name}: no cell reported these exercises as not written: {unreported}"


# ---------------------------------------------------------------------------
# The harness itself, on notebooks made here (a few seconds: one kernel each).


def test_kernel_is_this_interpreter_with_the_fast_mode_environment(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable)"),
        nbformat.v4.new_code_cell(
            "print(os.environ['GANLAB_FAST'], os.environ['MPLBACKEND'], repr(os.environ['COMET_API_KEY']))"
        ),
        nbformat.v4.new_code_cell("print(os.getcwd())"),
    ]
    nbformat.write(notebook, tmp_path / "probe.ipynb")
    executed = execute_notebook(tmp_path / "probe.ipynb", tmp_path, NOTEBOOK_ENVIRONMENT)
    printed = [cell.outputs[0].text.strip() for cell in executed.cells]
    assert printed == [sys.executable, "1 Agg ''", str(tmp_path)]


def test_an_error_in_a_later_cell_fails_naming_the_notebook_cell_and_error(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A lesson"),
        nbformat.v4.new_code_cell("def exercise():\n    raise NotImplementedError('Exercise: exercise')"),
        nbformat.v4.new_code_cell(
            "try:\n    exercise()\nexcept NotImplementedError:\n    print('using the reference')"
        ),
        nbformat.v4.new_code_cell("result = undefined_name + 1"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ]
    (tmp_path / "lessons").mkdir()
    nbformat.write(notebook, tmp_path / "lessons" / "09_broken.ipynb")
    with pytest.raises(AssertionError) as failure:
        execute_notebook(tmp_path / "lessons" / "09_broken.ipynb", tmp_path)
    message = str(failure.value)
    assert message.startswith('lessons/09_broken.ipynb failed at cell 3: "result = undefined_name + 1":')
    assert "NameError: name 'undefined_name' is not defined" in message
    assert (tmp_path / "executed_09_broken.ipynb").exists()
