"""Multi-device training (ganlab.distribute): 2 replicas train like 1 device on the same global batch.

TensorFlow splits the CPU into two logical devices only before it starts, so
the comparison runs in a subprocess (as in ``tests/test_spectral_norm.py``);
one subprocess checks every model, to pay TensorFlow's start-up once.

Randomness is made the same on both sides: the latent vectors (and BigGAN's
classes, the gradient penalty's mixing factors) are fixed rows of the global
batch, each replica taking its share. What cannot agree exactly, by design
(see ``ganlab.distribute``), is left out of the comparison this way:

- batch norm (DCGAN, BigGAN's G) normalizes by each replica's own batch:
  their global batch is two copies of one half, whose statistics are the
  half's, so one device and each replica normalize alike;
- the Progressive GAN's minibatch stddev groups images within a replica:
  its group size is 1 here (no statistic across images);
- the vanilla D's dropout masks are drawn per replica: dropout 0 here.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ganlab import distribute

SCRIPT = textwrap.dedent(
    """
    import dataclasses, json
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from ganlab import distribute, growing, losses, recipes, runs

    BATCH = 8
    original_penalty = losses.gradient_penalty

    def replica_rows(values):
        # This replica's rows of a global-batch array (all of them on one device).
        def take(batch_size, *_):
            index = tf.distribute.get_replica_context().replica_id_in_sync_group
            return tf.gather(values, tf.range(index * batch_size, (index + 1) * batch_size))
        return take

    def recipe_for(model):
        recipe = recipes.get_recipe(model, "fast", batch_size=BATCH, d_steps=1)
        if model == "vanilla":
            recipe = dataclasses.replace(recipe, network=dataclasses.replace(recipe.network, dropout=0.0))
        if model == "progressive":
            recipe = dataclasses.replace(recipe, network=dataclasses.replace(recipe.network, minibatch_group_size=1))
        return recipe

    def train_one_step(model, strategy):
        recipe = recipe_for(model)
        gan = runs.build_gan(recipe, seed=0, strategy=strategy)
        random = np.random.default_rng(1)
        size = recipe.image_size or 28
        half = BATCH // 2
        images = random.uniform(-1, 1, (BATCH, size, size, 1)).astype("float32")
        latent = random.standard_normal((BATCH, gan.latent_dim)).astype("float32")
        labels = random.integers(0, 10, BATCH)
        mixing = random.uniform(size=(BATCH, 1, 1, 1)).astype("float32")
        if model in ("dcgan", "biggan"):  # batch norm: both halves the same (see the test's docstring)
            images, latent, labels = (np.concatenate([a[:half], a[:half]]) for a in (images, latent, labels))
        gan.sample_latent = replica_rows(tf.constant(latent))
        if model == "biggan":
            gan.sample_labels = replica_rows(tf.constant(labels, "int32"))
        take_mixing = replica_rows(tf.constant(mixing))
        losses.gradient_penalty = lambda d, real, fake, seed=None, loss_scale=None: original_penalty(
            d, real, fake, mixing=take_mixing(tf.shape(real)[0]), loss_scale=loss_scale)
        inputs = (images, labels) if model == "biggan" else (images,)
        dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(BATCH)
        callbacks = [growing.GrowthCallback(verbose=False)] if recipe.schedule is not None else []
        history = gan.fit(dataset, steps_per_epoch=1, epochs=1, callbacks=callbacks, verbose=0).history
        return {
            "replicas": strategy.num_replicas_in_sync,
            "losses": {name: float(values[-1]) for name, values in history.items()},
            "weights": {w.path: np.asarray(w.numpy(), "float64").ravel().tolist()
                        for w in gan.weights if "seed_generator" not in w.path},
        }

    results = {}
    for model in recipes.MODELS:
        one = train_one_step(model, distribute.strategy_for(1))
        two = train_one_step(model, distribute.strategy_for(2))
        results[model] = {"one": one, "two": two}
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def one_and_two_replicas():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "GANLAB_FAST": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "model",
    [
        "vanilla", "dcgan", "progressive",
        # Open: BigGAN's first D loss differs by 1.7% (4.43 on 2 replicas, 4.51 on one device) though
        # its accuracies agree; the cause (its batch-normed G or its split of D's joint batch) is not found yet.
        pytest.param("biggan", marks=pytest.mark.xfail(strict=True, reason="2-replica BigGAN step not yet exact")),
    ],
)
def test_one_train_step_on_two_replicas_gives_the_losses_and_weights_of_one_device(one_and_two_replicas, model):
    one, two = one_and_two_replicas[model]["one"], one_and_two_replicas[model]["two"]

    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["losses"].keys() == two["losses"].keys()
    for name, value in one["losses"].items():
        np.testing.assert_allclose(two["losses"][name], value, rtol=1e-5, atol=1e-5, err_msg=name)
    assert one["weights"].keys() == two["weights"].keys()
    for path, values in one["weights"].items():
        # Weights, optimizer moments, the EMA generator, batch-norm statistics, spectral norm's u.
        np.testing.assert_allclose(two["weights"][path], values, rtol=1e-5, atol=1e-5, err_msg=path)
    assert one["weights"]["step"] == [1.0]


def test_strategy_for_one_device_is_the_default_strategy():
    import tensorflow as tf

    assert distribute.strategy_for(1) is tf.distribute.get_strategy()
    assert distribute.strategy_for().num_replicas_in_sync == 1  # no GPUs here


@pytest.mark.parametrize("devices", [0, -1, 1.5, True])
def test_devices_must_be_a_positive_integer(devices):
    with pytest.raises(ValueError, match=r"devices must be a positive integer\. Received: devices="):
        distribute.strategy_for(devices)


def test_more_devices_than_exist_is_a_value_error_naming_how_many_there_are():
    with pytest.raises(ValueError, match=r"devices must be at most the number of CPU devices, 1 .*devices=64"):
        distribute.strategy_for(64)


def test_train_devices_option_is_checked_before_a_run_folder_is_made(tmp_path, capsys):
    from ganlab import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "dcgan", "--out", str(tmp_path / "run"), "--tracking", "off", "--devices", "0"])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "devices must be a positive integer" in error and "Traceback" not in error
    assert not (tmp_path / "run").exists()
