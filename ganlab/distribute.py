"""Training on several devices: which ``tf.distribute`` strategy, and what it changes.

Under ``tf.distribute.MirroredStrategy`` every device (a *replica*) holds a copy
of both networks and of the optimizers' state. Keras' ``fit`` splits each
global batch of B images into B / R images per replica; each replica runs the
same ``train_step`` on its share, and the optimizer adds up the replicas'
gradients before it updates the (identical) copies. So each replica divides its
loss by R (``ganlab.training.GAN.train_step``):

```
sum over replicas r of  grad (L_r / R)  =  grad of the mean loss over the whole batch
```

where ``L_r`` is the mean loss over replica r's B / R images: the gradient
of one device training on the whole batch.

What differs from one device, by design of the networks, not by mistake:

- Batch normalization (DCGAN's G and D, BigGAN's G) normalizes each
  replica's images by that replica's own batch statistics, as
  ``keras.layers.BatchNormalization`` does (``synchronized=False``). A global
  batch of 64 on 2 replicas is normalized as two batches of 32.
- The Progressive GAN's minibatch standard deviation is a statistic of the
  replica's images too (its groups are taken within each replica).
- Dropout masks (the vanilla D) and DiffAugment's transformations (BigGAN)
  are drawn on each replica from the same seed state: random within a
  replica, but the replicas repeat each other's draws.

The latent vectors, BigGAN's classes and the gradient penalty's mixing
factors are drawn for the whole batch and shared out (``replica_share``), so
they are the ones one device draws. Everything else (the gradient penalty, the
EMA of G, spectral norm's u, the orthogonal penalty, the metrics) matches one
device; ``tests/test_distribute.py`` checks one SGD step of every model (each weight to
1e-3 of how far the step moved it).

Example:

```python
strategy = strategy_for(devices=2)        # two GPUs (or two logical CPUs)
gan = ganlab.runs.build_gan(recipe, strategy=strategy)
```
"""

from __future__ import annotations

import contextlib
import numbers

import tensorflow as tf


def strategy_for(devices=None):
    """The strategy to train on ``devices`` devices.

    Args:
        devices: how many devices (GPUs when there are any, else CPUs,
            such as logical CPUs set up with
            ``tf.config.set_logical_device_configuration``). None: every GPU
            when there are two or more, else one device.

    Returns:
        ``tf.distribute.MirroredStrategy`` over the first ``devices`` devices,
        or the default (single-device) strategy for one device.
    """
    gpus = tf.config.list_logical_devices("GPU")
    available = gpus or tf.config.list_logical_devices("CPU")
    if devices is None:
        devices = len(gpus) if len(gpus) > 1 else 1
    if isinstance(devices, bool) or not isinstance(devices, numbers.Integral) or devices < 1:
        raise ValueError(f"devices must be a positive integer. Received: devices={devices!r}")
    if devices > len(available):
        kind = "GPU" if gpus else "CPU"
        raise ValueError(
            f"devices must be at most the number of {kind} devices, {len(available)} "
            f"({', '.join(device.name for device in available)}). Received: devices={devices}"
        )
    if devices == 1:
        return tf.distribute.get_strategy()
    names = [device.name for device in available[:devices]]
    if gpus:
        return tf.distribute.MirroredStrategy(names)
    # On CPUs the default all-reduce (collective ops) may pair the two optimizers'
    # gradient packs in different orders on different replicas, and aborts
    # ("Shape mismatch in the collective instance"); reducing on one device cannot.
    return tf.distribute.MirroredStrategy(names, cross_device_ops=tf.distribute.ReductionToOneDevice())


def replica_share(draw, batch_size):
    """This replica's ``batch_size`` rows of ``draw(global batch size)``; ``draw(batch_size)`` on one device.

    Every replica starts its random draws from the same seed state, so R
    replicas each drawing ``batch_size`` latent vectors would draw the *same*
    vectors R times. Each replica instead draws the whole global batch and
    keeps its own share: the replicas' draws differ, and together they are
    exactly what one device draws for the whole batch.

    Args:
        draw: a function from a number of rows to a tensor of that many rows.
        batch_size: rows per replica.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return draw(batch_size)
    values = draw(batch_size * replicas)
    start = tf.distribute.get_replica_context().replica_id_in_sync_group * batch_size
    return values[start : start + batch_size]


def scope(strategy):
    """``strategy.scope()``, or a block that changes nothing when ``strategy`` is None."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def check_batch_sizes(recipe, strategy):
    """Every batch size of ``recipe`` must split evenly over the strategy's replicas.

    Each replica's loss is divided by the number of replicas, which is the
    mean over the global batch only when every replica holds as many images.
    """
    replicas = strategy.num_replicas_in_sync
    sizes = recipe.options.batch_sizes(recipe.batch_size)  # the progressive GAN's: one per resolution
    for size in sizes:
        if size % replicas:
            raise ValueError(
                f"Each batch must split evenly over the {replicas} devices. "
                f"Received: batch size {size} (batch sizes {tuple(sizes)}), devices={replicas}"
            )


__all__ = ["check_batch_sizes", "replica_share", "scope", "strategy_for"]
