"""The lesson pipeline: solutions/ is the single source of lessons/ (``ganlab.lessons``).

Most tests build a tiny course in ``tmp_path`` with nbformat; the last ones
check the committed solutions/ and lessons/ of this repository.
"""

import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ganlab import lessons

ROOT = Path(__file__).resolve().parent.parent

SOLVED_LOSS = '''\
def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of D: real images are 1, fakes are 0."""
    ### BEGIN SOLUTION
    real_loss = bce(ones_like(real_logits), real_logits)
    fake_loss = bce(zeros_like(fake_logits), fake_logits)
    return real_loss + fake_loss
    ### END SOLUTION

print("defined")'''

STUBBED_LOSS = '''\
def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of D: real images are 1, fakes are 0."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise: discriminator_loss — see the instructions above")

print("defined")'''

BADGE_OF_ANOTHER_REPOSITORY = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/someone/else/blob/main/solutions/01_tiny.ipynb)"
)


def make_course(root, cells=None, name="01_tiny.ipynb"):
    """A course folder with one solutions notebook (nothing built yet); returns the notebook's path."""
    notebook = new_notebook()
    notebook.cells = cells if cells is not None else [
        new_markdown_cell("# Tiny lesson\n\nWrite `discriminator_loss`."),
        new_code_cell("import math"),
        new_code_cell(SOLVED_LOSS),
        new_markdown_cell("## Check"),
        new_code_cell("print(discriminator_loss(0.0, 0.0))"),
    ]
    (root / "solutions").mkdir(exist_ok=True)
    path = root / "solutions" / name
    nbformat.write(notebook, path)
    return path


def read(path):
    return nbformat.read(path, as_version=4)


def sources(path):
    return [cell.source for cell in read(path).cells]


# ---------------------------------------------------------------------------
# Stubs.


def test_stub_replaces_a_region_with_a_raise_at_the_region_indentation():
    assert lessons.stub_exercises(SOLVED_LOSS) == STUBBED_LOSS


def test_stub_names_class_and_method_through_a_multi_line_signature_and_blocks():
    source = (
        "class Critic:\n"
        "    def score(\n"
        "        self,\n"
        "        images,\n"
        "    ):\n"
        "        if images is not None:\n"
        "            ### BEGIN SOLUTION\n"
        "            return 1\n"
        "            ### END SOLUTION\n"
        "        return 0"
    )
    assert lessons.stub_exercises(source) == (
        "class Critic:\n"
        "    def score(\n"
        "        self,\n"
        "        images,\n"
        "    ):\n"
        "        if images is not None:\n"
        "            # YOUR CODE HERE\n"
        '            raise NotImplementedError("Exercise: Critic.score — see the instructions above")\n'
        "        return 0"
    )


def test_stub_of_a_top_level_region_is_named_by_the_function_it_defines():
    source = "### BEGIN SOLUTION\ndef helper():\n    return 2\n### END SOLUTION"
    assert lessons.stub_exercises(source) == (
        '# YOUR CODE HERE\nraise NotImplementedError("Exercise: helper — see the instructions above")'
    )


def test_stub_without_a_function_says_exercise_without_a_name():
    source = "### BEGIN SOLUTION\nsteps = 10\n### END SOLUTION"
    assert lessons.stub_exercises(source) == (
        '# YOUR CODE HERE\nraise NotImplementedError("Exercise: see the instructions above")'
    )


def test_stub_replaces_every_region_of_a_cell_and_keeps_the_lines_between():
    source = (
        "def first():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n"
        "def second():\n  ### BEGIN SOLUTION\n  return 2\n  ### END SOLUTION"
    )
    assert lessons.stub_exercises(source) == (
        "def first():\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Exercise: first — see the instructions above")\n\n'
        "def second():\n"
        "  # YOUR CODE HERE\n"
        '  raise NotImplementedError("Exercise: second — see the instructions above")'
    )


def test_stub_of_a_cell_without_regions_is_the_cell_itself():
    source = "x = 1\n# ### BEGIN SOLUTION is only a marker on a line of its own\n"
    assert lessons.stub_exercises(source) == source


def test_stub_raises_value_error_for_begin_without_end():
    with pytest.raises(ValueError, match=r"my cell: '### BEGIN SOLUTION' on line 2 has no '### END SOLUTION'"):
        lessons.stub_exercises("def f():\n    ### BEGIN SOLUTION\n    return 1", where="my cell")


def test_stub_raises_value_error_for_end_without_begin_and_for_nested_regions():
    with pytest.raises(ValueError, match=r"line 2 has '### END SOLUTION' without"):
        lessons.stub_exercises("x = 1\n### END SOLUTION")
    with pytest.raises(ValueError, match=r"line 2 opens .* inside the one opened on line 1"):
        lessons.stub_exercises("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION")


def test_exercise_names_lists_the_functions_of_a_cell_in_order():
    source = SOLVED_LOSS + (
        "\n\ndef generator_loss(fake_logits):\n    ### BEGIN SOLUTION\n    return 0\n    ### END SOLUTION"
    )
    assert lessons.exercise_names(source) == ["discriminator_loss", "generator_loss"]


def test_describe_cell_gives_index_exercise_and_first_line():
    assert lessons.describe_cell(new_code_cell(SOLVED_LOSS), 4) == (
        'cell 4 (exercise discriminator_loss): "def discriminator_loss(real_logits, fake_logits):"'
    )
    assert lessons.describe_cell(new_markdown_cell("\n## Check\nmore"), 0) == 'cell 0: "## Check"'


# ---------------------------------------------------------------------------
# The Colab cells.


def test_badge_links_each_folder_to_its_own_copy_on_colab(monkeypatch):
    monkeypatch.setattr(lessons, "COURSE_REPOSITORY", "owner/course")
    assert lessons.badge_cell_source("lessons/01_vanilla_gan.ipynb") == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/owner/course/blob/main/lessons/01_vanilla_gan.ipynb)"
    )
    assert lessons.colab_url("/somewhere/else/solutions/02_dcgan.ipynb") == (
        "https://colab.research.google.com/github/owner/course/blob/main/solutions/02_dcgan.ipynb"
    )


def test_badge_of_a_bare_file_name_raises_value_error():
    with pytest.raises(ValueError, match="path must name a folder and a notebook"):
        lessons.badge_cell_source("01_vanilla_gan.ipynb")


def run_setup_cell(monkeypatch, in_colab):
    """Execute the set-up cell's source with subprocess.run recorded instead of run."""
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append((command, check)))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("GANLAB_INSTALL_FROM", raising=False)
    exec(lessons.setup_cell_source(), {})
    return calls


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert run_setup_cell(monkeypatch, in_colab=False) == []


def test_setup_cell_pip_installs_the_course_repository_in_colab(monkeypatch):
    monkeypatch.setattr(lessons, "COURSE_REPOSITORY", "owner/course")
    assert run_setup_cell(monkeypatch, in_colab=True) == [
        ([sys.executable, "-m", "pip", "install", "--quiet", "git+https://github.com/owner/course"], True)
    ]


def test_setup_cell_installs_from_ganlab_install_from_anywhere(monkeypatch):
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append((command, check)))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("GANLAB_INSTALL_FROM", "/somewhere/ganlab-0.1.0-py3-none-any.whl")
    exec(lessons.setup_cell_source(), {})
    assert calls == [([sys.executable, "-m", "pip", "install", "--quiet", "/somewhere/ganlab-0.1.0-py3-none-any.whl"], True)]


# ---------------------------------------------------------------------------
# build.


def test_build_writes_the_lesson_with_stubs_and_every_other_cell_identical(tmp_path):
    solution_path = make_course(tmp_path)
    lessons.build(tmp_path)
    lesson_path = tmp_path / "lessons" / "01_tiny.ipynb"
    solution, lesson = read(solution_path), read(lesson_path)

    assert len(lesson.cells) == len(solution.cells) == 7  # badge + set-up + the 5 cells
    assert lesson.cells[4].source == STUBBED_LOSS
    for index in (1, 2, 3, 5, 6):
        assert lesson.cells[index] == solution.cells[index], f"cell {index}"
    assert lesson.metadata == solution.metadata


def test_build_stamps_badge_and_setup_cell_into_both_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(lessons, "COURSE_REPOSITORY", "owner/course")
    make_course(tmp_path)
    lessons.build(tmp_path)
    for folder in ("solutions", "lessons"):
        cells = read(tmp_path / folder / "01_tiny.ipynb").cells
        badge = lessons.badge_cell_source(f"{folder}/01_tiny.ipynb")
        assert (cells[0].cell_type, cells[0].source) == ("markdown", badge)
        assert "/blob/main/" + folder + "/01_tiny.ipynb" in cells[0].source
        assert (cells[1].cell_type, cells[1].source) == ("code", lessons.setup_cell_source())
        assert "git+https://github.com/owner/course" in cells[1].source


def test_build_replaces_a_stale_badge_and_keeps_the_rest_of_its_cell(tmp_path):
    make_course(tmp_path, cells=[
        new_markdown_cell(BADGE_OF_ANOTHER_REPOSITORY + "\n\n# Tiny lesson"),
        new_code_cell(lessons.SETUP_CELL_FIRST_LINE + "\nold_install()"),
        new_code_cell("x = 1"),
    ])
    lessons.build(tmp_path)
    assert sources(tmp_path / "solutions" / "01_tiny.ipynb") == [
        lessons.badge_cell_source("solutions/01_tiny.ipynb") + "\n\n# Tiny lesson",
        lessons.setup_cell_source(),
        "x = 1",
    ]


def test_build_strips_outputs_and_execution_counts_from_lessons_only(tmp_path):
    solution_path = make_course(tmp_path)
    notebook = read(solution_path)
    notebook.cells[1].outputs = [new_output("stream", name="stdout", text="hello\n")]
    notebook.cells[1].execution_count = 3
    notebook.cells[1].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    nbformat.write(notebook, solution_path)

    lessons.build(tmp_path)
    lesson_cell = read(tmp_path / "lessons" / "01_tiny.ipynb").cells[3]
    assert (lesson_cell.outputs, lesson_cell.execution_count, dict(lesson_cell.metadata)) == ([], None, {})
    # Without --strip the solution keeps its outputs (and `check` says so).
    assert read(solution_path).cells[3].execution_count == 3


def test_build_with_strip_also_removes_the_outputs_of_solutions(tmp_path):
    solution_path = make_course(tmp_path)
    notebook = read(solution_path)
    notebook.cells[1].outputs = [new_output("stream", name="stdout", text="hello\n")]
    notebook.cells[1].execution_count = 3
    nbformat.write(notebook, solution_path)

    lessons.build(tmp_path, strip=True)
    assert lessons.cells_with_outputs(read(solution_path)) == []
    assert lessons.check(tmp_path) == []


def test_build_raises_value_error_naming_the_cell_and_writes_nothing(tmp_path):
    unclosed = "def f():\n    ### BEGIN SOLUTION\n    return 1"
    make_course(tmp_path, cells=[new_code_cell("import math"), new_code_cell(unclosed)])
    before = (tmp_path / "solutions" / "01_tiny.ipynb").read_text()
    with pytest.raises(ValueError, match=r'solutions/01_tiny.ipynb cell 3 \(exercise f\): "def f\(\):": .* no'):
        lessons.build(tmp_path)
    assert (tmp_path / "solutions" / "01_tiny.ipynb").read_text() == before
    assert not (tmp_path / "lessons" / "01_tiny.ipynb").exists()


def test_build_twice_writes_nothing_the_second_time(tmp_path):
    make_course(tmp_path)
    assert lessons.build(tmp_path) == ["wrote solutions/01_tiny.ipynb", "wrote lessons/01_tiny.ipynb"]
    assert lessons.build(tmp_path) == []


def test_build_removes_a_lesson_whose_solution_is_gone(tmp_path):
    make_course(tmp_path)
    lessons.build(tmp_path)
    (tmp_path / "solutions" / "01_tiny.ipynb").rename(tmp_path / "solutions" / "01_renamed.ipynb")
    changes = lessons.build(tmp_path)
    assert "removed lessons/01_tiny.ipynb (no solutions/01_tiny.ipynb)" in changes
    assert sorted(path.name for path in (tmp_path / "lessons").iterdir()) == ["01_renamed.ipynb"]


def test_build_without_a_solutions_folder_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="has no solutions/ folder"):
        lessons.build(tmp_path)


def test_clean_removes_outputs_from_both_folders(tmp_path):
    solution_path = make_course(tmp_path)
    lessons.build(tmp_path)
    notebook = read(solution_path)
    notebook.cells[3].outputs = [new_output("stream", name="stdout", text="0\n")]
    nbformat.write(notebook, solution_path)
    assert lessons.clean(tmp_path) == ["cleaned solutions/01_tiny.ipynb"]
    assert lessons.check(tmp_path) == []


# ---------------------------------------------------------------------------
# check.


def test_check_passes_after_build(tmp_path):
    make_course(tmp_path)
    make_course(tmp_path, name="02_second.ipynb")
    lessons.build(tmp_path)
    assert lessons.check(tmp_path) == []


def test_check_reports_a_missing_lesson(tmp_path):
    make_course(tmp_path)
    lessons.build(tmp_path)
    (tmp_path / "lessons" / "01_tiny.ipynb").unlink()
    assert lessons.check(tmp_path) == ["lessons/01_tiny.ipynb is missing: run `ganlab lessons build`."]


def test_check_reports_an_extra_lesson(tmp_path):
    make_course(tmp_path)
    lessons.build(tmp_path)
    nbformat.write(new_notebook(), tmp_path / "lessons" / "03_orphan.ipynb")
    [problem] = lessons.check(tmp_path)
    assert problem.startswith("lessons/03_orphan.ipynb has no solutions/03_orphan.ipynb")


def test_check_names_notebook_cell_index_and_first_line_of_a_differing_lesson(tmp_path):
    solution_path = make_course(tmp_path)
    lessons.build(tmp_path)
    notebook = read(solution_path)
    notebook.cells[4].source = SOLVED_LOSS.replace("real_loss + fake_loss", "(real_loss + fake_loss) / 2")
    nbformat.write(notebook, solution_path)
    # The stub is the same, so the lesson is still up to date: only exercise code changed.
    assert lessons.check(tmp_path) == []

    notebook.cells[6].source = "print(discriminator_loss(1.0, 0.0))"
    nbformat.write(notebook, solution_path)
    [problem] = lessons.check(tmp_path)
    assert problem.startswith('lessons/01_tiny.ipynb: cell 6: "print(discriminator_loss(1.0, 0.0))" differs from')
    lessons.build(tmp_path)
    assert lessons.check(tmp_path) == []


def test_check_reports_a_hand_edited_lesson_and_a_lesson_with_outputs(tmp_path):
    make_course(tmp_path)
    lessons.build(tmp_path)
    lesson_path = tmp_path / "lessons" / "01_tiny.ipynb"
    lesson = read(lesson_path)
    lesson.cells[4].source = SOLVED_LOSS  # a solution pasted into lessons/ by hand
    nbformat.write(lesson, lesson_path)
    [problem] = lessons.check(tmp_path)
    assert problem.startswith('lessons/01_tiny.ipynb: cell 4 (exercise discriminator_loss): "def discriminator_loss(')

    lessons.build(tmp_path)
    lesson = read(lesson_path)
    lesson.cells[3].execution_count = 1
    nbformat.write(lesson, lesson_path)
    [problem] = lessons.check(tmp_path)
    assert problem.startswith('lessons/01_tiny.ipynb: cell 3: "import math" differs')


def test_check_reports_extra_and_missing_cells_of_a_lesson(tmp_path):
    make_course(tmp_path)
    lessons.build(tmp_path)
    lesson_path = tmp_path / "lessons" / "01_tiny.ipynb"
    lesson = read(lesson_path)
    lesson.cells.append(new_code_cell("extra = True"))
    nbformat.write(lesson, lesson_path)
    assert lessons.check(tmp_path)[0].startswith('lessons/01_tiny.ipynb: cell 7: "extra = True" (extra) differs')

    del lesson.cells[-2:]
    nbformat.write(lesson, lesson_path)
    assert lessons.check(tmp_path)[0].startswith(
        'lessons/01_tiny.ipynb: cell 6: "print(discriminator_loss(0.0, 0.0))" (missing) differs'
    )


def test_check_reports_a_solution_stored_with_outputs_and_how_to_fix_it(tmp_path):
    solution_path = make_course(tmp_path)
    lessons.build(tmp_path)
    notebook = read(solution_path)
    notebook.cells[6].outputs = [new_output("stream", name="stdout", text="1.38\n")]
    nbformat.write(notebook, solution_path)
    assert lessons.check(tmp_path) == [
        'solutions/01_tiny.ipynb is stored with outputs in cell 6: "print(discriminator_loss(0.0, 0.0))": '
        "run `ganlab lessons clean` (or `ganlab lessons build --strip`)."
    ]


def test_check_reports_begin_without_end(tmp_path):
    solution_path = make_course(tmp_path)
    lessons.build(tmp_path)
    notebook = read(solution_path)
    notebook.cells[4].source = SOLVED_LOSS.replace("    ### END SOLUTION\n", "")
    nbformat.write(notebook, solution_path)
    [problem] = lessons.check(tmp_path)
    assert problem.startswith('solutions/01_tiny.ipynb cell 4 (exercise discriminator_loss): "def discriminator_loss(')
    assert "has no '### END SOLUTION'" in problem


def test_check_catches_a_stale_repository_url_until_build_restamps_it(tmp_path, monkeypatch):
    make_course(tmp_path)
    lessons.build(tmp_path)
    monkeypatch.setattr(lessons, "COURSE_REPOSITORY", "new-owner/ganlab")
    problems = lessons.check(tmp_path)
    assert [problem.split(":")[0] for problem in problems] == ["solutions/01_tiny.ipynb", "lessons/01_tiny.ipynb"]
    assert all('cell 0: "[![Open In Colab]' in problem for problem in problems)
    assert "new-owner/ganlab" in problems[0]

    lessons.build(tmp_path)
    assert lessons.check(tmp_path) == []
    for folder in ("solutions", "lessons"):
        badge, setup = sources(tmp_path / folder / "01_tiny.ipynb")[:2]
        assert "github/new-owner/ganlab/blob/main/" in badge
        assert "git+https://github.com/new-owner/ganlab" in setup


def test_find_course_root_walks_up_to_the_folder_holding_solutions(tmp_path):
    make_course(tmp_path)
    (tmp_path / "lessons" / "deeper").mkdir(parents=True)
    assert lessons.find_course_root(tmp_path / "lessons" / "deeper") == tmp_path


# ---------------------------------------------------------------------------
# The command line.


def test_cli_lessons_check_exits_1_naming_the_notebook_then_0_after_build(tmp_path, capsys):
    from ganlab import cli

    make_course(tmp_path)
    assert cli.main(["lessons", "check", "--root", str(tmp_path)]) == 1
    assert "lessons/01_tiny.ipynb is missing" in capsys.readouterr().err

    assert cli.main(["lessons", "build", "--root", str(tmp_path)]) == 0
    assert "wrote lessons/01_tiny.ipynb" in capsys.readouterr().out
    assert cli.main(["lessons", "check", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "lessons/ is up to date (1 notebooks)\n"


def test_cli_lessons_build_reports_begin_without_end_as_a_usage_error(tmp_path, capsys):
    from ganlab import cli

    make_course(tmp_path, cells=[new_code_cell("### BEGIN SOLUTION\nx = 1")])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["lessons", "build", "--root", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "has no '### END SOLUTION'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# This repository.


def committed_solutions():
    return lessons.notebook_paths(ROOT, folders=(lessons.SOLUTIONS_FOLDER,))


def test_committed_lessons_are_built_from_the_committed_solutions():
    assert len(committed_solutions()) == 6  # lessons 01-06: a check of no notebook would prove nothing
    assert lessons.check(ROOT) == []


def test_cli_lessons_check_passes_on_this_repository(capsys):
    from ganlab import cli

    count = len(committed_solutions())
    assert count == 6
    assert cli.main(["lessons", "check", "--root", str(ROOT)]) == 0
    assert capsys.readouterr().out == f"lessons/ is up to date ({count} notebooks)\n"


def test_printed_lines_are_the_stream_outputs_of_every_cell_stripped_in_order():
    notebook = new_notebook()
    first, second = new_code_cell("print('a')"), new_code_cell("x")
    first.outputs = [new_output("stream", name="stdout", text="  one\ntwo  \n")]
    second.outputs = [
        new_output("execute_result", data={"text/plain": "not printed"}, execution_count=1),
        new_output("stream", name="stderr", text="three\n"),
    ]
    notebook.cells = [new_markdown_cell("# title"), first, second]

    assert lessons.printed_lines(notebook) == ["one", "two", "three"]
