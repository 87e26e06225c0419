"""Reading a submission and finding its exercises by name, from the notebook's source.

The grader never asks the student's kernel what a function is: it reads the
notebook file before the kernel starts, parses every code cell, and takes
each exercise as the *last top-level* ``def`` or ``class`` of that name in the
notebook, whatever the cell, its position, its id or its metadata. Cells may
be split, merged, reordered, copied or stripped of metadata.

The hidden tests of an exercise then run on a program made of the
notebook's top-level imports, its constants (names bound to literals), and
the exercise's definition together with every top-level definition it uses,
directly or not. Each piece keeps its cell's line numbers, so an error names
"line 4 of cell 12" as the student sees it.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import json
from pathlib import Path

import nbformat


class NotANotebook(Exception):
    """The submission cannot be read as a Jupyter notebook; the message says why."""


@dataclasses.dataclass(frozen=True)
class Piece:
    """One top-level statement of the notebook: where it is and its code."""

    cell: int  # index of the code cell in the notebook
    line: int  # first line of the statement in its cell, from 1
    code: str

    def padded(self):
        """The code preceded by blank lines, so that its line numbers are the cell's."""
        return "\n" * (self.line - 1) + self.code


@dataclasses.dataclass
class Submission:
    """What a notebook defines at its top level."""

    notebook: nbformat.NotebookNode  # a clean copy: sources only, no outputs, no metadata
    definitions: dict  # name -> (Piece, ast node) of the last def / class of that name
    imports: list  # Pieces, in notebook order
    constants: dict  # name -> Piece of the last literal assignment
    unparsable: list  # (cell index, message) of the cells with a syntax error
    metadata: dict

    def find(self, name):
        """The exercise's definition, or None."""
        return self.definitions.get(name)

    def program(self, name):
        """The pieces that define ``name``: imports, the constants and definitions it uses."""
        needed, queue = [], [name]
        while queue:
            current = queue.pop()
            if current in needed or current not in self.definitions:
                continue
            needed.append(current)
            queue.extend(_names_used(self.definitions[current][1]))
        used = set()
        for current in needed:
            used |= _names_used(self.definitions[current][1])
        position = lambda piece: (piece.cell, piece.line)  # noqa: E731
        constants = sorted((piece for constant, piece in self.constants.items() if constant in used), key=position)
        definitions = sorted((self.definitions[current][0] for current in needed), key=position)
        return list(dict.fromkeys(list(self.imports) + constants + definitions))


def read_submission(path):
    """The submission at ``path`` as a ``Submission``; raises ``NotANotebook`` with the reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotANotebook("not a text file") from None
    except OSError as error:
        raise NotANotebook(f"cannot be read ({error.strerror or error})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotANotebook(f"not JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells", content.get("worksheets")), list):
        raise NotANotebook("JSON without a list of cells")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise NotANotebook(f"not a valid notebook ({type(error).__name__})") from None
    return parse_notebook(notebook)


def parse_notebook(notebook):
    """A ``Submission`` from an nbformat notebook (any cell order, any metadata)."""
    clean = nbformat.v4.new_notebook()
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code":
            clean.cells.append(nbformat.v4.new_code_cell(source))
        else:
            clean.cells.append(nbformat.v4.new_markdown_cell(source))
    submission = Submission(clean, {}, [], {}, [], dict(notebook.get("metadata") or {}))
    for index, cell in enumerate(clean.cells):
        if cell.cell_type != "code":
            continue
        source = _python_of(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            submission.unparsable.append((index, f"line {error.lineno}: {error.msg}"))
            continue
        for node in tree.body:
            first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
            segment = "\n".join(source.split("\n")[first - 1 : node.end_lineno])
            piece = Piece(index, first, segment)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                submission.definitions[node.name] = (piece, node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                submission.imports.append(piece)
            elif isinstance(node, ast.Assign) and _is_literal(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        submission.constants[target.id] = piece
    return submission


def is_stub(node):
    """True when a function's body raises NotImplementedError at its top level (an untouched exercise).

    A class is a stub when one of its methods is: the layer of a class
    exercise cannot be used before all its methods are written.
    """
    if isinstance(node, ast.ClassDef):
        return any(is_stub(child) for child in node.body)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for statement in node.body:
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                return True
    return False


def student_name(path, submission=None, key=None):
    """The student's name: the notebook metadata field ``key`` (dotted) when given and present, else the file name."""
    if key and submission is not None:
        value = submission.metadata
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()
    return Path(path).stem


def _python_of(source):
    """Cell source as plain Python: IPython's magics (``%time``, ``!pip``) turned into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with the kernel
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _is_literal(node):
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


_BUILTINS = set(dir(builtins))


def _names_used(node):
    """The global names a definition may read (every name loaded anywhere in it)."""
    return {
        child.id
        for child in ast.walk(node)
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id not in _BUILTINS
    }
