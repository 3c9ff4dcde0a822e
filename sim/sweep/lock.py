"""One folder, one writer: an exclusive lock on an experiment's output folder.

Two sweeps started into one folder used to both run and both write, duplicating rows that every
later analysis read (issue 15). The lock is an OS-level lock (``filelock``) on ``.lock`` inside
the folder: the operating system releases it when its process ends, however it ends (even
``kill -9``), so a stale lock never blocks a resume.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from sim.output import check_writable
from sim.params import ConfigError

LOCK_NAME = ".lock"


@contextlib.contextmanager
def output_lock(root: Path, key: str = "sweep.output_dir") -> Iterator[None]:
    """Hold the folder's lock while the body runs; refuse at once if another process holds it.

    A folder this call created is removed again if the body fails before writing anything
    else into it (bad input leaves nothing behind).
    """
    check_writable(root, key)  # a read-only or full disk: refused before anything is written
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(key, str(root), f"a folder that can be written ({err.strerror})") \
            from None
    lock = FileLock(root / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(key, str(root), "a folder no other sweep is writing: another process "
                          "holds its lock; wait for it to finish (then rerun to resume) or "
                          "choose another folder") from None
    except OSError as err:
        raise ConfigError(key, str(root), f"a folder that can be written ({err.strerror})") \
            from None
    try:
        yield
    finally:
        lock.release()
        if created and [p.name for p in root.iterdir()] == [LOCK_NAME]:
            (root / LOCK_NAME).unlink()
            root.rmdir()


def is_locked(root: Path) -> bool:
    """Whether a live process holds the folder's lock (a sweep is writing it now)."""
    path = root / LOCK_NAME
    if not path.exists():
        return False
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False
