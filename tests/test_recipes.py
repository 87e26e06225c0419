"""Tests of ganlab.recipes: the budgets, overrides and the JSON round trip."""

import dataclasses
import json
import math
import re

import pytest

from ganlab import recipes
from ganlab.models import DCGANConfig, VanillaConfig
from ganlab.recipes import Recipe, budget, get_recipe, network_for, recipe_from_json


@pytest.fixture
def clean_budget_environment(monkeypatch):
    monkeypatch.delenv("GANLAB_FAST", raising=False)
    monkeypatch.delenv("GANLAB_BUDGET", raising=False)
    return monkeypatch


# --- budget() -----------------------------------------------------------------------


def test_budget_is_default_without_environment_variables(clean_budget_environment):
    assert budget() == "default"


@pytest.mark.parametrize("value, expected", [("1", "fast"), ("yes", "fast"), ("0", "default"), ("", "default")])
def test_ganlab_fast_selects_the_fast_budget_unless_it_is_zero_or_empty(clean_budget_environment, value, expected):
    clean_budget_environment.setenv("GANLAB_FAST", value)

    assert budget() == expected


def test_ganlab_budget_wins_over_ganlab_fast_and_ignores_case(clean_budget_environment):
    clean_budget_environment.setenv("GANLAB_FAST", "1")
    clean_budget_environment.setenv("GANLAB_BUDGET", " Full ")

    assert budget() == "full"


def test_an_unknown_ganlab_budget_is_a_value_error_listing_the_budgets(clean_budget_environment):
    clean_budget_environment.setenv("GANLAB_BUDGET", "huge")

    with pytest.raises(ValueError, match=r"\('fast', 'default', 'full'\). Received: 'huge'"):
        budget()


def test_get_recipe_without_a_budget_follows_the_environment(clean_budget_environment):
    clean_budget_environment.setenv("GANLAB_FAST", "1")

    assert get_recipe("dcgan") == get_recipe("dcgan", "fast")


# --- the recipes of each budget -----------------------------------------------------


def test_default_dcgan_recipe_is_the_dcgan_papers_setting_with_the_measured_changes():
    recipe = get_recipe("dcgan", "default")

    # Radford et al.: Adam with beta_1 0.5, batch 64; a wider G and lr 1e-3 were
    # measured better on a 2-core CPU (see the comment in ganlab/recipes.py).
    assert recipe.network == DCGANConfig(generator_width=48, discriminator_width=32)
    assert (recipe.batch_size, recipe.steps, recipe.steps_per_round) == (64, 4000, 250)
    assert (recipe.d_learning_rate, recipe.g_learning_rate) == (1e-3, 1e-3)
    assert (recipe.beta_1, recipe.beta_2) == (0.5, 0.999)
    assert (recipe.loss, recipe.ema_decay, recipe.dataset, recipe.minutes) == ("bce", 0.999, "mnist", None)
    assert recipe.number_of_samples == 2500


def test_fast_recipes_shrink_the_networks_and_the_schedule():
    dcgan = get_recipe("dcgan", "fast")
    vanilla = get_recipe("vanilla", "fast")

    assert (dcgan.network.generator_width, dcgan.network.discriminator_width) == (8, 8)
    assert (dcgan.steps, dcgan.steps_per_round) == (30, 10)
    assert vanilla.network.hidden_units == (32, 64)
    assert (vanilla.steps, vanilla.steps_per_round) == (30, 10)
    # Evaluation still runs once (every 3 rounds of 10 steps), on fewer samples; so do the final samples.
    assert (dcgan.evaluation_every_rounds, dcgan.evaluation_samples) == (3, 200)
    assert dcgan.number_of_samples == vanilla.number_of_samples == 500
    # Everything else is the default recipe's.
    default = get_recipe("dcgan", "default")
    assert dataclasses.replace(
        dcgan,
        network=default.network,
        steps=default.steps,
        steps_per_round=default.steps_per_round,
        evaluation_every_rounds=default.evaluation_every_rounds,
        evaluation_samples=default.evaluation_samples,
        number_of_samples=default.number_of_samples,
    ) == default


def test_full_recipes_train_longer_and_wider():
    dcgan = get_recipe("dcgan", "full")
    vanilla = get_recipe("vanilla", "full")

    assert (dcgan.network.generator_width, dcgan.steps, dcgan.steps_per_round) == (64, 20000, 1000)
    assert (vanilla.batch_size, vanilla.steps, vanilla.steps_per_round) == (128, 30000, 1000)
    assert vanilla.network == VanillaConfig()
    # The Progressive GAN's paper widths: 16384 / R channels, at most 512 (512 at 32x32).
    progressive = recipes.network_for(get_recipe("progressive", "full"))
    assert progressive.channels(32) == progressive.channels(4) == 512


def test_the_progressive_gan_averages_g_over_a_shorter_half_life_on_a_cpu_and_the_paper_s_in_full():
    # 0.99: a half-life of 69 steps, about 1% of a ten-minute run's steps at 32x32 (the paper's
    # 0.999 is 693 steps, 2% of its 600,000-image phases at batch 16).
    default, full = get_recipe("progressive", "default"), get_recipe("progressive", "full")

    assert (default.ema_decay, full.ema_decay) == (0.99, 0.999)
    assert round(math.log(0.5) / math.log(default.ema_decay)) == 69
    assert default.network.fused_resampling and full.network.fused_resampling  # the official default


def test_the_progressive_gan_trains_with_stylegan_s_loss_on_a_cpu_and_the_paper_s_wgan_gp_in_full():
    from ganlab import runs

    default, full = get_recipe("progressive", "default"), get_recipe("progressive", "full")

    assert (default.loss, default.options.r1_weight, default.options.r1_interval) == ("bce", 1.0, 8)
    assert (full.loss, full.options.r1_weight, full.options.r1_interval) == ("wasserstein", None, 1)
    gan = runs.build_gan(get_recipe("progressive", "fast"))
    assert (gan.loss_family, gan.r1_weight, gan.r1_interval) == ("bce", 1.0, 8)
    # The paper's loss from the command line: both settings, or a clear refusal.
    paper = recipes.apply_settings(default, ["loss=wasserstein", "r1_weight=none"])
    assert (paper.loss, paper.options.r1_weight) == ("wasserstein", None)
    with pytest.raises(ValueError, match="r1_weight goes with loss='bce'"):
        recipes.apply_settings(default, ["loss=wasserstein"])
    with pytest.raises(ValueError, match="r1_weight is for the progressive GAN only.*model='dcgan'"):
        recipes.apply_settings(get_recipe("dcgan", "default"), ["r1_weight=1"])


def test_default_vanilla_recipe():
    recipe = get_recipe("vanilla", "default")

    assert recipe.network == VanillaConfig(hidden_units=(256, 512))
    assert (recipe.batch_size, recipe.steps) == (64, 6000)


# --- overrides and validation -------------------------------------------------------


def test_overrides_replace_fields_and_none_keeps_the_recipes_value():
    recipe = get_recipe("dcgan", "fast", steps=12, minutes=1.5, batch_size=None, dataset="fashion_mnist")

    assert (recipe.steps, recipe.minutes, recipe.batch_size, recipe.dataset) == (12, 1.5, 64, "fashion_mnist")


def test_an_unknown_override_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"Unknown recipe fields: \['learning_rate'\]"):
        get_recipe("dcgan", "fast", learning_rate=1e-3)


def test_an_unknown_model_or_budget_lists_the_accepted_values():
    with pytest.raises(ValueError, match=re.escape(f"{recipes.MODELS}. Received: model='stylegan'")):
        get_recipe("stylegan", "fast")
    with pytest.raises(ValueError, match=r"\('fast', 'default', 'full'\). Received: budget='tiny'"):
        get_recipe("dcgan", "tiny")


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(steps=0), "steps must be a positive integer. Received: steps=0"),
        (dict(steps=2.5), "steps must be a positive integer"),
        (dict(batch_size=-1), "batch_size must be a positive integer. Received: batch_size=-1"),
        (dict(steps_per_round=0), "steps_per_round must be a positive integer"),
        (dict(number_of_samples=0), "number_of_samples must be a positive integer"),
        (dict(minutes=0), "minutes must be positive. Received: minutes=0"),
        (dict(minutes=-3.0), "minutes must be positive"),
        (dict(dataset="cifar10"), r"\('mnist', 'fashion_mnist'\). Received: dataset='cifar10'"),
    ],
)
def test_invalid_override_values_are_value_errors_naming_the_field(override, message):
    with pytest.raises(ValueError, match=message):
        get_recipe("dcgan", "fast", **override)


# --- JSON and flat dicts ------------------------------------------------------------


@pytest.mark.parametrize("model", recipes.MODELS)
@pytest.mark.parametrize("budget_name", recipes.BUDGETS)
def test_recipe_from_json_of_to_json_gives_back_the_same_recipe(model, budget_name):
    recipe = get_recipe(model, budget_name, minutes=2.5, image_size=32)

    # Through a JSON string, as in a checkpoint's state.json: tuples become lists.
    stored = json.loads(json.dumps(recipe.to_json()))

    assert recipe_from_json(stored) == recipe
    assert isinstance(recipe_from_json(stored).network.image_shape, tuple)


def test_to_dict_flattens_the_network_for_logging():
    values = get_recipe("dcgan", "fast").to_dict()

    assert values["network_generator_width"] == 8 and values["network_latent_dim"] == 64
    assert values["steps"] == 30 and "network" not in values
    assert all(not isinstance(value, (dict, DCGANConfig)) for value in values.values())


def test_to_dict_logs_the_options_under_the_names_set_spells_them():
    values = get_recipe("progressive", "default").to_dict()

    assert (values["r1_weight"], values["r1_interval"], values["penalty_samples"]) == (1.0, 8, None)
    assert values["schedule_batch_sizes"] == (64, 64, 32, 16) and "options" not in values
    assert "augment" not in values and "r1_weight" not in get_recipe("dcgan", "fast").to_dict()


def test_recipe_from_json_reads_a_recipe_saved_when_every_model_s_options_were_recipe_fields():
    # The shape of a state.json written before the options had their own class: every model's
    # option at the top level, the other models' at their defaults then.
    recipe = get_recipe("progressive", "fast")
    old = recipe.to_json()
    old.update(old.pop("options"))
    old.update(orthogonal_strength=None, augment="", standing_statistics_batches=None)
    stored = json.loads(json.dumps(old))

    assert recipe_from_json(stored) == recipe
    assert recipe_from_json(json.loads(json.dumps({**get_recipe("dcgan", "fast").to_json(), "options": None,
                                                   "schedule": None, "r1_weight": None}))) == get_recipe("dcgan", "fast")
    with pytest.raises(ValueError, match="Unknown recipe field in a saved recipe. Received: learning_rate=0.1"):
        recipe_from_json({**get_recipe("dcgan", "fast").to_json(), "learning_rate": 0.1})


def test_network_for_sets_the_image_shape_of_the_data():
    recipe = get_recipe("dcgan", "fast", image_size=32)

    assert network_for(recipe).image_shape == (32, 32, 1)
    assert network_for(get_recipe("vanilla", "fast"), channels=3).image_shape == (28, 28, 3)


def test_recipes_are_frozen():
    recipe = get_recipe("dcgan", "fast")

    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.steps = 10
    assert isinstance(recipe, Recipe)


# ---------------------------------------------------------------- --set NAME=VALUE


def test_settings_change_recipe_network_and_schedule_fields_parsed_to_their_types():
    recipe = recipes.apply_settings(
        get_recipe("biggan", "default"),
        ["d_learning_rate=2e-4", "d_steps=2", "augment=translation,cutout", "network.generator_width=48",
         "network.attention_resolution=none", "network.hierarchical=false", "ema_decay=none"],
    )

    assert recipe.d_learning_rate == 2e-4 and recipe.d_steps == 2 and recipe.options.augment == "translation,cutout"
    assert recipe.network.generator_width == 48 and recipe.network.attention_resolution is None
    assert recipe.network.hierarchical is False and recipe.ema_decay is None


def test_a_schedule_setting_keeps_a_whole_schedule_run_whole():
    recipe = get_recipe("progressive", "default")

    changed = recipes.apply_settings(recipe, ["schedule.batch_sizes=64,64,32,32"])

    assert changed.options.schedule.batch_sizes == (64, 64, 32, 32)
    assert changed.steps == changed.options.schedule.total_steps != recipe.steps


@pytest.mark.parametrize(
    "setting, message",
    [
        ("d_steps", "NAME=VALUE"),
        ("learning_rate=1e-3", "Unknown setting 'learning_rate'.*d_learning_rate"),
        ("network.width=3", "Unknown setting 'network.width'.*network.generator_width"),
        ("model=dcgan", "Unknown setting 'model'"),
        ("d_steps=two", "d_steps: 'two' is not a int"),
        ("d_steps=0", "d_steps must be a positive integer"),
        ("network.latent_dim=121", "latent_dim must be divisible"),
        ("augment=flip", "augment must be a comma-separated list"),
        ("network.hierarchical=maybe", "hierarchical: 'maybe' is not a bool"),
    ],
)
def test_bad_settings_are_value_errors_saying_what_is_accepted(setting, message):
    with pytest.raises(ValueError, match=message):
        recipes.apply_settings(get_recipe("biggan", "default"), [setting])


@pytest.mark.parametrize(
    ("model", "setting", "owner"),
    [
        ("dcgan", "orthogonal_strength=1e-4", "BigGAN only (model='biggan')"),
        ("vanilla", "standing_statistics_batches=4", "BigGAN only (model='biggan')"),
        ("biggan", "r1_interval=4", "the progressive GAN only (model='progressive')"),
        ("progressive", "orthogonal_strength=1e-4", "BigGAN only (model='biggan')"),
    ],
)
def test_a_field_one_model_declares_its_own_is_refused_for_another_naming_its_model(model, setting, owner):
    name = setting.partition("=")[0]

    with pytest.raises(ValueError, match=re.escape(f"{name} is for {owner}. Received: {name}=")):
        recipes.apply_settings(get_recipe(model, "fast"), [setting])


def test_a_recipe_holds_no_field_that_only_one_model_reads():
    from ganlab import registry

    recipe_fields = {field.name for field in dataclasses.fields(Recipe)}
    options_fields = {
        field.name for declaration in registry.declarations() for field in dataclasses.fields(declaration.options_class)
    }

    assert options_fields == {
        "schedule", "penalty_samples", "r1_weight", "r1_interval",  # the progressive GAN's
        "orthogonal_strength", "augment", "standing_statistics_batches",  # BigGAN's
    }
    assert recipe_fields.isdisjoint(options_fields)
    assert dataclasses.fields(get_recipe("dcgan", "default").options) == ()  # the DCGAN reads none
    assert type(get_recipe("biggan", "fast").options).__name__ == "BigGANOptions"


@pytest.mark.parametrize(
    ("model", "setting", "message"),
    [
        ("biggan", "schedule.batch_sizes=8,8,8,8", "schedule is for the progressive GAN only (model='progressive'). "
         "Received: schedule.batch_sizes=8,8,8,8 for model='biggan'"),
        ("vanilla", "penalty_samples=4", "penalty_samples is for the progressive GAN only (model='progressive'). "
         "Received: penalty_samples=4 for model='vanilla'"),
    ],
)
def test_an_option_of_another_model_given_by_set_is_refused_naming_the_model_it_belongs_to(model, setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        recipes.apply_settings(get_recipe(model, "fast"), [setting])


def test_options_are_set_by_their_own_name_or_as_options_name_to_the_same_recipe():
    recipe = get_recipe("progressive", "fast")

    short = recipes.apply_settings(recipe, ["loss=wasserstein", "r1_weight=none", "schedule.stable_images=32"])
    long = recipes.apply_settings(recipe, ["loss=wasserstein", "options.r1_weight=none", "options.schedule.stable_images=32"])

    assert short == long
    assert long.loss == "wasserstein" and long.options.r1_weight is None
    # 32 images per stable phase at batch sizes 16, 16, 8, 8: 2 + (3 + 2) + (6 + 4) + (6 + 4) steps.
    assert long.options.schedule.stable_images == 32 and long.steps == 27 and recipe.steps == 33
    with pytest.raises(ValueError, match="Unknown setting 'options'"):
        recipes.apply_settings(recipe, ["options=1"])


def test_a_recipe_with_another_model_s_options_is_refused_naming_that_model():
    biggan_options = get_recipe("biggan", "fast").options

    with pytest.raises(ValueError, match=r"options must be a ModelOptions for model='dcgan'.*\(BigGAN's, model='biggan'\)"):
        get_recipe("dcgan", "fast", options=biggan_options)


def test_augmentation_is_refused_for_models_that_do_not_use_it():
    with pytest.raises(ValueError, match="augment .*biggan.*model='dcgan'"):
        recipes.apply_settings(get_recipe("dcgan", "default"), ["augment=translation"])


def test_penalty_samples_is_a_progressive_setting_that_reaches_its_gan():
    from ganlab import runs

    recipe = recipes.apply_settings(get_recipe("progressive", "fast"), ["loss=wasserstein", "r1_weight=none", "penalty_samples=4"])
    gan = runs.build_gan(recipe)

    assert recipe.options.penalty_samples == 4 and gan.penalty_samples == 4
    assert get_recipe("progressive", "default").options.penalty_samples is None  # the paper's: the whole batch
    with pytest.raises(ValueError, match="penalty_samples .*progressive GAN only.*model='dcgan'"):
        recipes.apply_settings(get_recipe("dcgan", "default"), ["penalty_samples=4"])
    with pytest.raises(ValueError, match="penalty_samples must be None .*positive integer.*penalty_samples=0"):
        recipes.apply_settings(get_recipe("progressive", "default"), ["loss=wasserstein", "r1_weight=none", "penalty_samples=0"])
    # D's minibatch stddev groups the penalty's batch by 4: 6 pairs cannot be grouped.
    with pytest.raises(ValueError, match="multiple of 4 .*penalty_samples=6"):
        runs.build_gan(recipe.with_options(penalty_samples=6))


def test_standing_statistics_batches_is_a_biggan_setting_that_reaches_its_gan(monkeypatch):
    from ganlab import runs
    from ganlab.models.biggan import BigGAN

    assert get_recipe("biggan", "default").options.standing_statistics_batches is None  # BigGAN-PyTorch's 16
    assert get_recipe("biggan", "fast").options.standing_statistics_batches == 4
    recipe = recipes.apply_settings(get_recipe("biggan", "fast"), ["standing_statistics_batches=3"])
    gan = runs.build_gan(recipe)
    asked = []
    monkeypatch.setattr(BigGAN, "recompute_standing_statistics", lambda self, batches: asked.append(batches))

    gan.ensure_standing_statistics()

    assert gan.standing_statistics_batches == 3 and asked == [3]
    unset = recipe.with_options(standing_statistics_batches=None)
    assert runs.build_gan(unset).standing_statistics_batches == 16
    with pytest.raises(ValueError, match="standing_statistics_batches is for .*model='dcgan'"):
        recipes.apply_settings(get_recipe("dcgan", "default"), ["standing_statistics_batches=4"])
    with pytest.raises(ValueError, match="standing_statistics_batches must be a positive integer. Received: 0"):
        recipes.apply_settings(get_recipe("biggan", "default"), ["standing_statistics_batches=0"])


def test_the_old_import_paths_growing_and_conditional_give_the_same_objects_as_the_model_packages():
    # Notebooks written before the models moved to ganlab/models/ import these two names.
    from ganlab import conditional, growing
    from ganlab.models import biggan, progressive

    assert growing.ProgressiveGAN is progressive.ProgressiveGAN
    assert growing.GrowthSchedule is progressive.GrowthSchedule
    assert conditional.BigGAN is biggan.BigGAN
