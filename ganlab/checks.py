"""Checks of the lessons' exercises: what is right, or exactly what is wrong.

Each exercise of a lesson is a function the student writes, followed by a
check cell::

    ganlab.checks.check_discriminator_loss(discriminator_loss)

A check runs the function on small inputs whose answers are known and prints a
report: a ✓ line for everything that is right, and for the first thing that is
wrong a ✗ line with what was expected, what came back, and a hint::

    ✗ discriminator_loss: 1 check passed, then a problem.
      ✓ returns one number (a scalar) for the whole batch.
      ✗ your discriminator loss treats fakes as real: expected 3.14, got 1.31.
        Hint: fakes have the label 0: their term is -log(1 - D(G(z))) = softplus(fake_logits).

A check never raises and never shows a traceback: an error inside the
student's function is reported as one line naming the line of the student's
code that raised it. Every check also returns a ``CheckResult`` (``passed``,
``status``, ``message``), which graders use.

Notebooks must run to the end even while exercises are unsolved (the lessons
run in CI with every exercise left as ``raise NotImplementedError``). So the
cells that *use* an exercise go through ``solution_or_reference``: it returns
the student's function when its check passes, and otherwise says so in one line
and returns ganlab's own implementation.

The lessons and their exercises:

- 01 vanilla GAN: ``build_generator``, ``build_discriminator``,
  ``discriminator_loss``, ``generator_loss``, ``gan_train_step``.
- 02 DCGAN: ``build_dcgan_generator``, ``build_dcgan_discriminator``,
  ``train_with_checkpoints``, ``interpolate_latents``.

Where the library has no function of the exercise's shape, the reference is
here (``reference_gan_train_step``, ``reference_train_with_checkpoints``,
``reference_interpolate_latents``); the others are ganlab's models and losses.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import textwrap
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from ganlab import losses
from ganlab.models import DCGANConfig, VanillaConfig

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
        except NotImplementedError:
            status = "not written"
        except Exception as error:  # the student's code raised: report it, never raise
            status = "error"
            problem, hint = _describe_error(error)
    message = _format_report(name, status, report.passed_sentences, problem, hint)
    if verbose:
        print(message)
    return CheckResult(name=name, passed=status == "passed", status=status, message=message)


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
    check = globals().get(f"check_{name}")
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


# --- lesson 01: vanilla GAN ----------------------------------------------------------


def check_build_generator(build_generator, verbose=True):
    """Checks ``build_generator(config)``: an MLP from z to an image, tanh output.

    Catches: not a keras.Model, wrong input or output shape (config ignored,
    missing Reshape), missing tanh (pixels outside [-1, 1]), sigmoid instead
    of tanh (pixels in [0, 1]), hidden widths not ``config.hidden_units``,
    hidden layers without a nonlinearity.
    """

    def body(build_generator, report):
        # Unusual sizes, so that sizes written into the function instead of read
        # from config show up.
        config = VanillaConfig(latent_dim=5, image_shape=(6, 6, 1), hidden_units=(16, 32))
        model = build_generator(config)
        _expect_model(model, "build_generator")
        _expect_input_shape(model, (None, 5), "build_generator")
        latent = _random((64, 5))
        images = _to_numpy(model(latent, training=False))
        if images.shape != (64, 6, 6, 1):
            hint = (
                "read the sizes from config (config.image_shape) and end with "
                "layers.Reshape(config.image_shape)."
            )
            if images.shape == (64, 36):
                hint = "the last Dense layer gives flat pixels: add layers.Reshape(config.image_shape)."
            raise Mistake(
                f"for config.latent_dim=5 and config.image_shape=(6, 6, 1), 64 latent vectors should give "
                f"images of shape (64, 6, 6, 1); got {images.shape}.",
                hint,
            )
        report.ok(
            "maps latent vectors (N, latent_dim) to images (N, height, width, channels) of config's sizes."
        )
        _check_image_range(model, latent, report, "generator")
        layers = list(_flat_layers(model))
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        widths = [layer.units for layer in dense[:-1]]
        if widths != list(config.hidden_units):
            raise Mistake(
                f"the hidden Dense layers of your generator have widths {widths}; expected "
                f"config.hidden_units = {list(config.hidden_units)}, in that order.",
                "loop over config.hidden_units: one Dense layer (and its LeakyReLU) per width.",
            )
        report.ok("has one hidden Dense layer per width in config.hidden_units, then one to the pixels.")
        _check_hidden_activations(layers, keras.layers.Dense, report, "generator")

    return run_check("build_generator", build_generator, body, verbose)


def check_build_discriminator(build_discriminator, verbose=True):
    """Checks ``build_discriminator(config)``: an MLP from an image to one logit.

    Catches: not a keras.Model, wrong input or output shape, a sigmoid (or
    other activation) on the logit, hidden widths not ``config.hidden_units``
    reversed, missing Dropout of ``config.dropout``, hidden layers without a
    nonlinearity.
    """

    def body(build_discriminator, report):
        config = VanillaConfig(latent_dim=5, image_shape=(6, 6, 1), hidden_units=(16, 32), dropout=0.25)
        model = build_discriminator(config)
        layers = _check_discriminator_gives_one_logit_per_image(
            model, "build_discriminator", (6, 6, 1), 64, report,
            hint="flatten the image first (layers.Flatten()) and end with layers.Dense(1).",
        )
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        widths = [layer.units for layer in dense[:-1]]
        expected_widths = list(reversed(config.hidden_units))
        if widths != expected_widths:
            raise Mistake(
                f"the hidden Dense layers of your discriminator have widths {widths}; expected "
                f"config.hidden_units reversed = {expected_widths} (widest first, mirroring G).",
                "loop over reversed(config.hidden_units).",
            )
        report.ok("has one hidden Dense layer per width of config.hidden_units, widest first.")
        rates = [layer.rate for layer in layers if isinstance(layer, keras.layers.Dropout)]
        if not rates:
            raise Mistake(
                f"your discriminator has no Dropout (config.dropout = {config.dropout}).",
                "add layers.Dropout(config.dropout) after each hidden activation: it slows down D's "
                "memorizing of the training images.",
            )
        if any(abs(rate - config.dropout) > 1e-9 for rate in rates):
            raise Mistake(
                f"your Dropout rates are {rates}; expected config.dropout = {config.dropout}.",
                "use layers.Dropout(config.dropout).",
            )
        report.ok(f"uses Dropout({config.dropout}) as config says.")
        _check_hidden_activations(layers, keras.layers.Dense, report, "discriminator")

    return run_check("build_discriminator", build_discriminator, body, verbose)


# Logits of a small test batch, as a discriminator gives them: shape (N, 1).
_REAL_LOGITS = np.array([[1.5], [-0.5], [3.0], [0.2]], dtype="float32")
_FAKE_LOGITS = np.array([[-2.0], [0.7], [-0.1], [-1.2]], dtype="float32")


def _softplus(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


def _mean(x):
    return float(np.mean(x))


def _as_probabilities(logits):
    # What Keras' binary cross-entropy does with from_logits=False: clip into (0, 1).
    return np.clip(np.asarray(logits, dtype=np.float64), 1e-7, 1 - 1e-7)


def _discriminator_loss_variants(real, fake):
    """The right value and the values of common mistakes, each with a diagnosis and a hint."""
    right = _mean(_softplus(-real)) + _mean(_softplus(fake))
    real_probability, fake_probability = _as_probabilities(real), _as_probabilities(fake)
    return right, [
        (
            _mean(_softplus(-real)) + _mean(_softplus(-fake)),
            "your discriminator loss treats fakes as real",
            "fakes have the label 0: their term is -log(1 - D(G(z))) = softplus(fake_logits).",
        ),
        (
            _mean(_softplus(real)) + _mean(_softplus(fake)),
            "your discriminator loss treats real images as fakes",
            "real images have the label 1: their term is -log D(x) = softplus(-real_logits).",
        ),
        (
            _mean(_softplus(real)) + _mean(_softplus(-fake)),
            "your discriminator loss has the labels swapped (real as 0, fakes as 1)",
            "real images are 1: softplus(-real_logits); fakes are 0: softplus(fake_logits).",
        ),
        (
            -right,
            "your discriminator loss has the wrong sign",
            "cross-entropy is -log(probability of the right label), never negative: "
            "-log D(x) = softplus(-real_logits) and -log(1 - D(G(z))) = softplus(fake_logits).",
        ),
        (
            _mean(_softplus(fake)),
            "your discriminator loss leaves out the real images",
            "L_D has two terms: mean(softplus(-real_logits)) + mean(softplus(fake_logits)).",
        ),
        (
            _mean(_softplus(-real)),
            "your discriminator loss leaves out the fakes",
            "L_D has two terms: mean(softplus(-real_logits)) + mean(softplus(fake_logits)).",
        ),
        (
            float(np.sum(_softplus(-real)) + np.sum(_softplus(fake))),
            "your discriminator loss sums over the batch instead of averaging",
            "use ops.mean, so that the loss (and the learning rate) does not depend on the batch size.",
        ),
        (
            right / 2,
            "your discriminator loss averages the real and fake terms",
            "in this course L_D is the sum of the two means (Goodfellow et al.'s V(D, G)): "
            "mean(softplus(-real_logits)) + mean(softplus(fake_logits)), no division by 2.",
        ),
        (
            _mean(-np.log(real_probability)) + _mean(-np.log(1 - fake_probability)),
            "your discriminator loss treats the logits as probabilities",
            "D outputs logits, not probabilities: -log D(x) = softplus(-logit) (or from_logits=True).",
        ),
    ]


def _generator_loss_variants(fake):
    right = _mean(_softplus(-fake))
    fake_probability = _as_probabilities(fake)
    return right, [
        (
            -_mean(_softplus(fake)),
            "your generator loss is the saturating minimax loss log(1 - D(G(z)))",
            "its gradient vanishes where D rejects the fakes (see the plot above): use the "
            "non-saturating -log D(G(z)) = softplus(-fake_logits).",
        ),
        (
            _mean(_softplus(fake)),
            "your generator loss labels the fakes 0 (that is the discriminator's loss on fakes)",
            "G wants D to call its fakes real, label 1: -log D(G(z)) = softplus(-fake_logits).",
        ),
        (
            -right,
            "your generator loss has the wrong sign",
            "G minimizes -log D(G(z)) = softplus(-fake_logits), which is never negative.",
        ),
        (
            float(np.sum(_softplus(-fake))),
            "your generator loss sums over the batch instead of averaging",
            "use ops.mean.",
        ),
        (
            _mean(-np.log(fake_probability)),
            "your generator loss treats the logits as probabilities",
            "D outputs logits: -log D(G(z)) = softplus(-fake_logits) (or from_logits=True).",
        ),
    ]


def _diagnose(got, right, variants, name):
    """A Mistake naming the variant that ``got`` matches, or a general one."""
    for value, diagnosis, hint in variants:
        if _close(got, value, 1e-3):
            return Mistake(f"{diagnosis}: expected {right:.4g}, got {got:.4g}.", hint)
    if not math.isfinite(got):
        return Mistake(
            f"your {name} is {got} on ordinary logits; expected {right:.4g}.",
            "use softplus: -log(sigmoid(x)) = softplus(-x), which never takes log(0).",
        )
    return Mistake(
        f"your {name} is {got:.4g} on a test batch; expected {right:.4g}.",
        "compare with the formula above, written with ops.softplus and ops.mean.",
    )


def _gradient(function, *arrays):
    """The values and gradients of ``function`` at ``arrays`` (TensorFlow); gradients None if not differentiable."""
    import tensorflow as tf

    variables = [tf.Variable(array) for array in arrays]
    with tf.GradientTape() as tape:
        value = function(*variables)
    if value is None or not tf.is_tensor(value):
        return value, [None] * len(variables)
    return value, tape.gradient(value, variables)


def _check_differentiable(function, arrays, name):
    _, gradients = _gradient(function, *arrays)
    if any(gradient is None for gradient in gradients):
        raise Mistake(
            f"no gradient flows through your {name}: TensorFlow cannot differentiate it.",
            "compute it with keras.ops (ops.softplus, ops.mean) on the tensors you get, not with NumPy or float().",
        )
    return gradients


def check_discriminator_loss(discriminator_loss, verbose=True):
    """Checks ``discriminator_loss(real_logits, fake_logits)``, binary cross-entropy on logits.

    ```
    L_D = mean(softplus(-real_logits)) + mean(softplus(fake_logits))
    ```

    Catches: fakes treated as real, real images treated as fakes, swapped
    labels, wrong sign, a missing term, sum instead of mean, halving, logits
    used as probabilities, not a scalar, not differentiable, infinite for
    confident logits (log of a sigmoid instead of softplus).
    """

    def body(discriminator_loss, report):
        got = _scalar(
            discriminator_loss(ops.convert_to_tensor(_REAL_LOGITS), ops.convert_to_tensor(_FAKE_LOGITS)),
            "your discriminator_loss",
        )
        report.ok("returns one number (a scalar) for the whole batch.")
        right, variants = _discriminator_loss_variants(_REAL_LOGITS, _FAKE_LOGITS)
        if not _close(got, right):
            raise _diagnose(got, right, variants, "discriminator loss")
        report.ok(f"mean(softplus(-real_logits)) + mean(softplus(fake_logits)) on a test batch: {got:.4f}.")
        zeros = np.zeros((4, 1), "float32")
        undecided = _scalar(
            discriminator_loss(ops.convert_to_tensor(zeros), ops.convert_to_tensor(zeros)),
            "your discriminator_loss",
        )
        if not _close(undecided, 2 * math.log(2)):
            raise Mistake(
                "a discriminator that cannot tell (all logits 0, D = 1/2) should cost 2 log 2 "
                f"= 1.386; got {undecided:.4g}.",
                "L_D = mean(softplus(-real_logits)) + mean(softplus(fake_logits)).",
            )
        report.ok("a discriminator that cannot tell (logits 0) costs 2·log 2 = 1.386.")
        # Confident and wrong: log(sigmoid(-100)) rounds to log(0) in float32.
        confident = _scalar(
            discriminator_loss(ops.convert_to_tensor([[-100.0]]), ops.convert_to_tensor([[100.0]])),
            "your discriminator_loss",
        )
        if not _close(confident, 200.0, 1e-3):
            raise Mistake(
                "for a confidently wrong D (real logit -100, fake logit +100) the loss should "
                f"be 200; got {confident:.4g}.",
                "log(sigmoid(x)) rounds to log(0) = -inf for very negative x; use the exact identities "
                "-log(sigmoid(x)) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x).",
            )
        report.ok("stays exact for confident logits (±100), thanks to softplus.")
        gradients = _check_differentiable(
            discriminator_loss, (_REAL_LOGITS, _FAKE_LOGITS), "discriminator loss"
        )
        # d/dx softplus(x) = sigmoid(x); divided by N for the mean.
        expected_fake_gradient = 1 / (1 + np.exp(-_FAKE_LOGITS.astype(np.float64))) / len(_FAKE_LOGITS)
        if not np.allclose(_to_numpy(gradients[1]), expected_fake_gradient, atol=1e-4):
            raise Mistake(
                "the gradient of your loss with respect to the fake logits is not sigmoid(fake_logits) / N.",
                "compute the loss from the tensors you are given, with keras.ops.",
            )
        report.ok("is differentiable: D can learn from it.")

    return run_check("discriminator_loss", discriminator_loss, body, verbose)


def check_generator_loss(generator_loss, verbose=True):
    """Checks ``generator_loss(fake_logits)``, the non-saturating loss.

    ```
    L_G = mean(softplus(-fake_logits))      (= -log D(G(z)))
    ```

    Catches: the saturating minimax loss, the fakes labelled 0, wrong sign, sum
    instead of mean, logits used as probabilities, not a scalar, not
    differentiable, infinite for confident logits.
    """

    def body(generator_loss, report):
        got = _scalar(generator_loss(ops.convert_to_tensor(_FAKE_LOGITS)), "your generator_loss")
        report.ok("returns one number (a scalar) for the whole batch.")
        right, variants = _generator_loss_variants(_FAKE_LOGITS)
        if not _close(got, right):
            raise _diagnose(got, right, variants, "generator loss")
        report.ok(f"mean(softplus(-fake_logits)) on a test batch: {got:.4f}.")
        undecided = _scalar(
            generator_loss(ops.convert_to_tensor(np.zeros((4, 1), "float32"))), "your generator_loss"
        )
        if not _close(undecided, math.log(2)):
            raise Mistake(
                f"when D cannot tell (logits 0) the loss should be log 2 = 0.693; got {undecided:.4g}.",
                "L_G = mean(softplus(-fake_logits)).",
            )
        report.ok("when D cannot tell (logits 0) it is log 2 = 0.693.")
        confident = _scalar(generator_loss(ops.convert_to_tensor([[-100.0]])), "your generator_loss")
        if not _close(confident, 100.0, 1e-3):
            raise Mistake(
                "when D rejects a fake with full confidence (logit -100) the loss should be "
                f"100; got {confident:.4g}.",
                "use -log(sigmoid(x)) = softplus(-x), which never takes log(0).",
            )
        report.ok("stays exact when D rejects the fakes confidently (logit -100).")
        rejected = np.full((4, 1), -5.0, "float32")
        _, gradients = _gradient(generator_loss, rejected)
        if gradients[0] is None:
            raise Mistake(
                "no gradient flows through your generator loss: TensorFlow cannot differentiate it.",
                "compute it with keras.ops (ops.softplus, ops.mean), not with NumPy or float().",
            )
        slope = float(np.abs(_to_numpy(gradients[0])).sum())
        if slope < 0.9:
            raise Mistake(
                f"where D rejects the fakes (logits -5) the gradient of your loss is only {slope:.3g} "
                "(summed over the batch); the non-saturating loss gives 0.993.",
                "use -log D(G(z)) = softplus(-fake_logits): its slope stays near 1 where D(G(z)) is near 0.",
            )
        report.ok(f"its gradient stays strong where D rejects the fakes (logits -5: {slope:.3f}, not 0.007).")

    return run_check("generator_loss", generator_loss, body, verbose)


# The train-step check uses two tiny networks whose every call is recorded, and
# plain SGD, so that a correct step is known exactly.

_PROBE_LATENT_DIM = 3
_PROBE_IMAGE_SHAPE = (2, 2, 1)
_PROBE_BATCH = 4
_PROBE_D_LEARNING_RATE = 0.5
_PROBE_G_LEARNING_RATE = 0.2


class _CallLog:
    """A list of (network, training, input shape), one per call. Not a list itself,
    so that Keras does not track it as a layer attribute."""

    def __init__(self):
        self.calls = []


class _ProbeGenerator(keras.Model):
    """G for the train-step check: one trainable image, the same for every z.

    Its gradients do not depend on z, so a correct step is known exactly
    whichever latent vectors the student draws.
    """

    def __init__(self, call_log, **kwargs):
        super().__init__(name="probe_generator", **kwargs)
        self.call_log = call_log
        self.pixels = self.add_weight(shape=_PROBE_IMAGE_SHAPE, initializer="zeros", name="pixels")
        self.pixels.assign(np.array([[[0.3], [-0.4]], [[0.1], [0.6]]], "float32"))

    def call(self, latent, training=None):
        self.call_log.calls.append(("generator", training, tuple(latent.shape)))
        batch_size = ops.shape(latent)[0]
        image = ops.tanh(self.pixels)
        return ops.broadcast_to(ops.expand_dims(image, 0), (batch_size, *_PROBE_IMAGE_SHAPE))


class _ProbeDiscriminator(keras.Model):
    """D for the train-step check: a linear logit of the pixels."""

    def __init__(self, call_log, **kwargs):
        super().__init__(name="probe_discriminator", **kwargs)
        self.call_log = call_log
        size = int(np.prod(_PROBE_IMAGE_SHAPE))
        self.kernel = self.add_weight(shape=(size, 1), initializer="zeros", name="kernel")
        self.kernel.assign(np.array([[0.5], [-0.3], [0.8], [0.2]], "float32"))
        self.bias = self.add_weight(shape=(1,), initializer="zeros", name="bias")
        self.bias.assign(np.array([0.1], "float32"))

    def call(self, images, training=None):
        self.call_log.calls.append(("discriminator", training, tuple(images.shape)))
        flat = ops.reshape(images, (ops.shape(images)[0], -1))
        return ops.matmul(flat, self.kernel) + self.bias


def _probe_setup():
    call_log = _CallLog()
    generator = _ProbeGenerator(call_log)
    discriminator = _ProbeDiscriminator(call_log)
    g_optimizer = keras.optimizers.SGD(_PROBE_G_LEARNING_RATE)
    d_optimizer = keras.optimizers.SGD(_PROBE_D_LEARNING_RATE)
    real_images = (
        np.random.default_rng(3).uniform(-1, 1, (_PROBE_BATCH, *_PROBE_IMAGE_SHAPE)).astype("float32")
    )
    seed_generator = keras.random.SeedGenerator(7)
    return call_log, generator, discriminator, g_optimizer, d_optimizer, real_images, seed_generator


def _weights(model):
    return [np.array(ops.convert_to_numpy(weight)) for weight in model.trainable_weights]


def _same_weights(a, b):
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-5) for x, y in zip(a, b))


def _expected_step(discriminator_loss, generator_loss, order):
    """Weights and losses after one step done in ``order``, on fresh probes.

    ``order``: "alternating" (right: D, then G through the updated D),
    "generator_first", "simultaneous" (both gradients before either update),
    "swapped_optimizers", "generator_in_discriminator_step".
    """
    import tensorflow as tf

    _, generator, discriminator, g_optimizer, d_optimizer, real_images, _ = _probe_setup()
    latent = np.zeros((_PROBE_BATCH, _PROBE_LATENT_DIM), "float32")
    if order == "swapped_optimizers":
        g_optimizer, d_optimizer = d_optimizer, g_optimizer

    def discriminator_gradients(variables):
        with tf.GradientTape() as tape:
            fake_images = generator(latent, training=True)
            loss = discriminator_loss(
                discriminator(real_images, training=True), discriminator(fake_images, training=True)
            )
        return loss, tape.gradient(loss, variables)

    def generator_gradients():
        with tf.GradientTape() as tape:
            loss = generator_loss(discriminator(generator(latent, training=True), training=True))
        return loss, tape.gradient(loss, generator.trainable_weights)

    if order == "generator_first":
        g_loss, g_gradients = generator_gradients()
        g_optimizer.apply(g_gradients, generator.trainable_weights)
        d_loss, d_gradients = discriminator_gradients(discriminator.trainable_weights)
        d_optimizer.apply(d_gradients, discriminator.trainable_weights)
    elif order == "simultaneous":
        d_loss, d_gradients = discriminator_gradients(discriminator.trainable_weights)
        g_loss, g_gradients = generator_gradients()
        d_optimizer.apply(d_gradients, discriminator.trainable_weights)
        g_optimizer.apply(g_gradients, generator.trainable_weights)
    elif order == "generator_in_discriminator_step":
        both = discriminator.trainable_weights + generator.trainable_weights
        d_loss, d_gradients = discriminator_gradients(both)
        d_optimizer.apply(d_gradients, both)
        g_loss, g_gradients = generator_gradients()
        g_optimizer.apply(g_gradients, generator.trainable_weights)
    else:  # "alternating" and "swapped_optimizers"
        d_loss, d_gradients = discriminator_gradients(discriminator.trainable_weights)
        d_optimizer.apply(d_gradients, discriminator.trainable_weights)
        g_loss, g_gradients = generator_gradients()
        g_optimizer.apply(g_gradients, generator.trainable_weights)
    return {
        "discriminator": _weights(discriminator),
        "generator": _weights(generator),
        "d_loss": float(_to_numpy(d_loss)),
        "g_loss": float(_to_numpy(g_loss)),
    }


_STEP_MISTAKES = {
    "generator_first": (
        "your step trains G before D",
        "Goodfellow et al.'s Algorithm 1: first update D on real images and fakes, then compute G's "
        "loss with the updated D and update G.",
    ),
    "simultaneous": (
        "your step computes G's loss with D as it was before D's update",
        "update D first (d_optimizer.apply), then run the updated D on new fakes for G's loss.",
    ),
    "swapped_optimizers": (
        "your step updates D with g_optimizer and G with d_optimizer",
        "each network has its own optimizer (and its own Adam moments): d_optimizer for D's weights, "
        "g_optimizer for G's.",
    ),
    "generator_in_discriminator_step": (
        "your step also moves G's weights with D's loss",
        "in D's half-step apply the gradients to discriminator.trainable_weights only: D's loss "
        "would teach G to make its fakes easier to reject.",
    ),
}


def _losses_of(step_function):
    """The loss functions a train step calls: the notebook's own, else ganlab's BCE pair."""
    names = getattr(step_function, "__globals__", {})
    candidates = []
    discriminator_loss = names.get("discriminator_loss")
    generator_loss = names.get("generator_loss")
    if callable(discriminator_loss) and callable(generator_loss):
        for loss_name, loss in (
            ("discriminator_loss", discriminator_loss),
            ("generator_loss", generator_loss),
        ):
            try:
                loss(*([np.zeros((2, 1), "float32")] * (2 if loss_name == "discriminator_loss" else 1)))
            except NotImplementedError:
                raise _NotWritten(
                    f"gan_train_step calls {loss_name}, which is not written yet: write it first, or run the "
                    f"cell that uses ganlab's {loss_name} in its place."
                ) from None
            except Exception:  # a broken loss: its own check reports it; compare with ganlab's
                break
        else:
            candidates.append((discriminator_loss, generator_loss))
    candidates.append((losses.bce_discriminator_loss, losses.bce_generator_loss))
    return candidates


def check_gan_train_step(gan_train_step, verbose=True):
    """Checks ``gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real_images,
    latent_dim, seed_generator)``, which returns ``(d_loss, g_loss)``.

    The step runs on two tiny recorded networks with SGD, so the right result
    is known exactly. Catches: calls without ``training=True``, latent vectors
    of the wrong shape or not drawn from ``seed_generator``, a network that
    does not learn, G trained before D, G's loss computed with D before its
    update, swapped optimizers, G moved by D's loss, losses returned in the
    wrong order or not returned, and a step that fails inside ``tf.function``
    (as Keras' ``fit`` runs it).
    """
    import tensorflow as tf

    def body(gan_train_step, report):
        loss_candidates = _losses_of(gan_train_step)
        call_log, generator, discriminator, g_optimizer, d_optimizer, real_images, seed_generator = (
            _probe_setup()
        )
        before = {"discriminator": _weights(discriminator), "generator": _weights(generator)}
        seed_state = np.array(ops.convert_to_numpy(seed_generator.state))
        returned = gan_train_step(
            generator,
            discriminator,
            g_optimizer,
            d_optimizer,
            ops.convert_to_tensor(real_images),
            _PROBE_LATENT_DIM,
            seed_generator,
        )
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            raise Mistake(
                f"gan_train_step must return two values, (d_loss, g_loss); got {_describe(returned)}"
                + (f" of length {len(returned)}" if isinstance(returned, (tuple, list)) else "")
                + ".",
                "end with `return d_loss, g_loss`.",
            )
        d_loss, g_loss = (_scalar(value, "each returned loss") for value in returned)
        report.ok("returns two numbers, (d_loss, g_loss).")

        calls = call_log.calls
        for network in ("generator", "discriminator"):
            training_flags = [flag for name, flag, _ in calls if name == network]
            wanted_calls = 1 if network == "generator" else 2
            if len(training_flags) < wanted_calls:
                raise Mistake(
                    f"your step calls the {network} {len(training_flags)} time(s); a step needs at least "
                    f"{wanted_calls} (G: to make fakes; D: on real images and on fakes).",
                    "follow the steps in the instructions above.",
                )
            without = sum(flag is not True for flag in training_flags)
            if without:
                raise Mistake(
                    f"you call the {network} without training=True ({without} of its "
                    f"{len(training_flags)} calls).",
                    f"write {network}(..., training=True) inside the train step: layers such as Dropout and "
                    "BatchNormalization behave differently when training (dropout on, batch statistics) "
                    "and in inference (dropout off, moving averages).",
                )
        report.ok("calls both networks with training=True (dropout and batch norm in training mode).")

        latent_shapes = {shape for name, _, shape in calls if name == "generator"}
        expected_shape = (_PROBE_BATCH, _PROBE_LATENT_DIM)
        if latent_shapes != {expected_shape}:
            raise Mistake(
                f"for a batch of {_PROBE_BATCH} real images and latent_dim={_PROBE_LATENT_DIM}, G should get "
                f"latent vectors of shape {expected_shape}; it got {sorted(latent_shapes)}.",
                "z = keras.random.normal((batch_size, latent_dim), seed=seed_generator), with "
                "batch_size = ops.shape(real_images)[0].",
            )
        if np.array_equal(seed_state, np.array(ops.convert_to_numpy(seed_generator.state))):
            raise Mistake(
                "your step does not draw z from seed_generator.",
                "use keras.random.normal((batch_size, latent_dim), seed=seed_generator): seeded "
                "draws make runs reproducible (and resumable).",
            )
        report.ok("draws one latent vector per real image from seed_generator.")

        after = {"discriminator": _weights(discriminator), "generator": _weights(generator)}
        for network, optimizer in (("discriminator", "d_optimizer"), ("generator", "g_optimizer")):
            if _same_weights(before[network], after[network]):
                raise Mistake(
                    f"the {network}'s weights did not change: it did not learn.",
                    f"take the gradient of its loss with respect to {network}.trainable_weights and "
                    f"apply it with {optimizer}.apply(gradients, {network}.trainable_weights).",
                )

        for discriminator_loss, generator_loss in loss_candidates:
            expected = _expected_step(discriminator_loss, generator_loss, "alternating")
            if _same_weights(expected["discriminator"], after["discriminator"]) and _same_weights(
                expected["generator"], after["generator"]
            ):
                break
        else:
            discriminator_loss, generator_loss = loss_candidates[0]
            for order, (diagnosis, hint) in _STEP_MISTAKES.items():
                variant = _expected_step(discriminator_loss, generator_loss, order)
                if _same_weights(variant["discriminator"], after["discriminator"]) and _same_weights(
                    variant["generator"], after["generator"]
                ):
                    raise Mistake(f"{diagnosis}.", hint)
            expected = _expected_step(discriminator_loss, generator_loss, "alternating")
            network = (
                "discriminator"
                if not _same_weights(expected["discriminator"], after["discriminator"])
                else "generator"
            )
            raise Mistake(
                f"after one step the {network}'s weights differ from those of a correct step.",
                "D: its loss on real_images and on fakes G(z), applied to D's weights with d_optimizer; "
                "then G: generator_loss of D(G(z)) with new z, applied to G's weights with g_optimizer.",
            )
        report.ok("updates D first, then G through the updated D (Goodfellow et al., Algorithm 1).")

        if (
            _close(d_loss, expected["g_loss"])
            and _close(g_loss, expected["d_loss"])
            and not _close(d_loss, g_loss)
        ):
            raise Mistake(
                f"your step returns the losses the other way round: got ({d_loss:.4g}, {g_loss:.4g}), "
                f"expected (d_loss, g_loss) = ({expected['d_loss']:.4g}, {expected['g_loss']:.4g}).",
                "return d_loss, g_loss.",
            )
        if not (_close(d_loss, expected["d_loss"]) and _close(g_loss, expected["g_loss"])):
            raise Mistake(
                f"your step returns (d_loss, g_loss) = ({d_loss:.4g}, {g_loss:.4g}); expected "
                f"({expected['d_loss']:.4g}, {expected['g_loss']:.4g}).",
                "return the losses the two updates were computed from: D's before its update, "
                "G's with the updated D.",
            )
        report.ok("returns the losses that its two updates used.")

        # Keras' fit runs train_step as a tf.function (a graph): no NumPy or Python
        # numbers of tensors there.
        _, generator, discriminator, g_optimizer, d_optimizer, real_images, seed_generator = _probe_setup()
        g_optimizer.build(generator.trainable_weights)
        d_optimizer.build(discriminator.trainable_weights)
        try:
            tf.function(gan_train_step)(
                generator,
                discriminator,
                g_optimizer,
                d_optimizer,
                tf.constant(real_images),
                _PROBE_LATENT_DIM,
                seed_generator,
            )
        except Exception as error:
            problem, _ = _describe_error(error)
            raise Mistake(
                f"your step works eagerly but fails inside tf.function, as Keras' fit runs it: {problem}",
                "inside a train step keep everything a tensor: no .numpy(), float() or NumPy on tensors.",
            ) from None
        report.ok("also runs inside tf.function, as Keras' fit runs it.")

    return run_check("gan_train_step", gan_train_step, body, verbose)


def reference_gan_train_step(
    generator, discriminator, g_optimizer, d_optimizer, real_images, latent_dim, seed_generator
):
    """One GAN training step with the non-saturating BCE loss (what ``ganlab.training.GAN`` does).

    Returns:
        ``(d_loss, g_loss)``.
    """
    import tensorflow as tf

    batch_size = ops.shape(real_images)[0]
    latent = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
    fake_images = generator(latent, training=True)
    with tf.GradientTape() as tape:
        d_loss = losses.bce_discriminator_loss(
            discriminator(real_images, training=True), discriminator(fake_images, training=True)
        )
    gradients = tape.gradient(d_loss, discriminator.trainable_weights)
    d_optimizer.apply(gradients, discriminator.trainable_weights)

    latent = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
    with tf.GradientTape() as tape:
        g_loss = losses.bce_generator_loss(discriminator(generator(latent, training=True), training=True))
    gradients = tape.gradient(g_loss, generator.trainable_weights)
    g_optimizer.apply(gradients, generator.trainable_weights)
    return d_loss, g_loss


# --- lesson 02: DCGAN ----------------------------------------------------------------


def _strided(layer):
    return tuple(getattr(layer, "strides", (1, 1))) == (2, 2)


def check_build_dcgan_generator(build_dcgan_generator, verbose=True):
    """Checks ``build_dcgan_generator(config)``: z -> Dense -> 7x7 -> transposed convs -> tanh 28x28.

    Catches: not a keras.Model, wrong input or output shape, missing tanh or a
    sigmoid output, no strided ``Conv2DTranspose`` (UpSampling2D instead), no
    batch norm, batch norm on the output, fully connected hidden layers.
    """

    def body(build_dcgan_generator, report):
        config = DCGANConfig(latent_dim=6, generator_width=4, discriminator_width=4)
        model = build_dcgan_generator(config)
        _expect_model(model, "build_dcgan_generator")
        _expect_input_shape(model, (None, 6), "build_dcgan_generator")
        latent = _random((16, 6))
        images = _to_numpy(model(latent, training=False))
        if images.shape != (16, 28, 28, 1):
            raise Mistake(
                "16 latent vectors (config.latent_dim=6) should give images of shape (16, 28, "
                f"28, 1); got {images.shape}.",
                "project z to 7x7 feature maps (Dense + Reshape((7, 7, channels))), then two "
                "Conv2DTranspose(strides=2, padding='same'): 7 -> 14 -> 28.",
            )
        report.ok("maps latent vectors (N, latent_dim) to 28x28 images.")
        _check_image_range(model, latent, report, "generator")
        layers = list(_flat_layers(model))
        transposed = [
            layer for layer in layers if isinstance(layer, keras.layers.Conv2DTranspose) and _strided(layer)
        ]
        if len(transposed) < 2:
            hint = (
                "upsample with layers.Conv2DTranspose(channels, 4, strides=2, padding='same'): 7 -> 14 -> 28."
            )
            if any(isinstance(layer, keras.layers.UpSampling2D) for layer in layers):
                hint = (
                    "this lesson's generator learns its upsampling: replace UpSampling2D + Conv2D with "
                    "Conv2DTranspose(channels, 4, strides=2, padding='same')."
                )
            raise Mistake(
                f"your generator has {len(transposed)} transposed convolution(s) with strides=2; expected 2.",
                hint,
            )
        report.ok("upsamples with two strided transposed convolutions (7 -> 14 -> 28).")
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) > 1:
            raise Mistake(
                f"your generator has {len(dense)} Dense layers; a DCGAN has only one, the projection of z.",
                "no fully connected hidden layers (DCGAN guideline): Dense -> Reshape, then convolutions.",
            )
        normalizations = [
            index for index, layer in enumerate(layers) if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if not normalizations:
            raise Mistake(
                "your generator has no batch normalization.",
                "add layers.BatchNormalization() after the projection and after each hidden transposed "
                "convolution (before the ReLU): it keeps every layer's inputs at a steady scale.",
            )
        last_convolution = max(
            index for index, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2DTranspose)
        )
        if max(normalizations) > last_convolution:
            raise Mistake(
                "your generator applies batch normalization to its output.",
                "no batch norm on G's output (DCGAN guideline): it would force every image to the same "
                "mean and spread. The last layer is Conv2DTranspose(..., activation='tanh').",
            )
        report.ok("uses batch norm in its hidden layers, not on its output.")
        _check_hidden_activations(
            layers,
            (keras.layers.Dense, keras.layers.Conv2DTranspose, keras.layers.Conv2D),
            report,
            "generator",
        )

    return run_check("build_dcgan_generator", build_dcgan_generator, body, verbose)


def check_build_dcgan_discriminator(build_dcgan_discriminator, verbose=True):
    """Checks ``build_dcgan_discriminator(config)``: strided convolutions -> one logit.

    Catches: not a keras.Model, wrong output shape, a sigmoid on the logit,
    pooling instead of strided convolutions, batch norm in the first block, no
    batch norm at all, ReLU instead of LeakyReLU, fully connected hidden layers.
    """

    def body(build_dcgan_discriminator, report):
        config = DCGANConfig(latent_dim=6, generator_width=4, discriminator_width=4)
        model = build_dcgan_discriminator(config)
        layers = _check_discriminator_gives_one_logit_per_image(
            model, "build_dcgan_discriminator", (28, 28, 1), 16, report,
            hint="end with layers.Flatten() and layers.Dense(1).",
        )
        pooling = [layer.name for layer in layers if "Pooling" in type(layer).__name__]
        if pooling:
            raise Mistake(
                f"your discriminator uses pooling ({', '.join(pooling)}).",
                "DCGAN guideline: no pooling; downsample with Conv2D(..., strides=2, padding='same'), "
                "which learns how to downsample.",
            )
        convolutions = [
            index
            for index, layer in enumerate(layers)
            if isinstance(layer, keras.layers.Conv2D) and _strided(layer)
        ]
        if len(convolutions) < 2:
            raise Mistake(
                f"your discriminator has {len(convolutions)} convolution(s) with strides=2; "
                "expected 2 (28 -> 14 -> 7).",
                "layers.Conv2D(channels, 4, strides=2, padding='same') per block.",
            )
        report.ok("downsamples with strided convolutions, no pooling.")
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) > 1:
            raise Mistake(
                f"your discriminator has {len(dense)} Dense layers; a DCGAN discriminator has "
                "only the final logit.",
                "Flatten the last feature maps and go straight to layers.Dense(1).",
            )
        normalizations = [
            index for index, layer in enumerate(layers) if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if normalizations and min(normalizations) < convolutions[1]:
            raise Mistake(
                "your discriminator uses batch normalization in its first block.",
                "no batch norm on D's input block (DCGAN guideline): it would normalize away the very "
                "statistics of the images (brightness, contrast) that tell real from fake.",
            )
        if not normalizations:
            raise Mistake(
                "your discriminator has no batch normalization.",
                "add layers.BatchNormalization() after the second convolution (every block but the first).",
            )
        report.ok("uses batch norm in every block but the first.")
        relu = [
            layer.name
            for layer in layers
            if isinstance(layer, keras.layers.ReLU) or _activation_name(layer) == "relu"
        ]
        if relu:
            raise Mistake(
                f"your discriminator uses ReLU ({', '.join(relu)}).",
                "use layers.LeakyReLU(0.2) in D: ReLU passes no gradient for negative inputs, and G "
                "learns only through D's gradients.",
            )
        if not any(isinstance(layer, keras.layers.LeakyReLU) for layer in layers):
            raise Mistake(
                "your discriminator has no LeakyReLU.",
                "put layers.LeakyReLU(0.2) after each convolution block.",
            )
        report.ok("uses LeakyReLU, so gradients flow for negative inputs too.")

    return run_check("build_dcgan_discriminator", build_dcgan_discriminator, body, verbose)


class _RecordRounds(keras.callbacks.Callback):
    """Records the step at which each fit starts and the rounds (epochs) it runs."""

    def __init__(self):
        super().__init__()
        self.starts = []
        self.epochs = []

    def on_train_begin(self, logs=None):
        self.starts.append(int(self.model.step.numpy()))

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def _tiny_gan(seed):
    from ganlab import training

    keras.utils.set_random_seed(seed)
    latent = keras.Input((2,))
    image = keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, activation="tanh")(latent))
    generator = keras.Model(latent, image)
    images = keras.Input((2, 2, 1))
    discriminator = keras.Model(images, keras.layers.Dense(1)(keras.layers.Flatten()(images)))
    gan = training.GAN(generator, discriminator, seed=seed)
    # Eagerly: a few steps of a tiny GAN run faster than tracing them into a graph.
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True
    )
    return gan


def check_train_with_checkpoints(train_with_checkpoints, verbose=True):
    """Checks ``train_with_checkpoints(gan, dataset, checkpoint_directory, total_steps,
    steps_per_round, callbacks=())``, which trains to ``total_steps`` and resumes.

    Trains a tiny GAN to 5 steps (rounds of 2), then gives a *new* GAN the same
    folder and asks for 7 steps, then once more for 7. Catches: no checkpoint
    written, training stopped at a multiple of ``steps_per_round`` or past
    ``total_steps``, the given callbacks not passed on, no restore (a resumed
    run starting again at step 0), training ``total_steps`` more instead of up
    to ``total_steps``, training again when already finished.
    """
    from ganlab import data, training

    def body(train_with_checkpoints, report):
        images = np.random.default_rng(4).uniform(-1, 1, (16, 2, 2, 1)).astype("float32")
        with tempfile.TemporaryDirectory(prefix="ganlab_check_") as folder:
            directory = Path(folder) / "checkpoint"

            def run(total_steps, seed):
                gan = _tiny_gan(seed)
                rounds = _RecordRounds()
                dataset = data.make_dataset(images, batch_size=4, seed=seed)
                printed = io.StringIO()
                # Keras' progress bars would fill the check's report.
                with contextlib.redirect_stdout(printed):
                    returned = train_with_checkpoints(gan, dataset, directory, total_steps, 2, [rounds])
                return gan, rounds, returned

            gan, rounds, returned = run(5, seed=1)
            step = int(gan.step.numpy())
            if step != 5:
                hint = (
                    "fit trains whole rounds; add "
                    "ganlab.callbacks.TrainingLimits(max_steps=total_steps) to stop at total_steps."
                )
                if step == 0:
                    hint = (
                        "call gan.fit(dataset, steps_per_epoch=steps_per_round, epochs=..., callbacks=...)."
                    )
                raise Mistake(
                    f"asked for total_steps=5 with steps_per_round=2, the GAN reached step {step}.", hint
                )
            report.ok("trains to total_steps, even when it is not a whole number of rounds.")
            if not rounds.starts:
                raise Mistake(
                    "the callbacks passed to train_with_checkpoints were not used.",
                    "pass them on to fit: callbacks=[*callbacks, ...]; that is how the sample grids appear.",
                )
            if returned is None or int(_to_numpy(returned)) != step:
                raise Mistake(
                    f"train_with_checkpoints should return the step reached ({step}); got {returned!r}.",
                    "end with `return int(gan.step.numpy())`.",
                )
            if not (directory / training.CHECKPOINT_WEIGHTS_FILE).exists():
                raise Mistake(
                    "after training there is no checkpoint in checkpoint_directory "
                    f"({training.CHECKPOINT_WEIGHTS_FILE} is missing).",
                    "add ganlab.callbacks.Checkpoint(checkpoint_directory) to fit's callbacks.",
                )
            saved_step = training.read_checkpoint_state(directory).get("step")
            if saved_step != 5:
                raise Mistake(
                    f"the checkpoint holds step {saved_step}, not the last step (5).",
                    "ganlab.callbacks.Checkpoint saves at the end of every round and when training ends.",
                )
            report.ok("saves a checkpoint of the last step in checkpoint_directory.")

            # A new GAN, as after a restart of the kernel: it must continue.
            gan, rounds, returned = run(7, seed=2)
            step = int(gan.step.numpy())
            started = rounds.starts[0] if rounds.starts else None
            if started == 0 or step == 2:
                raise Mistake(
                    "given a folder with a checkpoint at step 5, a new GAN started again from step 0.",
                    "if checkpoint_directory holds a checkpoint, restore it first with "
                    "ganlab.training.restore_checkpoint(gan, checkpoint_directory).",
                )
            if step == 12:
                raise Mistake(
                    "resumed at step 5 and asked for total_steps=7, it trained 7 more steps (to step 12).",
                    "total_steps is where training ends: train only total_steps - gan.step more steps.",
                )
            if step != 7:
                raise Mistake(
                    f"resumed at step 5 and asked for total_steps=7, the GAN reached step {step}.",
                    "train total_steps - gan.step more steps, stopping with TrainingLimits.",
                )
            report.ok("a new GAN given the folder restores the checkpoint and continues from step 5 to 7.")
            if rounds.epochs and rounds.epochs[0] != 2:
                raise Mistake(
                    f"the resumed run counts its rounds from {rounds.epochs[0]}; after 5 steps in rounds of 2 "
                    "it is in round 2 (counting from 0).",
                    "pass initial_epoch=gan.step // steps_per_round to fit, and epochs=initial_epoch + rounds.",
                )
            report.ok("the resumed run's rounds continue the count (initial_epoch).")

            gan, rounds, returned = run(7, seed=3)
            step = int(gan.step.numpy())
            if step != 7:
                raise Mistake(
                    f"asked again for total_steps=7 with a checkpoint at step 7, the GAN ended at step {step}.",
                    "when gan.step has reached total_steps, there is nothing left to train: skip fit.",
                )
            report.ok("does nothing more when the checkpoint has already reached total_steps.")

    return run_check("train_with_checkpoints", train_with_checkpoints, body, verbose)


def reference_train_with_checkpoints(
    gan, dataset, checkpoint_directory, total_steps, steps_per_round, callbacks=()
):
    """Trains ``gan`` up to ``total_steps``, resuming from ``checkpoint_directory`` if it holds a checkpoint.

    Returns:
        The step reached.
    """
    from ganlab import callbacks as gan_callbacks
    from ganlab import training

    checkpoint_directory = Path(checkpoint_directory)
    if (checkpoint_directory / training.CHECKPOINT_WEIGHTS_FILE).exists():
        state = training.restore_checkpoint(gan, checkpoint_directory)
        print(f"resumed from the checkpoint at step {state['step']}")
    step = int(gan.step.numpy())
    remaining = total_steps - step
    if remaining > 0:
        first_round = step // steps_per_round
        gan.fit(
            dataset,
            steps_per_epoch=steps_per_round,
            initial_epoch=first_round,
            epochs=first_round + math.ceil(remaining / steps_per_round),
            callbacks=[
                *callbacks,
                gan_callbacks.TrainingLimits(max_steps=total_steps),
                gan_callbacks.Checkpoint(checkpoint_directory),
            ],
            shuffle=False,
            verbose=2,
        )
    return int(gan.step.numpy())


INTERPOLATION_METHODS = ("linear", "slerp")


def reference_interpolate_latents(a, b, steps, method="linear"):
    """``steps`` points from ``a`` to ``b``, both included: along the line, or the great circle.

    ```
    linear: (1 - t) a + t b
    slerp:  sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b,
            omega = angle between a and b            (Shoemake 1985; White 2016)
    ```

    Returns:
        A float32 array ``(steps, latent_dim)``.
    """
    if method not in INTERPOLATION_METHODS:
        raise ValueError(
            f"Unknown method. Expected one of {INTERPOLATION_METHODS}. Received: method={method!r}"
        )
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, np.newaxis]  # [steps, 1]
    if method == "slerp":
        cosine = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
        omega = np.arccos(np.clip(cosine, -1.0, 1.0))
        if np.sin(omega) > 1e-6:
            return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)).astype("float32")
    return ((1 - t) * a + t * b).astype("float32")


def check_interpolate_latents(interpolate_latents, verbose=True):
    """Checks ``interpolate_latents(a, b, steps, method="linear")`` (``"linear"`` or ``"slerp"``).

    Catches: wrong shape (one row per step), missing endpoints (``t`` not from
    0 to 1 inclusive), the path run backwards, slerp that is linear, slerp
    leaving the sphere, NaN for parallel vectors, an unknown method accepted.
    """

    def body(interpolate_latents, report):
        a = np.array([2.0, 0.0, 0.0], "float32")
        b = np.array([0.0, 2.0, 0.0], "float32")
        path = _to_numpy(interpolate_latents(a, b, 5, method="linear"))
        if path.shape != (5, 3):
            raise Mistake(
                "5 steps between two vectors of length 3 should give shape (5, 3), one row per "
                f"step; got {path.shape}.",
                "t = np.linspace(0, 1, steps)[:, None], then (1 - t) * a + t * b.",
            )
        if np.allclose(path[0], b) and np.allclose(path[-1], a):
            raise Mistake("your path runs from b to a.", "row 0 is a (t = 0), the last row is b (t = 1).")
        if not np.allclose(path[0], a, atol=1e-5):
            raise Mistake(
                f"the first row should be a = {a.tolist()}; got {path[0].round(4).tolist()}.",
                "t starts at 0: np.linspace(0, 1, steps).",
            )
        if not np.allclose(path[-1], b, atol=1e-5):
            raise Mistake(
                f"the last row should be b = {b.tolist()}; got {path[-1].round(4).tolist()}.",
                "include t = 1: np.linspace(0, 1, steps) (not np.arange(steps) / steps).",
            )
        expected = reference_interpolate_latents(a, b, 5, "linear")
        if not np.allclose(path, expected, atol=1e-5):
            raise Mistake(
                f"the middle row should be (a + b) / 2 = {expected[2].tolist()}; got {path[2].round(4).tolist()}.",
                "evenly spaced t: (1 - t) * a + t * b with t = np.linspace(0, 1, steps).",
            )
        report.ok("linear: one row per step, from a to b included, evenly spaced.")

        path = _to_numpy(interpolate_latents(a, b, 5, method="slerp"))
        expected = reference_interpolate_latents(a, b, 5, "slerp")
        if path.shape != (5, 3):
            raise Mistake(f"slerp: expected shape (5, 3); got {path.shape}.", "one row per step.")
        middle_norm = float(np.linalg.norm(path[2]))
        if np.allclose(path, reference_interpolate_latents(a, b, 5, "linear"), atol=1e-5):
            raise Mistake(
                f"your slerp is linear: halfway between two orthogonal vectors of length 2 it gives length "
                f"{middle_norm:.3f}; slerp stays on the sphere, length 2.",
                "omega = arccos(a·b / (|a| |b|)); sin((1 - t) omega) / sin(omega) * a + sin(t "
                "omega) / sin(omega) * b.",
            )
        if not np.allclose(path, expected, atol=1e-4):
            raise Mistake(
                f"slerp halfway between {a.tolist()} and {b.tolist()} should be {expected[2].round(4).tolist()} "
                f"(length 2); got {path[2].round(4).tolist()} (length {middle_norm:.3f}).",
                "omega = arccos(a·b / (|a| |b|)); sin((1 - t) omega) / sin(omega) * a + sin(t "
                "omega) / sin(omega) * b.",
            )
        report.ok("slerp: follows the great circle, every point as long as a and b.")

        same = _to_numpy(interpolate_latents(a, a, 3, method="slerp"))
        if not np.all(np.isfinite(same)) or not np.allclose(same, np.stack([a] * 3), atol=1e-5):
            raise Mistake(
                f"slerp from a vector to itself should repeat it; got {same.round(4).tolist()}.",
                "when a and b point the same way, omega = 0 and sin(omega) = 0: fall back to "
                "linear interpolation.",
            )
        report.ok("slerp between parallel vectors falls back to linear (no division by sin 0).")

        try:
            interpolate_latents(a, b, 5, method="cubic")
        except ValueError:
            report.ok("an unknown method raises ValueError.")
        else:
            raise Mistake(
                "method='cubic' was accepted; an unknown method should raise ValueError.",
                "raise ValueError(f\"Unknown method. Expected one of ('linear', 'slerp'). "
                'Received: method={method!r}").',
            )

    return run_check("interpolate_latents", interpolate_latents, body, verbose)


__all__ = [
    "CheckResult",
    "Mistake",
    "check_build_dcgan_discriminator",
    "check_build_dcgan_generator",
    "check_build_discriminator",
    "check_build_generator",
    "check_discriminator_loss",
    "check_gan_train_step",
    "check_generator_loss",
    "check_interpolate_latents",
    "check_train_with_checkpoints",
    "reference_gan_train_step",
    "reference_interpolate_latents",
    "reference_train_with_checkpoints",
    "run_check",
    "solution_or_reference",
]


# --- lesson 03: evaluating GANs ----------------------------------------------------------
#
# The four exercises are NumPy functions on feature arrays. Their references are
# ganlab.metrics.matrix_sqrt, frechet_distance, inception_score and squared_mmd
# (KID on whole sets). Each check first tries a small example whose answer can be
# worked out by hand, then diagnoses a wrong answer by comparing it with the
# values that the typical mistakes give on the same example.


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


def _symmetric_square_root(matrix):
    from ganlab import metrics

    return metrics.matrix_sqrt(matrix)


def check_matrix_square_root(matrix_square_root, verbose=True):
    """Checks ``matrix_square_root(matrix)`` for symmetric positive semi-definite matrices.

    Catches: the square root of each entry (right only for diagonal
    matrices), eigenvectors not transposed on the right (``V D V`` instead of
    ``V D V^T``), eigenvalues not clipped at 0 (NaN for a singular covariance),
    a complex result (``scipy.linalg.sqrtm``), a wrong shape.
    """

    def body(matrix_square_root, report):
        diagonal = np.diag([4.0, 9.0])
        got = _to_square_root(matrix_square_root, diagonal)
        if not np.allclose(got, np.diag([2.0, 3.0]), atol=1e-6):
            raise Mistake(
                f"the square root of diag(4, 9) is diag(2, 3); got {np.round(got, 4).tolist()}.",
                "with w, V = np.linalg.eigh(matrix): V @ np.diag(np.sqrt(w)) @ V.T.",
            )
        report.ok("the square root of a diagonal matrix is the square root of its diagonal.")

        # Eigenvectors that are not symmetric as a matrix, so that V D V != V D V^T.
        matrix = np.array([[5.0, 2.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
        expected = _symmetric_square_root(matrix)
        got = _to_square_root(matrix_square_root, matrix)
        if not np.allclose(got, expected, atol=1e-5):
            eigenvalues, eigenvectors = np.linalg.eigh(matrix)
            untransposed = eigenvectors @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors
            transposed_first = eigenvectors.T @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors
            if np.allclose(got, np.sqrt(matrix), atol=1e-5):
                problem = "you took the square root of every entry"
                hint = (
                    "a matrix square root R satisfies R @ R = A, and np.sqrt(A) does not (except for diagonal "
                    "matrices). Use the eigendecomposition: w, V = np.linalg.eigh(A); V @ np.diag(np.sqrt(w)) @ V.T."
                )
            elif np.allclose(got, untransposed, atol=1e-5):
                problem = "the eigenvectors on the right are not transposed (V D V instead of V D V^T)"
                hint = "A = V diag(w) V^T, so sqrt(A) = V @ np.diag(np.sqrt(w)) @ V.T."
            elif np.allclose(got, transposed_first, atol=1e-5):
                problem = "the transpose is on the wrong side (V^T D V instead of V D V^T)"
                hint = "np.linalg.eigh returns the eigenvectors as the columns of V: V @ np.diag(np.sqrt(w)) @ V.T."
            else:
                problem = "your result R does not satisfy R @ R = A"
                hint = "w, V = np.linalg.eigh(A); return V @ np.diag(np.sqrt(w)) @ V.T."
            raise Mistake(
                f"{problem}. For A = {matrix.tolist()}, R @ R should give A back; your R @ R is "
                f"{np.round(got @ got, 3).tolist()}.",
                hint,
            )
        report.ok("R @ R gives A back for a symmetric matrix with off-diagonal entries.")

        # A singular covariance whose zero eigenvalue comes out of eigh a hair
        # below zero, as rounding makes it happen with real features.
        rotation, _ = np.linalg.qr(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [1.5, 0.2, 1.0]]))
        singular = rotation @ np.diag([2.0, 1.0, -1e-12]) @ rotation.T
        singular = (singular + singular.T) / 2.0
        got = _to_square_root(matrix_square_root, singular)
        if not np.all(np.isfinite(got)):
            raise Mistake(
                "for a singular covariance (an eigenvalue of 0 that rounding computes as -1e-12) "
                "your square root holds NaN.",
                "clip the eigenvalues at zero before the square root: np.sqrt(np.clip(w, 0, None)). "
                "Covariances are never negative definite; a tiny negative eigenvalue is rounding.",
            )
        if not np.allclose(got, _symmetric_square_root(singular), atol=1e-5):
            raise Mistake(
                "for a singular covariance your square root is wrong: R @ R = "
                f"{np.round(got @ got, 3).tolist()}; expected {np.round(singular, 3).tolist()}.",
                "clip the eigenvalues at zero: V @ np.diag(np.sqrt(np.clip(w, 0, None))) @ V.T.",
            )
        report.ok("a singular covariance (rounding makes an eigenvalue -1e-12) gives a real, finite result.")

    return run_check("matrix_square_root", matrix_square_root, body, verbose)


def _to_square_root(matrix_square_root, matrix):
    result = matrix_square_root(matrix.copy())
    if result is None:
        raise Mistake("matrix_square_root returned None.", "end the function with `return ...`.")
    array = np.asarray(result)
    if np.iscomplexobj(array):
        raise Mistake(
            "your square root is complex-valued.",
            "for a symmetric matrix use np.linalg.eigh (real eigenvalues and eigenvectors), not "
            "np.linalg.eig or scipy.linalg.sqrtm, and clip the eigenvalues at 0.",
        )
    if array.shape != matrix.shape:
        raise Mistake(
            f"the square root of a {matrix.shape[0]}x{matrix.shape[1]} matrix must have its shape; "
            f"got shape {array.shape}.",
            "V @ np.diag(np.sqrt(w)) @ V.T is again a square matrix.",
        )
    return array.astype(np.float64)


def _frechet_variants(features_a, features_b):
    """FID and the values of its typical mistakes, each with a diagnosis and a hint."""
    from ganlab import metrics

    def fid(mean_a, cov_a, mean_b, cov_b, factor=2.0, with_mean=True):
        root_a = metrics.matrix_sqrt(cov_a)
        trace_root = np.trace(metrics.matrix_sqrt(root_a @ cov_b @ root_a))
        mean_term = np.sum((mean_a - mean_b) ** 2) if with_mean else 0.0
        return float(mean_term + np.trace(cov_a) + np.trace(cov_b) - factor * trace_root)

    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    right = fid(mean_a, cov_a, mean_b, cov_b)
    biased_a, biased_b = np.cov(features_a, rowvar=False, bias=True), np.cov(features_b, rowvar=False, bias=True)
    cov_hint = "np.cov(features, rowvar=False): each row is a sample, each column a feature."
    variants = [
        (
            fid(mean_a, cov_a, mean_b, cov_b, factor=1.0),
            "the trace term is missing its factor 2",
            "FID = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)).",
        ),
        (
            fid(mean_a, cov_a, mean_b, cov_b, with_mean=False),
            "the mean term ||mu_a - mu_b||^2 is missing",
            "add np.sum((mu_a - mu_b) ** 2), with mu = features.mean(axis=0).",
        ),
        (
            fid(mean_a, biased_a, mean_b, biased_b),
            "your covariances divide by N instead of N - 1",
            "np.cov(features, rowvar=False) divides by N - 1 (the unbiased estimate), as FID's code does.",
        ),
        (
            fid(mean_a, cov_a, mean_b, cov_b) + np.sum((mean_a - mean_b) ** 2),
            "the mean term is counted twice",
            "FID has ||mu_a - mu_b||^2 once.",
        ),
    ]
    if features_a.shape[0] == features_b.shape[0]:
        # Covariance over the wrong axis: N x N "covariances" of samples, and means per sample.
        variants.append(
            (
                fid(features_a.mean(axis=1), np.cov(features_a), features_b.mean(axis=1), np.cov(features_b)),
                "your covariance (and mean) run over the wrong axis: they are N x N, one entry per pair of samples",
                cov_hint,
            )
        )
        variants.append(
            (
                fid(mean_a, np.cov(features_a), mean_b, np.cov(features_b)),
                "your covariances run over the wrong axis: they are N x N, one entry per pair of samples",
                cov_hint,
            )
        )
    return right, variants


def _call_frechet(frechet_distance, features_a, features_b):
    try:
        value = frechet_distance(features_a.copy(), features_b.copy())
    except ValueError as error:
        if "symmetric" in str(error):
            raise Mistake(
                "your FID passes a matrix that is not symmetric to the square root (the product S_a @ S_b "
                "is not symmetric).",
                "Tr((S_a S_b)^(1/2)) = Tr(square_root(R S_b R)) with R = square_root(S_a): R S_b R is "
                "symmetric positive semi-definite and has the same eigenvalues as S_a S_b.",
            ) from None
        raise
    return _float_result(value, "frechet_distance")


def check_frechet_distance(frechet_distance, verbose=True):
    """Checks ``frechet_distance(features_a, features_b)`` (FID on two ``(N, D)`` arrays).

    Catches: the factor 2 missing from the trace term, the mean term missing,
    covariances over the wrong axis or divided by N, a complex result or NaN
    (the naive square root of the non-symmetric product ``S_a S_b``), a
    distance that is not 0 between identical sets or not symmetric.
    """

    def body(frechet_distance, report):
        # Worked out by hand: a has mean (0, 0) and covariance 4/3 I; b = 2 a + (3, 4)
        # has mean (3, 4) and covariance 16/3 I. FID = 25 + 2 (2/sqrt(3) - 4/sqrt(3))^2 = 25 + 8/3.
        features_a = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
        features_b = 2.0 * features_a + np.array([3.0, 4.0])
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        _expect_value(
            got,
            right,
            variants,
            "FID of two small sets worked out by hand (mean term 25, covariance term 8/3)",
            "FID = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)), with "
            "mu = features.mean(axis=0) and S = np.cov(features, rowvar=False).",
        )
        report.ok("FID of two small sets worked out by hand: 25 + 8/3 = 27.667.")

        random_generator = np.random.default_rng(3)
        mixing = random_generator.normal(size=(4, 4))
        features_a = random_generator.normal(size=(40, 4)) @ mixing
        features_b = random_generator.normal(size=(40, 4)) @ (mixing + 0.5) + 1.0
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        _expect_value(
            got,
            right,
            variants,
            "FID of two sets with correlated features (covariances not diagonal)",
            "Tr((S_a S_b)^(1/2)) = Tr(square_root(R @ S_b @ R)) with R = square_root(S_a).",
        )
        reverse = _call_frechet(frechet_distance, features_b, features_a)
        if not _close(reverse, got, 1e-4):
            raise Mistake(
                f"FID must be symmetric: frechet_distance(a, b) = {got:.6g} but "
                f"frechet_distance(b, a) = {reverse:.6g}.",
                "use both covariances the same way: Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)).",
            )
        report.ok("correlated features (non-diagonal covariances); the same value with a and b swapped.")

        same = _call_frechet(frechet_distance, features_a, features_a)
        if not abs(same) <= 1e-6 * max(1.0, right):
            raise Mistake(
                f"the FID of a set with itself should be 0; got {same:.6g}.",
                "identical means and covariances: Tr(S + S - 2 (S S)^(1/2)) = Tr(2S - 2S) = 0.",
            )
        report.ok("the FID of a set with itself is 0.")

        # Fewer samples than features: singular covariances, as with 128 features
        # and 100 samples. The naive sqrtm(S_a @ S_b) goes complex or NaN here.
        features_a = random_generator.normal(size=(5, 8))
        features_b = random_generator.normal(size=(5, 8)) + 0.5
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        if not math.isfinite(got):
            raise Mistake(
                f"with 5 samples of 8 features (singular covariances) your FID is {got}.",
                "clip negative eigenvalues at 0 in the square root, and take the square root of the "
                "symmetric R @ S_b @ R (R = square_root(S_a)) rather than of S_a @ S_b.",
            )
        _expect_value(
            got,
            right,
            variants,
            "FID with 5 samples of 8 features (singular covariances)",
            "take the square root of the symmetric R @ S_b @ R (R = square_root(S_a)), "
            "not of S_a @ S_b, whose square root rounding can make complex.",
        )
        report.ok("singular covariances (fewer samples than features) give a finite, real FID.")

    return run_check("frechet_distance", frechet_distance, body, verbose)


def _inception_variants(probabilities):
    """IS and the values of its typical mistakes (with an epsilon, so that every variant is finite)."""
    from ganlab import metrics

    epsilon = 1e-12
    p = probabilities + epsilon
    marginal = p.mean(axis=0, keepdims=True)
    divergence = (p * (np.log(p) - np.log(marginal))).sum(axis=1)
    reversed_divergence = (marginal * (np.log(marginal) - np.log(p))).sum(axis=1)
    per_sample_marginal = p.mean(axis=1, keepdims=True)
    wrong_axis = (p * (np.log(p) - np.log(per_sample_marginal))).sum(axis=1)
    right = metrics.inception_score(probabilities)
    return right, [
        (
            float(divergence.mean()),
            "the exp is missing: you returned log(IS), the mean KL divergence",
            "IS = exp(mean over x of KL(p(y|x) || p(y))): finish with np.exp(...).",
        ),
        (
            float(np.exp(reversed_divergence.mean())),
            "the KL divergence is reversed: KL(p(y) || p(y|x))",
            "IS uses KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)): the weights are p(y|x).",
        ),
        (
            float(np.exp(wrong_axis.mean())),
            "the marginal p(y) is averaged over the wrong axis (over classes, per image)",
            "p(y) = probabilities.mean(axis=0): the average prediction over all images, one number per class.",
        ),
        (
            float(np.exp(divergence.sum())),
            "you sum the KL divergences over images instead of averaging them",
            "IS = exp(mean over x of KL(...)): use .mean(), so the score does not grow with the number of images.",
        ),
        (
            float(np.exp((p * (np.log(p) - np.log(marginal))).mean())),
            "you average the KL terms over classes instead of summing them",
            "KL(p || q) = sum over classes of p log(p / q); then average over images.",
        ),
    ]


def check_inception_score(inception_score, verbose=True):
    """Checks ``inception_score(probabilities)`` on ``(N, C)`` class probabilities.

    Catches: the exp missing, the KL divergence reversed, the marginal over
    the wrong axis, sums instead of means, NaN from ``0 * log 0``.
    """

    def body(inception_score, report):
        probabilities = np.array(
            [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.6, 0.3, 0.1]]
        )
        right, variants = _inception_variants(probabilities)
        got = _float_result(inception_score(probabilities.copy()), "inception_score")
        _expect_value(
            got,
            right,
            variants,
            "IS of 4 soft predictions over 3 classes",
            "p_y = probabilities.mean(axis=0); KL per image = sum over classes of "
            "p (log p - log p_y); IS = exp(mean of the KLs).",
        )
        report.ok(f"4 soft predictions over 3 classes: IS = {right:.4f}.")

        confident = np.eye(10)
        got = _float_result(inception_score(confident.copy()), "inception_score")
        if not math.isfinite(got):
            raise Mistake(
                f"10 confident predictions, one per class, give IS = {got}; expected 10 (the maximum).",
                "probabilities of exactly 0 make 0 * log(0) = NaN; that term must count as 0: "
                "use scipy.special.xlogy(p, p) - xlogy(p, p_y), or add a tiny epsilon inside the logs.",
            )
        if not _close(got, 10.0, 1e-4):
            raise Mistake(
                f"10 confident predictions, one per class, should give IS = 10 (the maximum); got {got:.6g}.",
                "KL(one-hot || uniform) = log 10 for each image, so IS = exp(log 10) = 10.",
            )
        report.ok("confident predictions spread evenly over 10 classes give the maximum, 10 (0 log 0 counts as 0).")

        collapsed = np.tile(np.array([[0.0, 0.9, 0.1]]), (5, 1))
        got = _float_result(inception_score(collapsed.copy()), "inception_score")
        if not _close(got, 1.0, 1e-4):
            raise Mistake(
                f"5 images with the same prediction should give IS = 1 (the minimum: no variety); got {got:.6g}.",
                "p(y) = probabilities.mean(axis=0) equals every p(y|x) here, so every KL is 0 and IS = exp(0) = 1.",
            )
        report.ok("the same prediction for every image gives the minimum, 1.")

    return run_check("inception_score", inception_score, body, verbose)


def _kernel_variants(features_a, features_b):
    """Unbiased MMD^2 and the values of typical mistakes."""
    from ganlab import metrics

    m, n, dimension = len(features_a), len(features_b), features_a.shape[1]

    def mmd(kernel, unbiased=True, cross_factor=2.0):
        k_aa, k_bb = kernel(features_a, features_a), kernel(features_b, features_b)
        k_ab = kernel(features_a, features_b)
        if unbiased:
            within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
            within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
        else:
            within_a, within_b = k_aa.mean(), k_bb.mean()
        return float(within_a + within_b - cross_factor * k_ab.mean())

    def polynomial(degree, scale=True, offset=1.0):
        return lambda x, y: (x @ y.T / (dimension if scale else 1.0) + offset) ** degree

    cubic = polynomial(3)
    k_aa, k_bb = cubic(features_a, features_a), cubic(features_b, features_b)
    off_diagonal_over_squares = float(
        (k_aa.sum() - np.trace(k_aa)) / m**2
        + (k_bb.sum() - np.trace(k_bb)) / n**2
        - 2.0 * cubic(features_a, features_b).mean()
    )
    right = float(metrics.squared_mmd(features_a, features_b))
    degree_hint = "KID's kernel is cubic: k(x, y) = (x @ y.T / d + 1) ** 3, with d = features.shape[1]."
    return right, [
        (
            mmd(polynomial(3), unbiased=False),
            "you use the biased estimator: the diagonal k(x_i, x_i) is included in the within-set means",
            "leave out i == j: (K_aa.sum() - np.trace(K_aa)) / (m * (m - 1)), and the same for K_bb.",
        ),
        (
            off_diagonal_over_squares,
            "you leave out the diagonal but still divide by m^2 (and n^2)",
            "there are m (m - 1) pairs with i != j: divide by m * (m - 1).",
        ),
        (mmd(polynomial(2)), "your kernel has degree 2", degree_hint),
        (mmd(polynomial(1)), "your kernel is linear (degree 1)", degree_hint),
        (mmd(polynomial(3, scale=False)), "your kernel does not divide x . y by the dimension d", degree_hint),
        (mmd(polynomial(3, offset=0.0)), "your kernel has no + 1", degree_hint),
        (
            mmd(polynomial(3), cross_factor=1.0),
            "the cross term is missing its factor 2",
            "MMD^2 = mean k(a, a') + mean k(b, b') - 2 mean k(a, b).",
        ),
    ]


def check_kernel_distance(kernel_distance, verbose=True):
    """Checks ``kernel_distance(features_a, features_b)``: the unbiased squared MMD of KID on whole sets.

    Catches: the biased estimator (diagonal included), the wrong normalization
    of the within-set sums, a kernel of the wrong degree, without ``/ d`` or
    without ``+ 1``, the cross term without its factor 2, sets of different
    sizes normalized with one size.
    """

    def body(kernel_distance, report):
        features_a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        features_b = 2.0 * features_a
        right, variants = _kernel_variants(features_a, features_b)
        got = _float_result(kernel_distance(features_a.copy(), features_b.copy()), "kernel_distance")
        _expect_value(
            got,
            right,
            variants,
            "KID of 3 points in 2-D against the same points doubled",
            "K = (x @ y.T / d + 1) ** 3; MMD^2 = (K_aa.sum() - trace) / (m (m - 1)) + "
            "(K_bb.sum() - trace) / (n (n - 1)) - 2 K_ab.mean().",
        )
        report.ok(
            f"3 points in 2-D against the same points doubled: MMD^2 = {right:.4f} "
            "(cubic kernel, diagonal left out)."
        )

        random_generator = np.random.default_rng(5)
        features_a = random_generator.normal(size=(6, 4))
        features_b = random_generator.normal(size=(9, 4)) + 0.3
        right, variants = _kernel_variants(features_a, features_b)
        got = _float_result(kernel_distance(features_a.copy(), features_b.copy()), "kernel_distance")
        _expect_value(
            got,
            right,
            variants,
            "KID of sets of different sizes (6 and 9 points)",
            "normalize each within-set sum by its own size: m (m - 1) for a, n (n - 1) for b, "
            "and the cross sum by m n.",
        )
        reverse = _float_result(kernel_distance(features_b.copy(), features_a.copy()), "kernel_distance")
        if not _close(reverse, got, 1e-4):
            raise Mistake(
                f"KID must be symmetric: kernel_distance(a, b) = {got:.6g}, kernel_distance(b, a) = {reverse:.6g}.",
                "use m = len(features_a) and n = len(features_b) each for its own set.",
            )
        report.ok("sets of different sizes (6 and 9), and the same value with a and b swapped.")

    return run_check("kernel_distance", kernel_distance, body, verbose)


__all__ += [
    "check_frechet_distance",
    "check_inception_score",
    "check_kernel_distance",
    "check_matrix_square_root",
]
