"""Models that misbehave on purpose, for tests/test_sweep_isolation.py.

Kept apart from the tests so that a restarted run process imports only this and the model.
``FaultyModel`` misbehaves by its team caseload (one point per fault, see ``FAULTS``).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from sim.ensemble import EnsembleModel
from sim.model import PeerWorkModel

#: caseload -> the fault of its runs, and what the run table says about it
FAULTS = {20: ("none", None),
          21: ("crash", "the run's process exited with status 3"),
          22: ("segfault", "the run's process was killed by SIGSEGV"),
          23: ("sys.exit", "SystemExit: 4"),
          24: ("hang", "stopped: no result within sweep.run_timeout_s=3 s"),
          25: ("non-numeric", "summary outcome 'distinctiveness_final' is 'high', not a number"),
          26: ("none", None)}
class FaultyModel(PeerWorkModel):
    def run(self) -> PeerWorkModel:
        fault = FAULTS[self.params.team.caseload][0]
        if fault == "crash":
            os._exit(3)
        if fault == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if fault == "sys.exit":
            sys.exit(4)
        if fault == "hang":
            time.sleep(3600)
        super().run()
        if fault == "non-numeric":
            summary = self.recorder.summary()
            self.recorder.summary = lambda *_: {**summary, "distinctiveness_final": "high"}
        return self


class FaultyEnsembleModel(FaultyModel):
    """``FaultyModel`` whose runs form ensembles (``FaultyEnsemble``)."""

    ensemble_model = "sweep_fault_models.FaultyEnsemble"


class FaultyEnsemble(EnsembleModel):
    """An ensemble that ends as its worst run would alone: one faulty run takes the whole
    ensemble (its process) down, so the engine must run its runs again one at a time."""

    def run(self) -> EnsembleModel:
        faults = {FAULTS[config.team.caseload][0] for config in self.run_params}
        if "crash" in faults or "segfault" in faults:
            os._exit(3)
        if "hang" in faults:
            time.sleep(3600)
        if faults - {"none"}:
            raise RuntimeError(f"ensemble with faulty runs: {sorted(faults)}")
        return super().run()


class FlakyModel(PeerWorkModel):
    """Fails while the file named by its scenario name exists (a cause that can be fixed)."""

    def run(self) -> PeerWorkModel:
        if Path(self.params.scenario_name).exists():
            raise RuntimeError("flaky: marker present")
        return super().run()




class SlowModel(PeerWorkModel):
    """The real model after a pause, so a sweep can be stopped part-way."""

    def run(self) -> PeerWorkModel:
        time.sleep(0.4)
        return super().run()
