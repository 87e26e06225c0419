"""Checks of lesson 02, the DCGAN: ``build_dcgan_generator``, ``build_dcgan_discriminator``,
``train_with_checkpoints``, ``interpolate_latents``."""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from pathlib import Path

import keras
import numpy as np

from ganlab.models import DCGANConfig
from ganlab.checks.common import (
    Mistake,
    _activation_name,
    _check_discriminator_gives_one_logit_per_image,
    _check_hidden_activations,
    _check_image_range,
    _expect_input_shape,
    _expect_model,
    _flat_layers,
    _random,
    _to_numpy,
    run_check,
)


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
            if step == 5:
                raise Mistake(
                    "resumed at step 5 and asked for total_steps=7, the GAN trained no step. With initial_epoch "
                    "set, fit's epochs is the number of the LAST round, not how many rounds to run: "
                    "fit(initial_epoch=2, epochs=1) runs nothing.",
                    "epochs=initial_epoch + math.ceil((total_steps - step) / steps_per_round).",
                )
            if step != 7:
                raise Mistake(
                    f"resumed at step 5 and asked for total_steps=7, the GAN reached step {step}.",
                    "train total_steps - gan.step more steps, stopping with TrainingLimits; fit's epochs is the "
                    "number of the last round: initial_epoch + the rounds to run.",
                )
            report.ok("a new GAN given the folder restores the checkpoint and continues from step 5 to 7.")
            if rounds.epochs and rounds.epochs[0] != 2:
                raise Mistake(
                    f"the resumed run counts its rounds from {rounds.epochs[0]}; after 5 steps in rounds of 2 "
                    "it is in round 2 (counting from 0).",
                    "pass initial_epoch=gan.step // steps_per_round to fit, and epochs=initial_epoch + rounds "
                    "(epochs is the number of the last round, not a count).",
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
