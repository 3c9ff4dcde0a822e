"""sim/compat.py: the Mesa-version-dependent code gives each Mesa release what it expects."""

from __future__ import annotations

import mesa
import pytest
from packaging.version import Version

from sim import compat
from tests.conftest import small_model


def test_forget_model_drops_the_model_from_mesas_registry(monkeypatch):
    """Mesa < 3.4.2 keeps every model in ``Agent._ids``; forgetting one removes only it."""
    model, other = small_model(), small_model()
    monkeypatch.setattr(mesa.Agent, "_ids", {model: iter([7]), other: iter([3])}, raising=False)
    compat.forget_model(model)
    assert model not in mesa.Agent._ids
    assert other in mesa.Agent._ids


def test_forget_model_is_a_no_op_without_the_registry(monkeypatch):
    """Mesa >= 3.4.2 has no ``Agent._ids``: nothing to drop, and no error (it used to end
    whole sweeps, raised from a ``finally`` block)."""
    model = small_model()
    before = dict(vars(model))
    monkeypatch.delattr(mesa.Agent, "_ids", raising=False)
    compat.forget_model(model)
    assert vars(model) == before  # the model itself is untouched


def test_forget_model_works_on_the_installed_mesa():
    model = small_model()
    compat.forget_model(model)
    assert model not in getattr(mesa.Agent, "_ids", {})


@pytest.mark.parametrize(("version", "text"), [("3.3.1", "Step: 3"), ("3.5.0", "Step: 3"),
                                               ("3.5.1", "Time: 3.0"), ("3.6.0", "Time: 3.0")])
def test_step_counter_text_follows_the_mesa_release(monkeypatch, version, text):
    monkeypatch.setattr(compat, "MESA_VERSION", Version(version))
    assert compat.step_counter_text(3) == text
