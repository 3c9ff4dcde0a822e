"""Runs in a separate process, so a run that kills its process, exits or hangs fails alone.

Every backend's task (:func:`sim.sweep.runner.run_chunk`) hands its runs one at a time to a run
process (``python -m sim.sweep.worker``) and waits for each result. If the process dies
(``os._exit``, a segfault, out of memory) or gives no result within ``sweep.run_timeout_s``,
that run is recorded as failed with the cause, the process is replaced and the chunk goes on.
A subprocess rather than ``multiprocessing``: Dask's worker processes are daemons, which may
not start multiprocessing children. One run process serves every chunk of its backend process
(started once, Mesa imported once) until it fails.

Frames on the pipes are a 4-byte length and a pickle: ``(point, spec, output)`` in, ``(row,
timeseries)`` out. The run process writes frames to a private copy of its stdout and points
its stdout at stderr, so a model that prints cannot corrupt the stream.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
from typing import IO, Any

from sim.sweep.runner import OutputSpec, Point, RunSpec, failed_row, run_one

HEADER = struct.Struct("!I")


class RunProcess:
    """A child process that runs runs; replaced after a crash or a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            # the child imports what this process can (tests' model classes, editable installs)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p or os.getcwd()
                                                               for p in sys.path)}
            self.proc = subprocess.Popen([sys.executable, "-m", "sim.sweep.worker"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         env=env)
        return self.proc

    def run(self, point: Point, spec: RunSpec, output: OutputSpec,
            timeout_s: float) -> tuple[dict[str, Any], Any]:
        proc = self.start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            write_frame(proc.stdin, (point, spec, output))
            ready, _, _ = select.select([proc.stdout], [], [], timeout_s or None)
            if not ready:
                self.stop()
                return failed_row(point, spec, f"stopped: no result within "
                                               f"sweep.run_timeout_s={timeout_s:g} s"), None
            return read_frame(proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            code = proc.wait()
            self.proc = None
            return failed_row(point, spec, death_cause(code)), None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc = None


def death_cause(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the run's process was killed by {name}"
    return f"the run's process exited with status {code} before returning a result"


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


_PROCESS = RunProcess()
atexit.register(_PROCESS.stop)


def run_isolated(point: Point, spec: RunSpec, output: OutputSpec,
                 timeout_s: float) -> tuple[dict[str, Any], Any]:
    """One run in this backend process's run process."""
    return _PROCESS.run(point, spec, output, timeout_s)


def serve() -> None:
    """The run process: read runs from stdin, write results, until stdin closes."""
    # Ctrl-C is for the sweep, which stops this process itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    source = sys.stdin.buffer
    while True:
        try:
            point, spec, output = read_frame(source)
        except EOFError:
            return
        write_frame(out, run_one(point, spec, output))


if __name__ == "__main__":
    serve()
