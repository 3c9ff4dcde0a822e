"""Runs in separate processes, so a run that kills its process, exits or hangs fails alone.

Every backend's task (:func:`sim.sweep.runner.run_chunk`) hands its runs one at a time to a run
server (``python -m sim.sweep.worker``, started once per backend process, Mesa and the model
imported once) and waits for each result. The server forks a fresh child for each run: if the
child dies (``os._exit``, a segfault, out of memory) or gives no result within
``sweep.run_timeout_s`` (the child is then killed), the server answers with a failed row naming
the cause, and the chunk goes on. Forking from an already-imported server costs milliseconds,
where starting a Python process costs seconds. A subprocess rather than ``multiprocessing``:
Dask's worker processes are daemons, which may not start multiprocessing children. Needs
``os.fork`` (Linux, macOS).

An ensemble (:func:`sim.sweep.runner.run_ensemble`) runs in one child the same way; if it
fails as a whole the server answers ``None`` and the chunk runs those runs one at a time.

Frames on the pipes are a 4-byte length and a pickle: ``(point, spec, output, timeout_s)`` or
``("ensemble", points, specs, output, timeout_s)`` in, ``"ready"`` once (imports done) then
``(row, timeseries)`` per run, or a list of them (or ``None``) per ensemble, out. The server writes
frames to a private copy of its stdout and points its stdout at stderr, so a model that prints
cannot corrupt the stream.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import IO, Any

from sim.sweep.runner import (
    OutputSpec,
    Point,
    RunSpec,
    failed_row,
    import_model,
    run_ensemble,
    run_one,
)

HEADER = struct.Struct("!I")
Result = tuple[dict[str, Any], Any]


class RunServer:
    """The backend process's handle on its run server; restarted if the server itself dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            # the server imports what this process can (tests' model classes, editable installs)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p or os.getcwd()
                                                               for p in sys.path)}
            self.proc = subprocess.Popen([sys.executable, "-m", "sim.sweep.worker"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         env=env)
            assert self.proc.stdout is not None
            read_frame(self.proc.stdout)  # "ready"
        return self.proc

    def run(self, point: Point, spec: RunSpec, output: OutputSpec, timeout_s: float) -> Result:
        answer = self.ask((point, spec, output, timeout_s))
        if isinstance(answer, int):
            return failed_row(point, spec, "the run server " + death_cause(answer)), None
        return answer

    def run_ensemble(self, points: dict[int, Point], specs: list[RunSpec],
                     output: OutputSpec, timeout_s: float) -> list[Result] | None:
        answer = self.ask(("ensemble", points, specs, output, timeout_s))
        return None if isinstance(answer, int) else answer

    def ask(self, request: tuple) -> Any:
        """The server's answer to ``request``, or its exit status if it died meanwhile."""
        try:
            proc = self.start()
            assert proc.stdin is not None and proc.stdout is not None
            write_frame(proc.stdin, request)
            return read_frame(proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            code = self.proc.wait() if self.proc is not None else 1
            self.proc = None
            return code
        except BaseException:
            # Interrupted between request and answer (Ctrl-C, SIGTERM): the answer would still
            # arrive and be read as the next run's, so this server is dropped.
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc = None


def death_cause(status: int) -> str:
    """``status``: a return code (negative: killed by that signal)."""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"exited with status {status} before returning a result"


def write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_exact(stream: IO[bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = stream.read(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data


def read_frame(stream: IO[bytes]) -> Any:
    (size,) = HEADER.unpack(read_exact(stream, HEADER.size))
    return pickle.loads(read_exact(stream, size))


_SERVER = RunServer()
atexit.register(_SERVER.stop)


def run_isolated(point: Point, spec: RunSpec, output: OutputSpec, timeout_s: float) -> Result:
    """One run in a child of this backend process's run server."""
    return _SERVER.run(point, spec, output, timeout_s)


def run_ensemble_isolated(points: dict[int, Point], specs: list[RunSpec], output: OutputSpec,
                          timeout_s: float) -> list[Result] | None:
    """An ensemble in a child of the run server; ``None`` if it failed as a whole."""
    return _SERVER.run_ensemble(points, specs, output, timeout_s)


def in_child(work: Callable[[], Any], timeout_s: float) -> tuple[Any, str | None]:
    """Fork, call ``work`` in the child, and return its result, or ``None`` and how the child
    ended (killed after ``timeout_s``, died, or raised)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send, and leave without running the server's clean-up
        status = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb") as out:
                write_frame(out, work())
            status = 0
        finally:  # never unwind into the server's loop, nor print a traceback when the server
            os._exit(status)  # is gone (BrokenPipeError: the sweep was stopped, SIGTERM/Ctrl-C)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as source:
        ready, _, _ = select.select([source], [], [], timeout_s or None)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None, f"stopped: no result within sweep.run_timeout_s={timeout_s:g} s"
        try:
            result = read_frame(source)
        except (EOFError, pickle.UnpicklingError):
            result = None
    _, status = os.waitpid(pid, 0)
    if result is None:
        return None, "the run's process " + death_cause(
            -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    return result, None


def run_in_child(point: Point, spec: RunSpec, output: OutputSpec, timeout_s: float) -> Result:
    """One run in a child: its result or a failed row naming how it ended."""
    with contextlib.suppress(Exception):  # run_one records an import error as the run's
        import_model(output.model)  # once, here, rather than in every child
    result, cause = in_child(lambda: run_one(point, spec, output), timeout_s)
    return (failed_row(point, spec, cause), None) if cause else result


def ensemble_in_child(points: dict[int, Point], specs: list[RunSpec], output: OutputSpec,
                      timeout_s: float) -> list[Result] | None:
    """An ensemble in a child: its runs' results, or ``None`` if it raised, died or ran out
    of time (an exception is not a run's result here: the runs are retried one at a time)."""
    def work() -> list[Result] | None:
        try:
            return run_ensemble(points, specs, output)
        except (Exception, SystemExit):
            return None
    result, _ = in_child(work, timeout_s)
    return result


def serve() -> None:
    """The run server: read runs from stdin, answer each, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the sweep, which stops us
    # Python 3.12+ warns on every fork of a process with threads (numpy's BLAS pool here). The
    # child only runs one model and leaves with os._exit, taking no lock those idle threads
    # hold; the warning would otherwise reach the user's terminal once per run.
    warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                            category=DeprecationWarning)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    source = sys.stdin.buffer
    write_frame(out, "ready")
    while True:
        try:
            request = read_frame(source)
        except EOFError:
            return
        if request[0] == "ensemble":
            write_frame(out, ensemble_in_child(*request[1:]))
        else:
            write_frame(out, run_in_child(*request))


if __name__ == "__main__":
    serve()
