"""Tests of ganlab.explorer (the TF Hub BigGAN demo on our model) and the class names of ganlab.data.

Every test uses one tiny, untrained BigGAN (latent 16, widths 8): its images mean
nothing, but they are a deterministic function of z and the class embedding, which
is what the explorer's plumbing is checked against.
"""

import types

import numpy as np
import pytest
from scipy.stats import truncnorm

from ganlab import data, explorer

FASHION_OPTIONS = [
    "0) T-shirt/top",
    "1) Trouser",
    "2) Pullover",
    "3) Dress",
    "4) Coat",
    "5) Sandal",
    "6) Shirt",
    "7) Sneaker",
    "8) Bag",
    "9) Ankle boot",
]


@pytest.fixture(scope="module")
def gan():
    from ganlab.models.biggan import BigGAN
    from ganlab.models.biggan import BigGANConfig, build_biggan_discriminator, build_biggan_generator

    config = BigGANConfig(
        latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8, attention_resolution=None
    )
    gan = BigGAN(build_biggan_generator(config), build_biggan_discriminator(config), ema_decay=None, seed=0)
    # Conditional batch norm starts as plain batch norm (zero kernels), so an untrained G ignores
    # the class and its z chunks; random kernels make every input change the images.
    random = np.random.default_rng(0)
    for weight in gan.generator.weights:
        if "/norm_" in weight.path and weight.path.endswith("/kernel"):
            weight.assign(random.normal(0.0, 0.5, weight.shape).astype("float32"))
    return gan


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test draws is closed after it, so that figures do not pile up."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def images_of(gan, latent, label):
    """G's images of the latent vectors, all of one class: the reference the explorer is compared with."""
    return gan.generate_from_embeddings(latent, gan.embed(np.full(len(latent), label)))


# ---------------------------------------------------------------- class names


def test_class_names_list_ten_classes_per_data_set_in_label_order():
    assert data.CLASS_NAMES["mnist"] == tuple(str(digit) for digit in range(10))
    assert len(data.CLASS_NAMES["fashion_mnist"]) == 10
    assert data.CLASS_NAMES["fashion_mnist"][7] == "Sneaker"
    assert data.CLASS_NAMES["fashion_mnist"][9] == "Ankle boot"


def test_category_options_are_index_and_name_strings_as_the_demo_dropdown():
    assert data.category_options("fashion_mnist") == FASHION_OPTIONS
    assert data.category_options("mnist")[3] == "3) 3"


@pytest.mark.parametrize(
    "category, expected",
    [
        (7, 7),
        (np.int64(7), 7),
        ("7", 7),
        ("Sneaker", 7),
        ("sneaker", 7),
        ("SNEAKER", 7),
        ("Ankle boot", 9),
        ("ankle_boot", 9),
        ("ankle boot", 9),
        ("t-shirt/top", 0),
        ("7) Sneaker", 7),
        ("9) ankle_boot", 9),
        (" 0) T-shirt/top ", 0),
    ],
)
def test_class_index_parses_every_accepted_form_of_a_fashion_mnist_category(category, expected):
    assert data.class_index("fashion_mnist", category) == expected


def test_class_index_of_mnist_reads_a_digit_as_its_name():
    assert data.class_index("mnist", "4") == 4
    assert data.class_index("mnist", "4) 4") == 4
    assert data.class_index("mnist", 0) == 0


@pytest.mark.parametrize("category", [10, -1, "10", "boot", "7) Bag", "12) Sneaker", "", 7.0, True, None])
def test_class_index_rejects_anything_else_in_one_line_listing_the_options(category):
    with pytest.raises(ValueError) as error:
        data.class_index("fashion_mnist", category)

    message = str(error.value)
    assert "\n" not in message
    assert f"category={category!r}" in message
    assert ", ".join(FASHION_OPTIONS) in message


def test_class_index_of_an_unknown_data_set_names_the_accepted_data_sets():
    with pytest.raises(ValueError, match=r"\('mnist', 'fashion_mnist'\)\. Received: dataset_name='cifar10'"):
        data.class_index("cifar10", 3)
    with pytest.raises(ValueError, match="'mnist', 'fashion_mnist'"):
        data.category_options("cifar10")


# ---------------------------------------------------------------- latent vectors


@pytest.mark.parametrize("truncation", [0.02, 0.3, 1.0, 2.0])
def test_resample_truncation_keeps_every_latent_entry_within_the_threshold(gan, truncation):
    latent = explorer.truncated_latent(gan, 20, truncation, noise_seed=5, truncation_kind="resample")

    assert latent.shape == (20, gan.latent_dim) and latent.dtype == np.float32
    assert np.abs(latent).max() <= truncation


def test_scaled_truncation_is_the_demo_truncnorm_sample_times_truncation(gan):
    latent = explorer.truncated_latent(gan, 20, 0.4, noise_seed=3, truncation_kind="scaled")

    # The demo's truncated_z_sample(batch_size, truncation, seed).
    demo = 0.4 * truncnorm.rvs(-2, 2, size=(20, gan.latent_dim), random_state=np.random.RandomState(3))
    np.testing.assert_allclose(latent, demo, rtol=1e-6)
    assert np.abs(latent).max() <= 2 * 0.4 + 1e-6


def test_the_two_truncation_kinds_differ_at_the_same_value(gan):
    resampled = explorer.truncated_latent(gan, 200, 2.0, 0, "resample")
    scaled = explorer.truncated_latent(gan, 200, 2.0, 0, "scaled")

    # At 2 the threshold barely cuts (std 0.88) while the scale doubles a truncnorm(-2, 2) (std 1.76).
    assert np.abs(resampled).max() <= 2.0 < np.abs(scaled).max() <= 4.0
    assert scaled.std() > 1.5 * resampled.std()


# ---------------------------------------------------------------- sample_category


def test_sample_category_draws_the_category_from_the_latent_of_truncated_latent(gan):
    images = explorer.sample_category(gan, "7) Sneaker", number_of_samples=6, truncation=0.5, noise_seed=4)

    latent = explorer.truncated_latent(gan, 6, 0.5, 4, "resample")
    assert images.shape == (6, 32, 32, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images, images_of(gan, latent, 7), atol=1e-6)


def test_sample_category_with_scaled_truncation_uses_the_demo_latent(gan):
    images = explorer.sample_category(gan, "bag", 5, truncation=0.8, noise_seed=9, truncation_kind="scaled")

    latent = explorer.truncated_latent(gan, 5, 0.8, 9, "scaled")
    np.testing.assert_allclose(images, images_of(gan, latent, 8), atol=1e-6)


def test_sample_category_gives_the_same_images_for_the_same_seed_and_others_for_another(gan):
    first = explorer.sample_category(gan, 3, 8, truncation=1.0, noise_seed=11)
    again = explorer.sample_category(gan, 3, 8, truncation=1.0, noise_seed=11)
    other = explorer.sample_category(gan, 3, 8, truncation=1.0, noise_seed=12)

    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-4


def test_sample_category_accepts_the_ends_of_every_range_and_slider_rounding(gan):
    assert explorer.sample_category(gan, 0, 1, truncation=0.02, noise_seed=0).shape[0] == 1
    assert explorer.sample_category(gan, 9, 20, truncation=2.0, noise_seed=100).shape[0] == 20
    # A FloatSlider of step 0.02 reports values such as 0.1 + 0.2.
    assert explorer.sample_category(gan, 1, 2, truncation=0.1 + 0.2).shape[0] == 2


@pytest.mark.parametrize(
    "arguments, name",
    [
        ({"number_of_samples": 0}, "number_of_samples"),
        ({"number_of_samples": 21}, "number_of_samples"),
        ({"number_of_samples": 2.0}, "number_of_samples"),
        ({"truncation": 0}, "truncation"),
        ({"truncation": 2.5}, "truncation"),
        ({"noise_seed": -1}, "noise_seed"),
        ({"noise_seed": 101}, "noise_seed"),
        ({"category": "boot"}, "category"),
        ({"category": 10}, "category"),
        ({"truncation_kind": "clip"}, "truncation_kind"),
        ({"dataset_name": "cifar10"}, "dataset_name"),
    ],
)
def test_sample_category_rejects_values_outside_the_demo_ranges_naming_the_argument(gan, arguments, name):
    arguments = {"category": 0, **arguments}

    with pytest.raises(ValueError, match=f"{name}="):
        explorer.sample_category(gan, **arguments)


def test_sample_category_rejects_a_data_set_of_another_number_of_classes():
    three_classes = types.SimpleNamespace(generator=types.SimpleNamespace(config=types.SimpleNamespace(num_classes=3)))

    with pytest.raises(ValueError, match="dataset_name='mnist'"):
        explorer.sample_category(three_classes, 0, dataset_name="mnist")


# ---------------------------------------------------------------- interpolate_categories


def test_interpolation_ends_are_the_images_of_category_a_and_b_with_their_seeds(gan):
    images = explorer.interpolate_categories(
        gan, "sneaker", "bag", number_of_samples=3, steps=4, truncation=0.7, noise_seed_a=1, noise_seed_b=2
    )

    assert images.shape == (3, 4, 32, 32, 1)
    latent_a = explorer.truncated_latent(gan, 3, 0.7, 1, "resample")
    latent_b = explorer.truncated_latent(gan, 3, 0.7, 2, "resample")
    np.testing.assert_allclose(images[:, 0], images_of(gan, latent_a, 7), atol=1e-5)
    np.testing.assert_allclose(images[:, -1], images_of(gan, latent_b, 8), atol=1e-5)


def test_interpolation_middle_step_is_the_image_of_the_mean_latent_and_mean_embedding(gan):
    images = explorer.interpolate_categories(gan, 2, 5, number_of_samples=2, steps=3, noise_seed_a=3, noise_seed_b=4)

    latent = (explorer.truncated_latent(gan, 2, 1.0, 3) + explorer.truncated_latent(gan, 2, 1.0, 4)) / 2
    embedding = (gan.embed(np.full(2, 2)) + gan.embed(np.full(2, 5))) / 2
    np.testing.assert_allclose(images[:, 1], gan.generate_from_embeddings(latent, embedding), atol=1e-5)
    assert np.abs(images[:, 1] - images[:, 0]).max() > 1e-4


def test_interpolation_from_a_category_to_itself_with_one_seed_does_not_move(gan):
    images = explorer.interpolate_categories(gan, 4, 4, number_of_samples=2, steps=5, noise_seed_a=6, noise_seed_b=6)

    for step in range(1, 5):
        np.testing.assert_allclose(images[:, step], images[:, 0], atol=1e-5)


def test_slerp_interpolation_keeps_both_ends(gan):
    images = explorer.interpolate_categories(
        gan, 0, 1, number_of_samples=2, steps=6, method="slerp", noise_seed_a=0, noise_seed_b=1
    )

    np.testing.assert_allclose(images[:, 0], images_of(gan, explorer.truncated_latent(gan, 2, 1.0, 0), 0), atol=1e-4)
    np.testing.assert_allclose(images[:, -1], images_of(gan, explorer.truncated_latent(gan, 2, 1.0, 1), 1), atol=1e-4)


@pytest.mark.parametrize(
    "arguments, name",
    [
        ({"number_of_samples": 0}, "number_of_samples"),
        ({"number_of_samples": 6}, "number_of_samples"),
        ({"steps": 1}, "steps"),
        ({"steps": 11}, "steps"),
        ({"truncation": 0.0}, "truncation"),
        ({"noise_seed_a": -1}, "noise_seed_a"),
        ({"noise_seed_b": 101}, "noise_seed_b"),
        ({"method": "cubic"}, "method"),
        ({"category_b": "hat"}, "category"),
    ],
)
def test_interpolate_categories_rejects_values_outside_the_demo_ranges(gan, arguments, name):
    arguments = {"category_a": 0, "category_b": 1, **arguments}

    with pytest.raises(ValueError, match=f"{name}="):
        explorer.interpolate_categories(gan, **arguments)


# ---------------------------------------------------------------- truncation side by side and trade-off


def test_truncation_side_by_side_gives_both_kinds_one_row_per_truncation(gan):
    result = explorer.truncation_side_by_side(gan, "coat", truncations=(0.1, 1.0, 2.0), number_of_samples=4, noise_seed=2)

    assert set(result) == {"resample", "scaled"}
    for kind in ("resample", "scaled"):
        assert result[kind].shape == (3, 4, 32, 32, 1)
        for row, truncation in enumerate((0.1, 1.0, 2.0)):
            expected = explorer.sample_category(gan, "coat", 4, truncation, 2, truncation_kind=kind)
            np.testing.assert_allclose(result[kind][row], expected, atol=1e-5)
    assert np.abs(result["resample"][2] - result["scaled"][2]).max() > 1e-4


def test_truncation_side_by_side_rejects_a_truncation_outside_the_range(gan):
    with pytest.raises(ValueError, match="truncations=3"):
        explorer.truncation_side_by_side(gan, 0, truncations=(0.5, 3))


def test_plot_truncation_side_by_side_labels_each_row_with_its_truncation(gan, tmp_path):
    result = explorer.truncation_side_by_side(gan, 0, truncations=(0.5, 1.0), number_of_samples=3)

    figure = explorer.plot_truncation_side_by_side(result, (0.5, 1.0), path=tmp_path / "side.png")

    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == ["t = 0.5", "t = 1"]
    assert (tmp_path / "side.png").stat().st_size > 0


def test_truncation_tradeoff_scores_balanced_classes_from_one_seed_per_truncation(gan, monkeypatch):
    from ganlab import metrics

    calls = []

    def fake_evaluate_images(images, dataset_name, labels=None, **options):
        calls.append((images, labels, dataset_name))
        return {
            "fid": 1.0, "kid": 0.1, "inception_score": 2.0, "precision": 0.5, "recall": 0.25, "class_accuracy": 0.75
        }

    monkeypatch.setattr(metrics, "evaluate_images", fake_evaluate_images)

    rows = explorer.truncation_tradeoff(gan, "mnist", truncations=(1.5, 0.5), number_of_samples=30, seed=7)

    assert [row["truncation"] for row in rows] == [1.5, 0.5]
    assert rows[0] == {
        "truncation": 1.5, "inception_score": 2.0, "fid": 1.0, "kid": 0.1, "precision": 0.5, "recall": 0.25,
        "class_accuracy": 0.75,
    }
    for (images, labels, dataset_name), truncation in zip(calls, (1.5, 0.5)):
        assert dataset_name == "mnist"
        np.testing.assert_array_equal(labels, np.arange(30) % 10)
        latent = explorer.truncated_latent(gan, 30, truncation, 7, "resample")
        np.testing.assert_allclose(images, gan.generate_from_embeddings(latent, gan.embed(labels)), atol=1e-6)


def test_truncation_tradeoff_on_the_mnist_domain_classifier_gives_finite_rows(gan, real_digits):
    rows = explorer.truncation_tradeoff(
        gan, "mnist", truncations=(1.0, 0.25), number_of_samples=20, real_images=real_digits, kid_subsets=2
    )

    assert len(rows) == 2
    for row in rows:
        assert set(row) >= {"truncation", "inception_score", "fid", "precision", "recall", "class_accuracy"}
        assert all(np.isfinite(value) for value in row.values())
        assert 0.0 <= row["class_accuracy"] <= 1.0 and row["inception_score"] >= 1.0 - 1e-6


def test_truncation_tradeoff_rejects_a_non_positive_truncation_and_too_few_samples(gan):
    with pytest.raises(ValueError, match="truncations=0"):
        explorer.truncation_tradeoff(gan, "mnist", truncations=(1.0, 0), number_of_samples=20)
    with pytest.raises(ValueError, match="number_of_samples=5"):
        explorer.truncation_tradeoff(gan, "mnist", number_of_samples=5)


def test_plot_truncation_tradeoff_runs_truncation_from_large_to_small(tmp_path):
    rows = [
        {"truncation": t, "inception_score": 3 - t, "fid": 10 * t, "precision": 1 - t / 3, "recall": t / 2, "class_accuracy": 0.5}
        for t in (0.25, 1.0, 2.0)
    ]

    figure = explorer.plot_truncation_tradeoff(rows, path=tmp_path / "tradeoff.png")

    left, right = figure.axes[0].get_xlim()
    assert left > 2.0 and right < 0.25
    assert (tmp_path / "tradeoff.png").stat().st_size > 0


def test_plot_truncation_tradeoff_draws_variety_and_another_models_curves_beside(tmp_path):
    def rows(scale):
        return [
            {"truncation": t, "inception_score": 3 - t, "fid": 10 * t, "precision": 1 - t / 3, "recall": t / 2,
             "class_accuracy": 0.5, "variety": scale * t / 2}
            for t in (0.25, 1.0, 2.0)
        ]

    figure = explorer.plot_truncation_tradeoff(rows(1.0), other_rows=rows(0.5), other_label="no ortho reg")

    fraction_axes = figure.axes[1]
    labels = [line.get_label() for line in fraction_axes.get_lines()]
    assert "variety within a class" in labels and "variety within a class, no ortho reg" in labels
    assert len(labels) == 8  # four measures, for each model
    other_variety = fraction_axes.get_lines()[labels.index("variety within a class, no ortho reg")]
    np.testing.assert_allclose(other_variety.get_ydata(), [0.0625, 0.25, 0.5])


# ---------------------------------------------------------------- nearest training images


def test_nearest_training_images_finds_an_exact_copy_at_distance_zero():
    training = np.stack(
        [
            np.full((2, 2, 1), -1.0),  # 0
            np.full((2, 2, 1), 1.0),  # 1
            np.zeros((2, 2, 1)),  # 2
            np.array([[0.0, 0.0], [0.0, 1.0]]).reshape(2, 2, 1),  # 3
        ]
    ).astype("float32")
    samples = np.stack([training[2], np.full((2, 2, 1), 0.9, dtype="float32")])

    indices, distances = explorer.nearest_training_images(samples, training, k=2)

    # Sample 0 is image 2; image 3 differs from it by 1 in one pixel.
    # Sample 1: to image 1 sqrt(4 * 0.1^2) = 0.2, to image 3 sqrt(3 * 0.9^2 + 0.1^2) = sqrt(2.44).
    np.testing.assert_array_equal(indices, [[2, 3], [1, 3]])
    np.testing.assert_allclose(distances, [[0.0, 1.0], [0.2, np.sqrt(2.44)]], rtol=1e-6)
    assert distances[0, 0] == 0.0


def test_nearest_training_images_in_chunks_agrees_with_brute_force():
    random = np.random.default_rng(0)
    training = random.uniform(-1, 1, (300, 8, 8, 1)).astype("float32")
    samples = np.concatenate([training[[5, 17]], random.uniform(-1, 1, (5, 8, 8, 1)).astype("float32")])

    indices, distances = explorer.nearest_training_images(samples, training, k=3, chunk_size=2)

    brute = np.sqrt(((samples.reshape(7, 1, -1) - training.reshape(1, 300, -1)).astype("float64") ** 2).sum(-1))
    np.testing.assert_array_equal(indices, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(distances, np.sort(brute, axis=1)[:, :3], rtol=1e-6)
    assert list(indices[:2, 0]) == [5, 17] and list(distances[:2, 0]) == [0.0, 0.0]


def test_nearest_training_images_rejects_other_image_shapes_and_too_large_k():
    with pytest.raises(ValueError, match="training_images.shape=\\(4, 28, 28, 1\\)"):
        explorer.nearest_training_images(np.zeros((2, 32, 32, 1)), np.zeros((4, 28, 28, 1)))
    with pytest.raises(ValueError, match="k=5"):
        explorer.nearest_training_images(np.zeros((2, 4, 4, 1)), np.zeros((4, 4, 4, 1)), k=5)


def test_show_nearest_draws_each_sample_beside_its_k_nearest_training_images(tmp_path):
    training = np.random.default_rng(1).uniform(-1, 1, (20, 8, 8, 1)).astype("float32")

    figure = explorer.show_nearest(training[[3, 4]], training, k=2, path=tmp_path / "nearest.png")

    assert len(figure.axes) == 2 * 3
    assert [axes.get_title() for axes in figure.axes[:2]] == ["sample", "#3: 0.0"]
    assert (tmp_path / "nearest.png").stat().st_size > 0


# ---------------------------------------------------------------- drawing


def test_show_samples_row_and_show_interpolation_return_figures(gan, tmp_path):
    row = explorer.show_samples_row(explorer.sample_category(gan, 0, 4), title="four", path=tmp_path / "row.png")
    interpolation = explorer.show_interpolation(explorer.interpolate_categories(gan, 0, 1, 2, 3))

    assert row.axes[0].get_title() == "four" and (tmp_path / "row.png").stat().st_size > 0
    height, width = interpolation.axes[0].get_images()[0].get_array().shape[:2]
    assert (height, width) == (2 * 32 + 2, 3 * 32 + 2 * 2)  # 2 rows of 3 images, 2-pixel gaps
    with pytest.raises(ValueError, match="images.shape"):
        explorer.show_interpolation(np.zeros((3, 32, 32, 1)))


def test_save_interpolation_gif_writes_one_frame_per_step_with_every_sample_in_a_row(gan, tmp_path):
    import imageio.v2 as imageio

    images = explorer.interpolate_categories(gan, 0, 1, number_of_samples=3, steps=4)

    path = explorer.save_interpolation_gif(images, tmp_path / "interpolation.gif", scale=2)

    frames = imageio.mimread(path)
    assert len(frames) == 4
    assert frames[0].shape[:2] == (32 * 2, (3 * 32 + 2 * 2) * 2)
    back_and_forth = imageio.mimread(explorer.save_interpolation_gif(images, tmp_path / "loop.gif", back_and_forth=True))
    assert len(back_and_forth) == 4 + 2


# ---------------------------------------------------------------- widgets


def test_sampling_widget_has_the_demo_controls_and_draws_once_when_built(gan):
    widget = explorer.sampling_widget(gan, "fashion_mnist", category="sneaker", number_of_samples=5, truncation=0.5)

    controls = widget.controls
    assert list(controls.options for controls in [controls["category"]]) == [tuple(FASHION_OPTIONS)]
    assert controls["category"].value == "7) Sneaker"
    assert (controls["number_of_samples"].min, controls["number_of_samples"].max) == (1, 20)
    truncation = controls["truncation"]
    assert (truncation.min, truncation.max, truncation.step) == (0.02, 2.0, 0.02)
    assert (controls["noise_seed"].min, controls["noise_seed"].max) == (0, 100)
    assert widget.redraw_count == 1
    np.testing.assert_array_equal(widget.last_images, explorer.sample_category(gan, 7, 5, 0.5, 0))
    assert widget.output in widget.widget.children


def test_sampling_widget_redraws_with_the_new_value_of_each_control(gan):
    widget = explorer.sampling_widget(gan, "fashion_mnist")
    first = widget.last_images

    widget.controls["number_of_samples"].value = 3
    assert first.shape == (8, 32, 32, 1)
    assert widget.last_images.shape == (3, 32, 32, 1) and widget.redraw_count == 2

    changes = [("truncation", 0.5), ("noise_seed", 42), ("category", "8) Bag"), ("truncation_kind", "scaled")]
    for name, value in changes:
        before = widget.last_images
        widget.controls[name].value = value
        assert widget.last_parameters[name] == value
        assert np.abs(widget.last_images - before).max() > 1e-5, name
    np.testing.assert_allclose(
        widget.last_images, explorer.sample_category(gan, 8, 3, 0.5, 42, truncation_kind="scaled"), atol=1e-6
    )
    assert widget.redraw_count == 2 + len(changes)
    assert widget.last_picture.size == ((3 * 32 + 2 * 2) * 3, 32 * 3)


def test_sampling_widget_with_the_same_seed_again_draws_the_same_images(gan):
    widget = explorer.sampling_widget(gan, "mnist", noise_seed=3)
    first = widget.last_images

    widget.controls["noise_seed"].value = 4
    widget.controls["noise_seed"].value = 3

    np.testing.assert_array_equal(widget.last_images, first)


def test_sampling_widget_rejects_starting_values_outside_the_ranges(gan):
    with pytest.raises(ValueError, match="number_of_samples=21"):
        explorer.sampling_widget(gan, number_of_samples=21)
    with pytest.raises(ValueError, match="category='hat'"):
        explorer.sampling_widget(gan, category="hat")


def test_interpolation_widget_redraws_with_the_new_value_of_each_control(gan):
    widget = explorer.interpolation_widget(gan, "fashion_mnist", category_a="sneaker", category_b="bag")
    assert widget.last_images.shape == (2, 5, 32, 32, 1)
    assert widget.controls["category_a"].options == tuple(FASHION_OPTIONS)
    assert (widget.controls["number_of_samples"].min, widget.controls["number_of_samples"].max) == (1, 5)
    assert (widget.controls["steps"].min, widget.controls["steps"].max) == (2, 10)
    assert widget.controls["method"].options == ("linear", "slerp")

    widget.controls["steps"].value = 10
    assert widget.last_images.shape == (2, 10, 32, 32, 1)
    widget.controls["number_of_samples"].value = 4
    assert widget.last_images.shape == (4, 10, 32, 32, 1)

    changes = [
        ("category_b", "3) Dress"),
        ("noise_seed_b", 9),
        ("noise_seed_a", 8),
        ("truncation", 0.3),
        ("method", "slerp"),
        ("category_a", "0) T-shirt/top"),
        ("truncation_kind", "scaled"),
    ]
    for name, value in changes:
        before = widget.last_images
        widget.controls[name].value = value
        assert widget.last_parameters[name] == value
        assert np.abs(widget.last_images - before).max() > 1e-5, name
    expected = explorer.interpolate_categories(
        gan, 0, 3, 4, 10, 0.3, noise_seed_a=8, noise_seed_b=9, method="slerp", truncation_kind="scaled"
    )
    np.testing.assert_allclose(widget.last_images, expected, atol=1e-6)
    assert widget.last_picture.size == ((10 * 32 + 9 * 2) * 3, (4 * 32 + 3 * 2) * 3)


def test_an_explorer_displays_its_controls_and_output_together(gan, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **options: shown.extend(objects))
    widget = explorer.interpolation_widget(gan, "mnist")

    widget._ipython_display_()

    assert shown[-1] is widget.widget
    assert widget.widget.children[-1] is widget.output


def test_no_truncation_draws_plain_normal_z_and_the_scaled_kind_refuses_it(gan):
    latent = explorer.truncated_latent(gan, 2000, truncation=None, noise_seed=3)

    assert np.abs(latent).max() > 3.0  # a standard normal's tails are there
    assert abs(latent.std() - 1.0) < 0.05
    with pytest.raises(ValueError, match="truncation=None"):
        explorer.truncated_latent(gan, 4, truncation=None, truncation_kind="scaled")
