"""ganlab: the library of the ganlab course on generative adversarial networks.

Read it module by module, one concept per file:

- ``ganlab.data``: MNIST / Fashion-MNIST, offline first, as float32 in [-1, 1]
  (``ganlab.dataset_tool``: the maintainers' tool that writes the shipped subset).
- ``ganlab.losses``: adversarial losses on logits (BCE, hinge, Wasserstein, penalties).
- ``ganlab.models``: one folder per model, ``ganlab/models/<model>/`` (vanilla, dcgan,
  progressive, biggan): its networks, its GAN class where the train step differs,
  and its declaration (GAN class, builders, recipes in three budgets).
- ``ganlab.registry``: the models ganlab trains, each declared once (``register_model`` adds one).
- ``ganlab.layers``: Keras layers, one per file (pixel norm, minibatch stddev, equalized layers, fade-in).
- ``ganlab.training``: the ``GAN`` keras.Model: its train step and the run protocol.
- ``ganlab.checkpoints``: checkpoints and resume (safe replacement, integrity checks).
- ``ganlab.models.progressive.gan``: progressive growing: the schedule, the GAN that grows,
  its callback (``ganlab.growing``, its old import path, still works).
- ``ganlab.models.biggan.gan``: BigGAN's class-conditional GAN (hinge loss, orthogonal
  regularization, EMA with standing statistics, sampling by class; ``ganlab.conditional``,
  its old import path, still works).
- ``ganlab.regularizers``: BigGAN's orthogonal regularization.
- ``ganlab.sampling``: truncated normal latents (the truncation trick), interpolation.
- ``ganlab.shipped``: the trained BigGANs shipped in ``ganlab/assets``; loading a model by name or run.
- ``ganlab.explorer``: lesson 06's explorer of a BigGAN (the TF Hub demo's controls), in Jupyter
  (widgets) and as a local web page (``ganlab explore``).
- ``ganlab.callbacks``: sample grids, metrics logging, checkpoints, time limits.
- ``ganlab.tracking``: Comet experiments, online / offline / off.
- ``ganlab.recipes``: the training recipes and budgets (fast / default / full).
- ``ganlab.choices``: the names of the models and budgets (no TensorFlow: the CLI checks its arguments at once).
- ``ganlab.runs``: one training run into one folder (what ``ganlab train`` does).
- ``ganlab.precision``: mixed precision (float16 / bfloat16 computation, float32 weights).
- ``ganlab.distribute``: training on several devices (``tf.distribute.MirroredStrategy``).
- ``ganlab.viz``: image grids, curves, GIFs.
- ``ganlab.classifier``: the small domain classifier that replaces Inception here.
- ``ganlab.metrics``: lesson 03's maths on features: FID, Inception-style score, KID,
  precision/recall, class accuracy.
- ``ganlab.evaluation``: those metrics on images, sample files and runs (the classifier,
  caching, ``ganlab evaluate``'s files, formatting).
- ``ganlab.checks``: the exercise checks of the notebooks.
- ``ganlab.grading``: instructor grading of submitted notebooks (``ganlab grade``).
- ``ganlab.lessons``: builds the student notebooks from the solutions.

Submodules are imported lazily, so ``import ganlab`` is quick and does not start
TensorFlow until a submodule that needs it is used. It does install
``ganlab.startup``'s hook, which keeps TensorFlow's start-up messages out of a
CPU-only machine's output: import ``ganlab`` before ``keras`` or ``tensorflow``.
"""

import importlib

from ganlab import startup

startup.hide_tensorflow_startup_messages()

__version__ = "0.1.0"

_SUBMODULES = (
    "callbacks",
    "checkpoints",
    "checks",
    "choices",
    "classifier",
    "conditional",
    "data",
    "dataset_tool",
    "distribute",
    "evaluation",
    "explorer",
    "grading",
    "growing",
    "layers",
    "lessons",
    "losses",
    "metrics",
    "models",
    "precision",
    "recipes",
    "registry",
    "regularizers",
    "runs",
    "sampling",
    "shipped",
    "startup",
    "tracking",
    "training",
    "viz",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"ganlab.{name}")
    raise AttributeError(f"module 'ganlab' has no attribute {name!r}")


__all__ = list(_SUBMODULES)
