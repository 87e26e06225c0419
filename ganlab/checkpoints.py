"""Checkpoints: a training run saved so that ``--resume`` continues it, safe against a kill or a bad disk.

A checkpoint is a folder holding two files:

- ``gan.weights.h5``: G, D, the EMA generator, both optimizers and the step
  counter, through Keras' weight saving (which walks the model's attributes);
- ``state.json``: the step, the seed generator's state, the weights file's
  size and SHA-256, and the run's own extra state (its recipe, seed, command,
  Comet experiment key; see ``ganlab.runs.run_state``).

``save_checkpoint`` replaces a checkpoint in steps that leave an intact one
behind whatever moment training is killed at, and keeps the one before it as
``<folder>.previous``; ``find_checkpoint`` / ``require_checkpoint`` pick the
newest intact one; ``restore_checkpoint`` loads it into a compiled GAN. This
is file handling, not a lesson's concept: lesson 02 uses it through
``ganlab.training`` (which re-exports every name here).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np

# A run folder's checkpoint folder, and the two files in it.
CHECKPOINT_FOLDER = "checkpoint"
CHECKPOINT_WEIGHTS_FILE = "gan.weights.h5"
CHECKPOINT_STATE_FILE = "state.json"
# Siblings of a checkpoint folder while a new checkpoint replaces it (see save_checkpoint).
PARTIAL_SUFFIX = ".partial"
PREVIOUS_SUFFIX = ".previous"
# Where settle_checkpoint puts a damaged checkpoint, for inspection (it is never resumed from).
DAMAGED_SUFFIX = ".damaged"



def save_checkpoint(gan, directory, extra_state=None):
    """Saves everything needed to continue training into ``directory``, keeping the one before.

    Writes ``gan.weights.h5`` (G, D, EMA G, both optimizers, the step counter
    and the seed generator's state, through Keras' weight saving, which walks
    the model's attributes) and ``state.json`` (the step, the weights file's
    size and SHA-256, and ``extra_state``).

    A kill at any moment leaves at least one complete checkpoint behind, and a
    checkpoint damaged later (a file cut short by a full disk or a power cut
    before it reached the disk) has the one before it to fall back on:

    1. the new one is written to ``<directory>.partial`` (``state.json`` last,
       so a folder holding it is complete) and flushed to the disk;
    2. the one before the old one (``<directory>.previous``) is deleted;
    3. the old one is renamed to ``<directory>.previous`` (or deleted, when
       it holds the same step as the new one);
    4. the new one is renamed to ``<directory>``.

    ``find_checkpoint`` picks the newest intact one of the three.

    Returns:
        The checkpoint directory as a ``Path``.
    """
    directory = Path(directory)
    temporary = _sibling(directory, PARTIAL_SUFFIX)
    previous = _sibling(directory, PREVIOUS_SUFFIX)
    _remove_checkpoint(temporary)
    temporary.mkdir(parents=True)
    weights = temporary / CHECKPOINT_WEIGHTS_FILE
    gan.save_weights(weights)
    _flush_to_disk(weights)
    state = {
        "step": int(gan.step.numpy()),
        # The seed generator's state is not among the saved weights; keeping it
        # makes a resumed run draw the same latent vectors as an uninterrupted one.
        "seed_generator_state": keras.ops.convert_to_numpy(gan.seed_generator.state).tolist(),
        # What the weights file must be, to tell an intact checkpoint from a damaged one.
        "weights_bytes": weights.stat().st_size,
        "weights_sha256": _sha256(weights),
        **(extra_state or {}),
    }
    (temporary / CHECKPOINT_STATE_FILE).write_text(json.dumps(state, indent=2))
    _flush_to_disk(temporary / CHECKPOINT_STATE_FILE)
    if directory.exists():
        if _step_of(directory) == state["step"]:
            # The same step saved again (such as after the final samples): the
            # checkpoint of the step before stays the previous one.
            _remove_checkpoint(directory)
        else:
            _remove_checkpoint(previous)
            directory.rename(previous)
    temporary.rename(directory)
    return directory


def checkpoint_problem(directory):
    """Why ``directory`` is not an intact checkpoint, in a few words, or None when it is one.

    Intact: ``state.json`` reads as JSON with a step, and ``gan.weights.h5``
    has the size and SHA-256 that ``state.json`` recorded (checkpoints older
    than that record: the file opens as HDF5).
    """
    directory = Path(directory)
    weights = directory / CHECKPOINT_WEIGHTS_FILE
    if not weights.exists():
        return f"{CHECKPOINT_WEIGHTS_FILE} is missing"
    try:
        state = read_checkpoint_state(directory)
        int(state["step"])
    except (ValueError, KeyError, TypeError):
        return f"{CHECKPOINT_STATE_FILE} is missing or incomplete"
    size = weights.stat().st_size
    if "weights_bytes" in state:
        if size != state["weights_bytes"]:
            return f"{CHECKPOINT_WEIGHTS_FILE} has {size} bytes instead of {state['weights_bytes']} (cut short)"
        if _sha256(weights) != state.get("weights_sha256"):
            return f"{CHECKPOINT_WEIGHTS_FILE} does not match its SHA-256 in {CHECKPOINT_STATE_FILE} (corrupted)"
        return None
    import h5py

    try:
        h5py.File(weights, "r").close()
    except OSError as error:
        return f"{CHECKPOINT_WEIGHTS_FILE} is not a readable HDF5 file ({error})"
    return None


def find_checkpoint(directory, warn=True):
    """The newest intact checkpoint among ``directory`` and its ``.previous`` / ``.partial`` siblings.

    ``checkpoint_problem`` decides what is intact. Of several intact ones (a
    kill during ``save_checkpoint`` can leave three), the one with the highest
    step wins. When ``directory`` itself is damaged and an older one is used
    instead, a ``CheckpointWarning`` says so (unless ``warn`` is False).

    Returns:
        The folder as a ``Path``, or None when there is no intact checkpoint.
    """
    directory = Path(directory)
    best, best_step = None, -1
    for candidate in _candidates(directory):
        if checkpoint_problem(candidate) is None:
            step = int(read_checkpoint_state(candidate)["step"])
            if step > best_step:
                best, best_step = candidate, step
    damaged = damaged_checkpoints(directory)
    if warn and damaged and best is not None:
        warnings.warn(
            f"{_describe(damaged)}: using the intact checkpoint {best} (step {best_step}) instead.",
            CheckpointWarning,
            stacklevel=2,
        )
    return best


def damaged_checkpoints(directory):
    """``[(folder, problem)]``: the checkpoints of ``directory`` (itself and ``.previous``) that are not intact.

    Only folders holding a ``state.json`` count: one without it was being
    deleted when training stopped (``_remove_checkpoint`` deletes it first).
    A ``.partial`` folder is a checkpoint that was being written: used when
    complete, never called damaged.
    """
    damaged = []
    for candidate in (Path(directory), _sibling(Path(directory), PREVIOUS_SUFFIX)):
        if (candidate / CHECKPOINT_STATE_FILE).exists():
            problem = checkpoint_problem(candidate)
            if problem is not None:
                damaged.append((candidate, problem))
    return damaged


def require_checkpoint(directory, warn=True):
    """The newest intact checkpoint of ``directory``, or None when none was ever written.

    Raises:
        ValueError: there are checkpoints, but none is intact: it names each
            folder and what is wrong with it (and never ends in an HDF5 traceback).
    """
    found = find_checkpoint(directory, warn=warn)
    damaged = damaged_checkpoints(directory)
    if found is None and damaged:
        raise ValueError(
            f"No intact checkpoint is left in {Path(directory).parent}: {_describe(damaged)}. "
            "Training cannot continue from it; start again with another --out folder "
            "(or delete the damaged checkpoint folders)."
        )
    return found


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped and an older intact one used."""


def settle_checkpoint(directory):
    """Puts the newest intact checkpoint back under ``directory``'s own name and returns it.

    After a kill inside ``save_checkpoint`` the newest intact checkpoint may
    be ``<directory>.partial`` or ``<directory>.previous``. Renaming it into
    place before training continues means the next save replaces it the safe
    way (and does not delete it as a stale ``.partial``). An intact older
    checkpoint under ``directory`` becomes ``.previous``; a damaged one is
    kept for inspection as ``<directory>.damaged``.

    Returns:
        ``directory`` as a ``Path``, or None when there is no intact checkpoint.

    Raises:
        ValueError: checkpoints exist but none is intact (``require_checkpoint``).
    """
    directory = Path(directory)
    newest = require_checkpoint(directory, warn=False)
    if newest is None or newest == directory:
        return newest
    # Each rename below leaves `newest` intact under a name find_checkpoint looks at.
    if directory.exists():
        if checkpoint_problem(directory) is None and newest.name.endswith(PARTIAL_SUFFIX):
            previous = _sibling(directory, PREVIOUS_SUFFIX)
            _remove_checkpoint(previous)
            directory.rename(previous)
        else:
            damaged = _sibling(directory, DAMAGED_SUFFIX)
            shutil.rmtree(damaged, ignore_errors=True)
            directory.rename(damaged)
    newest.rename(directory)
    return directory


def restore_checkpoint(gan, directory):
    """Restores a checkpoint written by ``save_checkpoint`` into a compiled ``gan``.

    Returns:
        The saved state dictionary (``step`` and any extra state).

    Raises:
        ValueError: ``directory`` is not an intact checkpoint (``checkpoint_problem``
            says why), or the GAN is not compiled.
    """
    directory = Path(directory)
    if not hasattr(gan, "d_optimizer"):
        raise ValueError("Compile the GAN before restoring a checkpoint: the optimizers are part of it.")
    problem = checkpoint_problem(directory)
    if problem is not None:
        raise ValueError(f"No intact checkpoint in {directory}: {problem}.")
    gan.load_weights(directory / CHECKPOINT_WEIGHTS_FILE)
    state = read_checkpoint_state(directory)
    if "seed_generator_state" in state:
        gan.seed_generator.state.assign(
            np.asarray(state["seed_generator_state"], dtype=gan.seed_generator.state.dtype)
        )
    return state


def read_checkpoint_state(directory):
    """The ``state.json`` of a checkpoint as a dict."""
    path = Path(directory) / CHECKPOINT_STATE_FILE
    if not path.exists():
        raise ValueError(f"No checkpoint in {directory}: {CHECKPOINT_STATE_FILE} is missing.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"The checkpoint in {directory} is incomplete: {path} is not valid JSON ({error}).") from None


def _step_of(directory):
    try:
        return int(read_checkpoint_state(directory)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def _sibling(directory, suffix):
    return directory.with_name(directory.name + suffix)


def _candidates(directory):
    return [directory, _sibling(directory, PREVIOUS_SUFFIX), _sibling(directory, PARTIAL_SUFFIX)]


def _describe(damaged):
    return "; ".join(f"the checkpoint {folder} is damaged: {problem}" for folder, problem in damaged)


def _remove_checkpoint(folder):
    """Deletes a checkpoint folder, its ``state.json`` first: a kill halfway leaves no folder that looks complete."""
    (folder / CHECKPOINT_STATE_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _flush_to_disk(path):
    """Waits until ``path``'s bytes are on the disk, so that a power cut after the renames cannot cut it short."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())
