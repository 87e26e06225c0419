"""The fade-in of a new resolution (Karras et al. 2018, section 3)."""

from __future__ import annotations

import numbers

from keras import ops


def fade_in(alpha, old, new):
    """Blends the old path into the new one: ``old`` at alpha 0, ``new`` at alpha 1.

    ```
    fade_in(alpha, old, new) = old + alpha * (new - old) = (1 - alpha) * old + alpha * new
    ```

    While a new resolution grows in, G's output is the blend of the previous
    resolution's image (upsampled) and the new block's image; D's input is
    blended the same way on its side, and so are the real images. Alpha rises
    from 0 to 1 over the transition phase, so the new block starts with no
    influence and the networks trained so far are not shocked.

    Args:
        alpha: a Python number in [0, 1], a scalar tensor, or a
            ``keras.Variable``. A variable lets one traced ``tf.function``
            serve a whole fade-in: assigning a new alpha does not retrace, while
            a new Python number would.
        old: the old path's tensor.
        new: the new block's tensor, of the same shape.

    Returns:
        The blend, of the shape of ``old`` and ``new``.

    Raises:
        ValueError: when ``alpha`` is a Python number outside [0, 1]. (A tensor
            or variable alpha is not checked: that would need a value in the
            middle of a traced graph.)

    Example:

    >>> fade_in(0.25, np.zeros(2), np.array([4.0, 8.0]))
    array([1., 2.])

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, figure 2; ``lerp(a, b, t)`` in
        ``tkarras/progressive_growing_of_gans/networks.py``, with ``a`` the
        old path and ``b`` the new one.
    """
    if isinstance(alpha, numbers.Real) and not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]. Received: alpha={alpha!r}")
    if not isinstance(alpha, numbers.Real) and hasattr(old, "dtype"):
        # A float32 alpha variable blends float16 features under mixed precision.
        alpha = ops.cast(alpha, old.dtype)
    return old + alpha * (new - old)
