"""The Colab GPU path, on a CPU: the lessons' set-up cells as a Colab session runs them.

On a Colab GPU two things differ from a laptop:

- the set-up cell installs the course with pip (``GANLAB_INSTALL_FROM`` points
  that install at a local copy here, in a fresh virtual environment);
- lessons 01 and 02 train in ``mixed_float16`` (``ganlab.precision.lesson_policy``),
  where a train step must scale its loss (``optimizer.scale_loss``).
  ``GANLAB_SIMULATE_GPU=1`` takes that branch on a CPU, which emulates float16.
  Lessons 04 and 05 keep float32 on every device (their set-up cells say why),
  so their Colab path is the float32 path ``tests/test_notebooks.py`` runs.

"Learning matches float32" is measured on the training log each lesson writes
(``runs/NN_name/metrics.csv``): the same logged steps, every loss finite, and
the mean D and G losses over the run within 10% of the float32 run's (float16
rounding changes every step a little; a step that lost its gradients to
underflow, or divided them by the loss scale twice, barely learns and moves
these means far more).
"""

import csv
import math
import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from ganlab import lessons, precision
from test_notebooks import fail_on_error

ROOT = Path(__file__).resolve().parent.parent
SIMULATED_GPU = {precision.SIMULATE_GPU_VARIABLE: "1"}
MIXED_PRECISION_LESSONS = {"01_vanilla_gan.ipynb": "runs/01_vanilla_gan", "02_dcgan.ipynb": "runs/02_dcgan"}


def training_log(folder):
    with open(Path(folder) / "metrics.csv", newline="") as log:
        return list(csv.DictReader(log))


def mean_of(rows, column):
    return sum(float(row[column]) for row in rows) / len(rows)


@pytest.mark.slow
@pytest.mark.notebook_environment(SIMULATED_GPU)
@pytest.mark.parametrize("name", sorted(MIXED_PRECISION_LESSONS))
def test_a_lesson_on_a_simulated_colab_gpu_trains_in_mixed_float16_as_float32_does(name, executed_notebook, notebook_runner):
    path = ROOT / lessons.SOLUTIONS_FOLDER / name
    simulated = notebook_runner.get(path, SIMULATED_GPU)
    fail_on_error(path, simulated, simulated.folder)
    printed = lessons.printed_lines(simulated.notebook)
    assert any("precision: mixed_float16" in line for line in printed), "the set-up cell did not take the GPU's policy"
    assert [line for line in printed if line.startswith("✗") or "ganlab's reference" in line] == []

    mixed = training_log(simulated.folder / MIXED_PRECISION_LESSONS[name])
    plain = training_log(executed_notebook(path).folder / MIXED_PRECISION_LESSONS[name])
    assert [row["step"] for row in mixed] == [row["step"] for row in plain] != []
    for column in ("d_loss", "g_loss"):
        assert all(math.isfinite(float(row[column])) for row in mixed), column
        ratio = mean_of(mixed, column) / mean_of(plain, column)
        assert 0.9 <= ratio <= 1.1, f"{column}: mean {mean_of(mixed, column):.4f} in mixed_float16, {mean_of(plain, column):.4f} in float32"


@pytest.mark.slow
def test_the_colab_set_up_cell_installs_the_course_into_a_fresh_environment_and_the_notebook_imports_it(tmp_path):
    # A wheel of this checkout stands in for the GitHub address. The virtual environment sees
    # the machine's packages (TensorFlow and the rest: nothing to download) but not the course,
    # which only the set-up cell installs into it.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir",
         str(tmp_path / "wheel"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next((tmp_path / "wheel").glob("ganlab-*.whl"))
    venv.create(tmp_path / "colab", system_site_packages=True, with_pip=False)
    python = tmp_path / "colab" / "bin" / "python"
    notebook = nbformat.read(ROOT / lessons.LESSONS_FOLDER / "01_vanilla_gan.ipynb", as_version=4)
    setup_cell = next(cell.source for cell in notebook.cells if cell.source.startswith(lessons.SETUP_CELL_FIRST_LINE))
    program = f"{setup_cell}\nimport ganlab\nprint(ganlab.__file__)\nprint(ganlab.precision.lesson_policy())"
    environment = {
        **os.environ, "GANLAB_INSTALL_FROM": str(wheel), "PIP_NO_INDEX": "1", "PYTHONPATH": "",
        "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "",
    }
    environment.pop(precision.SIMULATE_GPU_VARIABLE, None)
    # Outside ROOT, so that `import ganlab` cannot find this checkout's folder.
    result = subprocess.run([str(python), "-c", program], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env=environment)

    assert result.returncode == 0, result.stderr[-3000:]
    installed_at, policy = result.stdout.strip().splitlines()[-2:]
    assert Path(installed_at).is_relative_to(tmp_path / "colab" / "lib"), installed_at
    assert policy == "float32"
