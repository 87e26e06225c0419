"""Training recipes: one small frozen config per model, in three budgets.

The same code runs everywhere; only these numbers change:

``"fast"`` (``GANLAB_FAST=1``; tests and CI)
    Tiny networks and a few dozen steps: every code path runs in seconds.
``"default"`` (a student's CPU laptop)
    Minutes of training, recognizable results.
``"full"`` (``GANLAB_BUDGET=full``; a Colab GPU)
    Longer schedules, wider networks.

``budget()`` reads the environment; ``get_recipe(model, budget)`` returns the
recipe, which ``ganlab train`` and the notebooks both use. Each model's recipes
are in its declaration, ``ganlab/models/<model>/__init__.py`` (``ganlab.registry``);
the measurements that chose them are in docs/results.md, one section per model.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ganlab import registry
from ganlab.choices import BUDGETS, MODELS  # noqa: F401 (re-exported)


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
        model: a name of ``MODELS``: ``"vanilla"``, ``"dcgan"``, ``"progressive"``,
            ``"biggan"`` or a model added by ``ganlab.registry.register_model``.
        network: the architecture's config (``VanillaConfig``, ``DCGANConfig``,
            ``ProgressiveConfig``, ``BigGANConfig``).
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
    schedule: object = None  # a ganlab.models.progressive.GrowthSchedule
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
    declaration = registry.declaration_of(model)  # a ValueError for an unknown model
    budget_name = budget_name or budget()
    if budget_name not in BUDGETS:
        raise ValueError(f"Unknown budget. Expected one of {BUDGETS}. Received: budget={budget_name!r}")
    recipe = declaration.budget_recipe(budget_name)
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
    from ganlab.losses import LOSS_FAMILIES
    from ganlab.precision import check_precision

    # Checked here, not only by GAN.compile: a mistyped `--set loss=...` is told before any network is built.
    if recipe.loss not in LOSS_FAMILIES:
        raise ValueError(f"Unknown loss. Expected one of {tuple(LOSS_FAMILIES)}. Received: loss={recipe.loss!r}")

    parse_policy(recipe.augment)
    check_precision(recipe.precision)
    declaration = registry.declaration_of(recipe.model)
    _check_own_fields(recipe, declaration)
    if declaration.check_recipe is not None:
        declaration.check_recipe(recipe)


def _check_own_fields(recipe, declaration):
    """Refuses a recipe that sets a field only other models read (such as BigGAN's ``augment`` for a DCGAN)."""
    defaults = {field.name: field.default for field in dataclasses.fields(Recipe)}
    for other in registry.declarations():
        for name in other.own_fields:
            value = getattr(recipe, name)
            if name not in declaration.own_fields and value != defaults[name]:
                raise ValueError(
                    f"{name} is for {other.title} only (model={other.name!r}). "
                    f"Received: {name}={value!r} for model={recipe.model!r}"
                )


def recipe_from_json(values):
    """The Recipe that ``Recipe.to_json`` described (as stored in checkpoints).

    The model's declaration says which classes its nested fields are: those of
    its default recipe (its ``network`` config; the progressive GAN's ``schedule``).
    """
    from ganlab.models.config import with_tuples

    declared = registry.declaration_of(values["model"]).recipe
    values = dict(values)
    for field in dataclasses.fields(Recipe):
        declared_value = getattr(declared, field.name)
        if dataclasses.is_dataclass(declared_value) and values.get(field.name) is not None:
            values[field.name] = type(declared_value)(**with_tuples(values[field.name]))
    return Recipe(**values)


def network_for(recipe, channels=1):
    """The recipe's network config with the image shape of its data."""
    size = recipe.image_size or 28
    return dataclasses.replace(recipe.network, image_shape=(size, size, channels))


def __getattr__(name):
    if name == "CONDITIONAL_MODELS":  # read from the declarations (ganlab.choices)
        from ganlab import choices

        return choices.CONDITIONAL_MODELS
    raise AttributeError(f"module 'ganlab.recipes' has no attribute {name!r}")


__all__ = ["BUDGETS", "CONDITIONAL_MODELS", "MODELS", "Recipe", "budget", "get_recipe", "network_for", "recipe_from_json"]  # noqa: F822 (CONDITIONAL_MODELS: __getattr__)
