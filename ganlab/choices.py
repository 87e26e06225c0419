"""The names ``ganlab`` accepts for a model and a budget, without importing TensorFlow.

``ganlab.recipes`` builds the configs of Keras models, so importing it starts
TensorFlow (about 5 s). The command line needs only these names to check its
arguments: kept here, ``ganlab --help`` and a mistyped name answer at once.
``ganlab.recipes`` re-exports them (``recipes.MODELS`` is this ``MODELS``).

``MODELS`` is read from the registry of models (``ganlab.registry``): a model
registered with ``register_model`` is one of them too.
"""

from ganlab.registry import ModelNames

BUDGETS = ("fast", "default", "full")
MODELS = ModelNames()


def __getattr__(name):
    # Models trained on (image, class) pairs, whose samples carry the class asked for.
    # Read from the declarations, which import TensorFlow: only when asked for.
    if name == "CONDITIONAL_MODELS":
        from ganlab.registry import declarations

        return tuple(declaration.name for declaration in declarations() if declaration.conditional)
    raise AttributeError(f"module 'ganlab.choices' has no attribute {name!r}")
