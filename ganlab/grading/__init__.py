"""Instructor grading: ``ganlab grade``.

How a submission is graded (see each module for details):

1. ``source``: the notebook file is read once, before anything runs; each
   exercise is the last top-level ``def`` / ``class`` of its name, wherever
   its cell is (cell metadata and ids are ignored). A missing exercise is
   "not found"; a body still raising ``NotImplementedError``, "not implemented".
2. ``host``: a test host process loads the hidden tests (``hidden/`` or the
   instructor's ``--tests`` folder) and TensorFlow before the notebook runs.
   ``zygote``: one process per grader imports TensorFlow once and forks each
   submission's host, which then starts in a fraction of a second.
3. ``kernel``: the notebook runs once in its own kernel in a scratch folder,
   with time limits per cell and per notebook, a memory limit and an output
   budget. ``forked_kernel``: the kernel is forked from a second zygote that
   has imported the notebooks' libraries (on Linux, without a GPU). A hang, a
   dead kernel or too much memory stops the run there: the exercises defined
   from that cell on are "not reached".
4. The host forks one process per exercise, with its own time and memory
   limits, that runs the exercise's definitions (read from the source, never
   from the kernel) under the hidden tests; results travel through a pipe.
5. ``batch``: workers in parallel, the CSV rewritten after every row, one
   Markdown feedback file per student, a progress bar on stderr.

Nothing here is imported by ``ganlab`` itself, ``ganlab.checks`` or the notebooks.
"""

from ganlab.grading.kernel import Limits

__all__ = ["Limits", "grade"]


def grade(*args, **kwargs):
    """``ganlab.grading.batch.grade``: see there."""
    from ganlab.grading import batch

    return batch.grade(*args, **kwargs)
