"""Where a batch's tasks run: a Dask cluster started on this machine, or one already running."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from distributed import Client

logger = logging.getLogger(__name__)

MEMORY = "MEMORY"
"""The Dask worker resource (bytes) that a batch's tasks ask for: start workers of a
cluster with ``dask worker ... --resources MEMORY=32e9`` so that tasks fit in memory."""

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "FIFTEENMIN_THREADS": "1",  # the isochrones' buffering (fifteenmin.isochrones.threads)
}
"""The numeric libraries run one thread per worker: the parallelism is the workers'."""

_LOCAL_CONFIG = {
    # a task whose worker dies is run again once; dying a second time, it is recorded
    "distributed.scheduler.allowed-failures": 1,
    "distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536, **ONE_THREAD},
    "distributed.worker.memory.spill": False,  # tasks hold no data worth spilling
    "distributed.worker.memory.target": False,
}


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: ``scheduler``, else ``DASK_SCHEDULER_ADDRESS``, else None (local)."""
    if scheduler is not None and str(scheduler).strip():
        return str(scheduler).strip()
    return os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip() or None


def connect(address: str, *, timeout_s: float = 10.0) -> Client:
    """A client of the scheduler at ``address``, or an InputError in one line."""
    from distributed import Client

    try:
        return Client(address, timeout=f"{float(timeout_s)}s", set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - refused, timed out, malformed: all say the same
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"scheduler {address}: no Dask scheduler answers there within {timeout_s:g} s "
            f"({reason[:200]}); check the address (tcp://HOST:8786) and that the scheduler "
            "runs, or leave out --scheduler and DASK_SCHEDULER_ADDRESS to run on this machine"
        ) from None


def usable_memory() -> int:
    """Bytes of memory this machine (or its cgroup) gives the workers."""
    from distributed.system import MEMORY_LIMIT

    return int(MEMORY_LIMIT)


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Plan:
    """How many workers a local cluster starts, and the memory of each."""

    workers: int
    memory_per_worker: int  # bytes
    reason: str


def plan_local(tasks: int, largest_task: int, *, workers: int | None = None) -> Plan:
    """One worker per core, fewer when the largest task would not fit in a worker's share
    of memory (or when there are fewer tasks); ``workers`` overrides."""
    memory, n_cores = usable_memory(), cores()
    if workers is not None:
        n = max(1, int(workers))
        reason = "as asked"
    else:
        fit = max(1, memory // max(largest_task, 1))
        n = max(1, min(n_cores, fit, max(tasks, 1)))
        if n == fit and fit < min(n_cores, tasks):
            reason = f"the largest area needs about {largest_task / 2**30:.1f} GiB"
        elif n == tasks and tasks < n_cores:
            reason = "one per area"
        else:
            reason = "one per core"
    return Plan(n, int(memory // n), reason)


@contextlib.contextmanager
def local_client(plan: Plan) -> Iterator[Client]:
    """A ``LocalCluster`` of ``plan.workers`` processes, one thread each, and its client.

    Each worker declares its memory as the :data:`MEMORY` resource; a worker that grows past
    its memory limit is restarted by its nanny and its task runs again once
    (``allowed-failures`` 1). The numeric libraries run one thread each (:data:`ONE_THREAD`).
    """
    import dask
    from distributed import Client, LocalCluster

    dashboard = ":0" if importlib.util.find_spec("bokeh") is not None else None
    with dask.config.set(_LOCAL_CONFIG):
        cluster = LocalCluster(
            n_workers=plan.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=plan.memory_per_worker,
            resources={MEMORY: plan.memory_per_worker},
            dashboard_address=dashboard,
            silence_logs=logging.CRITICAL,  # a failed area is said once, by the batch
        )
        try:
            client = Client(cluster, set_as_default=False)
            try:
                if dashboard is not None:
                    logger.info("Dask dashboard: %s", client.dashboard_link)
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close()
        finally:
            with contextlib.suppress(Exception):
                cluster.close()


def threads(client: Client) -> int:
    """Threads of all the workers a client's scheduler knows now."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return sum(int(w.get("nthreads", 1)) for w in workers.values())


def memory_resource(client: Client) -> float | None:
    """The largest :data:`MEMORY` a worker declares, if every worker declares one; else None
    (tasks then ask for no resource: a worker with none would never be given one)."""
    workers: dict[str, Any] = client.scheduler_info(n_workers=-1).get("workers", {})
    if not workers:
        return None
    values = [w.get("resources", {}).get(MEMORY) for w in workers.values()]
    if any(v is None for v in values):
        return None
    return float(max(values))
