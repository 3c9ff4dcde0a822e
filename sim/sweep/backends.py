"""Where chunks of runs execute: in this process, in local processes, or on a Dask cluster.

Every backend takes an iterator of chunks and yields their results as they finish, keeping
only a few chunks in flight so memory does not grow with the number of runs. Results come back
to this process, which writes them; workers need no shared file system.

``processes`` uses a ``ProcessPoolExecutor`` with the spawn start method (safe from scripts and
notebooks; Mesa sets spawn anyway). ``dask`` connects to ``sweep.scheduler_address`` if given,
otherwise builds the cluster of ``conf/cluster/`` (a ``LocalCluster``, or a dask-jobqueue
cluster for SLURM/PBS/...). Dask reruns the tasks of a lost worker on the others.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from sim.params import ConfigError
from sim.sweep.runner import Chunk, ChunkResult, run_chunk
from sim.sweep.schema import ClusterConfig, SweepSettings

#: Chunks in flight per worker: enough to keep workers busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2

JOBQUEUE_CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
                     "lsf": "LSFCluster", "htcondor": "HTCondorCluster",
                     "moab": "MoabCluster", "oar": "OARCluster"}


def chunk_results(chunks: Iterator[Chunk], settings: SweepSettings,
                  cluster: ClusterConfig) -> Iterator[ChunkResult]:
    """Results of ``chunks`` from the configured backend, in the order they finish."""
    if settings.backend == "serial":
        return (run_chunk(chunk) for chunk in chunks)
    if settings.backend == "processes":
        return process_results(chunks, settings.workers)
    return dask_results(chunks, settings, cluster)


def process_results(chunks: Iterator[Chunk], workers: int) -> Iterator[ChunkResult]:
    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))
    pending: set[Future[ChunkResult]] = set()
    try:
        for chunk in chunks:
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
            pending.add(pool.submit(run_chunk, chunk))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


#: Seconds to wait for a Dask scheduler to accept a connection before refusing its address.
SCHEDULER_CONNECT_TIMEOUT_S = 10.0


def check_scheduler_reachable(settings: SweepSettings) -> None:
    """Refuse, before anything is written, a ``sweep.scheduler_address`` nobody answers at.

    Only TCP-based addresses (``tcp://``, ``tls://``, a bare ``host:port``) are probed; others
    (``inproc://``, ``ucx://``) are left to Dask.
    """
    if settings.backend != "dask" or not settings.scheduler_address:
        return
    from distributed.comm import parse_address, parse_host_port

    address = settings.scheduler_address
    allowed = "the address of a running Dask scheduler, e.g. tcp://host:8786"
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return
        host, port = parse_host_port(location)
    except ValueError:
        raise ConfigError("sweep.scheduler_address", address, allowed) from None
    try:
        socket.create_connection((host, port), timeout=SCHEDULER_CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise ConfigError("sweep.scheduler_address", address,
                          f"{allowed}; none answered within {SCHEDULER_CONNECT_TIMEOUT_S:g} s "
                          f"({err.strerror or err})") from None


def dask_results(chunks: Iterator[Chunk], settings: SweepSettings,
                 cluster_config: ClusterConfig) -> Iterator[ChunkResult]:
    from distributed import as_completed

    with dask_client(settings, cluster_config) as client:
        limit = max(1, settings.workers) * IN_FLIGHT_PER_WORKER
        futures = as_completed()
        for chunk in chunks:
            futures.add(client.submit(run_chunk, chunk, pure=False))
            if futures.count() >= limit:
                break
        for future in futures:
            yield future.result()
            future.release()
            chunk = next(chunks, None)
            if chunk is not None:
                futures.add(client.submit(run_chunk, chunk, pure=False))


@contextmanager
def dask_client(settings: SweepSettings, cluster_config: ClusterConfig) -> Iterator[Any]:
    """A Dask client of the scheduler address, or of a cluster built from config."""
    from distributed import Client

    if settings.scheduler_address:
        with Client(settings.scheduler_address) as client:
            yield client
        return
    cluster = make_cluster(settings, cluster_config)
    try:
        if cluster_config.kind != "local":
            cluster.scale(jobs=cluster_config.jobs)
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def make_cluster(settings: SweepSettings, cluster_config: ClusterConfig) -> Any:
    if cluster_config.kind == "local":
        from distributed import LocalCluster

        return LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.ERROR)
    return jobqueue_cluster(cluster_config)


def jobqueue_cluster(cluster_config: ClusterConfig) -> Any:
    """A dask-jobqueue cluster (not yet scaled: no job is submitted until ``scale``)."""
    import dask_jobqueue

    name = JOBQUEUE_CLUSTERS.get(cluster_config.kind)
    if name is None:
        raise ConfigError("cluster.kind", cluster_config.kind,
                          "local or one of " + ", ".join(JOBQUEUE_CLUSTERS))
    kwargs = {key: value for key, value in cluster_config.jobqueue.items() if value is not None}
    return getattr(dask_jobqueue, name)(**kwargs)
