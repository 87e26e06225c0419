"""pytest for ``pytest --nbval-lax solutions/``: each notebook's cells run in one worker, in order.

The project's pytest options (pyproject.toml) spread tests over processes with
pytest-xdist (``-n auto --dist loadgroup``). nbval makes each cell of a notebook
one test item, and its cells share one kernel: spread over workers, a cell runs
in a kernel that never ran the cells before it (``NameError: name 'ganlab' is
not defined``). Putting every cell of a notebook into one ``xdist_group`` (one
group per notebook file) makes ``--dist loadgroup`` send them all to the same
worker, where they run in the notebook's order. Notebooks still run in parallel,
one per worker.

This file sits beside the notebooks because pytest reads the ``conftest.py``
files of the folders it collects from and of their parents only.
"""

import pytest


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups in its own hook of the same name
def pytest_collection_modifyitems(config, items):
    for item in items:
        if type(item).__name__ == "IPyNbCell":  # nbval's item: one notebook cell
            item.add_marker(pytest.mark.xdist_group(name=f"notebook_{item.path.name}"))
