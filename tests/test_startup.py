"""``ganlab.startup``: TensorFlow's start-up lines hidden on a CPU-only machine, everything else shown.

The hook is tested on a small module written for the test, which writes to
file descriptor 2 from "C" (``os.write``) as TensorFlow does, so the tests do
not depend on what a given TensorFlow version prints on a given CPU.
"""

import os
import subprocess
import sys
import textwrap

from ganlab import startup

NOISY_LINES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1795564813.120835    3208 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors from different computation orders.\n"
    "I0000 00:00:1795564813.121434    3208 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\n"
    "E0000 00:00:1795564816.471053    3208 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)\n"
)


def test_without_startup_noise_keeps_only_the_lines_that_are_not_start_up_messages():
    text = "first real line\n" + NOISY_LINES + "second real line\n"

    assert startup.without_startup_noise(text) == "first real line\nsecond real line\n"


def environment_without_logging_settings():
    """This process's environment without the settings that change what TensorFlow logs."""
    hidden = ("TF_CPP_MIN_LOG_LEVEL", "GANLAB_SHOW_STARTUP_MESSAGES")
    return {name: value for name, value in os.environ.items() if name not in hidden}


def run_with_hook(tmp_path, module_source, gpu_found):
    """Imports a module ``noisy`` through ``QuietImport`` in a fresh Python; returns the finished process."""
    (tmp_path / "noisy.py").write_text(textwrap.dedent(module_source))
    script = textwrap.dedent(
        f"""
        import sys
        from ganlab import startup
        sys.meta_path.insert(0, startup.QuietImport("noisy", lambda module: {gpu_found}))
        import noisy
        print("imported", noisy.VALUE)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**environment_without_logging_settings(), "PYTHONPATH": str(tmp_path)},
    )


NOISY_MODULE = f"""
    import os
    os.write(2, {NOISY_LINES.encode()!r})
    os.write(2, b"a real warning from the import\\n")
    VALUE = 42
"""


def test_a_quiet_import_on_a_machine_without_a_gpu_drops_the_noise_and_keeps_other_lines(tmp_path):
    finished = run_with_hook(tmp_path, NOISY_MODULE, gpu_found=False)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "imported 42\n"
    assert finished.stderr == "a real warning from the import\n"


def test_a_quiet_import_on_a_machine_with_a_gpu_shows_every_line(tmp_path):
    finished = run_with_hook(tmp_path, NOISY_MODULE, gpu_found=True)

    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == NOISY_LINES + "a real warning from the import\n"


def test_a_failing_import_shows_everything_it_wrote_and_its_error(tmp_path):
    failing = NOISY_MODULE + "    raise ImportError('libtensorflow_framework.so.2: cannot open shared object file')\n"

    finished = run_with_hook(tmp_path, failing, gpu_found=False)

    assert finished.returncode == 1
    assert finished.stderr.startswith(NOISY_LINES + "a real warning from the import\n")
    assert "ImportError: libtensorflow_framework.so.2: cannot open shared object file" in finished.stderr


def test_importing_ganlab_then_tensorflow_and_running_an_op_prints_no_start_up_messages():
    script = (
        "import ganlab, keras, tensorflow as tf\n"
        "print(bool(tf.config.list_physical_devices('GPU')), float(tf.constant(1.0) + 1.0))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env=environment_without_logging_settings(),
    )

    assert finished.returncode == 0, finished.stderr
    has_gpu, value = finished.stdout.split()
    assert value == "2.0"
    if has_gpu == "False":
        assert startup.without_startup_noise(finished.stderr) == finished.stderr
        assert "CUDA" not in finished.stderr and "oneDNN" not in finished.stderr
