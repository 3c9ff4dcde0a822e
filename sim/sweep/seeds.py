"""Every run's seed, spawned from the experiment's root seed with numpy's ``SeedSequence``.

Run ``run_id`` is replication ``replicate`` of point ``point_id`` (``run_id = point_id *
replications + replicate``). With common random numbers (the default) replication *r* gets the
*r*-th child of the root sequence at every point, so scenarios are compared on the same draws;
otherwise each run gets its own child. A child is computed directly from its spawn key, so a
seed never depends on the backend, the number of workers or which runs already finished.
"""

from __future__ import annotations

import numpy as np


def child_seed(root_seed: int, index: int) -> int:
    """The seed of the ``index``-th child of ``SeedSequence(root_seed)``, as a 63-bit integer."""
    child = np.random.SeedSequence(root_seed, spawn_key=(index,))
    return int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_seed(root_seed: int, run_id: int, replications: int, common_random_numbers: bool) -> int:
    """The seed of one run (see the module docstring)."""
    return child_seed(root_seed, run_id % replications if common_random_numbers else run_id)
