"""Adversarial losses, one family per pair of functions.

Every discriminator here outputs a *logit* (an unbounded score), never a
probability: ``D(x) = sigmoid(logit)`` where a probability is needed. Working on
logits lets the losses use ``softplus``, which is exact where ``log(sigmoid(x))``
would round to ``log(0)``. Two identities do the work::

    -log(sigmoid(x))     = softplus(-x)
    -log(1 - sigmoid(x)) = softplus(x)

Names follow TF-GAN: ``<family>_generator_loss`` and
``<family>_discriminator_loss``. ``LOSS_FAMILIES`` maps a family name to its pair,
which is how ``GAN.compile(loss=...)`` chooses them.
"""

from __future__ import annotations

import keras
from keras import ops


def bce_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Binary cross-entropy of the discriminator: real is 1, fake is 0.

    ```
    L_D = E_x[-log D(x)] + E_z[-log(1 - D(G(z)))]
        = mean(softplus(-real_logits)) + mean(softplus(fake_logits))
    ```

    With one-sided label smoothing ``s`` (Salimans et al. 2016) the real target
    is ``1 - s`` instead of 1; fakes keep the target 0.

    Args:
        real_logits: discriminator logits on real images, shape ``(N, 1)`` or ``(N,)``.
        fake_logits: discriminator logits on generated images.
        label_smoothing: ``s`` in [0, 1).

    Returns:
        A scalar. Both logits 0 (D undecided) give ``2 log 2 = 1.386``.

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(
            f"label_smoothing must be in [0, 1). Received: label_smoothing={label_smoothing}"
        )
    real_target = 1.0 - label_smoothing
    # Cross-entropy with target t on a logit x: t * softplus(-x) + (1 - t) * softplus(x).
    real_loss = real_target * ops.softplus(-real_logits) + (1.0 - real_target) * ops.softplus(
        real_logits
    )
    fake_loss = ops.softplus(fake_logits)
    return ops.mean(real_loss) + ops.mean(fake_loss)


def bce_generator_loss(fake_logits):
    """The non-saturating generator loss: G wants D to call its fakes real.

    ```
    L_G = E_z[-log D(G(z))] = mean(softplus(-fake_logits))
    ```

    Early in training D rejects fakes confidently (``D(G(z))`` near 0). The
    minimax loss ``log(1 - D(G(z)))`` is flat there and gives G almost no
    gradient; this loss is steep there instead. Same fixed point, better
    gradients (Goodfellow et al. 2014, section 3).

    Returns:
        A scalar. A logit of 0 gives ``log 2 = 0.693``.
    """
    return ops.mean(ops.softplus(-fake_logits))


def minimax_generator_loss(fake_logits):
    """The original (saturating) minimax generator loss, for comparison.

    ```
    L_G = E_z[log(1 - D(G(z)))] = -mean(softplus(fake_logits))
    ```

    G minimizes it. Its gradient vanishes when D confidently rejects fakes,
    which is why ``bce_generator_loss`` is used for training.
    """
    return -ops.mean(ops.softplus(fake_logits))


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of the discriminator (Lim & Ye 2017; used by SAGAN and BigGAN).

    ```
    L_D = mean(relu(1 - real_logits)) + mean(relu(1 + fake_logits))
    ```

    D stops being pushed once a real scores above 1 or a fake below -1.
    """
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """Hinge-family generator loss: ``L_G = -mean(fake_logits)``."""
    return -ops.mean(fake_logits)


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """Wasserstein critic loss (Arjovsky et al. 2017).

    ```
    L_D = mean(fake_logits) - mean(real_logits)
    ```

    Only meaningful with a Lipschitz constraint on D, such as ``gradient_penalty``.
    """
    return ops.mean(fake_logits) - ops.mean(real_logits)


def wasserstein_generator_loss(fake_logits):
    """Wasserstein generator loss: ``L_G = -mean(fake_logits)``."""
    return -ops.mean(fake_logits)


def gradient_penalty(discriminator, real_images, fake_images, mixing=None, seed=None, loss_scale=None):
    """WGAN-GP's penalty on the critic's gradient norm (Gulrajani et al. 2017).

    ```
    x_hat = real + mixing * (fake - real),   mixing ~ U(0, 1) per image
    GP    = mean((||grad_x_hat D(x_hat)||_2 - 1)^2)
    ```

    The gradient norm is taken over all pixels and channels of each image. The
    caller multiplies by lambda (10 in the paper). TensorFlow backend only: the
    gradient is taken with a ``tf.GradientTape``.

    Under mixed precision the images are mixed in float32 (G may hand over
    float16 fakes) and the penalty is computed in float32. Its inner gradient
    flows back through D's float16 layers, where small values round to zero:
    with ``loss_scale`` the scores are multiplied by it before that gradient
    and the gradient divided by it after, as the official Progressive GAN code
    does (``opt.apply_loss_scaling`` / ``undo_loss_scaling`` in ``loss.py``).
    An overflow there makes the penalty, and so the outer gradients, non-finite:
    the loss-scale optimizer then skips the step and lowers the scale.

    Args:
        discriminator: a callable from images to logits.
        real_images, fake_images: batches of the same shape ``(N, H, W, C)``.
        mixing: optional ``(N, 1, 1, 1)`` mixing factors; drawn uniformly when None.
        seed: seed or ``keras.random.SeedGenerator`` for ``mixing``.
        loss_scale: None, or the loss scale of a float16 critic
            (``optimizer.scale_loss(1.0)`` of a ``keras.optimizers.LossScaleOptimizer``).

    Returns:
        A float32 scalar.
    """
    real_images = ops.cast(real_images, "float32")
    fake_images = ops.cast(fake_images, "float32")
    if mixing is None:
        batch_size = ops.shape(real_images)[0]
        mixing = keras.random.uniform((batch_size, 1, 1, 1), seed=seed)
    interpolated = real_images + ops.cast(mixing, "float32") * (fake_images - real_images)
    gradients = _input_gradients(lambda images: discriminator(images, training=True), interpolated, loss_scale)
    # [N, H, W, C] -> [N]: one norm per image.
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=(1, 2, 3)) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


def drift_penalty(real_logits):
    """ProGAN's drift term, ``mean(real_logits^2)``: keeps critic scores near 0.

    The caller multiplies by epsilon_drift (0.001 in Karras et al. 2018).
    """
    return ops.mean(ops.square(real_logits))


def r1_penalty(discriminator, real_images, loss_scale=None):
    """The R1 penalty: the squared gradient norm of D's logits on *real* images.

    ```
    R1 = mean(||grad_x D(x)||_2^2)        x: real images
    L_D = (non-saturating logistic loss) + gamma / 2 * R1
    ```

    Mescheder et al., "Which Training Methods for GANs do actually Converge?",
    ICML 2018. Unlike WGAN-GP it needs no fake or interpolated images and has no
    target norm: it pulls D's gradient towards 0 on the data, so that D does
    not overshoot where G's images should go. StyleGAN (Karras et al. 2019, the
    Progressive GAN's successor, which grows its networks the same way) pairs it
    with the non-saturating loss; StyleGAN2 computes it only every k-th step,
    weighted by k ("lazy regularization"). The caller multiplies by gamma / 2.

    How the course's ``ProgressiveGAN(loss="bce")`` differs from StyleGAN2's
    lazy regularization (``stylegan2``, ``training_loop.py``): the weighted
    penalty is added to the same step's D loss, one D update, where StyleGAN2
    takes it as a separate minibatch and optimizer step and compensates Adam for
    it (learning rate multiplied by ``k / (k + 1)``, Adam's betas raised to that
    power); and k is 8 (the recipe's ``r1_interval``) where StyleGAN2 uses 16
    for D.

    Args:
        discriminator: a callable from images to logits ``(N, 1)``.
        real_images: a batch ``(N, H, W, C)``.
        loss_scale: None, or the loss scale of a float16 critic, applied to the
            inner gradient as in ``gradient_penalty``.

    Returns:
        A float32 scalar. For a linear D, ``D(x) = sum(w * x)``, it is ``sum(w^2)``.
    """
    gradients = _input_gradients(discriminator, ops.cast(real_images, "float32"), loss_scale)
    return ops.mean(ops.sum(ops.square(gradients), axis=(1, 2, 3)))


def _input_gradients(discriminator, images, loss_scale=None):
    """float32 gradients of D's logits with respect to ``images``, each image's own (the two penalties' shared part).

    With ``loss_scale`` the logits are multiplied by it before the gradient and
    the gradient divided by it after (see ``gradient_penalty``).
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = ops.cast(discriminator(images), "float32")
        if loss_scale is not None:
            logits = logits * loss_scale
    gradients = ops.cast(tape.gradient(logits, images), "float32")
    return gradients / loss_scale if loss_scale is not None else gradients


def check_penalty_samples(penalty_samples):
    """``penalty_samples`` if it is None or a positive integer; a ``ValueError`` naming it otherwise."""
    if penalty_samples is not None and (
        isinstance(penalty_samples, bool) or not isinstance(penalty_samples, int) or penalty_samples < 1
    ):
        raise ValueError(
            f"penalty_samples must be None (the whole batch) or a positive integer. "
            f"Received: penalty_samples={penalty_samples!r}"
        )
    return penalty_samples


def wgan_gp_discriminator_loss(
    discriminator, real_images, fake_images, gradient_penalty_weight=10.0, drift_weight=0.001, seed=None,
    loss_scale=None, mixing=None, penalty_samples=None,
):
    """The progressive GAN's critic loss: WGAN-GP plus the drift term on the real scores.

    ```
    L_D = mean(D(fake)) - mean(D(real))
          + lambda * mean((||grad D(x_hat)||_2 - 1)^2)     lambda = 10 (Gulrajani et al. 2017)
          + epsilon_drift * mean(D(real)^2)               epsilon_drift = 0.001 (Karras et al. 2018)
    ```

    The drift term is on the *real* scores only, as in the official
    ``D_wgangp_acgan`` (``tkarras/progressive_growing_of_gans``, ``loss.py``);
    some ports apply it to the fake scores too, which is not the paper's loss.

    Args:
        discriminator: a callable from images to scores ``(N, 1)``, called with
            the images only (for a Keras model in training mode:
            ``lambda images: model(images, training=True)``).
        real_images, fake_images: batches of the same shape.
        gradient_penalty_weight: lambda.
        drift_weight: epsilon_drift.
        seed: seed or ``keras.random.SeedGenerator`` of the penalty's mixing factors.
        loss_scale: the loss scale of a float16 critic, for the penalty's
            inner gradient (see ``gradient_penalty``); None without one.
        mixing: the penalty's mixing factors ``(N, 1, 1, 1)``; drawn from ``seed`` when None.
        penalty_samples: None (the paper's: the penalty averages over every
            pair of the batch), or a positive integer n: the penalty on the
            first n pairs only. The same expectation estimated from fewer
            interpolates, with more noise, for a cheaper double
            backpropagation. *Not the paper's implementation.* The
            Wasserstein and drift terms always use the whole batch.

    Returns:
        ``(loss, real_scores, fake_scores, penalty)``: the scalar loss, the
        scores (float32) and the unweighted gradient penalty.
    """
    check_penalty_samples(penalty_samples)

    def scores(images, training=True):  # gradient_penalty passes training=True
        return ops.cast(discriminator(images), "float32")

    real_scores, fake_scores = scores(real_images), scores(fake_images)
    if penalty_samples is not None:
        real_images, fake_images = real_images[:penalty_samples], fake_images[:penalty_samples]
        mixing = None if mixing is None else mixing[:penalty_samples]
    penalty = gradient_penalty(scores, real_images, fake_images, mixing=mixing, seed=seed, loss_scale=loss_scale)
    loss = (
        wasserstein_discriminator_loss(real_scores, fake_scores)
        + gradient_penalty_weight * ops.cast(penalty, "float32")
        + drift_weight * drift_penalty(real_scores)
    )
    return loss, real_scores, fake_scores, penalty


def discriminator_accuracy(real_logits, fake_logits):
    """Fractions of real images called real (logit > 0) and of fakes called fake.

    Returns:
        ``(real_accuracy, fake_accuracy)``, two scalars in [0, 1].
    """
    real_accuracy = ops.mean(ops.cast(real_logits > 0, "float32"))
    fake_accuracy = ops.mean(ops.cast(fake_logits < 0, "float32"))
    return real_accuracy, fake_accuracy


LOSS_FAMILIES = {
    "bce": (bce_generator_loss, bce_discriminator_loss),
    "minimax": (minimax_generator_loss, bce_discriminator_loss),
    "hinge": (hinge_generator_loss, hinge_discriminator_loss),
    "wasserstein": (wasserstein_generator_loss, wasserstein_discriminator_loss),
}
