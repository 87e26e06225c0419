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
class ModelOptions:
    """The recipe settings of one model only, ``Recipe.options``: none here.

    The vanilla GAN and the DCGAN have none; a model with settings of its own
    subclasses this in its folder (``ganlab.models.progressive.ProgressiveOptions``,
    ``ganlab.models.biggan.BigGANOptions``), a frozen dataclass whose fields
    ``--set NAME=VALUE`` takes by their own names, and overrides the members
    below where its settings change the run's batches or length.
    """

    def batch_sizes(self, batch_size):
        """Every batch size the run trains with, given the recipe's ``batch_size``: that one alone here."""
        return (batch_size,)

    def with_batch_size(self, batch_size):
        """These options when one batch size is asked for throughout (``--batch-size``): unchanged here."""
        return self

    @property
    def total_steps(self):
        """The steps a whole run takes when these options decide it (a growth schedule); None: ``Recipe.steps`` does."""
        return None


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
        loss: a family of ``ganlab.losses.LOSS_FAMILIES``; a model may accept
            only some (the progressive GAN: ``"wasserstein"``, the paper's, or
            ``"bce"``, StyleGAN's, with its options' ``r1_weight``).
        ema_decay: decay of G's weight average for sampling, or None.
        steps_per_round: steps between logged rows, sample grids and
            checkpoints (one Keras "epoch").
        number_of_samples: images written to ``samples.npz`` at the end.
        evaluation_every_rounds: score FID, KID, IS, precision and recall
            every this many rounds during training (``EvaluationCallback``).
        evaluation_samples: generated images per evaluation during training.
        d_steps: discriminator updates per generator update.
        precision: the networks' dtype policy (``ganlab.precision``):
            ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``. float32
            by default: mixed precision has not yet been measured to help here.
        options: the settings only this model reads, a ``ModelOptions``
            of the class its declaration's recipe holds (``ProgressiveOptions``:
            the growth schedule and the penalties; ``BigGANOptions``: orthogonal
            regularization, DiffAugment, standing statistics; ``ModelOptions()``,
            none, for the others). So a recipe holds no field another model reads.
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
    d_steps: int = 1
    precision: str = "float32"
    options: ModelOptions = ModelOptions()

    def to_json(self):
        """A nested dict of plain values; ``recipe_from_json`` turns it back into a Recipe."""
        return dataclasses.asdict(self)

    def to_dict(self):
        """A flat dict of plain values, for logging as hyperparameters.

        The network's fields are ``network_NAME``; the options' fields keep
        their own names (``r1_weight``), and a group of them its prefix
        (``schedule_batch_sizes``), as ``--set`` spells them.
        """
        values = dataclasses.asdict(self)
        network = values.pop("network")
        values.update({f"network_{key}": value for key, value in network.items()})
        for key, value in values.pop("options").items():
            if isinstance(value, dict):
                values.update({f"{key}_{name}": nested for name, nested in value.items()})
            else:
                values[key] = value
        return values

    def with_options(self, **changes):
        """This recipe with fields of its ``options`` replaced: ``recipe.with_options(r1_weight=None)``."""
        return dataclasses.replace(self, options=dataclasses.replace(self.options, **changes))


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
    if "batch_size" in overrides:  # one batch size throughout (the progressive GAN: at every resolution)
        recipe = dataclasses.replace(recipe, options=recipe.options.with_batch_size(recipe.batch_size))
    if "steps" not in overrides and recipe.options.total_steps is not None:  # the whole schedule
        recipe = dataclasses.replace(recipe, steps=recipe.options.total_steps)
    _validate(recipe)
    return recipe


def apply_settings(recipe, settings):
    """``recipe`` with ``NAME=VALUE`` settings applied: what ``ganlab train --set`` does.

    ``NAME`` is a field of ``Recipe`` (``d_learning_rate``, ``d_steps``, ...),
    of its network config as ``network.NAME`` (``network.generator_width``), or
    of the model's own options (``recipe.options``) by its own name
    (``r1_weight``, ``augment``; a group of them as ``schedule.batch_sizes``)
    or as ``options.NAME``. ``VALUE`` is parsed to the type the field holds
    now: ``1e-4``, ``2``, ``true``, ``none``, or a comma-separated tuple
    (``64,64,32,16``). The result is validated like any recipe.

    Example:

    >>> apply_settings(get_recipe("biggan", "fast"), ["d_steps=2", "network.generator_width=16"]).d_steps
    2

    Raises:
        ValueError: a setting without ``=``, an unknown name (listing the
            known ones), an option of another model (naming it), a value of
            the wrong type, or an invalid recipe.
    """
    for setting in settings:
        name, separator, text = str(setting).partition("=")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"--set takes NAME=VALUE, such as d_learning_rate=2e-4. Received: {setting!r}")
        path = _setting_path(recipe, name, text.strip())
        value = _parse_setting(name, text.strip(), _value_at(recipe, path))
        whole_schedule = recipe.options.total_steps is not None and recipe.steps == recipe.options.total_steps
        recipe = _replaced_at(recipe, path, value)
        if whole_schedule:  # the recipe ran its whole schedule: it still does
            recipe = dataclasses.replace(recipe, steps=recipe.options.total_steps)
    _validate(recipe)
    return recipe


# Recipe fields that --set does not change: the model, and the groups whose fields it sets one by one.
_NOT_SETTABLE = ("model", "network", "options")


def _setting_path(recipe, name, text):
    """The field names from the recipe down to the one ``--set name=...`` changes: ``("options", "r1_weight")``."""
    parts = tuple(name.split("."))
    recipe_fields = [f.name for f in dataclasses.fields(Recipe) if f.name not in _NOT_SETTABLE]
    option_fields = [f.name for f in dataclasses.fields(recipe.options)]
    if parts[0] in option_fields:  # an option by its own name: r1_weight, schedule.batch_sizes
        parts = ("options", *parts)
    elif parts[0] not in recipe_fields and parts[0] not in ("network", "options"):
        for other in registry.declarations():
            if other.options_class is not type(recipe.options) and parts[0] in _field_names(other.options_class):
                raise ValueError(
                    f"{parts[0]} is for {other.title} only (model={other.name!r}). "
                    f"Received: {name}={text} for model={recipe.model!r}"
                )
    holder = recipe
    for depth, part in enumerate(parts):
        known = [f.name for f in dataclasses.fields(holder) if not (holder is recipe and f.name in _NOT_SETTABLE[:1])]
        last = depth == len(parts) - 1
        if part not in known or dataclasses.is_dataclass(getattr(holder, part)) == last:
            raise ValueError(f"Unknown setting {name!r} for the {recipe.model} recipe. Known: {_known_settings(recipe)}")
        holder = getattr(holder, part)
    return parts


def _known_settings(recipe):
    """The names ``--set`` takes for ``recipe``, for a message: its fields, its options', ``network.FIELD``."""
    names = [f.name for f in dataclasses.fields(recipe) if f.name not in _NOT_SETTABLE]
    for option in dataclasses.fields(recipe.options):
        value = getattr(recipe.options, option.name)
        if dataclasses.is_dataclass(value):
            names += [f"{option.name}.{f.name}" for f in dataclasses.fields(value)]
        else:
            names.append(option.name)
    names += [f"network.{f.name}" for f in dataclasses.fields(recipe.network)]
    return ", ".join(names)


def _field_names(cls):
    return [f.name for f in dataclasses.fields(cls)]


def _value_at(holder, path):
    for part in path:
        holder = getattr(holder, part)
    return holder


def _replaced_at(holder, path, value):
    """``holder`` (a frozen dataclass) with the field at ``path`` replaced, and each dataclass on the way."""
    first, *rest = path
    inner = _replaced_at(getattr(holder, first), rest, value) if rest else value
    return dataclasses.replace(holder, **{first: inner})


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
    from ganlab.losses import LOSS_FAMILIES
    from ganlab.precision import check_precision

    # Checked here, not only by GAN.compile: a mistyped `--set loss=...` is told before any network is built.
    if recipe.loss not in LOSS_FAMILIES:
        raise ValueError(f"Unknown loss. Expected one of {tuple(LOSS_FAMILIES)}. Received: loss={recipe.loss!r}")

    check_precision(recipe.precision)
    declaration = registry.declaration_of(recipe.model)
    _check_options(recipe, declaration)
    if declaration.check_recipe is not None:
        declaration.check_recipe(recipe)


def _check_options(recipe, declaration):
    """Refuses a recipe whose ``options`` are another model's (such as BigGAN's for a DCGAN), naming that model."""
    if type(recipe.options) is declaration.options_class:
        return
    owners = [other for other in registry.declarations() if other.options_class is type(recipe.options)]
    owner = f" ({owners[0].title}'s, model={owners[0].name!r})" if owners else ""
    raise ValueError(
        f"options must be a {declaration.options_class.__name__} for model={recipe.model!r}. "
        f"Received: options={recipe.options!r}{owner}"
    )


def recipe_from_json(values):
    """The Recipe that ``Recipe.to_json`` described (as stored in checkpoints).

    The model's declaration says which classes its nested fields are: those of
    its default recipe (its ``network`` config and its ``options``, with the
    progressive GAN's ``schedule`` in them). A recipe saved before the options
    had their own class held every model's options as fields of its own: a
    checkpoint of then keeps its model's (``r1_weight``, ``schedule``) as
    options, and drops the other models' (their defaults then, since the
    recipe's checks refused anything else).
    """
    declared = registry.declaration_of(values["model"]).recipe
    values = dict(values)
    recipe_fields = set(_field_names(Recipe))
    own_options = set(_field_names(type(declared.options)))
    options = dict(values.pop("options", None) or {})
    for name in [name for name in values if name not in recipe_fields]:
        value = values.pop(name)
        if name in own_options:
            options[name] = value
        elif not any(name in _field_names(other.options_class) for other in registry.declarations()):
            raise ValueError(f"Unknown recipe field in a saved recipe. Received: {name}={value!r}")
    values["options"] = options
    return _from_json(declared, values)


def _from_json(template, values):
    """``values`` (``dataclasses.asdict`` read back from JSON) as an instance of ``template``'s class.

    A field that is a dataclass in ``template`` is rebuilt as that class; JSON's lists become tuples again.
    """
    from ganlab.models.config import with_tuples

    values = with_tuples(values)
    for field in dataclasses.fields(template):
        nested = getattr(template, field.name)
        if dataclasses.is_dataclass(nested) and isinstance(values.get(field.name), dict):
            values[field.name] = _from_json(nested, values[field.name])
    return type(template)(**values)


def network_for(recipe, channels=1):
    """The recipe's network config with the image shape of its data."""
    size = recipe.image_size or 28
    return dataclasses.replace(recipe.network, image_shape=(size, size, channels))


def __getattr__(name):
    if name == "CONDITIONAL_MODELS":  # read from the declarations (ganlab.choices)
        from ganlab import choices

        return choices.CONDITIONAL_MODELS
    raise AttributeError(f"module 'ganlab.recipes' has no attribute {name!r}")


__all__ = ["BUDGETS", "CONDITIONAL_MODELS", "MODELS", "ModelOptions", "Recipe", "budget", "get_recipe", "network_for", "recipe_from_json"]  # noqa: F822 (CONDITIONAL_MODELS: __getattr__)
