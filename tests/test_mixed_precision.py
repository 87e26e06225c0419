"""Mixed precision (ganlab.precision): every model trains in float16 and bfloat16, and stays finite."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlab import cli, data, losses, precision, recipes, runs
from ganlab.models import progressive

MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


@pytest.fixture(autouse=True)
def restore_dtype_policy():
    """Every test leaves Keras' global dtype policy as it found it (float32 for the rest of the suite)."""
    before = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(before)


def is_finite(value):
    return bool(np.all(np.isfinite(keras.ops.convert_to_numpy(value).astype("float64"))))


class LossScaleRecorder(keras.callbacks.Callback):
    """Records D's and G's loss scale and Adam step count at the start of every step (after GrowthCallback)."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_train_batch_begin(self, batch, logs=None):
        self.rows.append(
            {
                "phase": self.model.phase.index,
                "scales": [float(o.dynamic_scale.numpy()) for o in (self.model.d_optimizer, self.model.g_optimizer)],
                "iterations": int(self.model.d_optimizer.iterations.numpy()),
            }
        )


_TRAINED = {}


def train_a_few_steps(model, policy):
    """The fast recipe of ``model`` in ``policy``, trained on random images; the progressive one through its schedule.

    BigGAN trains with DiffAugment, so that its mixed-precision path is covered
    too. The progressive GAN's schedule starts at 16x16 (every block from 4x4 up
    computes in that precision from the first step; each phase costs a trace of
    the step), so it crosses two phase changes: into the 32x32 fade-in and out
    of it. Trained once per model and policy, shared by the tests.
    """
    if (model, policy) not in _TRAINED:
        _TRAINED[model, policy] = _train(model, policy)
    return _TRAINED[model, policy]


def _train(model, policy):
    options = recipes.get_recipe(model, "fast").options
    if model == "biggan":
        options = dataclasses.replace(options, augment="translation,cutout")
    if model == "progressive":
        options = dataclasses.replace(options, schedule=dataclasses.replace(options.schedule, initial_resolution=16))
    recipe = recipes.get_recipe(model, "fast", precision=policy, options=options)
    gan = runs.build_gan(recipe, seed=0)
    random = np.random.default_rng(0)
    size = recipe.image_size or 28
    images = random.uniform(-1.0, 1.0, (64, size, size, 1)).astype("float32")
    labels = random.integers(0, 10, 64)
    recorder = LossScaleRecorder()
    if model == "progressive":
        dataset = progressive.growing_dataset(images, recipe.options.schedule)
        callbacks, steps = [progressive.GrowthCallback(verbose=False)], recipe.options.schedule.total_steps
        if policy == "mixed_float16":
            callbacks.append(recorder)
    else:
        conditional = model in recipes.CONDITIONAL_MODELS
        dataset = data.make_dataset(images, labels if conditional else None, batch_size=recipe.batch_size)
        callbacks, steps = [], 3
    history = gan.fit(dataset, steps_per_epoch=steps, epochs=1, callbacks=callbacks, verbose=0)
    return gan, history.history, recorder.rows


@pytest.mark.slow
@pytest.mark.parametrize("policy", MIXED_POLICIES)
@pytest.mark.parametrize("model", recipes.MODELS)
def test_every_model_trains_in_mixed_precision_with_finite_weights_and_losses(model, policy):
    gan, history, _ = train_a_few_steps(model, policy)

    compute_dtype = policy.removeprefix("mixed_")
    assert gan.generator.compute_dtype == compute_dtype and gan.discriminator.compute_dtype == compute_dtype
    assert keras.config.dtype_policy().name == "float32"  # building in a precision does not leak out
    for name, values in history.items():
        assert np.all(np.isfinite(values)), name
    for weight in gan.weights:
        assert weight.dtype in ("float32", "int64", "int32", "uint32", "bool"), weight.path
        assert is_finite(weight), weight.path
    # Loss scaling for float16 only: bfloat16 has float32's range of exponents.
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")


@pytest.mark.parametrize("policy", MIXED_POLICIES)
@pytest.mark.parametrize("model", recipes.MODELS)
def test_in_mixed_precision_samples_and_discriminator_logits_are_float32(model, policy):
    recipe = recipes.get_recipe(model, "fast", precision=policy)
    gan = runs.build_gan(recipe, seed=0)
    latent = np.random.default_rng(0).standard_normal((4, gan.latent_dim)).astype("float32")
    size = recipe.image_size or 28
    images = np.zeros((4, size, size, 1), "float32")
    if model == "biggan":
        labels = np.arange(4)
        fakes = gan.generator([latent, gan.generator.embed(labels)], training=True)
        logits = gan.discriminator([images, labels], training=True)
        samples = gan.generate(4, seed=0)  # the EMA generator after its standing statistics
    elif model == "progressive":
        fakes = gan.generator(latent, resolution=8, alpha=gan.alpha, training=True)
        logits = gan.discriminator(images, resolution=32, alpha=gan.alpha, training=True)
        samples = gan.generate(4, seed=0)
    else:
        fakes = gan.generator(latent, training=True)
        logits = gan.discriminator(images, training=True)
        samples = gan.generate(4, seed=0)

    assert fakes.dtype == "float32" and logits.dtype == "float32"
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples))


@pytest.mark.slow
def test_progressive_gan_in_float16_keeps_a_finite_positive_loss_scale_through_every_phase_change():
    gan, history, rows = train_a_few_steps("progressive", "mixed_float16")

    phases = [row["phase"] for row in rows]
    assert phases[0] == 0 and phases[-1] == len(gan.schedule.phases) - 1
    for row in rows:
        for scale in row["scales"]:
            assert np.isfinite(scale) and scale > 0, row
    # At every phase change Adam's step counter starts again (its moments were reset), the scale did not.
    changes = [index for index in range(1, len(rows)) if phases[index] != phases[index - 1]]
    assert len(changes) == len(gan.schedule.phases) - 1
    for index in changes:
        assert rows[index]["iterations"] == 0


def test_reset_optimizer_state_zeroes_adams_moments_but_keeps_the_loss_scale_and_learning_rate():
    weight = keras.Variable(np.ones(3, "float32"))
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.5), initial_scale=1024.0)
    optimizer.build([weight])
    optimizer.apply([tf.constant([1024.0, 2048.0, 0.0])], [weight])  # scaled gradients 1, 2, 0

    progressive.reset_optimizer_state(optimizer)

    assert float(optimizer.dynamic_scale.numpy()) == 1024.0
    assert float(optimizer.inner_optimizer.learning_rate.numpy()) == 0.5
    assert int(optimizer.iterations.numpy()) == 0
    moments = [v for v in optimizer.inner_optimizer.variables if "momentum" in v.path or "velocity" in v.path]
    assert len(moments) == 2 and all(not np.any(v.numpy()) for v in moments)


@pytest.mark.slow
def test_biggan_with_diffaugment_trains_in_float16_with_finite_orthogonal_penalty_and_float32_u():
    gan, history, _ = train_a_few_steps("biggan", "mixed_float16")

    assert np.all(np.isfinite(history["orthogonal_penalty"])) and history["orthogonal_penalty"][-1] > 0
    for layer in gan.generator._flatten_layers():
        if hasattr(layer, "u"):
            assert layer.u.dtype == "float32" and is_finite(layer.u), layer.path


def test_gradient_penalty_of_float16_fakes_and_float32_reals_is_float32():
    # D(x) = 2 * (sum of the pixels): its gradient is 2 at every pixel, so with 4 pixels the
    # norm is 2 * sqrt(4) = 4 and the penalty (4 - 1)^2 = 9 for every image, wherever x_hat lies.
    def discriminator(images, training=True):
        return 2.0 * keras.ops.sum(images, axis=(1, 2, 3))

    real = np.zeros((2, 2, 2, 1), "float32")
    fake = np.ones((2, 2, 2, 1), "float16")

    penalty = losses.gradient_penalty(discriminator, real, fake, seed=0)
    scaled = losses.gradient_penalty(discriminator, real, fake, seed=0, loss_scale=1024.0)

    assert penalty.dtype == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(penalty), 9.0, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled), 9.0, rtol=1e-6)


def test_precision_scope_builds_layers_in_the_policy_and_restores_the_previous_one():
    with precision.precision_scope("mixed_bfloat16"):
        layer = keras.layers.Dense(2)

    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    assert keras.config.dtype_policy().name == "float32"


def test_an_unknown_precision_is_a_value_error_listing_the_precisions():
    with pytest.raises(ValueError, match=r"Expected one of \('float32', 'mixed_float16', 'mixed_bfloat16'\)\. Received: precision='float8'"):
        recipes.get_recipe("dcgan", "fast", precision="float8")


def test_train_precision_option_is_checked_before_a_run_folder_is_made(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "dcgan", "--out", str(tmp_path / "run"), "--tracking", "off", "--precision", "float8"])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "precision" in error and "mixed_bfloat16" in error and "Traceback" not in error
    assert not (tmp_path / "run").exists()


def test_the_recipes_precision_is_saved_with_it_for_resume():
    recipe = recipes.get_recipe("dcgan", "fast", precision="mixed_bfloat16")

    assert recipes.recipe_from_json(recipe.to_json()).precision == "mixed_bfloat16"
    # A checkpoint written before the field existed resumes in float32.
    old = {key: value for key, value in recipe.to_json().items() if key != "precision"}
    assert recipes.recipe_from_json(old).precision == "float32"
    assert dataclasses.replace(recipe, steps=5).precision == "mixed_bfloat16"


def test_lesson_policy_is_float32_on_a_machine_without_a_gpu(monkeypatch):
    monkeypatch.delenv(precision.SIMULATE_GPU_VARIABLE, raising=False)
    assert precision.lesson_policy() == "float32"


def test_lesson_policy_takes_the_gpus_mixed_float16_when_a_gpu_is_simulated(monkeypatch):
    monkeypatch.setenv(precision.SIMULATE_GPU_VARIABLE, "1")
    assert precision.lesson_policy() == "mixed_float16"


def test_lesson_policy_rejects_a_simulation_setting_other_than_0_or_1(monkeypatch):
    monkeypatch.setenv(precision.SIMULATE_GPU_VARIABLE, "yes")
    with pytest.raises(ValueError, match=r"GANLAB_SIMULATE_GPU must be 0 or 1\. Received: GANLAB_SIMULATE_GPU='yes'"):
        precision.lesson_policy()
