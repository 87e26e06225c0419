"""``ganlab grade``: exercises found by name, hidden tests, isolation, the grade table.

The full course notebooks run once per session (the ``executed_notebook``
fixture, shared with test_notebooks.py); everything else grades small
notebooks made here from a set-up cell and exercise cells, which is a
legitimate submission since the grader finds exercises by name.
"""

import ast
import csv
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ganlab import lessons
from ganlab.cli import main
from ganlab.grading import batch, kernel, source, testing, worker, zygote
from ganlab.grading.kernel import Limits

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ("01", "02", "03", "04", "05", "06")


def notebook_of(lesson, folder):
    return next((ROOT / folder).glob(f"{lesson}_*.ipynb"))


def small_notebook(lesson, *, broken=None, shuffle_seed=None, extra_cells=(), only=None):
    """A submission made of the solution's imports and exercise cells (optionally shuffled, one broken).

    ``broken``: source of a cell appended at the end, redefining one exercise
    wrongly (the last definition wins); ``extra_cells``: ``(position, source)``
    pairs inserted among the exercise cells; ``only``: the exercises kept.
    """
    solution = nbformat.read(notebook_of(lesson, "solutions"), as_version=4)
    imports, cells = [], []
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        imports += [ast.get_source_segment(cell.source, node) for node in tree.body
                    if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = [name.split(".")[0] for name in lessons.exercise_names(cell.source)]
        if names and (only is None or set(names) & set(only)):
            cells.append(cell.source)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(cells)
    for position, extra in extra_cells:
        cells.insert(position, extra)
    if broken:
        cells.append(broken)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in ["\n".join(dict.fromkeys(imports)), *cells]]
    if shuffle_seed is not None:  # stripped: no metadata, no ids, as some editors save
        raw = json.loads(nbformat.writes(notebook))
        raw["metadata"] = {}
        for cell in raw["cells"]:
            cell.pop("id", None)
            cell["metadata"] = {}
        raw["nbformat_minor"] = 4
        return json.dumps(raw)
    return nbformat.writes(notebook)


def grade_executed(path, lesson, execution):
    return worker.grade_submission(path, lesson, testing.test_set_source(lesson), execution=execution)


def before_students(table_text):
    return [row["student"] for row in csv.DictReader(table_text.splitlines())]


def points(row):
    return {exercise.exercise: exercise.earned for exercise in row.exercises}


# ---------------------------------------------------------------------------
# Finding exercises by name (no kernel).


def test_the_last_top_level_definition_of_a_name_wins_wherever_its_cell_is():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("def generator_loss(x):\n    return 2\n"),
        nbformat.v4.new_markdown_cell("def generator_loss(x): markdown does not count"),
        nbformat.v4.new_code_cell("%matplotlib inline\nSCALE = 3\n\ndef helper(x):\n    return SCALE * x\n"),
        nbformat.v4.new_code_cell("import numpy as np\ndef generator_loss(x):\n    return helper(x)\n"),
        nbformat.v4.new_code_cell("generator_loss = None  # an assignment is not a definition"),
    ]
    submission = source.parse_notebook(notebook)
    piece, _ = submission.find("generator_loss")
    assert (piece.cell, piece.line) == (3, 2)
    program = [p.code for p in submission.program("generator_loss")]
    assert program == ["import numpy as np", "SCALE = 3", "def helper(x):\n    return SCALE * x",
                       "def generator_loss(x):\n    return helper(x)"]
    namespace = {}
    for p in submission.program("generator_loss"):
        exec(compile(p.padded(), f"<cell {p.cell}>", "exec"), namespace)
    assert namespace["generator_loss"](2) == 6


def test_a_stub_is_not_implemented_and_a_syntax_error_is_reported_as_not_found(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('def generator_loss(x):\n    """Doc."""\n    # YOUR CODE HERE\n'
                                  '    raise NotImplementedError("Exercise: generator_loss")\n'),
        nbformat.v4.new_code_cell("def discriminator_loss(a, b)\n    return a"),
    ]
    path = tmp_path / "student.ipynb"
    nbformat.write(notebook, path)
    row = worker.grade_submission(path, "01", testing.test_set_source("01"))
    reasons = {exercise.exercise: exercise.reason for exercise in row.exercises}
    assert reasons["generator_loss"] == "not implemented"
    assert reasons["discriminator_loss"].startswith("not found: syntax error in cell 1")
    assert reasons["build_generator"] == "not found"
    assert row.total == 0 and row.status == "graded without running: no exercise is written"


# ---------------------------------------------------------------------------
# The course notebooks, each run once per session (shared with test_notebooks.py).


@pytest.fixture(scope="module")
def solution_row(executed_notebook):
    """``row(lesson)``: the solutions notebook's graded row, graded once per module."""
    rows = {}

    def row(lesson):
        if lesson not in rows:
            path = notebook_of(lesson, "solutions")
            rows[lesson] = grade_executed(path, lesson, executed_notebook(path))
        return rows[lesson]

    return row


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_get_full_marks_in_every_lesson(lesson, solution_row):
    row = solution_row(lesson)
    assert row.reasons() == "" and row.total == row.maximum > 0, row.reasons()
    assert row.status == "graded"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_lessons_get_zero_with_not_implemented(lesson, executed_notebook):
    path = notebook_of(lesson, "lessons")
    row = grade_executed(path, lesson, executed_notebook(path))
    assert row.total == 0 and row.maximum > 0
    assert {exercise.reason for exercise in row.exercises} == {"not implemented"}


# ---------------------------------------------------------------------------
# Small notebooks, graded as a batch would (one worker process each, two at a time).

BROKEN = {
    "01": "def discriminator_loss(real_logits, fake_logits):\n"
          "    return (ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))) / 2\n",
    "02": "def interpolate_latents(a, b, steps, method='linear'):\n"
          "    t = np.linspace(0.0, 1.0, steps, endpoint=False)[:, None]\n"
          "    return ((1 - t) * a + t * b).astype('float32')\n",
    "03": "def inception_score(probabilities):\n"
          "    marginal = probabilities.mean(axis=0, keepdims=True)\n"
          "    return float((xlogy(probabilities, probabilities) - xlogy(probabilities, marginal)).sum(axis=1).mean())\n",
    "04": "def pixel_norm(x, epsilon=1e-8):\n"
          "    return x * ops.rsqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + epsilon)\n",
    "05": "def truncated_normal(shape, truncation, seed=None):\n"
          "    return np.clip(np.random.default_rng(seed).standard_normal(shape), -truncation, truncation)"
          ".astype('float32')\n",
    "06": "def interpolate_embeddings(embedding_a, embedding_b, steps):\n"
          "    t = np.linspace(0.0, 1.0, steps)[:, None]\n"
          "    return (t * embedding_a[None] + (1 - t) * embedding_b[None]).astype('float32')\n",
}
BROKEN_EXERCISE = {lesson: ast.parse(code).body[0].name for lesson, code in BROKEN.items()}


@pytest.fixture(scope="module")
def broken_rows(tmp_path_factory):
    """Per lesson, a notebook of every exercise solved but one, graded by worker processes two at a time."""
    import concurrent.futures

    folder = tmp_path_factory.mktemp("broken")
    limits = Limits(cell_seconds=120, notebook_seconds=300, memory_bytes=4 * 2**30, exercise_seconds=120)
    paths = {}
    for lesson in LESSONS:
        paths[lesson] = folder / f"broken_{lesson}.ipynb"
        paths[lesson].write_text(small_notebook(lesson, broken=BROKEN[lesson]))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {lesson: pool.submit(batch.grade_one, path, lesson, limits) for lesson, path in paths.items()}
        return {lesson: future.result() for lesson, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_one_exercise_broken_on_purpose_loses_only_its_points(lesson, broken_rows):
    row = broken_rows[lesson]
    broken = BROKEN_EXERCISE[lesson]
    for exercise in row.exercises:
        if exercise.exercise == broken:
            assert exercise.earned < exercise.maximum and exercise.reason, exercise
        else:
            assert exercise.earned == exercise.maximum, (exercise.exercise, exercise.reason, row.status)


@pytest.mark.slow
def test_shuffled_cells_without_metadata_grade_the_same_as_the_solution(tmp_path, solution_row):
    path = tmp_path / "shuffled.ipynb"
    path.write_text(small_notebook("01", shuffle_seed=3))
    assert "metadata\": {}" in path.read_text() and "\"id\"" not in path.read_text()
    shuffled = batch.grade_one(path, "01", Limits(cell_seconds=120, notebook_seconds=300))
    assert points(shuffled) == points(solution_row("01"))
    assert shuffled.status == "graded"


def test_a_host_forked_by_the_zygote_grades_as_a_host_started_on_its_own(tmp_path):
    path = tmp_path / "broken_01.ipynb"
    path.write_text(small_notebook("01", broken=BROKEN["01"]))
    # Graded as if every cell had run: the hidden tests read the exercises from the source.
    execution = kernel.Execution(source.read_submission(path).notebook, [], None, 0.0, 0)
    tests_source = testing.test_set_source("01")
    started = zygote.Zygote()
    try:
        forked = worker.grade_submission(path, "01", tests_source, execution=execution,
                                         zygote_address=started.address)
        host = worker.TestHost(tests_source, "lesson_01", started.address)
        assert host.process is None and host.pid > 0  # forked, not started
        host.close()
    finally:
        started.close()
    assert started.process.returncode == 0 and not Path(started.folder).exists()  # ends when its input closes
    # A zygote that does not answer: the host is started as a process of its own.
    own = worker.grade_submission(path, "01", tests_source, execution=execution,
                                  zygote_address=str(tmp_path / "no_zygote_here"))
    assert [exercise.tests for exercise in forked.exercises] == [exercise.tests for exercise in own.exercises]
    broken = BROKEN_EXERCISE["01"]
    assert points(forked) == {name: (points(forked)[broken] if name == broken else maximum)
                              for name, maximum in MAXIMA.items()}
    assert points(forked)[broken] < MAXIMA[broken]


def test_a_forked_host_that_never_becomes_ready_is_killed_and_replaced_by_a_host_of_its_own(tmp_path, monkeypatch):
    import socket
    import threading

    # A stand-in zygote: it answers with the pid of a process that will never read
    # its pipes (a forked host stuck before "ready"), and keeps the pipes open.
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    address = str(tmp_path / "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(1)
    kept = []

    def answer():
        connection, _ = listener.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 16, 2)
            kept.extend(fds)
            connection.sendall(f"{stuck.pid}\n".encode())

    threading.Thread(target=answer, daemon=True).start()
    monkeypatch.setattr(worker, "FORKED_READY_SECONDS", 1)
    try:
        host = worker.TestHost(testing.test_set_source("01"), "lesson_01", address)
        try:
            assert host.process is not None  # started as a process of its own
            assert {exercise for exercise, _, _ in host.tests} == set(MAXIMA)
        finally:
            host.close()
        assert stuck.wait(timeout=10) == -signal.SIGKILL  # the stuck host was killed, not left behind
    finally:
        stuck.kill()
        listener.close()
        for fd in kept:
            os.close(fd)


# ---------------------------------------------------------------------------
# Notebook kernels forked by a kernel zygote (ganlab.grading.forked_kernel).

# What a kernel can tell of how it started: its parent, process group, folder, limits,
# environment, temporary folder, path and interpreter, and whether TensorFlow is loaded.
KERNEL_PROBE = (
    "import os, resource, sys, tempfile\n"
    "print(os.getppid(), os.getpgid(0) == os.getpid(), 'tensorflow' in sys.modules)",
    "print(os.getcwd(), resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_FSIZE)[0])",
    "print(os.environ['GANLAB_FAST'], os.environ['GANLAB_PROBE'], tempfile.gettempdir() == os.environ['TMPDIR'])",
    "print('' in sys.path, sys.path[1:] == [entry for entry in sys.path[1:] if 'zygote' not in entry], sys.executable)",
)


@pytest.fixture(scope="module")
def kernel_zygote():
    # This process's, for the grader's environment: the one the batches below use too.
    started = zygote.shared("kernel", {**os.environ, **kernel.KERNEL_ENVIRONMENT})
    assert started is not None, "the kernel zygote did not start"
    return started


def printed_by_cell(execution):
    return [cell.outputs[0]["text"].strip() if cell.outputs else None for cell in execution.notebook.cells]


def test_a_kernel_forked_by_the_zygote_runs_a_notebook_as_a_kernel_started_afresh(tmp_path, kernel_zygote):
    probe = nbformat.v4.new_notebook()
    probe.cells = [nbformat.v4.new_code_cell(code) for code in KERNEL_PROBE]
    limits = Limits(memory_bytes=2**31)
    printed = {}
    for name, address in (("forked", kernel_zygote.address), ("fresh", False)):
        folder = tmp_path / name
        folder.mkdir()
        execution = kernel.run_notebook(probe, folder, limits, {"TMPDIR": str(folder), "GANLAB_PROBE": name},
                                        zygote_address=address)
        assert execution.errors == [] and execution.stop is None
        printed[name] = printed_by_cell(execution)
    forked, fresh = printed["forked"], printed["fresh"]
    # The forked kernel is the zygote's child, with TensorFlow loaded; the fresh one, started
    # through the limits' wrapper (which becomes the kernel), is this process's, without it.
    assert forked[0] == f"{kernel_zygote.process.pid} True True"
    assert fresh[0] == f"{os.getpid()} True False"
    address_space = limits.address_space_bytes()
    assert forked[1:] == [f"{tmp_path / 'forked'} {address_space} {2**31}", "1 forked True", f"True True {sys.executable}"]
    assert fresh[1:] == [f"{tmp_path / 'fresh'} {address_space} {2**31}", "1 fresh True", f"True True {sys.executable}"]


def test_a_forked_kernel_is_stopped_at_its_time_limit_and_leaves_no_process(tmp_path, kernel_zygote):
    import psutil

    hang = nbformat.v4.new_notebook()
    hang.cells = [nbformat.v4.new_code_cell("import os\nprint(os.getpid())"), nbformat.v4.new_code_cell("while True:\n    pass")]
    execution = kernel.run_notebook(hang, tmp_path, Limits(cell_seconds=3), zygote_address=kernel_zygote.address)
    assert (execution.stop.cell, execution.stop.kind) == (1, "cell time limit")
    assert_ends(psutil, int(printed_by_cell(execution)[0]))


def test_a_forked_kernel_ends_when_its_grader_closes_the_request(tmp_path, kernel_zygote):
    import psutil
    from jupyter_client.connect import write_connection_file

    connection_file, _ = write_connection_file(str(tmp_path / "kernel.json"))
    environment = {**os.environ, **kernel.KERNEL_ENVIRONMENT}
    limits = (Limits().address_space_bytes(), 2**31)
    with open(os.devnull, "wb") as devnull:
        pid, connection = zygote.fork_kernel(kernel_zygote.address, ["-f", connection_file], tmp_path, environment,
                                             limits, devnull.fileno(), devnull.fileno())
        forked = psutil.Process(pid)
        assert forked.ppid() == kernel_zygote.process.pid and forked.is_running()
        connection.close()  # what a grader killed mid-notebook leaves behind
        assert_ends(psutil, pid)
        # A variable read at import time that differs from the zygote's: refused (its libraries
        # were imported without it); the grader then starts the kernel afresh.
        with pytest.raises(OSError, match="another environment"):
            zygote.fork_kernel(kernel_zygote.address, ["-f", connection_file], tmp_path,
                               {**environment, "MPLBACKEND": "pdf"}, limits, devnull.fileno(), devnull.fileno())


def test_only_variables_read_at_import_time_tie_a_kernel_to_its_zygote():
    environment = {"MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/bin", "GANLAB_FAST": "1",
                   "COMET_API_KEY": "", "TMPDIR": "/scratch", "JPY_PARENT_PID": "9", "TF_NUM_INTRAOP_THREADS": "1"}
    assert zygote.import_time_environment(environment) == {"MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/bin"}
    with pytest.raises(ValueError, match="kind must be one of \\['host', 'kernel'\\], not 'kernal'"):
        zygote.Zygote("kernal")


def test_a_message_whose_wake_up_was_missed_is_read_within_a_slice_not_at_the_cell_time_limit():
    import asyncio
    import queue

    class Channel:
        """A channel whose first wait misses the message already there, as jupyter_client's can."""

        def __init__(self, misses):
            self.misses, self.waits = misses, []

        async def get_msg(self, timeout=None):
            self.waits.append(timeout)
            await asyncio.sleep(timeout)  # the wait lasts its whole time-out, then looks again
            if len(self.waits) <= self.misses:
                raise queue.Empty
            return {"msg_type": "execute_reply"}

    missed = Channel(misses=1)
    kernel._poll_in_slices(missed, slice_seconds=0.05)
    assert asyncio.run(missed.get_msg(timeout=600)) == {"msg_type": "execute_reply"}
    assert missed.waits == [0.05, 0.05]  # two slices, not one wait of the cell's 600 s
    # Nothing comes: the caller's time-out still holds, and still ends in queue.Empty.
    silent = Channel(misses=10**6)
    kernel._poll_in_slices(silent, slice_seconds=0.05)
    with pytest.raises(queue.Empty):
        asyncio.run(silent.get_msg(timeout=0.3))
    assert len(silent.waits) >= 2 and all(wait <= 0.05 for wait in silent.waits)


def assert_ends(psutil, pid, seconds=10):
    """The process ``pid`` ends (or is a zombie the zygote is about to collect) within ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    pytest.fail(f"process {pid} still runs after {seconds} s")


def test_a_host_stops_an_exercise_and_ends_when_its_grader_goes_away():
    import threading
    import time

    hang = "def generator_loss(fake_logits):\n    while True:\n        pass\n"
    host = worker.TestHost(testing.test_set_source("01"), "lesson_01", zygote.shared_address())
    replies = []
    running = threading.Thread(target=lambda: replies.append(host.run(
        "generator_loss", [{"cell": 1, "padded": hang, "is_import": False}], Limits(exercise_seconds=60))))
    started = time.monotonic()
    running.start()
    time.sleep(1)
    host.stdin.close()  # what a grader killed mid-exercise leaves behind
    running.join(timeout=30)
    assert replies and replies[0]["stopped"] == "the grader stopped"
    assert time.monotonic() - started < 30  # not the exercise's 60 s
    assert host.stdout.read() == ""  # then the host ended: its output closed


# ---------------------------------------------------------------------------
# Robustness: every bad submission costs only its own row, within the limits.

# An exercise's hidden tests here call a loss on a few logits (Keras is loaded in the test host
# already): well under a second, so 6 s is ample, and the exercise that hangs burns no more.
ROBUSTNESS_LIMITS = Limits(cell_seconds=8, notebook_seconds=60, memory_bytes=2**30,
                           exercise_seconds=6, exercise_memory_bytes=2**30)
MAXIMA = testing.exercises_of(testing.load_test_set(testing.test_set_source("01"), "lesson_01"))

# The two losses of lesson 01, importing Keras when called: the kernel of these
# small notebooks never loads TensorFlow, so each costs a second or two.
DISCRIMINATOR_LOSS = (
    "def discriminator_loss(real_logits, fake_logits):\n"
    "    from keras import ops\n"
    "    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))\n"
)
GENERATOR_LOSS = (
    "def generator_loss(fake_logits):\n"
    "    from keras import ops\n"
    "    return ops.mean(ops.softplus(-fake_logits))\n"
)

# Each is cell 2 of its notebook, between discriminator_loss's cell and generator_loss's.
BAD_CELLS = {
    "hang": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(10**6)",
    "memory_hog": "blocks = []\nwhile True:\n    blocks.append(np.ones(10**8))",
    "kernel_kill": "import os\nos.kill(os.getpid(), 9)",
    "huge_output": "for _ in range(200):\n    print('x' * 50_000)",
    "raises_and_missing_module": "import module_that_does_not_exist\nraise RuntimeError('at import')",
}


def losses_notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in ("import numpy as np", *cells)]
    return nbformat.writes(notebook)


@pytest.fixture(scope="module")
def robustness_batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("robustness")
    submissions = folder / "submissions"
    submissions.mkdir()
    out = folder / "grades.csv"
    private = folder / "private_tests"
    private.mkdir()
    (private / "lesson_01.py").write_text(testing.test_set_source("01"))
    for name, bad in BAD_CELLS.items():
        (submissions / f"{name}.ipynb").write_text(losses_notebook(DISCRIMINATOR_LOSS, bad, GENERATOR_LOSS))
    # Deletes what it can find and writes outside its folder: the grade table, the private tests.
    vandal = (
        f"from pathlib import Path\n"
        f"Path({str(out)!r}).write_text('student\\nvandal,22\\n')\n"
        f"Path({str(private / 'lesson_01.py')!r}).write_text('from ganlab.grading.testing import hidden_test\\n"
        f"@hidden_test(\"generator_loss\", points=100)\\ndef free(f):\\n    pass\\n')\n"
        f"for notebook in Path('.').glob('*.ipynb'):\n    notebook.unlink()\n"
    )
    (submissions / "vandal.ipynb").write_text(losses_notebook(vandal, GENERATOR_LOSS))
    # Exercises that hang or eat memory when the hidden tests call them.
    for name, body in (("exercise_hang", "while True:\n        pass"), ("exercise_memory_hog", "return np.ones(10**11)")):
        (submissions / f"{name}.ipynb").write_text(
            losses_notebook(DISCRIMINATOR_LOSS, f"def generator_loss(fake_logits):\n    {body}\n"))
    (submissions / "text.ipynb").write_text("my homework is in the other file")
    (submissions / "list.ipynb").write_text("[1, 2, 3]")
    rows = batch.grade([submissions], "01", out, feedback=folder / "feedback", jobs=2, tests_directory=private,
                       limits=ROBUSTNESS_LIMITS, progress=None)
    with open(out, newline="") as file:
        table = {row["student"]: row for row in csv.DictReader(file)}
    return {row.student: row for row in rows}, table, folder


@pytest.mark.slow
@pytest.mark.parametrize("name,kind", [("hang", "cell time limit"), ("sleep", "cell time limit"),
                                       ("memory_hog", "memory limit"), ("kernel_kill", "kernel died")])
def test_a_notebook_that_stops_costs_only_the_exercises_after_it(name, kind, robustness_batch):
    rows, table, _ = robustness_batch
    row = rows[name]
    assert row.status == f"stopped at cell 2: {kind}"
    assert points(row)["discriminator_loss"] == MAXIMA["discriminator_loss"]  # before the bad cell: graded
    assert row.exercises[3].reason.startswith("not reached")  # generator_loss, after it
    assert row.seconds < ROBUSTNESS_LIMITS.notebook_seconds
    assert table[name]["status"] == row.status


@pytest.mark.slow
@pytest.mark.parametrize("name,reason", [("exercise_hang", "time limit (6 s for the exercise)"),
                                         ("exercise_memory_hog", "ran out of memory")])
def test_an_exercise_that_hangs_or_eats_memory_costs_only_that_exercise(name, reason, robustness_batch):
    rows, _, _ = robustness_batch
    row = rows[name]
    assert row.status == "graded"
    assert points(row)["discriminator_loss"] == MAXIMA["discriminator_loss"]
    generator_loss = row.exercises[3]
    assert generator_loss.earned == 0 and reason in generator_loss.reason


@pytest.mark.slow
def test_huge_output_errors_and_missing_modules_cost_nothing(robustness_batch):
    rows, _, _ = robustness_batch
    assert rows["huge_output"].status == "graded"
    assert points(rows["huge_output"])["generator_loss"] == MAXIMA["generator_loss"]
    raised = rows["raises_and_missing_module"]
    assert raised.status == "graded; errors in cells 2 (ModuleNotFoundError)"
    assert points(raised)["discriminator_loss"] == MAXIMA["discriminator_loss"]
    assert points(raised)["generator_loss"] == MAXIMA["generator_loss"]


@pytest.mark.slow
def test_not_a_notebook_gets_a_row_of_zeros_with_the_reason(robustness_batch):
    rows, table, _ = robustness_batch
    assert rows["text"].status.startswith("not a notebook: not JSON")
    assert rows["list"].status == "not a notebook: JSON without a list of cells"
    assert table["text"]["total"] == "0" and float(table["text"]["maximum"]) == sum(MAXIMA.values())


@pytest.mark.slow
def test_writing_outside_the_scratch_folder_changes_no_grade(robustness_batch):
    rows, table, folder = robustness_batch
    assert len(table) == len(BAD_CELLS) + 5  # the table the vandal overwrote is whole again
    # Not the 100 points of the tests it wrote over the private set while the batch ran.
    assert float(table["vandal"]["generator_loss"]) == MAXIMA["generator_loss"]
    assert float(table["vandal"]["maximum"]) == sum(MAXIMA.values())


@pytest.mark.slow
def test_feedback_names_each_hidden_test_with_points_and_message_but_no_code(robustness_batch):
    _, _, folder = robustness_batch
    feedback = (folder / "feedback" / "huge_output.md").read_text()
    assert f"## `generator_loss`: {MAXIMA['generator_loss']:g} / {MAXIMA['generator_loss']:g}" in feedback
    assert "- ✓ generator loss is exact for confident logits (1 / 1)" in feedback
    assert f"## `build_generator`: 0 / {MAXIMA['build_generator']:g}\n\nnot found." in feedback
    hidden_code = testing.test_set_source("01")
    assert "np.array([[-30.0]" in hidden_code and "-30" not in feedback and "def " not in feedback


@pytest.mark.slow
def test_the_cli_skips_graded_rows_unless_regrade(robustness_batch, capsys, monkeypatch):
    _, _, folder = robustness_batch
    out = folder / "grades.csv"
    before = out.read_text()
    with monkeypatch.context() as patch:
        # Nothing to grade starts no zygote (a process importing TensorFlow).
        patch.setattr(zygote, "shared_address", lambda: pytest.fail("a zygote was asked for with nothing to grade"))
        assert main(["grade", str(folder / "submissions"), "--lesson", "1", "--out", str(out)]) == 0
    assert out.read_text() == before  # every submission was in the table already
    assert "0 submission(s) graded" in capsys.readouterr().out
    assert main(["grade", str(folder / "submissions" / "text.ipynb"), "--lesson", "01", "--out", str(out),
                 "--regrade"]) == 0
    with open(out, newline="") as file:
        students = [row["student"] for row in csv.DictReader(file)]
    assert sorted(students) == sorted(before_students(before)) and students[-1] == "text"  # graded again, last
    with pytest.raises(SystemExit):
        main(["grade", str(out), "--lesson", "01", "--out", str(out), "--tests", str(folder / "no_such_folder")])


def test_a_table_of_another_lesson_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "grades.csv"
    out.write_text("student,submission,pixel_norm,total,maximum,status,reasons\nann,a.ipynb,4,4,4,graded,\n")
    (tmp_path / "text.ipynb").write_text("not a notebook")
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(tmp_path / "text.ipynb"), "--lesson", "01", "--out", str(out)])
    assert exit_.value.code == 2
    assert "is not a grade table of this lesson" in capsys.readouterr().err
    assert out.read_text().startswith("student,submission,pixel_norm")
