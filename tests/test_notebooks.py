"""Every notebook in ``notebooks/`` runs top to bottom without error.

Each is executed in a fresh Jupyter kernel of this environment (nbclient; ``ipykernel`` in the
dev dependencies), from the ``notebooks/`` folder as a reader would run it. Notebooks are kept
small so each finishes in under a minute; a failing cell fails the test with its traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CELL_TIMEOUT_S = 300


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell's traceback, on any error
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")

