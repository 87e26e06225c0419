"""Multi-device training (ganlab.distribute): 2 replicas train like 1 device on the same global batch.

TensorFlow splits the CPU into two logical devices only before it starts, so
the comparison runs in a subprocess (as in ``tests/test_spectral_norm.py``);
one subprocess checks every model, to pay TensorFlow's start-up once.

Each replica draws the global batch's latent vectors (BigGAN's classes, the
gradient penalty's mixing factors) and keeps its share
(``ganlab.distribute.replica_share``), so both sides draw the same ones. What
cannot agree exactly, by design (see ``ganlab.distribute``), is left out of
the comparison this way:

- batch norm (DCGAN, BigGAN's G) normalizes by each replica's own batch:
  their global batch (real images, latent vectors, classes) is two copies of
  one half, whose statistics are the half's, so one device and each replica
  normalize alike;
- the Progressive GAN's minibatch stddev groups images within a replica:
  its group size is 1 here (no statistic across images);
- the vanilla D's dropout masks and BigGAN's DiffAugment transformations are
  drawn per replica: dropout 0 and no DiffAugment here.
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
    from ganlab import distribute, recipes, runs
    from ganlab.models import progressive

    BATCH = 8
    LEARNING_RATE = 0.01

    def replica_rows(values):
        # This replica's rows of a global-batch array (all of them on one device).
        return lambda batch_size: distribute.replica_share(lambda rows: values[:rows], batch_size)

    def recipe_for(model):
        recipe = recipes.get_recipe(model, "fast", batch_size=BATCH, d_steps=1)
        if model == "vanilla":
            recipe = dataclasses.replace(recipe, network=dataclasses.replace(recipe.network, dropout=0.0))
        if model == "progressive":
            recipe = dataclasses.replace(recipe, network=dataclasses.replace(recipe.network, minibatch_group_size=1))
        if model == "biggan":
            recipe = recipe.with_options(augment="")
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
        if model in ("dcgan", "biggan"):  # batch norm: both halves the same (see the test's docstring)
            images, latent, labels = (np.concatenate([a[:half], a[:half]]) for a in (images, latent, labels))
            gan.sample_latent = replica_rows(tf.constant(latent))
            gan.sample_labels = replica_rows(tf.constant(labels, "int32"))
        inputs = (images, labels) if model == "biggan" else (images,)
        dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(BATCH)
        with strategy.scope():
            # Plain SGD, not the recipe's Adam: a weight moves by LEARNING_RATE times its gradient
            # summed over the replicas, so any difference is the distribution's, scaled down.
            # (Adam's first step moves every weight by about its learning rate in the sign of its
            # gradient: a gradient that is round-off, 0 in exact arithmetic, then moves the weight
            # in a direction that depends on the CPU's summation order.)
            gan.d_optimizer = keras.optimizers.SGD(LEARNING_RATE)
            gan.g_optimizer = keras.optimizers.SGD(LEARNING_RATE)
            gan.d_optimizer.build(gan.discriminator.trainable_variables)
            gan.g_optimizer.build(gan.generator.trainable_variables)
        before = {f"{index} {w.path}": np.asarray(w.numpy(), "float64").ravel().tolist()
                  for index, w in enumerate(gan.weights) if "seed_generator" not in w.path}
        callbacks = [progressive.GrowthCallback(verbose=False)] if model == "progressive" else []
        history = gan.fit(dataset, steps_per_epoch=1, epochs=1, callbacks=callbacks, verbose=0).history
        return {
            "before": before,
            "replicas": strategy.num_replicas_in_sync,
            "losses": {name: float(values[-1]) for name, values in history.items()},
            # Numbered: G and its EMA copy have the same paths.
            "weights": {f"{index} {w.path}": np.asarray(w.numpy(), "float64").ravel().tolist()
                        for index, w in enumerate(gan.weights) if "seed_generator" not in w.path},
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
@pytest.mark.parametrize("model", ["vanilla", "dcgan", "progressive", "biggan"])
def test_one_sgd_step_on_two_replicas_gives_the_losses_and_weights_of_one_device(one_and_two_replicas, model):
    one, two = one_and_two_replicas[model]["one"], one_and_two_replicas[model]["two"]

    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["losses"].keys() == two["losses"].keys()
    for name, value in one["losses"].items():
        np.testing.assert_allclose(two["losses"][name], value, rtol=1e-5, atol=1e-5, err_msg=name)
    assert one["weights"].keys() == two["weights"].keys()
    for path, values in one["before"].items():  # the same seed builds the same networks
        np.testing.assert_array_equal(two["before"][path], values, err_msg=path)
    # Weights, the EMA generator, batch-norm statistics, spectral norm's u, each compared by how far
    # the step moved it. Round-off, which differs with the summation order (another CPU, thread
    # count, oneDNN on or off), is a small fraction of a move; a replica that forgot to divide its
    # loss by the number of replicas would move each weight twice as far, off by the whole move.
    # The floor, a small fraction of the step's largest move, covers weights the loss does not
    # depend on (the biases of BigGAN's G convs, all followed by a batch norm that subtracts their
    # channel means), whose gradient, and so whose move, is round-off alone.
    moves = {path: np.abs(np.subtract(values, one["before"][path])) for path, values in one["weights"].items()}
    largest_move = max(np.max(move) for path, move in moves.items() if path.endswith("kernel"))
    assert largest_move > 1e-3, "the step moved no kernel: the comparison would test nothing"
    differing = {
        path: float(np.max(np.abs(np.subtract(two["weights"][path], values))))
        for path, values in one["weights"].items()
        if not np.allclose(two["weights"][path], values, rtol=0, atol=1e-3 * np.max(moves[path]) + 1e-5 * largest_move)
    }
    assert differing == {}, differing
    assert [values for path, values in one["weights"].items() if path.endswith(" step")] == [[1.0]]


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


RUN_ON_TWO_DEVICES = textwrap.dedent(
    """
    import dataclasses, json, sys, warnings
    from pathlib import Path
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from ganlab import distribute, recipes, runs, training

    strategy = distribute.strategy_for(2)
    out = Path(sys.argv[1])
    # 20 steps, rounds of 10; few final samples and no evaluation rounds: the subject is the devices.
    recipe = recipes.get_recipe("biggan", "fast", number_of_samples=100, evaluation_every_rounds=50)
    first = runs.train_run(dataclasses.replace(recipe, steps=10), out, tracking_mode="off", verbose=0, strategy=strategy)
    adam = [np.array(v.numpy()) for v in first.gan.d_optimizer.variables]
    restored = runs.build_gan(recipe, strategy=strategy)
    training.restore_checkpoint(restored, training.find_checkpoint(out / "checkpoint"))
    same_adam = all(np.array_equal(a, np.array(b.numpy())) for a, b in zip(adam, restored.d_optimizer.variables))
    second = runs.train_run(recipe, out, resume=True, tracking_mode="off", verbose=0, strategy=strategy)
    print(json.dumps({"first": first.step, "second": second.step, "same_adam": same_adam,
                      "replicas": second.gan.distribute_strategy.num_replicas_in_sync}))
    """
)


@pytest.mark.slow
def test_a_biggan_run_on_two_devices_trains_checkpoints_and_resumes_to_its_final_step(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", RUN_ON_TWO_DEVICES, str(tmp_path / "run")], capture_output=True, text=True,
        timeout=900, cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "GANLAB_FAST": "1",
             "GANLAB_OFFLINE": "1", "KERAS_HOME": str(tmp_path / "empty_keras_home")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    assert outcome == {"first": 10, "second": 20, "same_adam": True, "replicas": 2}
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["10", "20"]  # every step once across the resume
