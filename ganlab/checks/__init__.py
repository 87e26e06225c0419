"""Checks of the lessons' exercises: what is right, or exactly what is wrong.

Each exercise of a lesson is a function the student writes, followed by a
check cell::

    ganlab.checks.check_discriminator_loss(discriminator_loss)

A check runs the function on small inputs whose answers are known and prints a
report: a ✓ line for everything that is right, and for the first thing that is
wrong a ✗ line with what was expected, what came back, and a hint::

    ✗ discriminator_loss: 1 check passed, then a problem.
      ✓ returns one number (a scalar) for the whole batch.
      ✗ your discriminator loss treats fakes as real: expected 3.14, got 1.31.
        Hint: fakes have the label 0: their term is -log(1 - D(G(z))) = softplus(fake_logits).

A check never raises and never shows a traceback: an error inside the
student's function is reported as one line naming the line of the student's
code that raised it. Every check also returns a ``CheckResult`` (``passed``,
``status``, ``message``), which graders use.

Notebooks must run to the end even while exercises are unsolved (the lessons
run in CI with every exercise left as ``raise NotImplementedError``). So the
cells that *use* an exercise go through ``solution_or_reference``: it returns
the student's function when its check passes, and otherwise says so in one line
and returns ganlab's own implementation.

One module per lesson, and one for what they share (``common``); every check
is importable from ``ganlab.checks`` itself:

- ``vanilla_gan`` (01): ``build_generator``, ``build_discriminator``,
  ``discriminator_loss``, ``generator_loss``, ``gan_train_step``.
- ``dcgan`` (02): ``build_dcgan_generator``, ``build_dcgan_discriminator``,
  ``train_with_checkpoints``, ``interpolate_latents``.
- ``evaluation`` (03): ``matrix_square_root``, ``frechet_distance``,
  ``inception_score``, ``kernel_distance``.
- ``progressive_gan`` (04): ``pixel_norm``, ``minibatch_stddev``,
  ``equalized_dense``, ``fade_in``.
- ``biggan`` (05): ``conditional_batch_norm``, ``block_conditions``,
  ``orthogonal_regularization``, ``regularized_weights``, ``truncated_normal``.
- ``exploring_biggan`` (06): ``interpolate_embeddings``, ``demo_truncated_z``.

Where the library has no function of the exercise's shape, the reference is
here (``reference_gan_train_step``, ``reference_train_with_checkpoints``,
``reference_interpolate_latents``, ``reference_pixel_norm``,
``reference_minibatch_stddev``, ``reference_conditional_batch_norm``,
``reference_block_conditions``, ``reference_regularized_weights``,
``reference_interpolate_embeddings``, ``reference_demo_truncated_z``); the
others are ganlab's models, layers, losses, regularizers and samplers.
"""


from ganlab.checks.biggan import (
    check_block_conditions,
    check_conditional_batch_norm,
    check_orthogonal_regularization,
    check_regularized_weights,
    check_truncated_normal,
    reference_block_conditions,
    reference_conditional_batch_norm,
    reference_regularized_weights,
)
from ganlab.checks.common import CheckResult, Mistake, run_check, solution_or_reference
from ganlab.checks.dcgan import (
    check_build_dcgan_discriminator,
    check_build_dcgan_generator,
    check_interpolate_latents,
    check_train_with_checkpoints,
    reference_interpolate_latents,
    reference_train_with_checkpoints,
)
from ganlab.checks.evaluation import (
    check_frechet_distance,
    check_inception_score,
    check_kernel_distance,
    check_matrix_square_root,
)
from ganlab.checks.exploring_biggan import (
    check_demo_truncated_z,
    check_interpolate_embeddings,
    reference_demo_truncated_z,
    reference_interpolate_embeddings,
)
from ganlab.checks.progressive_gan import (
    check_equalized_dense,
    check_fade_in,
    check_minibatch_stddev,
    check_pixel_norm,
    reference_minibatch_stddev,
    reference_pixel_norm,
)
from ganlab.checks.vanilla_gan import (
    check_build_discriminator,
    check_build_generator,
    check_discriminator_loss,
    check_gan_train_step,
    check_generator_loss,
    reference_gan_train_step,
)

__all__ = [
    "CheckResult",
    "Mistake",
    "check_block_conditions",
    "check_build_dcgan_discriminator",
    "check_build_dcgan_generator",
    "check_build_discriminator",
    "check_build_generator",
    "check_conditional_batch_norm",
    "check_demo_truncated_z",
    "check_discriminator_loss",
    "check_equalized_dense",
    "check_fade_in",
    "check_frechet_distance",
    "check_gan_train_step",
    "check_generator_loss",
    "check_inception_score",
    "check_interpolate_embeddings",
    "check_interpolate_latents",
    "check_kernel_distance",
    "check_matrix_square_root",
    "check_minibatch_stddev",
    "check_orthogonal_regularization",
    "check_pixel_norm",
    "check_regularized_weights",
    "check_train_with_checkpoints",
    "check_truncated_normal",
    "reference_block_conditions",
    "reference_conditional_batch_norm",
    "reference_demo_truncated_z",
    "reference_gan_train_step",
    "reference_interpolate_embeddings",
    "reference_interpolate_latents",
    "reference_minibatch_stddev",
    "reference_pixel_norm",
    "reference_regularized_weights",
    "reference_train_with_checkpoints",
    "run_check",
    "solution_or_reference",
]
