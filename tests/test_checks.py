"""Tests of ganlab.checks: right answers pass, each typical mistake gets its own diagnosis.

For every exercise: ganlab's own implementation passes; each mistake the check
promises to catch, written here as a deliberately buggy function, fails with
the right hint; an unsolved exercise (``raise NotImplementedError``) is
reported as "not written yet" without raising.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from check_results import assert_fails, assert_passes
from keras import layers, ops

from ganlab import callbacks, checks, losses, models, training

# The train-step check computes the expected step with the loss functions the
# student's step sees under these names (here: ganlab's).
discriminator_loss = losses.bce_discriminator_loss
generator_loss = losses.bce_generator_loss


def not_written(*args, **kwargs):
    raise NotImplementedError("Exercise: see the instructions above")


# --- the reporting machinery -------------------------------------------------------


def test_a_check_prints_its_report_and_returns_the_same_message(capsys):
    result = checks.check_generator_loss(losses.bce_generator_loss)
    printed = capsys.readouterr().out
    assert printed.strip() == result.message.strip()
    assert bool(result) is True


def test_a_quiet_check_prints_nothing(capsys):
    checks.check_generator_loss(losses.bce_generator_loss, verbose=False)
    assert capsys.readouterr().out == ""


def test_an_unsolved_exercise_is_reported_as_not_written_without_raising():
    for check in (
        checks.check_build_generator,
        checks.check_build_discriminator,
        checks.check_discriminator_loss,
        checks.check_generator_loss,
        checks.check_gan_train_step,
        checks.check_build_dcgan_generator,
        checks.check_build_dcgan_discriminator,
        checks.check_train_with_checkpoints,
        checks.check_interpolate_latents,
    ):
        result = check(not_written, verbose=False)
        assert result.status == "not written"
        assert not result.passed
        assert "not written yet" in result.message
        assert "Traceback" not in result.message


def test_an_exception_in_the_students_code_is_one_line_naming_the_line_that_raised():
    def generator_loss_with_a_typo(fake_logits):
        return ops.mean(ops.softplus(-fake_logit))  # noqa: F821

    result = checks.check_generator_loss(generator_loss_with_a_typo, verbose=False)
    assert result.status == "error"
    assert "NameError" in result.message
    assert "ops.mean(ops.softplus(-fake_logit))" in result.message
    assert "Traceback" not in result.message


def test_something_that_is_not_a_function_is_reported_not_raised():
    result = checks.check_discriminator_loss(None, verbose=False)
    assert_fails(result, "expected the function discriminator_loss, got None")


def test_the_result_shows_nothing_more_as_a_notebook_value():
    # The check prints the report; displayed as a cell's value the result adds nothing.
    result = checks.check_generator_loss(losses.bce_generator_loss, verbose=False)
    assert result._ipython_display_() is None


def test_solution_or_reference_uses_the_reference_for_an_unsolved_exercise(capsys):
    chosen = checks.solution_or_reference(not_written, losses.bce_generator_loss, "generator_loss")
    assert chosen is losses.bce_generator_loss
    assert capsys.readouterr().out.strip() == (
        "generator_loss is not written yet: this cell uses ganlab's reference so the rest of the notebook runs."
    )


def test_solution_or_reference_uses_a_passing_student_function(capsys):
    def generator_loss(fake_logits):
        return ops.mean(ops.softplus(-fake_logits))

    chosen = checks.solution_or_reference(generator_loss, losses.bce_generator_loss)
    assert chosen is generator_loss
    assert capsys.readouterr().out.strip() == "✓ using your generator_loss."


def test_solution_or_reference_uses_the_reference_for_a_wrong_student_function(capsys):
    def generator_loss(fake_logits):
        return -ops.mean(ops.softplus(fake_logits))

    chosen = checks.solution_or_reference(generator_loss, losses.bce_generator_loss)
    assert chosen is losses.bce_generator_loss
    assert "does not pass its check yet" in capsys.readouterr().out


def test_solution_or_reference_refuses_an_unknown_exercise_name():
    with pytest.raises(ValueError, match="no check for an exercise named 'flux_capacitor'"):
        checks.solution_or_reference(not_written, not_written, "flux_capacitor")


# --- lesson 01: build_generator -----------------------------------------------------


def generator_from_layers(config, hidden_units=None, activation="tanh", hidden_activation=True, reshape=True):
    latent = keras.Input((config.latent_dim,))
    hidden = latent
    for units in hidden_units or config.hidden_units:
        hidden = layers.Dense(units)(hidden)
        if hidden_activation:
            hidden = layers.LeakyReLU(0.2)(hidden)
    pixels = layers.Dense(int(np.prod(config.image_shape)), activation=activation)(hidden)
    outputs = layers.Reshape(config.image_shape)(pixels) if reshape else pixels
    return keras.Model(latent, outputs)


def test_build_generator_check_passes_ganlab_generator():
    assert_passes(checks.check_build_generator(models.build_vanilla_generator, verbose=False))


def test_build_generator_check_catches_a_missing_tanh():
    result = checks.check_build_generator(
        lambda config: generator_from_layers(config, activation=None), verbose=False
    )
    assert_fails(result, "outside [-1, 1]", "activation='tanh'")


def test_build_generator_check_catches_a_sigmoid_output():
    result = checks.check_build_generator(
        lambda config: generator_from_layers(config, activation="sigmoid"), verbose=False
    )
    assert_fails(result, "in [0, 1]", "sigmoid", "tanh")


def test_build_generator_check_catches_sizes_written_into_the_function():
    def build_generator(config):
        return generator_from_layers(models.VanillaConfig())

    assert_fails(
        checks.check_build_generator(build_generator, verbose=False), "takes inputs of shape (None, 64)"
    )


def test_build_generator_check_catches_a_missing_reshape():
    result = checks.check_build_generator(
        lambda config: generator_from_layers(config, reshape=False), verbose=False
    )
    assert_fails(result, "got (64, 36)", "layers.Reshape")


def test_build_generator_check_catches_hidden_layers_without_activation():
    result = checks.check_build_generator(
        lambda config: generator_from_layers(config, hidden_activation=False), verbose=False
    )
    assert_fails(result, "has no activation", "linear map")


def test_build_generator_check_catches_widths_not_from_config():
    result = checks.check_build_generator(
        lambda config: generator_from_layers(config, hidden_units=(256, 512)), verbose=False
    )
    assert_fails(result, "widths [256, 512]", "config.hidden_units = [16, 32]")


def test_build_generator_check_catches_a_forgotten_return():
    def build_generator(config):
        generator_from_layers(config)

    assert_fails(checks.check_build_generator(build_generator, verbose=False), "returned None")


# --- lesson 01: build_discriminator -------------------------------------------------


def discriminator_from_layers(config, widths=None, dropout=True, flatten=True, activation=None):
    image = keras.Input(config.image_shape)
    hidden = layers.Flatten()(image) if flatten else image
    for units in widths or list(reversed(config.hidden_units)):
        hidden = layers.LeakyReLU(0.2)(layers.Dense(units)(hidden))
        if dropout:
            hidden = layers.Dropout(config.dropout)(hidden)
    return keras.Model(image, layers.Dense(1, activation=activation)(hidden))


def test_build_discriminator_check_passes_ganlab_discriminator():
    assert_passes(checks.check_build_discriminator(models.build_vanilla_discriminator, verbose=False))


def test_build_discriminator_check_catches_a_sigmoid_on_the_logit():
    result = checks.check_build_discriminator(
        lambda config: discriminator_from_layers(config, activation="sigmoid"), verbose=False
    )
    assert_fails(result, "applies an activation (sigmoid) to the logit", "Dense(1) without an activation")


def test_build_discriminator_check_catches_a_sigmoid_however_it_is_written():
    def build_discriminator(config):
        model = discriminator_from_layers(config)
        return keras.Model(model.input, ops.sigmoid(model.output))

    result = checks.check_build_discriminator(build_discriminator, verbose=False)
    assert_fails(result, "only values in [0, 1]", "sigmoid is applied to the logit")


def test_build_discriminator_check_catches_a_relu_on_the_logit():
    result = checks.check_build_discriminator(
        lambda config: discriminator_from_layers(config, activation="relu"), verbose=False
    )
    assert_fails(result, "applies an activation (relu) to the logit")


def test_build_discriminator_check_catches_a_missing_flatten():
    result = checks.check_build_discriminator(
        lambda config: discriminator_from_layers(config, flatten=False), verbose=False
    )
    assert_fails(result, "shape (64, 1)", "got (64, 6, 6, 1)", "Flatten")


def test_build_discriminator_check_catches_a_missing_dropout():
    result = checks.check_build_discriminator(
        lambda config: discriminator_from_layers(config, dropout=False), verbose=False
    )
    assert_fails(result, "no Dropout", "config.dropout = 0.25")


def test_build_discriminator_check_catches_widths_not_reversed():
    result = checks.check_build_discriminator(
        lambda config: discriminator_from_layers(config, widths=list(config.hidden_units)), verbose=False
    )
    assert_fails(result, "widths [16, 32]", "reversed = [32, 16]")


# --- lesson 01: discriminator_loss --------------------------------------------------

# The test batch of the check, and its right loss computed by hand:
# mean(softplus(-[1.5, -0.5, 3.0, 0.2])) + mean(softplus([-2.0, 0.7, -0.1, -1.2])).
REAL = np.array([1.5, -0.5, 3.0, 0.2])
FAKE = np.array([-2.0, 0.7, -0.1, -1.2])
RIGHT_D_LOSS = np.mean(np.log1p(np.exp(-REAL))) + np.mean(np.log1p(np.exp(FAKE)))


def test_the_right_discriminator_loss_of_the_test_batch_is_0_990():
    assert RIGHT_D_LOSS == pytest.approx(0.98998, abs=1e-4)


def test_discriminator_loss_check_passes_ganlab_loss():
    assert_passes(checks.check_discriminator_loss(losses.bce_discriminator_loss, verbose=False))


@pytest.mark.parametrize(
    "buggy_loss, fragments",
    [
        (
            lambda real, fake: ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(-fake)),
            ["treats fakes as real", "expected 0.99, got 1.64", "fakes have the label 0"],
        ),
        (
            lambda real, fake: ops.mean(ops.softplus(real)) + ops.mean(ops.softplus(fake)),
            ["treats real images as fakes", "label 1"],
        ),
        (
            lambda real, fake: ops.mean(ops.softplus(real)) + ops.mean(ops.softplus(-fake)),
            ["labels swapped"],
        ),
        (
            lambda real, fake: -(ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))),
            ["wrong sign", "never negative"],
        ),
        (lambda real, fake: ops.mean(ops.softplus(fake)), ["leaves out the real images"]),
        (lambda real, fake: ops.mean(ops.softplus(-real)), ["leaves out the fakes"]),
        (
            lambda real, fake: ops.sum(ops.softplus(-real)) + ops.sum(ops.softplus(fake)),
            ["sums over the batch", "ops.mean"],
        ),
        (
            lambda real, fake: (ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))) / 2,
            ["averages the real and fake terms"],
        ),
        (
            lambda real, fake: ops.mean(keras.losses.binary_crossentropy(ops.ones_like(real), real))
            + ops.mean(keras.losses.binary_crossentropy(ops.zeros_like(fake), fake)),
            ["treats the logits as probabilities", "from_logits=True"],
        ),
    ],
)
def test_discriminator_loss_check_names_each_mistake(buggy_loss, fragments):
    assert_fails(checks.check_discriminator_loss(buggy_loss, verbose=False), *fragments)


def test_discriminator_loss_check_catches_a_loss_per_image_instead_of_a_scalar():
    def discriminator_loss(real, fake):
        return ops.softplus(-real) + ops.softplus(fake)

    assert_fails(
        checks.check_discriminator_loss(discriminator_loss, verbose=False), "scalar", "got shape (4, 1)"
    )


def test_discriminator_loss_check_catches_log_of_sigmoid_that_overflows():
    def discriminator_loss(real, fake):
        return -ops.mean(ops.log(ops.sigmoid(real))) - ops.mean(ops.log(1 - ops.sigmoid(fake)))

    assert_fails(
        checks.check_discriminator_loss(discriminator_loss, verbose=False), "should be 200", "softplus"
    )


def test_discriminator_loss_check_catches_a_numpy_loss_without_gradient():
    def discriminator_loss(real, fake):
        return np.mean(np.logaddexp(0, -np.asarray(real))) + np.mean(np.logaddexp(0, np.asarray(fake)))

    assert_fails(
        checks.check_discriminator_loss(discriminator_loss, verbose=False), "no gradient", "keras.ops"
    )


# --- lesson 01: generator_loss ------------------------------------------------------


def test_generator_loss_check_passes_ganlab_loss():
    assert_passes(checks.check_generator_loss(losses.bce_generator_loss, verbose=False))


@pytest.mark.parametrize(
    "buggy_loss, fragments",
    [
        (losses.minimax_generator_loss, ["saturating minimax loss", "non-saturating"]),
        (lambda fake: ops.mean(ops.softplus(fake)), ["labels the fakes 0", "label 1"]),
        (lambda fake: -ops.mean(ops.softplus(-fake)), ["wrong sign"]),
        (lambda fake: ops.sum(ops.softplus(-fake)), ["sums over the batch"]),
        (
            lambda fake: ops.mean(keras.losses.binary_crossentropy(ops.ones_like(fake), fake)),
            ["treats the logits as probabilities"],
        ),
        (lambda fake: -ops.mean(ops.log(ops.sigmoid(fake))), ["logit -100", "should be 100"]),
    ],
)
def test_generator_loss_check_names_each_mistake(buggy_loss, fragments):
    assert_fails(checks.check_generator_loss(buggy_loss, verbose=False), *fragments)


# --- lesson 01: gan_train_step ------------------------------------------------------


def correct_step(
    generator,
    discriminator,
    g_optimizer,
    d_optimizer,
    real_images,
    latent_dim,
    seed_generator,
    d_training=True,
    g_training=True,
    order="alternating",
    swap_optimizers=False,
    g_in_d_step=False,
    update_d=True,
    swap_returned=False,
    latent_batch=None,
    numpy_latent=False,
    to_numpy=False,
    scale_loss=True,
):
    """A train step with switches that turn on one mistake each."""
    if swap_optimizers:
        g_optimizer, d_optimizer = d_optimizer, g_optimizer
    batch_size = ops.shape(real_images)[0] if latent_batch is None else latent_batch

    def latent():
        if numpy_latent:
            return np.random.default_rng(0).standard_normal((4, latent_dim)).astype("float32")
        return keras.random.normal((batch_size, latent_dim), seed=seed_generator)

    def d_half_step():
        fake_images = generator(latent(), training=g_training)
        variables = discriminator.trainable_weights + (generator.trainable_weights if g_in_d_step else [])
        with tf.GradientTape() as tape:
            if g_in_d_step:
                fake_images = generator(latent(), training=g_training)
            loss = discriminator_loss(
                discriminator(real_images, training=d_training),
                discriminator(fake_images, training=d_training),
            )
            scaled = d_optimizer.scale_loss(loss) if scale_loss else loss
        if update_d:
            d_optimizer.apply(tape.gradient(scaled, variables), variables)
        return loss

    def g_gradients():
        with tf.GradientTape() as tape:
            loss = generator_loss(
                discriminator(generator(latent(), training=g_training), training=d_training)
            )
            scaled = g_optimizer.scale_loss(loss) if scale_loss else loss
        return loss, tape.gradient(scaled, generator.trainable_weights)

    if order == "generator_first":
        g_loss, gradients = g_gradients()
        g_optimizer.apply(gradients, generator.trainable_weights)
        d_loss = d_half_step()
    elif order == "simultaneous":
        g_loss, gradients = g_gradients()
        d_loss = d_half_step()
        g_optimizer.apply(gradients, generator.trainable_weights)
    else:
        d_loss = d_half_step()
        g_loss, gradients = g_gradients()
        g_optimizer.apply(gradients, generator.trainable_weights)
    if to_numpy:
        d_loss = float(d_loss.numpy())
    return (g_loss, d_loss) if swap_returned else (d_loss, g_loss)


def step_with(**mistake):
    def gan_train_step(
        generator, discriminator, g_optimizer, d_optimizer, real_images, latent_dim, seed_generator
    ):
        return correct_step(
            generator,
            discriminator,
            g_optimizer,
            d_optimizer,
            real_images,
            latent_dim,
            seed_generator,
            **mistake,
        )

    return gan_train_step


def test_gan_train_step_check_passes_the_reference_step():
    assert_passes(checks.check_gan_train_step(checks.reference_gan_train_step, verbose=False))


def test_gan_train_step_check_passes_a_correct_step_using_the_notebook_losses():
    assert_passes(checks.check_gan_train_step(step_with(), verbose=False))


@pytest.mark.parametrize(
    "mistake, fragments",
    [
        (dict(d_training=None), ["discriminator without training=True", "Dropout"]),
        (dict(g_training=False), ["generator without training=True", "BatchNormalization"]),
        (dict(order="generator_first"), ["trains G before D"]),
        (dict(order="simultaneous"), ["with D as it was before D's update"]),
        (dict(swap_optimizers=True), ["updates D with g_optimizer"]),
        (dict(g_in_d_step=True), ["also moves G's weights with D's loss"]),
        (dict(update_d=False), ["discriminator's weights did not change", "d_optimizer.apply"]),
        (dict(swap_returned=True), ["other way round"]),
        (dict(latent_batch=2), ["shape (4, 3)", "got [(2, 3)]"]),
        (dict(numpy_latent=True), ["does not draw z from seed_generator"]),
        (dict(to_numpy=True), ["fails inside tf.function", "no .numpy()"]),
        (dict(scale_loss=False), ["not of optimizer.scale_loss(loss)", "256 times too little"]),
    ],
)
def test_gan_train_step_check_names_each_mistake(mistake, fragments):
    assert_fails(checks.check_gan_train_step(step_with(**mistake), verbose=False), *fragments)


def test_gan_train_step_check_catches_a_step_that_returns_one_value():
    def gan_train_step(*arguments):
        d_loss, g_loss = correct_step(*arguments)
        return d_loss + g_loss

    assert_fails(
        checks.check_gan_train_step(gan_train_step, verbose=False),
        "return two values",
        "return d_loss, g_loss",
    )


def test_gan_train_step_check_says_when_the_losses_it_calls_are_not_written():
    namespace = {"discriminator_loss": not_written, "generator_loss": losses.bce_generator_loss}
    exec(
        "def gan_train_step(*arguments):\n" "    return discriminator_loss(None, None), None\n",
        namespace,
    )
    result = checks.check_gan_train_step(namespace["gan_train_step"], verbose=False)
    assert result.status == "not written"
    assert "calls discriminator_loss, which is not written yet" in result.message


# --- lesson 02: build_dcgan_generator -------------------------------------------------


def dcgan_generator(
    config,
    upsampling="transposed",
    normalize=True,
    output_norm=False,
    activation="tanh",
    hidden_dense=False,
    doublings=2,
):
    latent = keras.Input((config.latent_dim,))
    hidden = latent
    if hidden_dense:
        hidden = layers.ReLU()(layers.Dense(32)(hidden))
    hidden = layers.Dense(7 * 7 * 8, use_bias=False)(hidden)
    hidden = layers.Reshape((7, 7, 8))(hidden)
    if normalize:
        hidden = layers.BatchNormalization()(hidden)
    hidden = layers.ReLU()(hidden)
    for _ in range(doublings - 1):
        if upsampling == "transposed":
            hidden = layers.Conv2DTranspose(4, 4, strides=2, padding="same")(hidden)
        else:
            hidden = layers.Conv2D(4, 3, padding="same")(layers.UpSampling2D()(hidden))
        if normalize:
            hidden = layers.BatchNormalization()(hidden)
        hidden = layers.ReLU()(hidden)
    if upsampling == "transposed":
        image = layers.Conv2DTranspose(1, 4, strides=2, padding="same")(hidden)
    else:
        image = layers.Conv2D(1, 3, padding="same")(layers.UpSampling2D()(hidden))
    if output_norm:
        image = layers.BatchNormalization()(image)
    image = layers.Activation(activation)(image) if activation else image
    return keras.Model(latent, image)


def test_build_dcgan_generator_check_passes_ganlab_generator():
    assert_passes(checks.check_build_dcgan_generator(models.build_dcgan_generator, verbose=False))


@pytest.mark.parametrize(
    "options, fragments",
    [
        (dict(upsampling="nearest"), ["0 transposed convolution", "replace UpSampling2D"]),
        (dict(normalize=False), ["no batch normalization"]),
        (dict(output_norm=True), ["batch normalization to its output"]),
        (dict(activation="sigmoid"), ["in [0, 1]", "tanh"]),
        (dict(activation=None), ["outside [-1, 1]"]),
        (dict(hidden_dense=True), ["2 Dense layers", "only one"]),
        (dict(doublings=1), ["(16, 28, 28, 1)", "got (16, 14, 14, 1)"]),
    ],
)
def test_build_dcgan_generator_check_names_each_mistake(options, fragments):
    result = checks.check_build_dcgan_generator(
        lambda config: dcgan_generator(config, **options), verbose=False
    )
    assert_fails(result, *fragments)


# --- lesson 02: build_dcgan_discriminator ---------------------------------------------


def dcgan_discriminator(
    config,
    downsampling="strided",
    first_norm=False,
    second_norm=True,
    activation="leaky",
    logit_activation=None,
    hidden_dense=False,
):
    image = keras.Input(config.image_shape)
    hidden = image
    for block in range(2):
        if downsampling == "strided":
            hidden = layers.Conv2D(4, 4, strides=2, padding="same")(hidden)
        else:
            hidden = layers.MaxPooling2D()(layers.Conv2D(4, 3, padding="same")(hidden))
        if (block == 0 and first_norm) or (block == 1 and second_norm):
            hidden = layers.BatchNormalization()(hidden)
        hidden = layers.LeakyReLU(0.2)(hidden) if activation == "leaky" else layers.ReLU()(hidden)
    hidden = layers.Flatten()(hidden)
    if hidden_dense:
        hidden = layers.LeakyReLU(0.2)(layers.Dense(16)(hidden))
    return keras.Model(image, layers.Dense(1, activation=logit_activation)(hidden))


def test_build_dcgan_discriminator_check_passes_ganlab_discriminator():
    assert_passes(checks.check_build_dcgan_discriminator(models.build_dcgan_discriminator, verbose=False))


@pytest.mark.parametrize(
    "options, fragments",
    [
        (dict(logit_activation="sigmoid"), ["activation (sigmoid) to the logit"]),
        (dict(downsampling="pooling"), ["uses pooling", "strides=2"]),
        (dict(first_norm=True), ["batch normalization in its first block"]),
        (dict(second_norm=False), ["no batch normalization"]),
        (dict(activation="relu"), ["uses ReLU", "LeakyReLU(0.2)"]),
        (dict(hidden_dense=True), ["2 Dense layers"]),
    ],
)
def test_build_dcgan_discriminator_check_names_each_mistake(options, fragments):
    result = checks.check_build_dcgan_discriminator(
        lambda config: dcgan_discriminator(config, **options), verbose=False
    )
    assert_fails(result, *fragments)


# --- lesson 02: train_with_checkpoints ------------------------------------------------


def resumable(
    gan,
    dataset,
    checkpoint_directory,
    total_steps,
    steps_per_round,
    callbacks_=(),
    restore=True,
    save=True,
    limit=True,
    up_to_total=True,
    initial_epoch=True,
    epochs_is_last_round=True,
    pass_callbacks=True,
    return_step=True,
):
    """The reference with switches that turn on one mistake each."""
    from pathlib import Path

    if restore and (Path(checkpoint_directory) / training.CHECKPOINT_WEIGHTS_FILE).exists():
        training.restore_checkpoint(gan, checkpoint_directory)
    step = int(gan.step.numpy())
    remaining = total_steps - step if up_to_total else total_steps
    if remaining > 0:
        first_round = step // steps_per_round if initial_epoch else 0
        extra = [callbacks.TrainingLimits(max_steps=step + remaining)] if limit else []
        extra += [callbacks.Checkpoint(checkpoint_directory)] if save else []
        gan.fit(
            dataset,
            steps_per_epoch=steps_per_round,
            initial_epoch=first_round,
            epochs=(first_round if epochs_is_last_round else 0) + math.ceil(remaining / steps_per_round),
            callbacks=[*(callbacks_ if pass_callbacks else []), *extra],
            shuffle=False,
            verbose=0,
        )
    return int(gan.step.numpy()) if return_step else None


def resumable_with(**mistake):
    def train_with_checkpoints(
        gan, dataset, checkpoint_directory, total_steps, steps_per_round, callbacks=()
    ):
        return resumable(
            gan, dataset, checkpoint_directory, total_steps, steps_per_round, callbacks, **mistake
        )

    return train_with_checkpoints


def test_train_with_checkpoints_check_passes_the_reference():
    assert_passes(checks.check_train_with_checkpoints(checks.reference_train_with_checkpoints, verbose=False))


@pytest.mark.parametrize(
    "mistake, fragments",
    [
        (dict(restore=False), ["started again from step 0", "restore_checkpoint"]),
        (dict(save=False), ["no checkpoint", "ganlab.callbacks.Checkpoint"]),
        (dict(limit=False), ["total_steps=5", "reached step 6", "TrainingLimits"]),
        (dict(up_to_total=False), ["trained 7 more steps (to step 12)"]),
        (dict(initial_epoch=False), ["counts its rounds from 0", "initial_epoch"]),
        (dict(epochs_is_last_round=False), ["trained no step", "number of the LAST round", "epochs=initial_epoch +"]),
        (dict(pass_callbacks=False), ["callbacks passed to train_with_checkpoints were not used"]),
        (dict(return_step=False), ["should return the step reached (5)"]),
    ],
)
def test_train_with_checkpoints_check_names_each_mistake(mistake, fragments):
    assert_fails(checks.check_train_with_checkpoints(resumable_with(**mistake), verbose=False), *fragments)


# --- lesson 02: interpolate_latents ---------------------------------------------------


def test_reference_slerp_halfway_between_orthogonal_vectors_is_their_sum_over_root_two():
    path = checks.reference_interpolate_latents([2.0, 0.0], [0.0, 2.0], 3, method="slerp")
    np.testing.assert_allclose(path[1], [math.sqrt(2), math.sqrt(2)], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), [2.0, 2.0, 2.0], atol=1e-6)


def test_interpolate_latents_check_passes_the_reference():
    assert_passes(checks.check_interpolate_latents(checks.reference_interpolate_latents, verbose=False))


def linear_and_slerp(
    a,
    b,
    steps,
    method="linear",
    t=None,
    slerp_is_linear=False,
    guard_parallel=True,
    validate=True,
    transpose=False,
):
    if validate and method not in ("linear", "slerp"):
        raise ValueError(f"Unknown method: {method}")
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    t = (np.linspace(0, 1, steps) if t is None else t(steps))[:, None]
    if method == "slerp" and not slerp_is_linear:
        omega = np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1))
        if np.sin(omega) > 1e-6 or not guard_parallel:
            path = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
            return path.T if transpose else path
    path = (1 - t) * a + t * b
    return path.T if transpose else path


@pytest.mark.parametrize(
    "options, fragments",
    [
        (
            dict(t=lambda steps: np.arange(steps) / steps),
            ["last row should be b", "np.linspace(0, 1, steps)"],
        ),
        (dict(t=lambda steps: np.linspace(1, 0, steps)), ["runs from b to a"]),
        (dict(slerp_is_linear=True), ["your slerp is linear", "length 1.414"]),
        (dict(guard_parallel=False), ["from a vector to itself", "fall back to linear"]),
        (dict(validate=False), ["method='cubic' was accepted", "ValueError"]),
        (dict(transpose=True), ["shape (5, 3)", "got (3, 5)"]),
    ],
)
def test_interpolate_latents_check_names_each_mistake(options, fragments):
    def interpolate_latents(a, b, steps, method="linear"):
        return linear_and_slerp(a, b, steps, method, **options)

    with np.errstate(invalid="ignore", divide="ignore"):
        result = checks.check_interpolate_latents(interpolate_latents, verbose=False)
    assert_fails(result, *fragments)
