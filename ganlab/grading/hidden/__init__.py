"""The built-in hidden tests of ``ganlab grade``, one module per lesson (``lesson_NN.py``).

Nothing a student imports (``ganlab``, ``ganlab.checks``, the notebooks) imports
this package; the grader reads these files as text when a batch starts and
runs them in its test host (``ganlab.grading.host``). They are stricter than the
student checks of ``ganlab.checks``: other sizes, several seeds, edge cases,
and at least one common mistake per exercise that the student's check lets
through. The format is described in ``ganlab.grading.testing``.
"""
