"""Everything that depends on which Mesa release is installed, in one place.

The project runs on two stacks (requirements/): Python 3.11 with Mesa 3.3, the newest Mesa for
3.11, and Python 3.12 with the newest Mesa 3.x. The model itself uses only Mesa's stable core
(``Model(rng=...)``, ``Agent``, ``AgentSet``), which behaves the same on both; what differs is
here, each with the release where it changed.
"""

from __future__ import annotations

import mesa
from packaging.version import Version

MESA_VERSION = Version(mesa.__version__)


def forget_model(model: mesa.Model) -> None:
    """Drop Mesa's own reference to a finished model, so that the model can be freed.

    Before 3.4.2, Mesa kept a class-level ``Agent._ids`` (a unique-id counter per model, keyed
    by the model) that held every model ever built (mesa issue 3179); 3.4.2 removed it along
    with the leak, so there is nothing to drop.
    """
    registry = getattr(mesa.Agent, "_ids", None)
    if registry is not None:
        registry.pop(model, None)


def step_counter_text(steps: int) -> str:
    """The text of SolaraViz's counter after ``steps`` steps of a model.

    Up to Mesa 3.5.0 it shows ``model.steps`` ("Step: 3"); from 3.5.1 ``model.time``, a float
    that a plain step advances by 1 ("Time: 3.0").
    """
    return f"Time: {float(steps)}" if Version("3.5.1") <= MESA_VERSION else f"Step: {steps}"
