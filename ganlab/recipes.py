"""Training recipes: one small frozen config per model, in three budgets.

The same code runs everywhere; only these numbers change:

``"fast"`` (``GANLAB_FAST=1``; tests and CI)
    Tiny networks and a few dozen steps: every code path runs in seconds.
``"default"`` (a student's CPU laptop)
    Minutes of training, recognizable results.
``"full"`` (``GANLAB_BUDGET=full``; a Colab GPU)
    Longer schedules, wider networks.

``budget()`` reads the environment; ``get_recipe(model, budget)`` returns the
recipe, which ``ganlab train`` and the notebooks both use.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ganlab.choices import BUDGETS, CONDITIONAL_MODELS, MODELS  # noqa: F401 (re-exported)
from ganlab.growing import GrowthSchedule
from ganlab.models import BigGANConfig, DCGANConfig, ProgressiveConfig, VanillaConfig
from ganlab.models.config import with_tuples


def budget():
    """The active budget: ``GANLAB_BUDGET`` if set, ``"fast"`` if ``GANLAB_FAST=1``, else ``"default"``."""
    chosen = os.environ.get("GANLAB_BUDGET", "").strip().lower()
    if chosen:
        if chosen not in BUDGETS:
            raise ValueError(f"GANLAB_BUDGET must be one of {BUDGETS}. Received: {chosen!r}")
        return chosen
    return "fast" if os.environ.get("GANLAB_FAST", "") not in ("", "0") else "default"


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run except the seed and the output folder.

    Attributes:
        model: ``"vanilla"``, ``"dcgan"`` or ``"progressive"``.
        network: the architecture's config (``VanillaConfig``, ``DCGANConfig``,
            ``ProgressiveConfig``).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        image_size: None for 28x28, 32 for the 32x32 lessons.
        batch_size: images per step.
        steps: generator updates, unless ``minutes`` stops training first;
            None for no step limit (then ``minutes`` must be set).
        minutes: wall-clock limit in minutes of training (from the first
            step; loading data before and the final evaluation after do not
            count), or None.
        d_learning_rate, g_learning_rate, beta_1, beta_2, epsilon: Adam's settings.
        loss: a family of ``ganlab.losses.LOSS_FAMILIES``; the progressive GAN
            takes ``"wasserstein"`` (WGAN-GP with drift, the paper's) or ``"bce"``
            (the non-saturating loss, with ``r1_weight``: StyleGAN's).
        ema_decay: decay of G's weight average for sampling, or None.
        steps_per_round: steps between logged rows, sample grids and
            checkpoints (one Keras "epoch").
        number_of_samples: images written to ``samples.npz`` at the end.
        evaluation_every_rounds: score FID, KID, IS, precision and recall
            every this many rounds during training (``EvaluationCallback``).
        evaluation_samples: generated images per evaluation during training.
        schedule: the progressive GAN's ``GrowthSchedule`` (images per phase,
            batch size per resolution; its batch sizes replace ``batch_size``),
            None for the other models.
        d_steps: discriminator updates per generator update.
        orthogonal_strength: BigGAN's orthogonal regularization of G (beta),
            None for the models without it.
        augment: BigGAN's DiffAugment policy (``ganlab.augment``), such as
            ``"translation,cutout"``; empty for none.
        precision: the networks' dtype policy (``ganlab.precision``):
            ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``. float32
            by default: mixed precision has not yet been measured to help here.
        penalty_samples: the progressive GAN's gradient penalty on only the
            first n image pairs of each critic batch; None (the default, the
            paper's) for all of them. Not the paper's implementation: a cheaper,
            noisier estimate of the same term (docs/results.md, "Progressive GAN").
        r1_weight: the progressive GAN's R1 penalty gamma (``loss="bce"`` only;
            ``losses.r1_penalty``), None for none.
        r1_interval: steps between two R1 penalties, each weighted by it
            (StyleGAN2's lazy regularization); 1 for every step.
        standing_statistics_batches: BigGAN's batches of z averaged into the
            sampling generator's standing statistics; None for BigGAN-PyTorch's
            16 (the fast budget: 4, since each is an eager pass through G).
    """

    model: str
    network: object
    dataset: str = "mnist"
    image_size: int | None = None
    batch_size: int = 64
    steps: int | None = 5000
    minutes: float | None = None
    d_learning_rate: float = 2e-4
    g_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    epsilon: float = 1e-7  # Keras' default
    loss: str = "bce"
    ema_decay: float | None = 0.999
    steps_per_round: int = 250
    number_of_samples: int = 2500
    evaluation_every_rounds: int = 8
    evaluation_samples: int = 1000
    schedule: GrowthSchedule | None = None
    d_steps: int = 1
    orthogonal_strength: float | None = None
    augment: str = ""
    precision: str = "float32"
    penalty_samples: int | None = None
    r1_weight: float | None = None
    r1_interval: int = 1
    standing_statistics_batches: int | None = None

    def to_json(self):
        """A nested dict of plain values; ``recipe_from_json`` turns it back into a Recipe."""
        return dataclasses.asdict(self)

    def to_dict(self):
        """A flat dict of plain values, for logging as hyperparameters."""
        values = dataclasses.asdict(self)
        network = values.pop("network")
        values.update({f"network_{key}": value for key, value in network.items()})
        schedule = values.pop("schedule")
        values.update({f"schedule_{key}": value for key, value in (schedule or {}).items()})
        return values


_RECIPES = {
    # Lesson 01: Goodfellow et al.'s MLP GAN. Adam 2e-4 with beta_1 0.5 (the DCGAN
    # paper's setting) is stable for MLPs too.
    ("vanilla", "default"): Recipe(
        model="vanilla", network=VanillaConfig(), batch_size=64, steps=6000, ema_decay=0.999
    ),
    # Lesson 02 and `ganlab train dcgan`: Radford et al.'s setting (Adam, beta_1
    # 0.5, batch 64) with two changes measured on a 2-core CPU (README, "The DCGAN
    # recipe"): a learning rate of 1e-3 instead of 2e-4 (a better score after
    # 1,000-5,000 steps, no instability seen), and a generator wider than the
    # discriminator (48 vs 32 channels), which helped more per second than making
    # both wider. EMA of G's weights (0.999) for sampling.
    ("dcgan", "default"): Recipe(
        model="dcgan",
        network=DCGANConfig(generator_width=48, discriminator_width=32),
        # About 70 ms a step on 2 idle CPU cores: lesson 02 trains in about 5 minutes.
        steps=4000,
        d_learning_rate=1e-3,
        g_learning_rate=1e-3,
    ),
    # Lesson 04 and `ganlab train progressive`: Karras et al.'s settings (WGAN-GP with
    # lambda 10 and drift 0.001, Adam 1e-3 with beta_1 0 and beta_2 0.99 and
    # epsilon 1e-8, G EMA 0.999, equalized learning rate, pixel norm, minibatch
    # stddev) on MNIST padded to 32x32, with the schedule scaled down from
    # 600 thousand images per phase to what a 2-core CPU shows in about ten minutes.
    ("progressive", "default"): Recipe(
        model="progressive",
        network=ProgressiveConfig(latent_dim=128, channel_base=512, channel_max=32),
        image_size=32,
        schedule=GrowthSchedule(
            # 8,000 images per phase and the paper's batch of 16 at 32x32 (a step's cost is
            # proportional to its images there, so small batches buy more updates): FID 31.4
            # vs 49.3 for 16,000 images and batch 32, at equal CPU time (README).
            resolutions=(4, 8, 16, 32), stable_images=8_000, transition_images=8_000,
            batch_sizes=(64, 64, 32, 16),
        ),
        batch_size=64,
        d_learning_rate=1e-3,
        g_learning_rate=1e-3,
        beta_1=0.0,
        beta_2=0.99,
        epsilon=1e-8,
        # Not the paper's 0.999: its half-life of 693 steps is 2% of a 600,000-image
        # phase at batch 16, but 10% of the ~7,000 steps this recipe trains at 32x32,
        # and the average lagged a generator still improving. 0.99 (69 steps) scored
        # higher in each of three comparisons (docs/results.md, "Progressive GAN").
        ema_decay=0.99,
        # Not the paper's WGAN-GP: StyleGAN's non-saturating loss with R1 (gamma 1) every
        # 8th step, weighted by 8 (StyleGAN2's lazy regularization). A 32x32 step takes
        # about 40 ms instead of 70 (no penalty on interpolates at every step), and in
        # ten CPU-minutes it scored above the 5-minute DCGAN where every WGAN-GP
        # setting tried stayed below (docs/results.md, "Progressive GAN"). The `full`
        # recipe keeps the paper's loss; `--set loss=wasserstein --set r1_weight=none`
        # trains with it here.
        loss="bce",
        r1_weight=1.0,
        r1_interval=8,
        steps_per_round=250,
    ),
    # Lessons 05-06 and `ganlab train biggan`: Brock et al.'s BigGAN at 32x32 (shared
    # class embedding, hierarchical latents, conditional batch norm, self-attention at
    # 16x16, projection D, spectral norm in both networks, hinge loss, orthogonal
    # regularization 1e-4, Adam with beta_1 0 and beta_2 0.999, G EMA), sized for a CPU.
    ("biggan", "default"): Recipe(
        model="biggan",
        network=BigGANConfig(latent_dim=120, embedding_dim=32, generator_width=32, discriminator_width=32),
        image_size=32,
        batch_size=64,
        # About 0.35 s a step on 2 idle CPU cores: lesson 05 trains in 6 minutes (measured alone on a
        # 2-core Intel Xeon: 6.0 min of training, FID 22.3, class accuracy 98.3%, variety 0.79).
        steps=1000,
        # Measured on the offline MNIST digits (4,000 images: a data-limited setting),
        # docs/results.md "BigGAN": two D steps per G step (BigGAN's), 4e-4 for both
        # learning rates (SAGAN's D rate; BigGAN's own 2e-4 / 5e-5 learn the classes
        # far more slowly in a CPU budget) and DiffAugment (Zhao et al. 2020) on
        # everything D sees, which keeps D from memorizing the few real images: 97%
        # class accuracy and recall 0.38 after 1,000 steps.
        d_learning_rate=4e-4,
        g_learning_rate=4e-4,
        beta_1=0.0,
        beta_2=0.999,
        loss="hinge",
        d_steps=2,
        orthogonal_strength=1e-4,
        augment="translation,cutout",
        steps_per_round=100,
        evaluation_every_rounds=5,
    ),
}

# The fast budget keeps every code path but shrinks every size.
_FAST_OVERRIDES = {
    "vanilla": dict(
        network=VanillaConfig(hidden_units=(32, 64)), steps=30, steps_per_round=10,
        evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
    "dcgan": dict(
        network=DCGANConfig(generator_width=8, discriminator_width=8), steps=30, steps_per_round=10,
        evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
    "biggan": dict(
        network=BigGANConfig(latent_dim=16, embedding_dim=8, generator_width=8, discriminator_width=8),
        batch_size=16, steps=20, d_steps=1, steps_per_round=10, evaluation_every_rounds=2, evaluation_samples=200,
        number_of_samples=500, standing_statistics_batches=4,
    ),
    # Every resolution and both phases, a few steps each.
    "progressive": dict(
        network=ProgressiveConfig(latent_dim=16, channel_base=64, channel_max=8),
        schedule=GrowthSchedule(
            resolutions=(4, 8, 16, 32), stable_images=48, transition_images=48, batch_sizes=(16, 16, 8, 8),
        ),
        steps_per_round=10, evaluation_every_rounds=3, evaluation_samples=200, number_of_samples=500,
    ),
}
_FULL_OVERRIDES = {
    "vanilla": dict(steps=30000, batch_size=128, steps_per_round=1000),
    "dcgan": dict(
        network=DCGANConfig(generator_width=64, discriminator_width=64), steps=20000, steps_per_round=1000
    ),
    # BigGAN-PyTorch's 32x32 widths (ch 64 x 4), embedding 128, batch 64, 2 D steps.
    "biggan": dict(
        network=BigGANConfig(latent_dim=120, embedding_dim=128, generator_width=256, discriminator_width=256),
        steps=20000, steps_per_round=1000,
    ),
    # The paper's widths at 32x32, its one-GPU batch sizes and its G average (0.999: the
    # phases are long enough again).
    "progressive": dict(
        ema_decay=0.999,
        loss="wasserstein",  # the paper's WGAN-GP with drift
        r1_weight=None,
        r1_interval=1,
        network=ProgressiveConfig(latent_dim=512, channel_base=16384, channel_max=512),
        schedule=GrowthSchedule(
            resolutions=(4, 8, 16, 32), stable_images=300_000, transition_images=300_000,
            batch_sizes=(128, 128, 128, 64),
        ),
        steps_per_round=1000,
    ),
}


def get_recipe(model, budget_name=None, **overrides):
    """The recipe of ``model`` in a budget, with any field overridden.

    Args:
        model: one of ``MODELS``.
        budget_name: ``"fast"``, ``"default"``, ``"full"``; ``budget()`` when None.
        **overrides: fields of ``Recipe`` to replace (None values are ignored,
            so command-line options can be passed straight through).

    Example:

    >>> get_recipe("dcgan", "fast", steps=12).steps
    12
    """
    if model not in MODELS:
        raise ValueError(f"Unknown model. Expected one of {MODELS}. Received: model={model!r}")
    budget_name = budget_name or budget()
    if budget_name not in BUDGETS:
        raise ValueError(f"Unknown budget. Expected one of {BUDGETS}. Received: budget={budget_name!r}")
    recipe = _RECIPES[(model, "default")]
    if budget_name == "fast":
        recipe = dataclasses.replace(recipe, **_FAST_OVERRIDES[model])
    elif budget_name == "full":
        recipe = dataclasses.replace(recipe, **_FULL_OVERRIDES[model])
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Recipe)}
    if unknown:
        raise ValueError(f"Unknown recipe fields: {sorted(unknown)}")
    overrides = {name: value for name, value in overrides.items() if value is not None}
    recipe = dataclasses.replace(recipe, **overrides)
    if recipe.schedule is not None:
        if "batch_size" in overrides:  # one batch size at every resolution
            recipe = dataclasses.replace(recipe, schedule=recipe.schedule.with_batch_size(recipe.batch_size))
        if "steps" not in overrides:  # the whole schedule
            recipe = dataclasses.replace(recipe, steps=recipe.schedule.total_steps)
    _validate(recipe)
    return recipe


def apply_settings(recipe, settings):
    """``recipe`` with ``NAME=VALUE`` settings applied: what ``ganlab train --set`` does.

    ``NAME`` is a field of ``Recipe`` (``d_learning_rate``, ``d_steps``,
    ``augment``, ...), of its network config as ``network.NAME``
    (``network.generator_width``) or of the progressive schedule as
    ``schedule.NAME`` (``schedule.batch_sizes``). ``VALUE`` is parsed to the
    type the field holds now: ``1e-4``, ``2``, ``true``, ``none``, or a
    comma-separated tuple (``64,64,32,16``). The result is validated like
    any recipe.

    Example:

    >>> apply_settings(get_recipe("biggan", "fast"), ["d_steps=2", "network.generator_width=16"]).d_steps
    2

    Raises:
        ValueError: a setting without ``=``, an unknown name (listing the
            known ones), a value of the wrong type, or an invalid recipe.
    """
    for setting in settings:
        name, separator, text = str(setting).partition("=")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"--set takes NAME=VALUE, such as d_learning_rate=2e-4. Received: {setting!r}")
        part, _, field = name.rpartition(".")
        if part not in ("", "network", "schedule"):
            raise ValueError(f"--set names a recipe field, network.FIELD or schedule.FIELD. Received: {name!r}")
        holder = recipe if not part else getattr(recipe, part)
        known = [f.name for f in dataclasses.fields(holder)] if dataclasses.is_dataclass(holder) else []
        if field not in known or (not part and field in ("model", "network", "schedule")):
            listing = ", ".join((f"{part}." if part else "") + known_name for known_name in known
                                if part or known_name not in ("model", "network", "schedule"))
            raise ValueError(
                f"Unknown setting {name!r} for the {recipe.model} recipe. Known: {listing or 'none'}"
                + ("; network.FIELD" if not part else "")
                + ("; schedule.FIELD" if not part and recipe.schedule is not None else "")
            )
        value = _parse_setting(name, text.strip(), getattr(holder, field))
        holder = dataclasses.replace(holder, **{field: value})
        if part == "schedule" and recipe.steps == recipe.schedule.total_steps:
            # The recipe ran the whole schedule: it still does.
            recipe = dataclasses.replace(recipe, steps=holder.total_steps)
        recipe = holder if not part else dataclasses.replace(recipe, **{part: holder})
    _validate(recipe)
    return recipe


def _parse_setting(name, text, current):
    """``text`` as a value of the type of ``current`` (the field's present value)."""
    def number(piece):
        try:
            return int(piece)
        except ValueError:
            return float(piece)

    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if text.lower() == "none" and not isinstance(current, str):
            return None
        if isinstance(current, tuple):
            return tuple(number(piece) for piece in text.split(",") if piece.strip())
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float) or current is None:
            return number(text)
        return text
    except ValueError:
        kind = type(current).__name__ if current is not None else "number"
        raise ValueError(f"--set {name}: {text!r} is not a {kind}.") from None


def _validate(recipe):
    from ganlab.data import DATASET_NAMES

    if recipe.dataset not in DATASET_NAMES:
        raise ValueError(f"Unknown dataset. Expected one of {DATASET_NAMES}. Received: dataset={recipe.dataset!r}")
    for name in (
        "batch_size", "steps_per_round", "number_of_samples", "evaluation_every_rounds", "evaluation_samples", "d_steps",
    ):
        value = getattr(recipe, name)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if recipe.steps is None and recipe.minutes is None:
        raise ValueError("steps may be None (no step limit) only when minutes limits the run. Received: steps=None")
    if recipe.steps is not None and (not isinstance(recipe.steps, int) or recipe.steps < 1):
        raise ValueError(f"steps must be a positive integer. Received: steps={recipe.steps!r}")
    if recipe.minutes is not None and recipe.minutes <= 0:
        raise ValueError(f"minutes must be positive. Received: minutes={recipe.minutes!r}")
    from ganlab.augment import parse_policy
    from ganlab.losses import LOSS_FAMILIES, check_penalty_samples
    from ganlab.precision import check_precision

    # Checked here, not only by GAN.compile: a mistyped `--set loss=...` is told before any network is built.
    if recipe.loss not in LOSS_FAMILIES:
        raise ValueError(f"Unknown loss. Expected one of {tuple(LOSS_FAMILIES)}. Received: loss={recipe.loss!r}")

    parse_policy(recipe.augment)
    check_precision(recipe.precision)
    if recipe.penalty_samples is not None and recipe.model != "progressive":
        raise ValueError(
            f"penalty_samples (the gradient penalty's batch) is for the progressive GAN only. "
            f"Received: penalty_samples={recipe.penalty_samples!r} for model={recipe.model!r}"
        )
    check_penalty_samples(recipe.penalty_samples)
    if recipe.model == "progressive":
        from ganlab.growing import check_progressive_loss

        check_progressive_loss(recipe.loss, recipe.r1_weight, recipe.r1_interval, recipe.penalty_samples)
    elif recipe.r1_weight is not None or recipe.r1_interval != 1:
        raise ValueError(
            f"r1_weight and r1_interval (the R1 penalty) are for the progressive GAN only. Received: "
            f"r1_weight={recipe.r1_weight!r}, r1_interval={recipe.r1_interval!r} for model={recipe.model!r}"
        )
    if recipe.standing_statistics_batches is not None:
        if recipe.model not in CONDITIONAL_MODELS:
            raise ValueError(
                f"standing_statistics_batches is for {CONDITIONAL_MODELS} only. Received: "
                f"standing_statistics_batches={recipe.standing_statistics_batches!r} for model={recipe.model!r}"
            )
        from ganlab.conditional import check_standing_statistics_batches

        check_standing_statistics_batches(recipe.standing_statistics_batches)
    if recipe.augment and recipe.model not in CONDITIONAL_MODELS:
        raise ValueError(
            f"augment (DiffAugment) is implemented for {CONDITIONAL_MODELS} only. "
            f"Received: augment={recipe.augment!r} for model={recipe.model!r}"
        )


def recipe_from_json(values):
    """The Recipe that ``Recipe.to_json`` described (as stored in checkpoints)."""
    network_classes = {
        "vanilla": VanillaConfig, "dcgan": DCGANConfig, "progressive": ProgressiveConfig, "biggan": BigGANConfig,
    }
    network = network_classes[values["model"]](**with_tuples(values["network"]))
    schedule = GrowthSchedule(**with_tuples(values["schedule"])) if values.get("schedule") else None
    return Recipe(**{**values, "network": network, "schedule": schedule})




def network_for(recipe, channels=1):
    """The recipe's network config with the image shape of its data."""
    size = recipe.image_size or 28
    return dataclasses.replace(recipe.network, image_shape=(size, size, channels))


__all__ = ["BUDGETS", "CONDITIONAL_MODELS", "MODELS", "Recipe", "budget", "get_recipe", "network_for", "recipe_from_json"]
