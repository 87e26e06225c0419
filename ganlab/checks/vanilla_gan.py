"""Checks of lesson 01, the vanilla GAN: ``build_generator``, ``build_discriminator``,
``discriminator_loss``, ``generator_loss``, ``gan_train_step``."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from ganlab import losses
from ganlab.models import VanillaConfig
from ganlab.checks.common import (
    Mistake,
    _NotWritten,
    _check_discriminator_gives_one_logit_per_image,
    _check_hidden_activations,
    _check_image_range,
    _close,
    _describe,
    _describe_error,
    _expect_input_shape,
    _expect_model,
    _flat_layers,
    _random,
    _scalar,
    _to_numpy,
    run_check,
)


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


# The student's step runs with optimizers that scale the loss, as mixed_float16's
# LossScaleOptimizer does: ``scale_loss`` multiplies the loss by this factor and
# ``apply`` divides the gradients by it. A power of two, so that a step that scales
# moves the weights exactly as an unscaled step with plain SGD would.
_PROBE_LOSS_SCALE = 256.0


def _probe_setup(loss_scale_factor=None):
    call_log = _CallLog()
    generator = _ProbeGenerator(call_log)
    discriminator = _ProbeDiscriminator(call_log)
    g_optimizer = keras.optimizers.SGD(_PROBE_G_LEARNING_RATE, loss_scale_factor=loss_scale_factor)
    d_optimizer = keras.optimizers.SGD(_PROBE_D_LEARNING_RATE, loss_scale_factor=loss_scale_factor)
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
    "swapped_optimizers", "generator_in_discriminator_step", "unscaled_loss" (right, but
    the gradients taken of the loss itself while the optimizers divide them by their
    loss scale).
    """
    import tensorflow as tf

    loss_scale_factor = _PROBE_LOSS_SCALE if order == "unscaled_loss" else None
    _, generator, discriminator, g_optimizer, d_optimizer, real_images, _ = _probe_setup(loss_scale_factor)
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
    else:  # "alternating", "swapped_optimizers" and "unscaled_loss"
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
    update, swapped optimizers, G moved by D's loss, a loss not scaled by its
    optimizer before the gradient (mixed precision), losses returned in the
    wrong order or not returned, and a step that fails inside ``tf.function``
    (as Keras' ``fit`` runs it).
    """
    import tensorflow as tf

    def body(gan_train_step, report):
        loss_candidates = _losses_of(gan_train_step)
        call_log, generator, discriminator, g_optimizer, d_optimizer, real_images, seed_generator = (
            _probe_setup(_PROBE_LOSS_SCALE)
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
        unscaled = _expected_step(*loss_candidates[0], "unscaled_loss")
        if _same_weights(unscaled["discriminator"], after["discriminator"]) or _same_weights(
            unscaled["generator"], after["generator"]
        ):
            raise Mistake(
                f"your step takes the gradient of the loss itself, not of optimizer.scale_loss(loss): with an "
                f"optimizer that scales the loss (here by {_PROBE_LOSS_SCALE:g}, as mixed precision's "
                f"LossScaleOptimizer does), the weights moved {_PROBE_LOSS_SCALE:g} times too little.",
                "inside each tape write scaled_loss = optimizer.scale_loss(loss) (d_optimizer for D's loss, "
                "g_optimizer for G's) and take tape.gradient(scaled_loss, ...); apply() divides the scale "
                "back out. In float32 scale_loss changes nothing, so the step is right on every device.",
            )
        report.ok("scales each loss with its optimizer before the gradient (mixed precision's loss scaling).")
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
        _, generator, discriminator, g_optimizer, d_optimizer, real_images, seed_generator = _probe_setup(
            _PROBE_LOSS_SCALE
        )
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

    Each loss is scaled by its optimizer before the gradient (``scale_loss``:
    the identity in float32, the loss scale under ``mixed_float16``, whose
    ``LossScaleOptimizer.apply`` divides it back out of the gradients).

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
        scaled_d_loss = d_optimizer.scale_loss(d_loss)
    gradients = tape.gradient(scaled_d_loss, discriminator.trainable_weights)
    d_optimizer.apply(gradients, discriminator.trainable_weights)

    latent = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
    with tf.GradientTape() as tape:
        g_loss = losses.bce_generator_loss(discriminator(generator(latent, training=True), training=True))
        scaled_g_loss = g_optimizer.scale_loss(g_loss)
    gradients = tape.gradient(scaled_g_loss, generator.trainable_weights)
    g_optimizer.apply(gradients, generator.trainable_weights)
    return d_loss, g_loss
