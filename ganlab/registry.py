"""The models ganlab trains, each declared once by a ``ModelDeclaration``.

A model is one declaration: its GAN class, its two network builders, its
recipe in the three budgets (with the settings only it reads, its ``options``)
and the checks of its own recipe settings. Everything
that differs between models is read from it: the command line's choices
(``ganlab.choices``), the recipes (``ganlab.recipes.get_recipe``,
``recipe_from_json``) and the run conductor (``ganlab.runs``). None of them
asks which kind of model it holds.

The built-in models declare themselves in their own package,
``ganlab/models/<name>/__init__.py``, as ``DECLARATION``; ``BUILT_IN_MODELS``
names them, so that their names are known without importing TensorFlow (the
command line checks its arguments at once). A model from outside the library
(a course's own, or a test's) is declared with ``register_model``::

    register_model(ModelDeclaration(
        name="tiny", gan_class=training.GAN,
        build_generator=build_tiny_generator, build_discriminator=build_tiny_discriminator,
        recipe=Recipe(model="tiny", network=TinyConfig(), steps=2000),
        fast=dict(steps=20, steps_per_round=10),
    ))

after which ``ganlab.cli.main(["train", "tiny", ...])`` trains it.

This module imports no TensorFlow: a declaration's classes are imported by
whoever builds the declaration.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

# The models that come with ganlab, in the order of the lessons; each one's
# declaration is ``ganlab.models.<name>.DECLARATION``.
BUILT_IN_MODELS = ("vanilla", "dcgan", "progressive", "biggan")

_registered = {}  # name -> ModelDeclaration, filled as declarations are first asked for


@dataclass(frozen=True)
class ModelDeclaration:
    """Everything ganlab needs to build, train, resume and sample one kind of model.

    Attributes:
        name: the model's name on the command line (``ganlab train NAME``) and
            in recipes (``Recipe.model``).
        gan_class: a ``ganlab.training.GAN`` subclass (or ``GAN`` itself) whose
            run protocol ``ganlab.runs.train_run`` calls.
        build_generator, build_discriminator: ``builder(network_config)`` ->
            ``keras.Model``; the config is the recipe's ``network`` with the
            data's image shape (``ganlab.recipes.network_for``).
        recipe: the ``default`` budget's ``ganlab.recipes.Recipe``. Its
            ``network`` and its ``options`` (the settings only this model reads,
            such as ``ProgressiveOptions``) also tell ``recipe_from_json`` which
            classes to read a checkpoint's recipe back into, and ``--set`` which
            option names belong to this model.
        fast: the fields the ``fast`` budget replaces (tiny networks, few steps).
        full: the fields the ``full`` budget replaces (a GPU's schedule).
        conditional: True for a model trained on (image, class) pairs, whose
            samples carry the class asked for.
        title: how messages name the model ("the progressive GAN").
        check_recipe: ``check_recipe(recipe)`` raises ``ValueError`` for a
            recipe this model cannot train (its own fields' ranges and combinations).
    """

    name: str
    gan_class: type
    build_generator: Callable
    build_discriminator: Callable
    recipe: object
    fast: dict = field(default_factory=dict)
    full: dict = field(default_factory=dict)
    conditional: bool = False
    title: str = ""
    check_recipe: Callable | None = None

    def __post_init__(self):
        if getattr(self.recipe, "model", None) != self.name:
            raise ValueError(
                f"A declaration's recipe must be of its own model. Received: name={self.name!r}, "
                f"recipe.model={getattr(self.recipe, 'model', None)!r}"
            )
        if not self.title:
            object.__setattr__(self, "title", f"the {self.name} model")
        # An option by its own name (`--set r1_weight=...`) must not hide a field every recipe has.
        shared = {f.name for f in dataclasses.fields(self.recipe)} & {f.name for f in dataclasses.fields(self.options_class)}
        if shared:
            raise ValueError(f"A model's options must not repeat a recipe field's name. Received: {sorted(shared)}")

    @property
    def network_class(self):
        """The network config class of this model (that of its recipe's ``network``)."""
        return type(self.recipe.network)

    @property
    def options_class(self):
        """The class of this model's own recipe settings (that of its recipe's ``options``)."""
        return type(self.recipe.options)

    def budget_recipe(self, budget_name):
        """The recipe of a budget: ``recipe`` with that budget's fields replaced."""
        replaced = {"default": {}, "fast": self.fast, "full": self.full}[budget_name]
        return dataclasses.replace(self.recipe, **replaced)


def register_model(declaration):
    """Adds a model to those ganlab trains; returns the declaration.

    Raises:
        ValueError: another model already has that name.
    """
    if not isinstance(declaration, ModelDeclaration):
        raise ValueError(f"register_model takes a ModelDeclaration. Received: {declaration!r}")
    if declaration.name in BUILT_IN_MODELS and declaration.name not in _registered:
        _load_built_in(declaration.name)
    existing = _registered.get(declaration.name)
    if existing is not None and existing is not declaration:
        raise ValueError(f"A model named {declaration.name!r} is already declared. Received: {declaration!r}")
    _registered[declaration.name] = declaration
    return declaration


def unregister_model(name):
    """Removes a model added by ``register_model`` (the built-in ones stay)."""
    if name in BUILT_IN_MODELS:
        raise ValueError(f"The built-in models cannot be removed. Received: name={name!r}")
    _registered.pop(name, None)


def model_names():
    """The names of every model, built-in first, without importing TensorFlow."""
    return BUILT_IN_MODELS + tuple(name for name in _registered if name not in BUILT_IN_MODELS)


def declaration_of(name):
    """The ``ModelDeclaration`` of the model ``name``.

    Raises:
        ValueError: no model has that name (the message lists the known ones).
    """
    if name not in _registered and name in BUILT_IN_MODELS:
        _load_built_in(name)
    if name not in _registered:
        raise ValueError(f"Unknown model. Expected one of {ModelNames()}. Received: model={name!r}")
    return _registered[name]


def declarations():
    """Every model's declaration, in ``model_names()`` order."""
    return [declaration_of(name) for name in model_names()]


def _load_built_in(name):
    # The package declares the model on import: DECLARATION is registered here, once.
    declaration = importlib.import_module(f"ganlab.models.{name}").DECLARATION
    _registered.setdefault(name, declaration)


class ModelNames(Sequence):
    """The names of the models as a live tuple: a model registered later is in it too.

    What ``ganlab.choices.MODELS`` is, so that the command line's
    ``choices=MODELS`` accepts a model registered after it was imported.
    """

    def __getitem__(self, index):
        return model_names()[index]

    def __len__(self):
        return len(model_names())

    def __eq__(self, other):
        return tuple(self) == (tuple(other) if isinstance(other, (tuple, list, ModelNames)) else other)

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return repr(tuple(self))
