"""What the checks of every lesson share.

The report (``CheckResult``, ``Mistake``), the run of a check (``run_check``),
using the student's function or ganlab's (``solution_or_reference``), and the
helpers that compare values and inspect models.

See ``ganlab.checks`` for how checks work.
"""

from __future__ import annotations

import contextlib
import math
import os
import textwrap
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

# Two numbers agree when they differ by less than this, relatively or absolutely.
TOLERANCE = 1e-4

# Report lines are wrapped at this width, which fits a notebook cell.
LINE_WIDTH = 100


# --- results and reports -------------------------------------------------------------


@dataclass
class CheckResult:
    """What a check found.

    Attributes:
        name: the exercise, such as ``"discriminator_loss"``.
        passed: True when every check passed.
        status: ``"passed"``, ``"failed"`` (a mistake was found),
            ``"error"`` (the function raised an exception) or
            ``"not written"`` (it raises ``NotImplementedError``).
        message: the printed report.
    """

    name: str
    passed: bool
    status: str
    message: str

    def __bool__(self):
        return self.passed

    def _ipython_display_(self):
        # The report is printed by the check already; as the value of a
        # notebook cell the result would show it a second time.
        pass


class Mistake(Exception):
    """Raised inside a check when the student's function does something wrong.

    Args:
        problem: what is wrong, with expected and got values.
        hint: how to fix it.
    """

    def __init__(self, problem, hint=None):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


class _NotWritten(Exception):
    """The student's function, or a function it calls, is not written yet."""

    def __init__(self, what=None):
        super().__init__(what)
        self.what = what


class Report:
    """The ✓ sentences a check collects while it runs."""

    def __init__(self):
        self.passed_sentences = []

    def ok(self, sentence):
        self.passed_sentences.append(sentence)


def run_check(name, function, body, verbose=True):
    """Runs ``body(function, report)`` and turns what happens into a ``CheckResult``.

    This is the shared machinery of every ``check_*`` function: ``body``
    raises ``Mistake`` for a wrong answer; a ``NotImplementedError`` means the
    exercise is not written yet; any other exception comes from the student's
    code and is reported in one line (with the line of their code that raised
    it), never as a traceback.

    Args:
        name: the exercise's name, used in the report.
        function: the student's function.
        body: the check, ``body(function, report)``.
        verbose: print the report.

    Returns:
        A ``CheckResult``.
    """
    report = Report()
    problem = hint = None
    if not callable(function):
        status = "failed"
        problem = f"expected the function {name}, got {_describe(function)}."
        hint = f"pass the function itself: ganlab.checks.check_{name}({name})."
    else:
        try:
            with _float32_policy():
                body(function, report)
            status = "passed"
        except Mistake as mistake:
            status, problem, hint = "failed", mistake.problem, mistake.hint
        except _NotWritten as not_written:
            status, problem = "not written", not_written.what
        except NotImplementedError as error:
            status = "not written"
            problem = _not_written_yet(error)
        except Exception as error:  # the student's code raised: report it, never raise
            status = "error"
            problem, hint = _describe_error(error)
    message = _format_report(name, status, report.passed_sentences, problem, hint)
    if verbose:
        print(message)
    return CheckResult(name=name, passed=status == "passed", status=status, message=message)


def _not_written_yet(error):
    """Names the method stub that raised ``error``: ``EqualizedDense.build is not written yet ...``.

    The innermost frame of the traceback is the ``raise NotImplementedError``
    of the stub; for a class exercise its qualified name says which method is
    still to be written. None for a plain function (the check's name says it)
    or when the name cannot be told.
    """
    traceback = error.__traceback__
    if traceback is None:
        return None
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    frame = traceback.tb_frame
    name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)  # co_qualname: Python 3.11+
    owner = frame.f_locals.get("self")
    if "." not in name and owner is not None:
        name = f"{type(owner).__name__}.{name}"
    if "." not in name or "<" in name:
        # A plain function: the check's own name says it (a lambda or module: no name to give).
        return None
    return f"{name} is not written yet (it raises NotImplementedError)."


def _format_report(name, status, sentences, problem, hint):
    def wrap(text, first, rest):
        return textwrap.fill(
            text, LINE_WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
        )

    if status == "not written":
        lines = [
            wrap(problem or f"{name} is not written yet (it raises NotImplementedError).", "✗ ", "  "),
            wrap(
                "Replace `raise NotImplementedError` with your code, run that cell, then run this check again.",
                "  ",
                "  ",
            ),
        ]
        return "\n".join(lines)
    if status == "passed":
        count = len(sentences)
        lines = [f"✓ {name}: {'all ' if count > 1 else ''}{count} check{'s' if count != 1 else ''} passed."]
    else:
        count = len(sentences)
        prefix = (
            f"{count} check{'s' if count != 1 else ''} passed, then a problem." if count else "a problem."
        )
        lines = [f"✗ {name}: {prefix}"]
    lines += [wrap(sentence, "  ✓ ", "    ") for sentence in sentences]
    if status != "passed":
        lines.append(wrap(problem, "  ✗ ", "    "))
        if hint:
            lines.append(wrap(f"Hint: {hint}", "    ", "      "))
    return "\n".join(lines)


def _describe(value):
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _describe_error(error):
    """One-line description of an exception raised by the student's code, and a hint."""
    text = str(error).strip().splitlines()
    first_line = text[0] if text else ""
    if len(first_line) > 300:
        first_line = first_line[:297] + "..."
    problem = f"your function raised {type(error).__name__}: {first_line}"
    frame = _student_frame(error)
    if frame is not None:
        code = (frame.line or "").strip()
        problem += f" (in {frame.name}, at `{code}`)" if code else f" (in {frame.name})"
    return problem, "fix the line above, run the cell that defines the function, then run this check again."


def _student_frame(error):
    """The innermost traceback frame outside Python, ganlab and installed packages."""
    library_folders = (
        str(Path(__file__).resolve().parent),
        os.path.dirname(os.__file__),  # the standard library
    )
    frames = traceback.extract_tb(error.__traceback__)
    own = [
        frame
        for frame in frames
        if not any(part in frame.filename for part in ("site-packages", "dist-packages"))
        and not os.path.abspath(frame.filename).startswith(library_folders)
    ]
    return own[-1] if own else None


@contextlib.contextmanager
def _float32_policy():
    """Checks compare numbers to 4 digits: they run in float32 even under mixed precision."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


# --- using the student's function, or ganlab's -----------------------------------------

# The result of the last check of each function object, so that a training cell
# right after a check cell does not run the same check again.
_checked = weakref.WeakKeyDictionary()


def solution_or_reference(student_function, reference_function, name=None):
    """The student's function if its check passes, else the reference, said in one line.

    Training and plotting cells call exercises through this, so that an
    unsolved or wrong exercise never stops the rest of the notebook::

        make_generator = checks.solution_or_reference(
            build_generator, ganlab.models.build_vanilla_generator, "build_generator")

    Args:
        student_function: the function the student wrote.
        reference_function: ganlab's function with the same arguments.
        name: the exercise's name (its check is ``check_<name>``); the
            function's ``__name__`` when None.

    Returns:
        ``student_function`` when ``check_<name>`` passes, else ``reference_function``.
    """
    name = name or getattr(student_function, "__name__", None)
    import ganlab.checks  # the package holds every lesson's checks

    check = getattr(ganlab.checks, f"check_{name}", None)
    if check is None:
        raise ValueError(f"There is no check for an exercise named {name!r}. Received: name={name!r}")
    result = _cached_check(check, student_function)
    if result.passed:
        print(f"✓ using your {name}.")
        return student_function
    if result.status == "not written":
        print(
            f"{name} is not written yet: this cell uses ganlab's reference so the rest of the notebook runs."
        )
    else:
        print(
            f"your {name} does not pass its check yet (run its check cell to see why): "
            "this cell uses ganlab's reference so the rest of the notebook runs."
        )
    return reference_function


def _cached_check(check, function):
    try:
        cached = _checked.get(function)
    except TypeError:  # not weak-referenceable (a callable object): no cache
        cached = None
    if cached is not None and cached[0] is check:
        return cached[1]
    result = check(function, verbose=False)
    with contextlib.suppress(TypeError):
        _checked[function] = (check, result)
    return result


# --- helpers shared by the checks ------------------------------------------------------


def _to_numpy(value):
    try:
        return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)
    except Exception:
        return np.asarray(value, dtype=np.float64)


def _scalar(value, what):
    """The float in ``value``; a Mistake when it is not one number."""
    if value is None:
        raise Mistake(f"{what} returned None.", "end the function with `return ...`.")
    array = _to_numpy(value)
    if array.size != 1:
        raise Mistake(
            f"{what} must be one number for the whole batch (a scalar); got shape {tuple(array.shape)}.",
            "average over the batch with ops.mean(...).",
        )
    return float(array.reshape(()))


def _close(got, expected, tolerance=TOLERANCE):
    return math.isfinite(got) and abs(got - expected) <= tolerance * max(1.0, abs(expected))


def _expect_model(model, function_name):
    if model is None:
        raise Mistake(f"{function_name} returned None.", "end it with `return keras.Model(inputs, outputs)`.")
    if not isinstance(model, keras.Model):
        raise Mistake(
            f"{function_name} must return a keras.Model; got {_describe(model)}.",
            "end it with `return keras.Model(inputs, outputs)`.",
        )


def _expect_input_shape(model, expected, function_name):
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError, TypeError):
        return  # a model without a declared input: the call below tells
    if shape != expected:
        raise Mistake(
            f"the model made by {function_name} takes inputs of shape {shape}; expected {expected}.",
            "start from keras.Input(shape=...) with the sizes in config.",
        )


def _flat_layers(model):
    """All layers of a model in order, looking inside nested models."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer)
        else:
            yield layer


_ACTIVATION_LAYERS = (
    keras.layers.LeakyReLU,
    keras.layers.ReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Activation,
    keras.layers.Softmax,
)
# Layers that may sit between a Dense layer and its activation.
_PASS_THROUGH_LAYERS = (
    keras.layers.Reshape,
    keras.layers.Flatten,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.Dropout,
)


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation)) if activation is not None else "linear"


def _is_nonlinear_layer(layer):
    if isinstance(layer, keras.layers.Activation):
        return _activation_name(layer) != "linear"
    return isinstance(layer, _ACTIVATION_LAYERS)


def _check_hidden_activations(layers, kind, report, network):
    """Every hidden layer of ``kind`` (Dense, Conv...) must be followed by a nonlinearity."""
    indexes = [index for index, layer in enumerate(layers) if isinstance(layer, kind)]
    for index in indexes[:-1]:
        layer = layers[index]
        if _activation_name(layer) != "linear":
            continue
        following = index + 1
        while following < len(layers) and isinstance(layers[following], _PASS_THROUGH_LAYERS):
            following += 1
        if following < len(layers) and _is_nonlinear_layer(layers[following]):
            continue
        raise Mistake(
            f"the hidden layer {layer.name!r} of your {network} has no activation after it.",
            "without a nonlinearity, layers stacked together are one linear map. Add "
            "layers.LeakyReLU(0.2) after each hidden layer.",
        )
    report.ok(f"every hidden layer of your {network} is followed by a nonlinearity.")


def _check_discriminator_gives_one_logit_per_image(model, function_name, image_shape, number, report, hint):
    """The checks every discriminator builder shares; returns the model's layers, flattened.

    A Keras model from ``image_shape`` images to logits of shape ``(N, 1)``,
    with no activation squashing the logit.
    """
    _expect_model(model, function_name)
    _expect_input_shape(model, (None, *image_shape), function_name)
    images = np.random.default_rng(1).uniform(-1, 1, (number, *image_shape)).astype("float32")
    logits = _to_numpy(model(images, training=False))
    if logits.shape != (number, 1):
        raise Mistake(
            f"{number} images should give logits of shape ({number}, 1), one per image; got {logits.shape}.",
            hint,
        )
    report.ok("maps images (N, height, width, channels) to one logit per image, shape (N, 1).")
    _check_logit_output(model, images, report, "discriminator")
    return list(_flat_layers(model))


def _check_logit_output(model, images, report, network):
    """A logit is unbounded: no activation on the last layer, and no squashing of huge inputs.

    The last layer is inspected first. Then the model runs on inputs 1000 times
    too large: an unsquashed logit grows with them (the networks are close to
    positively homogeneous at initialization), so outputs that all stay in
    [0, 1] or [-1, 1] reveal a sigmoid or tanh however it was written.
    """
    last = list(_flat_layers(model))[-1]
    activation = _activation_name(last)
    if _is_nonlinear_layer(last) or activation != "linear":
        name = activation if activation != "linear" else type(last).__name__
        raise Mistake(
            f"the last layer of your {network} applies an activation ({name}) to the logit.",
            "the last layer must be layers.Dense(1) without an activation: the losses take the logit "
            "and use -log D = softplus(-logit), which is exact where log(sigmoid(logit)) would round to log(0).",
        )
    outputs = _to_numpy(model(images * 1000.0, training=False))
    if np.all((outputs >= 0) & (outputs <= 1)):
        raise Mistake(
            f"your {network} outputs only values in [0, 1] ({outputs.min():.3g} to {outputs.max():.3g}), even "
            "for inputs 1000 times too large: a sigmoid is applied to the logit.",
            "the output must be a logit: layers.Dense(1) without an activation; the losses apply the sigmoid "
            "themselves, exactly, through softplus.",
        )
    if np.all(np.abs(outputs) <= 1):
        raise Mistake(
            f"your {network} outputs only values in [-1, 1], even for inputs 1000 times too large: "
            "an activation such as tanh is applied to the logit.",
            "the output must be a logit: layers.Dense(1) without an activation.",
        )
    report.ok(f"your {network} outputs a logit (unbounded, no sigmoid on it).")


def _check_image_range(model, latent, report, network):
    """Generated images must lie in [-1, 1], like the real ones, even for huge z: tanh."""
    images = _to_numpy(model(latent * 1000.0, training=False))
    low, high = float(images.min()), float(images.max())
    if low >= -1e-6 and high <= 1 + 1e-6:
        raise Mistake(
            f"all pixels of your {network} are in [0, 1] ({low:.3g} to {high:.3g}): a sigmoid output?",
            "the real images are scaled to [-1, 1]; use activation='tanh' on the output layer.",
        )
    if low < -1 - 1e-5 or high > 1 + 1e-5:
        raise Mistake(
            f"your {network}'s pixels range from {low:.3g} to {high:.3g} (for latent vectors 1000 times too "
            "long), outside [-1, 1], the range of the real images: the output layer has no tanh.",
            "give the output layer activation='tanh'.",
        )
    report.ok(f"your {network}'s pixels stay in [-1, 1], like the real images, even for huge z: tanh.")


def _random(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype("float32")


def _float_result(value, what):
    """The float in ``value``; a Mistake when it is None, complex or not one number."""
    if value is None:
        raise Mistake(f"{what} returned None.", "end the function with `return ...`.")
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise Mistake(
            f"{what} returned a complex number ({complex(array.reshape(-1)[0]):.4g}).",
            "a distance is real. scipy.linalg.sqrtm(S_a @ S_b) drifts into complex numbers on the "
            "non-symmetric product; take the trace of the square root of the symmetric "
            "sqrt(S_a) @ S_b @ sqrt(S_a) instead (it has the same eigenvalues).",
        )
    if array.size != 1:
        raise Mistake(
            f"{what} must return one number; got an array of shape {array.shape}.",
            "sum or average down to a single float.",
        )
    return float(array.reshape(()))


def _expect_value(got, right, variants, what, hint, tolerance=1e-4):
    """Raises the Mistake of ``_diagnose_value`` unless ``got`` is close to ``right``."""
    if not _close(got, right, tolerance):
        raise _diagnose_value(got, right, variants, what, hint)


def _diagnose_value(got, right, variants, what, hint):
    """A Mistake naming the variant that ``got`` matches, or a general one with ``hint``."""
    for value, diagnosis, variant_hint in variants:
        if math.isfinite(value) and _close(got, value, 1e-3) and not _close(right, value, 1e-3):
            return Mistake(f"{diagnosis}: expected {right:.6g}, got {got:.6g}.", variant_hint)
    return Mistake(f"{what}: expected {right:.6g}, got {got:.6g}.", hint)
