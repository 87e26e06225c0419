"""The lesson pipeline: ``solutions/`` is the single source of ``lessons/``.

Every lesson is written once, complete, as ``solutions/NN_name.ipynb``. The code
a student is asked to write sits in code cells between two marker lines::

    def discriminator_loss(real_logits, fake_logits):
        ### BEGIN SOLUTION
        real_loss = ...
        return real_loss + fake_loss
        ### END SOLUTION

``ganlab lessons build`` writes ``lessons/NN_name.ipynb`` for every solutions
notebook, with each marked region replaced, at the same indentation, by::

        # YOUR CODE HERE
        raise NotImplementedError("Exercise: discriminator_loss — see the instructions above")

Everything else is copied unchanged, except that outputs and execution counts
are removed: notebooks are stored without outputs. ``ganlab lessons check``
fails when ``lessons/`` is not what ``build`` would write now, so the two
folders cannot drift apart.

``build`` also stamps two cells into both folders, from ``COURSE_REPOSITORY``:

- cell 0, the "Open in Colab" badge, linking to the notebook's own copy on
  GitHub (``lessons/`` to ``lessons/``, ``solutions/`` to ``solutions/``);
- the set-up cell, which installs the course with pip when the notebook runs in
  Google Colab and does nothing elsewhere (there the course is installed by the
  README's set-up commands).

It stamps the same address into the Colab links of ``README.md`` (the lessons
table), and ``check`` reports a link there that points elsewhere or at a
notebook that does not exist.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path, PurePosixPath

import nbformat

# The GitHub repository ("owner/name") of the course. This is the ONE place to
# change when the course moves: run `ganlab lessons build` afterwards and every
# Colab badge and Colab set-up cell, in solutions/ and lessons/, follows.
COURSE_REPOSITORY = "ganlab-course/ganlab"

# The branch the Colab badges open.
COURSE_BRANCH = "main"

SOLUTIONS_FOLDER = "solutions"
LESSONS_FOLDER = "lessons"

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

# The README, whose lessons table links every lesson to Colab as the badges do.
README_FILE = "README.md"

# The first line of the set-up cell: how `build` recognizes the cell to re-stamp.
SETUP_CELL_FIRST_LINE = "# Set-up for Google Colab: install the course library there; elsewhere do nothing."

# Any Colab badge, whatever repository, branch or notebook it links to: `build`
# replaces it with the badge of COURSE_REPOSITORY.
_BADGE_PATTERN = re.compile(
    r"\[!\[Open In Colab\]\([^)\s]*\)\]\(https://colab\.research\.google\.com/github/[^)\s]*\)"
)
# A Colab link to a course notebook, whatever repository or branch it names; group 1
# is the notebook's folder and file name ("lessons/01_vanilla_gan.ipynb").
_COLAB_LINK_PATTERN = re.compile(
    r"https://colab\.research\.google\.com/github/[^)\s]*?/"
    rf"((?:{SOLUTIONS_FOLDER}|{LESSONS_FOLDER})/[^)\s/]+\.ipynb)"
)
_DEFINITION_PATTERN = re.compile(r"(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)")

# Ids of the cells `build` inserts when a notebook lacks them (nbformat >= 4.5
# wants an id per cell; fixed ids keep `build` deterministic).
_BADGE_CELL_ID = "colab-badge"
_SETUP_CELL_ID = "colab-setup"


# ---------------------------------------------------------------------------
# The two stamped cells.


def colab_url(path, repository=None):
    """The Colab address that opens ``path`` ("lessons/01_vanilla_gan.ipynb") from GitHub.

    Only the last two parts of ``path`` count (folder and file name), so an
    absolute path to a notebook in the repository gives the same address.
    """
    repository = repository or COURSE_REPOSITORY
    folder_and_file = PurePosixPath(*_last_two_parts(path))
    return f"https://colab.research.google.com/github/{repository}/blob/{COURSE_BRANCH}/{folder_and_file}"


def badge_cell_source(path, repository=None):
    """The source of a notebook's first cell (markdown): an "Open in Colab" badge.

    Args:
        path: the notebook's path; its folder and file name ("solutions/01_vanilla_gan.ipynb")
            decide the link, so each copy opens itself.
        repository: GitHub "owner/name"; None (the default) means ``COURSE_REPOSITORY``.

    Returns:
        One line of markdown, e.g.
        ``[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ganlab-course/ganlab/blob/main/lessons/01_vanilla_gan.ipynb)``
    """
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(path, repository)})"


def setup_cell_source(repository=None):
    """The source of the set-up code cell: installs the course in Colab, does nothing elsewhere.

    In Colab, ``pip install git+https://github.com/<repository>`` installs the
    library (and its dependencies) into the running kernel. On a laptop or in CI
    the course is already installed (``pip install -e .``), so the cell must not
    touch the environment there; it checks ``"google.colab" in sys.modules``,
    which is true only inside Colab. ``GANLAB_INSTALL_FROM`` (a folder, a wheel
    or any address pip takes) runs the same install anywhere, from there: the
    tests run this cell against a local copy of the course.

    The cell holds exactly this source (``build`` re-stamps it whole), so the
    budget and the seeds go into the next cell.
    """
    repository = repository or COURSE_REPOSITORY
    return "\n".join(
        [
            SETUP_CELL_FIRST_LINE,
            "import os",
            "import subprocess",
            "import sys",
            "",
            f'COURSE_ADDRESS = "git+https://github.com/{repository}"',
            "# GANLAB_INSTALL_FROM installs from elsewhere (a folder, a wheel): the tests use a local copy.",
            'install_from = os.environ.get("GANLAB_INSTALL_FROM") or ("google.colab" in sys.modules and COURSE_ADDRESS)',
            "if install_from:",
            '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", install_from], check=True)',
        ]
    )


def stamp_colab_cells(notebook, path):
    """Put the Colab badge of ``path`` in cell 0 and the set-up cell after it, in place.

    A badge already in cell 0 (any repository, any notebook) is replaced by the
    right one and the rest of that cell is kept; otherwise a badge cell is
    inserted. The set-up cell is the code cell whose first line is
    ``SETUP_CELL_FIRST_LINE``; its source is replaced whole; if there is none,
    one is inserted right after the badge.

    Returns:
        ``notebook``.
    """
    badge = badge_cell_source(path)
    cells = notebook.cells
    if cells and cells[0].cell_type == "markdown" and _BADGE_PATTERN.search(cells[0].source):
        # A lambda, so that backslashes in the replacement are taken literally.
        cells[0].source = _BADGE_PATTERN.sub(lambda match: badge, cells[0].source, count=1)
    else:
        cells.insert(0, _new_cell(notebook, "markdown", badge, _BADGE_CELL_ID))

    setup = setup_cell_source()
    for cell in cells:
        if cell.cell_type == "code" and cell.source.split("\n", 1)[0].rstrip() == SETUP_CELL_FIRST_LINE:
            cell.source = setup
            break
    else:
        cells.insert(1, _new_cell(notebook, "code", setup, _SETUP_CELL_ID))
    return notebook


def stamp_colab_links(text):
    """``text`` (Markdown, such as the README) with every Colab link to a course notebook re-pointed.

    A link to ``lessons/NN_name.ipynb`` or ``solutions/NN_name.ipynb`` through
    any repository or branch becomes ``colab_url`` of that notebook: the
    address of ``COURSE_REPOSITORY``, as in the notebooks' own badges.
    """
    return _COLAB_LINK_PATTERN.sub(lambda match: colab_url(match.group(1)), text)


def stale_colab_links(text):
    """The Colab links to course notebooks in ``text`` that ``stamp_colab_links`` would change."""
    return [match.group(0) for match in _COLAB_LINK_PATTERN.finditer(text) if match.group(0) != colab_url(match.group(1))]


# ---------------------------------------------------------------------------
# Exercises: from a solution to a stub.


def stub_exercises(source, where="the cell"):
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region of a cell's source.

    Each region, marker lines included, becomes two lines at the indentation
    of its ``### BEGIN SOLUTION`` line::

        # YOUR CODE HERE
        raise NotImplementedError("Exercise: <function> — see the instructions above")

    where ``<function>`` is the function (``Class.method`` in a class) the
    region sits in, or the function the region defines.

    Args:
        source: the source of a code cell.
        where: how error messages name the cell ("solutions/01_x.ipynb cell 4 ...").

    Returns:
        The new source; ``source`` itself when it has no region.

    Raises:
        ValueError: a ``### BEGIN SOLUTION`` without its ``### END SOLUTION``,
            an ``### END SOLUTION`` without a ``### BEGIN SOLUTION``, or a
            region inside another.
    """
    lines = source.split("\n")
    stubbed = []
    begin = None  # index of the open region's BEGIN line
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN_MARKER:
            if begin is not None:
                raise ValueError(
                    f"{where}: line {number + 1} opens a {BEGIN_MARKER!r} region inside the one "
                    f"opened on line {begin + 1}; close that one first with {END_MARKER!r}."
                )
            begin = number
        elif marker == END_MARKER:
            if begin is None:
                raise ValueError(f"{where}: line {number + 1} has {END_MARKER!r} without a {BEGIN_MARKER!r} before it.")
            indentation = _indentation(lines[begin])
            name = _exercise_name(lines, begin)
            message = f"Exercise: {name} — see the instructions above"
            if not name:
                message = "Exercise: see the instructions above"
            stubbed.append(f"{indentation}# YOUR CODE HERE")
            stubbed.append(f"{indentation}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})")
            begin = None
        elif begin is None:
            stubbed.append(line)
    if begin is not None:
        raise ValueError(
            f"{where}: {BEGIN_MARKER!r} on line {begin + 1} has no {END_MARKER!r} after it."
        )
    return "\n".join(stubbed)


def exercise_names(source):
    """The exercise functions of a cell: the function each marked region belongs to, in order.

    A region whose function cannot be told (say, at the top level of a cell)
    is left out.
    """
    lines = source.split("\n")
    names = []
    for number, line in enumerate(lines):
        if line.strip() == BEGIN_MARKER:
            name = _exercise_name(lines, number)
            if name and name not in names:
                names.append(name)
    return names


def describe_cell(cell, index):
    """How messages name a cell: ``cell 7 (exercise generator_loss): "def generator_loss(fake_logits):"``.

    Cells are counted from 0, the badge being cell 0.
    """
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source  # as stored in .ipynb JSON
    first_line = next((line.strip() for line in source.split("\n") if line.strip()), "")
    if len(first_line) > 80:
        first_line = first_line[:77] + "..."
    names = exercise_names(source) if cell.get("cell_type") == "code" else []
    exercise = f" (exercise {', '.join(names)})" if names else ""
    return f"cell {index}{exercise}: {json.dumps(first_line, ensure_ascii=False)}"


def make_lesson(solution, lesson_path):
    """The lesson notebook of a solution notebook: stubs for exercises, no outputs.

    Args:
        solution: the solutions notebook (a ``nbformat.NotebookNode``); not changed.
        lesson_path: where the lesson goes ("lessons/01_vanilla_gan.ipynb"); its
            Colab badge links there.

    Raises:
        ValueError: an exercise region without its end, naming the cell.
    """
    lesson = copy.deepcopy(solution)
    stamp_colab_cells(lesson, lesson_path)
    for index, cell in enumerate(lesson.cells):
        if cell.cell_type == "code":
            where = f"{_relative_name(lesson_path, SOLUTIONS_FOLDER)} {describe_cell(cell, index)}"
            cell.source = stub_exercises(cell.source, where)
    return strip_outputs(lesson)


# ---------------------------------------------------------------------------
# Outputs.


def strip_outputs(notebook):
    """Remove outputs, execution counts and run timings from a notebook, in place; return it."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)  # timings written by nbclient / JupyterLab
    notebook.metadata.pop("widgets", None)  # saved widget state is output too
    return notebook


def cells_with_outputs(notebook):
    """Indexes of the cells that carry outputs, an execution count or run timings."""
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.get("outputs") or cell.get("execution_count") is not None or "execution" in cell.metadata
    ]


def printed_lines(notebook):
    """Every line an executed notebook printed (its stream outputs), stripped."""
    return [
        line.strip()
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in output.get("text", "").splitlines()
    ]


# ---------------------------------------------------------------------------
# The course: build, check, clean.


def find_course_root(start=None):
    """The folder holding ``solutions/``: ``start`` (default: the current folder) or its nearest parent."""
    start = Path.cwd() if start is None else Path(start)
    for folder in [start, *start.resolve().parents]:
        if (folder / SOLUTIONS_FOLDER).is_dir():
            return folder
    raise ValueError(
        f"no {SOLUTIONS_FOLDER}/ folder in {start} or its parents: run this in the course "
        "repository or pass --root."
    )


def build(root=".", strip=False):
    """Write ``lessons/`` from ``solutions/``; re-stamp the Colab cells of ``solutions/`` and the README's Colab links.

    Every notebook is prepared before anything is written, so an error (an
    exercise region without its end) leaves both folders as they were.

    Args:
        root: the course repository (the folder holding ``solutions/``).
        strip: also remove the outputs stored in ``solutions/`` notebooks.

    Returns:
        One line per file written or removed, relative to ``root``.

    Raises:
        ValueError: no ``solutions/`` folder, or an exercise region without its end.
    """
    root = Path(root)
    solution_paths = _solution_paths(root)
    writes = {}  # path -> text
    for solution_path in solution_paths:
        solution = _read(solution_path)
        stamp_colab_cells(solution, _relative_name(solution_path, SOLUTIONS_FOLDER))
        if strip:
            strip_outputs(solution)
        if _content(solution) != json.loads(solution_path.read_text(encoding="utf-8")):
            writes[solution_path] = nbformat.writes(solution) + "\n"
        lesson_path = root / LESSONS_FOLDER / solution_path.name
        lesson_text = nbformat.writes(make_lesson(solution, _relative_name(lesson_path, LESSONS_FOLDER))) + "\n"
        if not lesson_path.exists() or lesson_path.read_text(encoding="utf-8") != lesson_text:
            writes[lesson_path] = lesson_text

    readme_path = root / README_FILE
    if readme_path.exists():
        readme = readme_path.read_text(encoding="utf-8")
        if stamp_colab_links(readme) != readme:
            writes[readme_path] = stamp_colab_links(readme)

    changes = []
    (root / LESSONS_FOLDER).mkdir(exist_ok=True)
    for path, text in writes.items():
        path.write_text(text, encoding="utf-8")
        changes.append(f"wrote {path.relative_to(root).as_posix()}")
    # lessons/ is generated: a lesson whose solution is gone (renamed, deleted)
    # would otherwise stay behind and make `check` fail forever.
    wanted = {path.name for path in solution_paths}
    for lesson_path in _notebook_paths(root / LESSONS_FOLDER):
        if lesson_path.name not in wanted:
            lesson_path.unlink()
            changes.append(
                f"removed {lesson_path.relative_to(root).as_posix()} (no {SOLUTIONS_FOLDER}/{lesson_path.name})"
            )
    return changes


def check(root="."):
    """What is out of date in ``lessons/`` and ``solutions/``: one message per problem.

    Problems: a lesson missing, extra or different from what ``build`` writes
    now; a solution whose Colab badge or set-up cell is stale; a solution stored
    with outputs; an exercise region without its end; a Colab link in the README
    to another repository or to a notebook that does not exist. Each message names the
    notebook and, where it applies, the first cell concerned (its index and
    first line) and the command that fixes it.

    Returns:
        A list of messages, empty when everything is up to date.
    """
    root = Path(root)
    solution_paths = _solution_paths(root)
    problems = []
    for solution_path in solution_paths:
        solution_name = _relative_name(solution_path, SOLUTIONS_FOLDER)
        lesson_path = root / LESSONS_FOLDER / solution_path.name
        lesson_name = _relative_name(lesson_path, LESSONS_FOLDER)
        solution = _read(solution_path)

        with_outputs = cells_with_outputs(solution)
        if with_outputs:
            cells = ", ".join(describe_cell(solution.cells[index], index) for index in with_outputs[:3])
            more = f" and {len(with_outputs) - 3} more" if len(with_outputs) > 3 else ""
            problems.append(
                f"{solution_name} is stored with outputs in {cells}{more}: run `ganlab lessons clean` "
                "(or `ganlab lessons build --strip`)."
            )

        stamped = stamp_colab_cells(copy.deepcopy(solution), solution_name)
        difference = _first_difference(_content(solution), _content(stamped), stamped, ignore_outputs=True)
        if difference:
            problems.append(
                f"{solution_name}: {difference} is not the Colab badge / set-up cell for "
                f"{COURSE_REPOSITORY}: run `ganlab lessons build`."
            )

        try:
            lesson = make_lesson(stamped, lesson_name)
        except ValueError as error:
            problems.append(f"{error} (`ganlab lessons build` fails until it is fixed)")
            continue
        if not lesson_path.exists():
            problems.append(f"{lesson_name} is missing: run `ganlab lessons build`.")
            continue
        try:
            stored = json.loads(lesson_path.read_text(encoding="utf-8"))
        except ValueError:
            problems.append(f"{lesson_name} is not a notebook (not JSON): run `ganlab lessons build`.")
            continue
        # Cells are described by the solution's cell: the lesson's has lost the
        # markers that tell which exercise it is.
        difference = _first_difference(stored, _content(lesson), stamped)
        if difference:
            problems.append(
                f"{lesson_name}: {difference} differs from what `ganlab lessons build` makes of "
                f"{solution_name}: run `ganlab lessons build` (edit {SOLUTIONS_FOLDER}/, never {LESSONS_FOLDER}/)."
            )

    readme_path = root / README_FILE
    if readme_path.exists():
        readme = readme_path.read_text(encoding="utf-8")
        stale = stale_colab_links(readme)
        if stale:
            problems.append(
                f"{README_FILE}: {len(stale)} Colab link(s) not to {COURSE_REPOSITORY}, such as {stale[0]}: "
                "run `ganlab lessons build`."
            )
        for match in _COLAB_LINK_PATTERN.finditer(readme):
            if not (root / match.group(1)).exists():
                problems.append(f"{README_FILE}: a Colab link to {match.group(1)}, which does not exist.")

    wanted = {path.name for path in solution_paths}
    for lesson_path in _notebook_paths(root / LESSONS_FOLDER):
        if lesson_path.name not in wanted:
            problems.append(
                f"{_relative_name(lesson_path, LESSONS_FOLDER)} has no {SOLUTIONS_FOLDER}/{lesson_path.name} "
                "to be built from: run `ganlab lessons build` (it removes it) or add the solution."
            )
    return problems


def clean(root="."):
    """Remove the outputs stored in ``solutions/`` and ``lessons/`` notebooks, in place.

    Returns:
        One line per file rewritten, relative to ``root``.
    """
    root = Path(root)
    changes = []
    for path in _solution_paths(root) + _notebook_paths(root / LESSONS_FOLDER):
        notebook = _read(path)
        if cells_with_outputs(notebook) or "widgets" in notebook.metadata:
            path.write_text(nbformat.writes(strip_outputs(notebook)) + "\n", encoding="utf-8")
            changes.append(f"cleaned {path.relative_to(root).as_posix()}")
    return changes


def notebook_paths(root=".", folders=(SOLUTIONS_FOLDER, LESSONS_FOLDER)):
    """The course notebooks: ``solutions/*.ipynb`` then ``lessons/*.ipynb``, each sorted by name."""
    return [path for folder in folders for path in _notebook_paths(Path(root) / folder)]


# ---------------------------------------------------------------------------
# Helpers.


def _solution_paths(root):
    folder = root / SOLUTIONS_FOLDER
    if not folder.is_dir():
        raise ValueError(f"{root} has no {SOLUTIONS_FOLDER}/ folder. Received: root={str(root)!r}")
    return _notebook_paths(folder)


def _notebook_paths(folder):
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.ipynb") if not path.name.startswith("."))


def _read(path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a broken file
        raise ValueError(f"{path} is not a readable notebook ({type(error).__name__}: {error}).") from error


def _content(notebook):
    """A notebook as plain JSON values, exactly as it would be written."""
    return json.loads(nbformat.writes(notebook))


def _first_difference(actual, expected, described, ignore_outputs=False):
    """Where two notebooks (plain JSON values) first differ, described; None if they do not.

    ``described`` is the notebook whose cells name the difference ("cell 4 ...").
    """
    actual_cells = actual.get("cells", [])
    expected_cells = expected["cells"]
    for index, expected_cell in enumerate(expected_cells):
        if index >= len(actual_cells):
            return f"{describe_cell(described.cells[index], index)} (missing)"
        actual_cell = actual_cells[index]
        if ignore_outputs:
            actual_cell, expected_cell = _without_outputs(actual_cell), _without_outputs(expected_cell)
        if actual_cell != expected_cell:
            return describe_cell(described.cells[index], index)
    if len(actual_cells) > len(expected_cells):
        return f"{describe_cell(actual_cells[len(expected_cells)], len(expected_cells))} (extra)"
    for key in sorted(set(actual) | set(expected)):
        if key == "cells":
            continue
        if ignore_outputs and key == "metadata":
            continue
        if actual.get(key) != expected.get(key):
            return f"the notebook's {key!r}"
    return None


def _without_outputs(cell):
    """A cell (plain JSON values) without what running it adds."""
    cell = {key: value for key, value in cell.items() if key not in ("outputs", "execution_count")}
    cell["metadata"] = {key: value for key, value in cell.get("metadata", {}).items() if key != "execution"}
    return cell


def _new_cell(notebook, cell_type, source, cell_id):
    cell = nbformat.v4.new_markdown_cell(source) if cell_type == "markdown" else nbformat.v4.new_code_cell(source)
    if (notebook.nbformat, notebook.nbformat_minor) >= (4, 5):
        cell.id = cell_id
    else:
        del cell["id"]  # cell ids came with nbformat 4.5; older notebooks may not have them
    return cell


def _relative_name(path, folder):
    """``folder/<file name>``: how notebooks are named in messages and badges."""
    return f"{folder}/{Path(path).name}"


def _indentation(line):
    return line[: len(line) - len(line.lstrip())]


def _exercise_name(lines, begin):
    """The function a region opened on line ``begin`` belongs to: ``name`` or ``Class.method``.

    Walks up from the marker through lines indented less, which are the blocks
    around it (``def``, ``class``, ``if``, ...). Lines that close a bracket
    (the end of a multi-line signature) are skipped. A region at the top level
    of a cell is named by the first function it defines, if any.
    """
    names = []
    level = len(_indentation(lines[begin]))
    for line in reversed(lines[:begin]):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ")", "]", "}")):
            continue
        indentation = len(_indentation(line))
        if indentation >= level:
            continue
        match = _DEFINITION_PATTERN.match(stripped)
        if match:
            names.append(match.group(2))
        level = indentation
        if level == 0:
            break
    if not names and level == len(_indentation(lines[begin])):
        for line in lines[begin + 1 :]:
            if line.strip() == END_MARKER:
                break
            match = _DEFINITION_PATTERN.match(line.strip())
            if match and match.group(1) == "def":
                names.append(match.group(2))
                break
    return ".".join(reversed(names))


def _last_two_parts(path):
    parts = PurePosixPath(str(path).replace("\\", "/")).parts
    if len(parts) < 2:
        raise ValueError(
            "path must name a folder and a notebook, like 'lessons/01_vanilla_gan.ipynb'. "
            f"Received: path={str(path)!r}"
        )
    return parts[-2:]
