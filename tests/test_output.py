"""The model fingerprint: it covers every module that decides a run's numbers, and moves when
their code does (so a resume never mixes runs of two models)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim.output import MODEL_MODULES, model_fingerprint

ROOT = Path(__file__).resolve().parent.parent


def test_fingerprint_covers_every_module_the_model_imports():
    code = ("import json, sys, sim.model, sim.ensemble; "
            "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items() "
            "if n.startswith('sim.') and getattr(m, '__file__', None))))")
    imported = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                                         capture_output=True, text=True).stdout)
    package = ROOT
    covered = {f.resolve() for pattern in MODEL_MODULES for f in package.glob(pattern)}
    missing = [f for f in imported if Path(f).resolve() not in covered
               and not f.endswith("__init__.py")]
    assert not missing, f"add to sim.output.MODEL_MODULES: {missing}"


def test_fingerprint_moves_with_the_code_and_only_with_it(tmp_path):
    model_file = tmp_path / "custom_model.py"
    model_file.write_text("X = 1\n")
    before = model_fingerprint(model_file)
    assert model_fingerprint(model_file) == before  # stable
    assert model_fingerprint() != before  # the extra file counts
    model_file.write_text("X = 2\n")
    assert model_fingerprint(model_file) != before
