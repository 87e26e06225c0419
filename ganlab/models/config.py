"""What the architectures' frozen config dataclasses share: the image-shape check and JSON round trips."""

from __future__ import annotations

import dataclasses


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


class SavesConfig:
    """Mixin for a ``keras.Model`` built from one config dataclass: saves it in ``get_config``, rebuilds it in ``from_config``.

    The class sets ``config_class`` (the dataclass) and keeps its instance in
    ``self.config``. Keras writes ``get_config()`` to a ``.keras`` file as JSON, which
    turns the dataclass's tuples into lists; ``from_config`` turns them back.
    """

    config_class = None

    def get_config(self):
        return {**super().get_config(), "config": dataclasses.asdict(self.config)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(cls.config_class(**with_tuples(config.pop("config"))), **config)
