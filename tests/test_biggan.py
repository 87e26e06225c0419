"""BigGAN: the networks (ganlab.models.biggan) and the class-conditional GAN (ganlab.conditional).

Checked by value where a value can be worked out: the hierarchical latents
are the chunks of z next to the class embedding, D's output is
``linear(h) + sum(embed(y) * h)`` on its own features, and the standing
statistics are the plain average of the batch statistics that each batch
norm saw. Tiny networks (width 8, z of 16) and eager steps keep it fast.
"""

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops
from spectral_reference import numpy_spectral_normalized

from ganlab import data, losses
from ganlab.conditional import BigGAN
from ganlab.models import (
    BigGANConfig,
    BigGANDiscriminator,
    BigGANGenerator,
    build_biggan_discriminator,
    build_biggan_generator,
)
from ganlab.training import restore_checkpoint, save_checkpoint

TINY = BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8)


def numpy(value):
    return ops.convert_to_numpy(value)


@pytest.fixture(scope="module")
def tiny_networks():
    keras.utils.set_random_seed(0)
    return build_biggan_generator(TINY), build_biggan_discriminator(TINY)


def make_gan(seed=0, config=TINY, **compile_options):
    keras.utils.set_random_seed(seed)
    gan = BigGAN(build_biggan_generator(config), build_biggan_discriminator(config), ema_decay=0.9, seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999),
        **{"d_steps": 2, **compile_options},
    )
    gan.run_eagerly = True  # a few steps: tracing the step would take longer than running them
    return gan


@pytest.fixture(scope="module")
def tiny_gan():
    """A compiled tiny BigGAN whose EMA generator has nonzero conditional kernels, for tests that only sample."""
    gan = make_gan()
    set_conditional_kernels(gan.ema_generator)
    return gan


def labelled_batches(batch_size=8, seed=0):
    random = np.random.default_rng(seed)
    images = random.uniform(-1, 1, size=(16, 32, 32, 1)).astype("float32")
    labels = random.integers(0, 10, size=16)
    return data.make_dataset(images, labels, batch_size=batch_size, shuffle=False)


def set_conditional_kernels(generator, seed=0):
    """Random gain and bias kernels in every conditional batch norm, larger than their orthogonal start."""
    random = np.random.default_rng(seed)
    for block in generator.blocks:
        for norm in (block.norm_0, block.norm_1):
            for linear in (norm.gain, norm.bias):
                linear.kernel.assign(random.normal(0.0, 0.3, size=linear.kernel.shape).astype("float32"))


# ---------------------------------------------------------------- the networks


def test_the_generator_makes_images_in_minus_one_to_one_and_the_discriminator_one_logit_each(tiny_networks):
    generator, discriminator = tiny_networks
    latent = np.random.default_rng(0).normal(size=(3, 16)).astype("float32")
    labels = np.array([0, 4, 9])

    embeddings = generator.embed(labels)
    images = numpy(generator([latent, embeddings], training=False))
    logits = numpy(discriminator([images, labels], training=False))

    assert tuple(embeddings.shape) == (3, 8)
    assert images.shape == (3, 32, 32, 1) and np.abs(images).max() <= 1.0
    assert logits.shape == (3, 1)


def test_blocks_are_named_by_resolution_with_attention_at_16x16(tiny_networks):
    generator, discriminator = tiny_networks

    assert [block.name for block in generator.blocks] == ["block_8x8", "block_16x16", "block_32x32"]
    # BigGAN-PyTorch's D_arch[32]: down to 16 and 8, then two blocks that stay at 8x8.
    assert [block.name for block in discriminator.blocks] == ["block_0_32x32", "block_1_16x16", "block_2_8x8", "block_3_8x8"]
    assert [block.downsample for block in discriminator.blocks] == [True, True, False, False]
    assert [block.preactivation for block in discriminator.blocks] == [False, True, True, True]
    assert generator.attention.name == discriminator.attention.name == "attention_16x16"


def test_z_is_split_into_one_chunk_for_the_first_layer_and_one_per_block_next_to_the_embedding(tiny_networks):
    generator, _ = tiny_networks
    latent = np.arange(2 * 16, dtype="float32").reshape(2, 16)
    embedding = np.full((2, 8), -1.0, "float32")

    first, conditions = generator.latent_and_conditions(ops.convert_to_tensor(latent), embedding)

    # 16 = 4 chunks of 4: z[:, 0:4] to the linear layer, z[:, 4 * i : 4 * i + 4] to block i.
    np.testing.assert_array_equal(numpy(first), latent[:, 0:4])
    assert len(conditions) == 3
    for index, condition in enumerate(conditions, start=1):
        np.testing.assert_array_equal(
            numpy(condition), np.concatenate([embedding, latent[:, 4 * index : 4 * index + 4]], axis=1)
        )
    # Every conditional batch norm maps embedding + chunk (8 + 4) to its channels.
    assert all(tuple(block.norm_0.gain.kernel.shape) == (12, 8) for block in generator.blocks)


def test_with_hierarchical_latents_every_chunk_changes_the_images():
    keras.utils.set_random_seed(1)
    generator = build_biggan_generator(TINY)
    set_conditional_kernels(generator)
    latent = np.random.default_rng(1).normal(size=(2, 16)).astype("float32")
    embedding = generator.embed(np.array([1, 2]))
    images = numpy(generator([latent, embedding]))

    for chunk in range(4):
        changed = latent.copy()
        changed[:, 4 * chunk : 4 * chunk + 4] += 1.0
        difference = np.abs(numpy(generator([changed, embedding])) - images).max()
        assert difference > 1e-4, f"chunk {chunk} does not reach the images"


def test_without_hierarchical_latents_all_of_z_feeds_the_first_layer_and_blocks_see_only_the_class():
    config = dataclasses.replace(TINY, latent_dim=10, hierarchical=False)
    generator = build_biggan_generator(config)
    latent, embedding = np.ones((2, 10), "float32"), np.zeros((2, 8), "float32")

    first, conditions = generator.latent_and_conditions(ops.convert_to_tensor(latent), embedding)

    np.testing.assert_array_equal(numpy(first), latent)
    assert len(conditions) == 3 and all(numpy(condition).shape == (2, 8) for condition in conditions)
    assert tuple(generator.linear.kernel.shape) == (10, 4 * 4 * 8)


def test_the_class_embedding_is_one_shared_layer_whose_rows_steer_only_their_own_class():
    keras.utils.set_random_seed(2)
    generator = build_biggan_generator(TINY)
    set_conditional_kernels(generator)
    embedding_weights = [weight for weight in generator.weights if "embedding" in weight.path]
    latent = np.random.default_rng(2).normal(size=(2, 16)).astype("float32")
    labels = np.array([3, 5])
    before = numpy(generator([latent, generator.embed(labels)]))

    table = numpy(generator.shared_embedding.embeddings)
    table[3] += 1.0  # move class 3's embedding only
    generator.shared_embedding.embeddings.assign(table)
    after = numpy(generator([latent, generator.embed(labels)]))

    assert len(embedding_weights) == 1 and embedding_weights[0].shape == (10, 8)
    np.testing.assert_allclose(numpy(generator.embed(labels)), table[[3, 5]])
    assert np.abs(after[0] - before[0]).max() > 1e-4  # class 3 changed
    np.testing.assert_allclose(after[1], before[1], atol=1e-6)  # class 5 did not


def test_without_a_shared_embedding_the_class_is_one_hot_and_each_norm_has_its_own_class_weights():
    config = dataclasses.replace(TINY, shared_embedding=False)
    generator = build_biggan_generator(config)

    embeddings = numpy(generator.embed(np.array([2, 0])))

    assert generator.shared_embedding is None
    assert not [weight for weight in generator.weights if "embedding" in weight.path]
    np.testing.assert_array_equal(embeddings, np.eye(10)[[2, 0]])
    # One-hot (10) plus a chunk of z (4) into each conditional batch norm.
    assert tuple(generator.blocks[0].norm_0.gain.kernel.shape) == (14, 8)


def test_the_discriminator_adds_the_projection_of_its_class_embedding_on_its_features(tiny_networks):
    _, discriminator = tiny_networks
    images = np.random.default_rng(3).uniform(-1, 1, size=(4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    other_labels = np.array([9, 8, 7, 6])

    features = numpy(discriminator.features(images))
    logits = numpy(discriminator([images, labels]))
    other_logits = numpy(discriminator([images, other_labels]))

    # linear(h) + sum(E[y] * h), with both matrices spectrally normalized (W / sigma, from the stored u).
    linear, embedding = discriminator.linear, discriminator.class_embedding
    weights = numpy_spectral_normalized(numpy(linear.kernel), numpy(linear.u))
    bias = numpy(linear.layer.bias)
    class_embedding = numpy_spectral_normalized(numpy(embedding.kernel), numpy(embedding.u))  # [classes, C]
    expected = features @ weights + bias + np.sum(class_embedding[labels] * features, axis=1, keepdims=True)
    assert features.shape == (4, 8)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    assert np.abs(logits - other_logits).min() > 1e-6  # the class changes every score


def test_configs_that_cannot_be_built_are_refused_naming_the_setting():
    with pytest.raises(ValueError, match="latent_dim"):
        BigGANConfig(latent_dim=18)  # 4 chunks
    with pytest.raises(ValueError, match="attention_resolution"):
        BigGANConfig(attention_resolution=32)
    with pytest.raises(ValueError, match="image_shape"):
        BigGANConfig(image_shape=(28, 28, 1))
    BigGANConfig(latent_dim=18, hierarchical=False, attention_resolution=None)  # no chunks, no attention: fine


def test_networks_refuse_inputs_of_the_wrong_shape_naming_the_expected_one(tiny_networks):
    generator, discriminator = tiny_networks
    with pytest.raises(ValueError, match=r"\(N, 16\)"):
        generator([np.zeros((2, 15), "float32"), np.zeros((2, 8), "float32")])
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        generator([np.zeros((2, 16), "float32"), np.zeros((2, 10), "float32")])
    with pytest.raises(ValueError, match="labels"):
        discriminator([np.zeros((2, 32, 32, 1), "float32"), np.zeros((3,), "int32")])


def test_networks_survive_a_keras_save_and_load(tmp_path, tiny_networks):
    generator, discriminator = tiny_networks
    latent, labels = np.ones((2, 16), "float32"), np.array([1, 7])
    generator.save(tmp_path / "generator.keras")
    discriminator.save(tmp_path / "discriminator.keras")

    loaded_generator = keras.saving.load_model(tmp_path / "generator.keras")
    loaded_discriminator = keras.saving.load_model(tmp_path / "discriminator.keras")

    assert isinstance(loaded_generator, BigGANGenerator) and loaded_generator.config == TINY
    assert isinstance(loaded_discriminator, BigGANDiscriminator)
    images = numpy(generator([latent, generator.embed(labels)]))
    np.testing.assert_allclose(numpy(loaded_generator([latent, loaded_generator.embed(labels)])), images, atol=1e-6)
    np.testing.assert_allclose(
        numpy(loaded_discriminator([images, labels])), numpy(discriminator([images, labels])), atol=1e-5
    )


# ---------------------------------------------------------------- training


def test_a_few_train_steps_move_both_networks_with_finite_losses_and_every_metric():
    gan = make_gan()
    generator_before = [numpy(weight) for weight in gan.generator.trainable_weights]
    discriminator_before = [numpy(weight) for weight in gan.discriminator.trainable_weights]

    history = gan.fit(labelled_batches(), steps_per_epoch=2, epochs=1, verbose=0).history

    assert set(history) == {"d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy", "orthogonal_penalty"}
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert history["orthogonal_penalty"][-1] > 0
    assert int(gan.step.numpy()) == 2 and int(gan.d_optimizer.iterations.numpy()) == 4  # 2 D steps per step
    for network, before in ((gan.generator, generator_before), (gan.discriminator, discriminator_before)):
        assert any(not np.array_equal(numpy(weight), old) for weight, old in zip(network.trainable_weights, before))
    # The shared embedding learns too (through every conditional batch norm).
    assert not np.array_equal(numpy(gan.generator.shared_embedding.embeddings), generator_before[0])


def test_with_diffaugment_d_sees_every_image_augmented_in_its_steps_and_in_gs(monkeypatch):
    from ganlab import augment

    gan = make_gan(augment="translation,cutout")
    seen = []

    def recording_augment(images, policy, seed=None):
        seen.append((tuple(images.shape), policy))
        return images * 0.5  # a visible change: D must get this, not the images

    monkeypatch.setattr(augment, "diff_augment", recording_augment)
    discriminator_inputs = []
    call = gan.discriminator.call
    monkeypatch.setattr(
        gan.discriminator, "call",
        lambda inputs, training=False: discriminator_inputs.append(numpy(inputs[0])) or call(inputs, training=training),
    )

    gan.fit(labelled_batches(batch_size=8), steps_per_epoch=1, epochs=1, verbose=0)

    # Two D steps on real + fake together (16 images), then G's step on 8 fakes.
    assert seen == [((16, 32, 32, 1), ("translation", "cutout"))] * 2 + [((8, 32, 32, 1), ("translation", "cutout"))]
    assert all(np.abs(images).max() <= 0.5 + 1e-6 for images in discriminator_inputs)
    assert make_gan().augment_policy == ()  # BigGAN itself: no augmentation


def test_fake_classes_are_drawn_uniformly_and_the_d_loss_is_the_hinge_loss(tiny_gan):
    labels = numpy(tiny_gan.sample_labels(2000))

    counts = np.bincount(labels, minlength=10)

    assert labels.min() >= 0 and labels.max() <= 9
    assert counts.min() > 150 and counts.max() < 250  # about 200 of each class
    real, fake = np.array([[2.0], [0.5]]), np.array([[-0.5], [-3.0]])
    # mean(relu(1 - real)) + mean(relu(1 + fake)) = (0 + 0.5) / 2 + (0.5 + 0) / 2 = 0.5
    assert float(losses.hinge_discriminator_loss(real, fake)) == pytest.approx(0.5)


def test_training_without_labels_is_refused(tiny_gan):
    images = np.zeros((8, 32, 32, 1), "float32")
    with pytest.raises(ValueError, match="labels"):
        tiny_gan.train_step(images)


def test_a_discriminator_of_other_classes_is_refused():
    other = dataclasses.replace(TINY, num_classes=5)
    with pytest.raises(ValueError, match="num_classes=10"):
        BigGAN(build_biggan_generator(TINY), build_biggan_discriminator(other))


# ---------------------------------------------------------------- standing statistics


def test_standing_statistics_are_the_average_of_the_batch_statistics_each_batch_norm_saw(monkeypatch):
    gan = make_gan()
    generator = gan.ema_generator
    set_conditional_kernels(generator)
    norms = generator.batch_norm_layers()
    inputs = {id(norm): [] for norm in norms}
    for norm in norms:
        def recording_call(x, training=None, mask=None, norm=norm, call=norm.call):
            inputs[id(norm)].append(numpy(x))
            return call(x, training=training, mask=mask)

        monkeypatch.setattr(norm, "call", recording_call)
    other_weights = [
        (weight, numpy(weight)) for weight in generator.weights if "moving_" not in weight.path
    ]

    gan.recompute_standing_statistics(batches=3, batch_size=4, seed=0)

    assert len(norms) == 3 * 2 + 1  # two conditional norms per block, then the output norm
    for norm in norms:
        seen = inputs[id(norm)]
        assert len(seen) == 3 and seen[0].shape[0] == 4
        # The plain average over the 3 batches of each batch's mean and (biased) variance.
        mean = np.mean([batch.mean(axis=(0, 1, 2)) for batch in seen], axis=0)
        variance = np.mean([batch.var(axis=(0, 1, 2)) for batch in seen], axis=0)
        np.testing.assert_allclose(numpy(norm.moving_mean), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(numpy(norm.moving_variance), variance, rtol=1e-4, atol=1e-5)
        assert norm.momentum == 0.9  # put back
    # Only the moving statistics changed: spectral norm left every kernel (and vector u) alone.
    for weight, before in other_weights:
        np.testing.assert_array_equal(numpy(weight), before, err_msg=weight.path)


def test_standing_statistics_with_the_same_seed_are_the_same(tiny_gan):
    gan = tiny_gan

    gan.recompute_standing_statistics(batches=2, batch_size=4, seed=7)
    first = [numpy(norm.moving_variance) for norm in gan.ema_generator.batch_norm_layers()]
    gan.recompute_standing_statistics(batches=2, batch_size=4, seed=7)
    second = [numpy(norm.moving_variance) for norm in gan.ema_generator.batch_norm_layers()]

    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# ---------------------------------------------------------------- sampling


def test_generate_with_the_same_seed_gives_the_same_images_and_the_labels_choose_the_classes(tiny_gan):
    gan = tiny_gan

    first = gan.generate(4, labels=[0, 1, 2, 3], truncation=0.5, seed=1)
    again = gan.generate(4, labels=[0, 1, 2, 3], truncation=0.5, seed=1)
    other_seed = gan.generate(4, labels=[0, 1, 2, 3], truncation=0.5, seed=2)
    other_classes = gan.generate(4, labels=[4, 5, 6, 7], truncation=0.5, seed=1)

    assert first.shape == (4, 32, 32, 1) and first.dtype == np.float32 and np.abs(first).max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other_seed)
    assert not np.array_equal(first, other_classes)


def test_generate_cycles_through_the_classes_without_labels_and_accepts_latent_vectors(tiny_gan):
    gan = tiny_gan
    latent = np.random.default_rng(0).normal(size=(12, 16)).astype("float32")

    cycled = gan.generate(latent)
    explicit = gan.generate(latent, labels=np.arange(12) % 10)

    np.testing.assert_array_equal(gan.cycling_labels(12), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    np.testing.assert_allclose(cycled, explicit, atol=1e-6)


def test_generate_from_interpolated_embeddings_reaches_both_classes_at_the_ends(tiny_gan):
    gan = tiny_gan
    latent = np.random.default_rng(0).normal(size=(1, 16)).astype("float32")
    ends = gan.embed(np.array([2, 7]))
    path = np.stack([(1 - t) * ends[0] + t * ends[1] for t in (0.0, 0.5, 1.0)])

    images = gan.generate_from_embeddings(np.repeat(latent, 3, axis=0), path)

    np.testing.assert_allclose(images[0], gan.generate(latent, labels=[2])[0], atol=1e-5)
    np.testing.assert_allclose(images[2], gan.generate(latent, labels=[7])[0], atol=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda gan: gan.generate(2, labels=[0, 10]), r"labels must be classes from 0 to 9"),
        (lambda gan: gan.generate(2, labels=[-1, 0]), r"labels must be classes from 0 to 9"),
        (lambda gan: gan.generate(2, labels=[0, 1, 2]), r"labels must be one integer class or 2"),
        (lambda gan: gan.generate(2, labels=[0.5, 1.0]), r"labels"),
        (lambda gan: gan.generate(np.zeros((2, 15))), r"\(N, 16\)"),
        (lambda gan: gan.generate(2, truncation=0.0), r"truncation"),
        (lambda gan: gan.generate(2, truncation=-1.0), r"truncation"),
        (lambda gan: gan.generate(np.zeros((2, 16)), truncation=0.5), r"truncation"),
        (lambda gan: gan.generate_from_embeddings(np.zeros((2, 16)), np.zeros((2, 10))), r"\(2, 8\)"),
        (lambda gan: gan.generate_from_embeddings(np.zeros((2, 14)), np.zeros((2, 8))), r"\(N, 16\)"),
    ],
)
def test_bad_labels_latent_vectors_embeddings_and_truncations_are_refused_saying_what_is_expected(
    tiny_gan, call, message
):
    with pytest.raises(ValueError, match=message):
        call(tiny_gan)


# ---------------------------------------------------------------- checkpoints


def test_a_checkpoint_restores_both_networks_the_ema_generator_both_optimizers_and_the_step(tmp_path):
    original = make_gan(seed=0)
    original.fit(labelled_batches(), steps_per_epoch=1, epochs=1, verbose=0)
    save_checkpoint(original, tmp_path / "checkpoint")

    restored = make_gan(seed=1)  # other initial weights and another latent seed
    state = restore_checkpoint(restored, tmp_path / "checkpoint")

    assert state["step"] == 1 and int(restored.step.numpy()) == 1
    for name in ("generator", "discriminator", "ema_generator"):
        for a, b in zip(getattr(restored, name).weights, getattr(original, name).weights):
            np.testing.assert_array_equal(numpy(a), numpy(b), err_msg=f"{name}: {a.path}")
    for name in ("d_optimizer", "g_optimizer"):
        for a, b in zip(getattr(restored, name).variables, getattr(original, name).variables):
            np.testing.assert_array_equal(numpy(a), numpy(b), err_msg=f"{name}: {a.path}")
    np.testing.assert_array_equal(numpy(restored.seed_generator.state), numpy(original.seed_generator.state))
    np.testing.assert_array_equal(restored.generate(3, seed=0), original.generate(3, seed=0))
