"""The README and the docs are what newcomers read first: keep their commands, links and shape true.

The README's two commands are the ones CI and newcomers run. The README is the students'
front door (short, the lessons table near the top, one Colab link per lesson), and the
manuals in docs/ are references, not diaries: no dates outside tables, no tracker numbers.
"""

import re
from pathlib import Path

import pytest

from ganlab import lessons

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

# A date as the measurements write them: 2026-12-04.
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Inline links and images, [text](target) and ![alt](target), without a title.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
MACHINE_NAMES = re.compile(r"\b(Intel|Xeon|AMD|EPYC|Ryzen|Apple M\d)\b")


def readme_commands():
    readme = README.read_text()
    return re.findall(r"```bash\n(.+?)\n```", readme)


def lines_outside_code(text):
    """The lines of a Markdown text outside fenced code blocks."""
    lines, in_code = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code:
            lines.append(line)
    return lines


def prose_lines(text):
    """The lines of a Markdown text outside fenced code blocks and outside table rows."""
    return [line for line in lines_outside_code(text) if not line.lstrip().startswith("|")]


def heading_anchors(text):
    """GitHub's anchors for a Markdown text's headings: lower case, punctuation dropped, spaces to hyphens."""
    anchors, seen, in_code = set(), {}, False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_code or not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def relative_links(path):
    """(target file, anchor or None) for every link of a Markdown file that stays in the repository."""
    links = []
    for target in LINK.findall("\n".join(lines_outside_code(path.read_text()))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        file_path = (path.parent / file_part).resolve() if file_part else path
        links.append((target, file_path, anchor or None))
    return links


def test_readme_gives_the_training_command_and_the_test_command():
    commands = readme_commands()
    assert any("ganlab train dcgan" in command and "pip install -e ." in command for command in commands)
    assert any("python -m pytest" in command and '".[test]"' in command for command in commands)


def test_readme_pins_the_two_commands_exactly():
    commands = readme_commands()
    assert "pip install -e . && ganlab train dcgan --minutes 5 --out runs/dcgan --tracking offline" in commands
    assert 'pip install -e ".[test]" && GANLAB_FAST=1 python -m pytest' in commands


def test_ci_runs_the_readme_test_command():
    test_command = next(command for command in readme_commands() if "python -m pytest" in command)
    # The README command is "pip install ... && <test command>"; CI installs first, then runs it.
    readme_test_part = test_command.split("&&", 1)[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_test_part in ci_lines
    assert any('pip install' in line and '-e ".[test]"' in line for line in ci_lines)


def test_readme_is_at_most_130_lines():
    assert len(README.read_text().splitlines()) <= 130


def test_readme_shows_the_lessons_table_within_its_first_40_lines():
    first_lines = README.read_text().splitlines()[:40]
    table_rows = [line for line in first_lines if re.match(r"\|\s*0[1-6]\s*\|", line)]
    assert len(table_rows) == len(lessons.notebook_paths(ROOT, folders=(lessons.SOLUTIONS_FOLDER,)))


def test_readme_links_every_lesson_to_colab_at_the_course_repository():
    readme = README.read_text()
    for solution in lessons.notebook_paths(ROOT, folders=(lessons.SOLUTIONS_FOLDER,)):
        expected = lessons.colab_url(f"{lessons.LESSONS_FOLDER}/{solution.name}")
        assert expected in readme, f"the README's lessons table has no Colab link {expected}"
    # And no Colab link to another repository, branch or notebook.
    assert not lessons.stale_colab_links(readme)


def test_readme_has_a_git_clone_step_and_opens_the_lessons_in_jupyter():
    readme = README.read_text()
    assert "git clone https://github.com/" + lessons.COURSE_REPOSITORY in readme
    assert "jupyter lab lessons/" in readme


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda path: path.name)
def test_no_dates_outside_tables(path):
    dated = [line for line in prose_lines(path.read_text()) if DATE.search(line)]
    assert not dated, f"{path.name}: dates belong in a table's hardware-and-date column: {dated[:3]}"


def test_readme_names_machines_only_in_its_results_table():
    named = [line for line in prose_lines(README.read_text()) if MACHINE_NAMES.search(line)]
    assert not named, f"README names machines outside its results table: {named[:3]}"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda path: path.name)
def test_no_issue_numbers(path):
    mentions = re.findall(r"\b[Ii]ssues? #?\d+", path.read_text())
    assert not mentions, f"{path.name} refers to a tracker its readers cannot see: {mentions[:3]}"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda path: path.name)
def test_every_relative_link_resolves_to_a_file_and_heading(path):
    broken = []
    for target, file_path, anchor in relative_links(path):
        if not file_path.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file_path.suffix == ".md" and anchor not in heading_anchors(file_path.read_text()):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{path.name}: broken links: {broken}"


def test_heading_anchors_follow_github():
    assert heading_anchors("# Train-step speed and mixed precision\n## The test suite\n## The test suite") == {
        "train-step-speed-and-mixed-precision", "the-test-suite", "the-test-suite-1",
    }
    assert heading_anchors("## Progressive GAN (lesson 04)\n```\n# not a heading\n```") == {"progressive-gan-lesson-04"}


# The lessons table's Colab links follow COURSE_REPOSITORY through `ganlab lessons build`, as the badges do.

def tiny_course_with_readme(root, readme_text):
    """A course folder with one solutions notebook and a README; nothing built yet."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook()
    notebook.cells = [new_code_cell("import math")]
    (root / "solutions").mkdir()
    nbformat.write(notebook, root / "solutions" / "01_tiny.ipynb")
    (root / "README.md").write_text(readme_text)


def test_stamp_colab_links_points_every_notebook_link_at_the_course_repository():
    text = (
        "[a](https://colab.research.google.com/github/someone/else/blob/dev/lessons/01_tiny.ipynb) "
        "[b](https://colab.research.google.com/github/someone/else/blob/main/solutions/02_more.ipynb) "
        "[c](https://colab.research.google.com/notebooks/intro.ipynb)"
    )
    expected = (
        f"[a](https://colab.research.google.com/github/{lessons.COURSE_REPOSITORY}/blob/{lessons.COURSE_BRANCH}/lessons/01_tiny.ipynb) "
        f"[b](https://colab.research.google.com/github/{lessons.COURSE_REPOSITORY}/blob/{lessons.COURSE_BRANCH}/solutions/02_more.ipynb) "
        "[c](https://colab.research.google.com/notebooks/intro.ipynb)"
    )
    assert lessons.stamp_colab_links(text) == expected
    assert lessons.stale_colab_links(expected) == []
    assert len(lessons.stale_colab_links(text)) == 2


def test_build_rewrites_the_readmes_colab_links_and_check_reports_them_before(tmp_path):
    stale = "https://colab.research.google.com/github/someone/else/blob/main/lessons/01_tiny.ipynb"
    tiny_course_with_readme(tmp_path, f"| 01 | [![Open In Colab](badge.svg)]({stale}) |\n")
    lessons.build(tmp_path)
    (tmp_path / "README.md").write_text(f"| 01 | [![Open In Colab](badge.svg)]({stale}) |\n")
    problems = lessons.check(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("README.md: 1 Colab link(s) not to")

    changes = lessons.build(tmp_path)
    assert "wrote README.md" in changes
    assert lessons.colab_url("lessons/01_tiny.ipynb") in (tmp_path / "README.md").read_text()
    assert lessons.check(tmp_path) == []


def test_check_reports_a_readme_colab_link_to_a_missing_notebook(tmp_path):
    tiny_course_with_readme(tmp_path, f"[x]({lessons.colab_url('lessons/07_missing.ipynb')})\n")
    lessons.build(tmp_path)
    assert lessons.check(tmp_path) == ["README.md: a Colab link to lessons/07_missing.ipynb, which does not exist."]
