"""Writing a run's outputs so that a crash never leaves a half-written file.

Every file is written to a temporary name in the same folder and renamed into place
(``os.replace`` is atomic on one file system); the manifest is written last, so a folder with a
manifest is a complete run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.params import ConfigError

#: Versions recorded in every manifest: this software (CITATION.cff) and what it runs on.
PACKAGES = ("peer-worker-sim", "mesa", "numpy", "pandas", "pyarrow", "matplotlib", "hydra-core",
            "omegaconf")


def check_writable(folder: Path, key: str) -> None:
    """Refuse, before any work, a folder that cannot be written: read-only, full, or a file
    in the way. Probes its nearest existing folder with a nameless temporary file, so nothing
    is left behind (raises ``ConfigError`` naming ``key`` and the folder)."""
    existing = Path(folder).absolute()
    while not existing.is_dir() and existing != existing.parent:
        if existing.exists():  # a file where a folder should be
            raise ConfigError(key, str(folder), f"a folder that can be written ({existing} "
                              "is a file)")
        existing = existing.parent
    try:
        with tempfile.TemporaryFile(dir=existing) as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
    except OSError as err:
        raise ConfigError(key, str(folder), f"a folder that can be written ({existing}: "
                          f"{err.strerror or err})") from None


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def write_text_if_changed(path: Path, text: str) -> Path:
    """Write ``text`` unless the file already holds it (a resumed sweep then finds its CSV
    design untouched)."""
    if not path.is_file() or path.read_text() != text:
        write_text(path, text)
    return path


def write_parquet(path: Path, table: pd.DataFrame) -> Path:
    return write_atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


def git_revision() -> str:
    """The project's git commit (with ``-dirty`` if changed), or ``unknown``."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        return rev + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


#: The modules whose code decides a run's numbers: the model, its rules, parameters, config
#: composition and recording (``tests/test_output.py`` checks that everything ``sim.model`` and
#: ``sim.ensemble`` import is listed). Reports, the app and the engine are not: changing them
#: does not change a run.
MODEL_MODULES = ("sim/agents.py", "sim/config.py", "sim/ensemble.py", "sim/metrics.py",
                 "sim/model.py", "sim/params.py", "sim/schedule.py", "sim/streams.py",
                 "sim/team.py", "sim/rules/*.py")


def model_fingerprint(*extra: str | Path) -> str:
    """A hash of the model's code (``MODEL_MODULES``) and of ``extra`` files (a custom model
    class's module), so that results made by other code are never resumed into as if they
    were this code's. Unlike ``git_revision``, it ignores changes that cannot move a run."""
    package = Path(__file__).resolve().parent.parent
    files = sorted({f for pattern in MODEL_MODULES for f in package.glob(pattern)}
                   | {Path(f).resolve() for f in extra})
    digest = hashlib.sha256()
    for f in files:
        name = f.relative_to(package) if f.is_relative_to(package) else Path(f.name)
        digest.update(name.as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out_dir: Path, files: list[Path], **fields: Any) -> Path:
    """Provenance of a run: seed, versions, git revision, times, and each file's checksum."""
    manifest = {**fields, "packages": package_versions(), "git_revision": git_revision(),
                "files": {p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)}
                          for p in files}}
    return write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, default=str))
