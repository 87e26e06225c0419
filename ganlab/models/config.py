"""What the architectures' frozen config dataclasses share: the image-shape check and JSON round trips."""

from __future__ import annotations


def check_square_image_shape(image_shape):
    """Raises ``ValueError`` unless ``image_shape`` is ``(size, size, channels)`` with size a power of two, >= 8."""
    size = image_shape[0] if len(image_shape) == 3 else None
    if size is None or image_shape[1] != size or size < 8 or size & (size - 1):
        raise ValueError(
            "image_shape must be (size, size, channels) with size a power of two, at least 8. "
            f"Received: image_shape={image_shape}"
        )
    return size


def with_tuples(values):
    """A config's ``dataclasses.asdict`` values read back from JSON, whose lists were tuples."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
