"""The names ``ganlab`` accepts for a model and a budget, without importing TensorFlow.

``ganlab.recipes`` builds the configs of Keras models, so importing it starts
TensorFlow (about 5 s). The command line needs only these names to check its
arguments: kept here, ``ganlab --help`` and a mistyped name answer at once.
``ganlab.recipes`` re-exports them (``recipes.MODELS`` is this ``MODELS``).
"""

BUDGETS = ("fast", "default", "full")
MODELS = ("vanilla", "dcgan", "progressive", "biggan")
# Models trained on (image, class) pairs, whose samples carry the class asked for.
CONDITIONAL_MODELS = ("biggan",)
