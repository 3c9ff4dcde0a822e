"""Declaring parameters once: default, allowed range or choices, and where the default comes from.

Every rule module describes its parameters as a dataclass whose fields are built with
:func:`param`. The same declaration serves three purposes:

* Hydra/OmegaConf use the dataclass as a structured-config schema (unknown keys and wrong
  types fail at composition time);
* :func:`validate` checks ranges and choices and raises one :class:`ConfigError` naming the
  key, the value and what is allowed;
* ``source`` feeds the ODD's parameter tables (evidence, "assumption" or "calibrated").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np


class ConfigError(ValueError):
    """A configuration value is not allowed. The message names key, value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid config value {key}={value!r}: allowed {allowed}")


def param(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: Sequence[str] | None = None,
    source: str = "assumption",
    doc: str = "",
) -> Any:
    """A dataclass field with its allowed range (inclusive) or choices and its evidence source."""
    metadata = {"lo": lo, "hi": hi, "choices": tuple(choices) if choices else None,
                "source": source, "doc": doc}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def describe_allowed(meta: Any) -> str:
    """'one of ...' or 'a number in [lo, hi]' from a field's metadata; '' if unconstrained."""
    if not (meta.get("choices") or meta.get("lo") is not None or meta.get("hi") is not None):
        return ""
    return _allowed(meta)


def _allowed(meta: Any) -> str:
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"a number in [{lo}, {hi}]"
    if lo is not None:
        return f"a number >= {lo}"
    return f"a number <= {hi}"


def _check_scalar(key: str, value: Any, meta: dict[str, Any]) -> None:
    if meta.get("choices"):
        if value not in meta["choices"]:
            raise ConfigError(key, value, _allowed(meta))
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(key, value, _allowed(meta))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(key, value, _allowed(meta))


def validate(obj: Any, prefix: str = "") -> None:
    """Check every field of a (nested) params dataclass against its declared range or choices.

    Lists and dict values are checked element by element against the field's range. A table
    keyed by profession or sector (a dict) takes only the keys of its default, and a list whose
    default is not empty (``meetings.meeting_days``) may not be emptied: with no meeting day
    no one ever meets, a knock-out to ask for explicitly (``schedule.meeting_status=false``),
    not a silent consequence of an empty list.
    Raises :class:`ConfigError` for the first bad value, with its full dotted key.
    """
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        default = (f.default_factory() if f.default_factory is not dataclasses.MISSING
                   else f.default)
        if dataclasses.is_dataclass(value):
            validate(value, key + ".")
        elif isinstance(value, dict):
            for name, item in value.items():
                if isinstance(default, dict) and default and name not in default:
                    raise ConfigError(f"{key}.{name}", item,
                                      f"keys of {key}: " + ", ".join(default))
                _check_scalar(f"{key}.{name}", item, f.metadata)
        elif isinstance(value, (list, tuple)):
            if not value and isinstance(default, list) and default:
                raise ConfigError(key, [], f"at least one value (default {default})")
            for i, item in enumerate(value):
                _check_scalar(f"{key}[{i}]", item, f.metadata)
        else:
            _check_scalar(key, value, f.metadata)
    check = getattr(obj, "check", None)
    if callable(check):
        check(prefix)


def describe(obj_type: type, prefix: str = "") -> list[dict[str, Any]]:
    """Rows of (key, default, allowed, source, doc) for documentation tables."""
    rows: list[dict[str, Any]] = []
    for f in dataclasses.fields(obj_type):
        key = f"{prefix}{f.name}"
        if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(
            f.default_factory
        ):
            rows += describe(f.default_factory, key + ".")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        meta = f.metadata
        rows.append({"key": key, "default": default, "allowed": describe_allowed(meta),
                     "source": meta.get("source", ""), "doc": meta.get("doc", "")})
    return rows


# Per-team parameter values. Where the runs of an ensemble differ (``sim.ensemble``), a number
# parameter is a (teams, 1) array holding each run's value for its teams; alone it is a scalar.
# Rules written with these helpers give the same numbers either way.

def for_entries(value: Any, mask: Any) -> Any:
    """A parameter's value for each entry of a (teams, ...) mask, in ``np.nonzero`` order
    (the scalar itself when it is one)."""
    if np.ndim(value) == 0:
        return value
    return np.broadcast_to(as_team_axis(value, np.ndim(mask)), np.shape(mask))[mask]


def as_team_axis(value: Any, ndim: int) -> Any:
    """A parameter shaped to broadcast over a (teams, ...) array of ``ndim`` dimensions: a
    scalar as it is, a per-team (teams, 1) array as (teams, 1, ..., 1)."""
    if np.ndim(value) == 0:
        return value
    return np.reshape(value, (np.shape(value)[0],) + (1,) * (ndim - 1))


def per_team_table(values: list[Any]) -> np.ndarray:
    """A table of parameters (e.g. one entry per profession) as (entries,), or as (teams,
    entries) when any entry is per-team."""
    if all(np.ndim(v) == 0 for v in values):
        return np.array(values, dtype=float)
    n_teams = next(np.shape(v)[0] for v in values if np.ndim(v))
    return np.stack([np.broadcast_to(np.reshape(v, -1) if np.ndim(v) else v, (n_teams,))
                     for v in values], axis=-1)


def table_lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a (teams, slots) index, per team when the table is per-team."""
    return table[index] if table.ndim == 1 else np.take_along_axis(table, index, axis=1)
