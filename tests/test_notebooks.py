"""Every course notebook runs end to end, solutions/ and lessons/ alike.

How the student notebooks (lessons/) are tested: their exercises are stubs that
raise ``NotImplementedError``, yet they must run without any error, because
every later cell goes through ``ganlab.checks``: the code after an exercise
uses the student's function when it works and the library's reference
otherwise (saying so), and check cells report what is wrong instead of
raising. So an error anywhere in a lesson is a real failure (a broken cell, a
missing import, a library change), never an unsolved exercise.

Each notebook runs in a fresh Jupyter kernel of this interpreter (nbclient),
with the "fast" budget, Comet offline, no network data, and the Agg
matplotlib backend, in a temporary folder (as in Colab, nothing may rely on
the repository's files next to the notebook). The first error stops the run
and the test names the notebook, the cell (index and first line) and the
error.
"""

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from ganlab import lessons

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = lessons.notebook_paths(ROOT)

# A guard against hangs, not a speed test: a fast-mode cell takes seconds.
CELL_TIMEOUT_SECONDS = 600
KERNEL_STARTUP_TIMEOUT_SECONDS = 120

NOTEBOOK_ENVIRONMENT = {
    "GANLAB_FAST": "1",
    "GANLAB_BUDGET": "fast",  # GANLAB_BUDGET wins over GANLAB_FAST: pin it too
    "GANLAB_OFFLINE": "1",  # data from what ships offline; never wait on a download
    "COMET_API_KEY": "",  # no key, even from ~/.comet.config: Comet logs offline
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiets the kernel's debugger warning
}

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CurrentInterpreterKernelSpecs(KernelSpecManager):
    """Every kernel name means an IPython kernel of the interpreter running pytest.

    An installed "python3" kernel spec may belong to another Python (another
    virtual environment); the notebooks must test the ganlab installed here.
    """

    def get_kernel_spec(self, kernel_name):
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


def execute_notebook(path, working_directory, environment=None):
    """Run every cell of the notebook at ``path`` in a fresh kernel; return the executed notebook.

    Args:
        path: the notebook.
        working_directory: the kernel's current folder.
        environment: variables to set in the kernel, over ``os.environ``.

    Raises:
        AssertionError: a cell raised, timed out or killed the kernel; the
            message names the notebook, the cell and the error, and where the
            executed notebook (with its outputs) was saved.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    kernel_manager = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=CurrentInterpreterKernelSpecs())
    client = NotebookClient(
        notebook,
        km=kernel_manager,
        timeout=CELL_TIMEOUT_SECONDS,
        startup_timeout=KERNEL_STARTUP_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(working_directory)}},
    )
    started = []  # indexes of the cells sent to the kernel, the failing one last
    client.on_cell_execute = lambda cell, cell_index: started.append(cell_index)
    try:
        # cleanup_kc: shut the kernel down at the end (nbclient keeps kernels it did not create).
        client.execute(cleanup_kc=True, env={**os.environ, **(environment or {})})
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        where = lessons.describe_cell(notebook.cells[started[-1]], started[-1]) if started else "the kernel's start"
        executed_copy = Path(working_directory) / f"executed_{path.name}"
        nbformat.write(notebook, executed_copy)
        raise AssertionError(
            f"{path.parent.name}/{path.name} failed at {where}:\n"
            f"{_ANSI_ESCAPE.sub('', str(error))}\n(the executed notebook is saved in {executed_copy})"
        ) from None
    return notebook


def notebook_parameters():
    if not NOTEBOOKS:
        return [pytest.param(None, marks=pytest.mark.skip(reason="solutions/ and lessons/ hold no notebook yet"))]
    return [pytest.param(path, id=f"{path.parent.name}/{path.name}") for path in NOTEBOOKS]


def printed_lines(notebook):
    """Every line the notebook printed (stream outputs), stripped."""
    return [
        line.strip()
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in output.get("text", "").splitlines()
    ]


def exercises_of(solution_path):
    """The exercise functions of a solutions notebook, in order."""
    solution = nbformat.read(solution_path, as_version=4)
    return [name for cell in solution.cells if cell.cell_type == "code" for name in lessons.exercise_names(cell.source)]


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_parameters())
def test_notebook_runs_end_to_end_in_fast_mode(path, tmp_path):
    executed = execute_notebook(path, tmp_path, NOTEBOOK_ENVIRONMENT)
    printed = printed_lines(executed)
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
