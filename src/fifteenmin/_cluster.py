"""Where a batch's tasks run: a Dask cluster started on this machine, or one already running."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Sequence
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
    """The workers of a local cluster: the memory of each (bytes), one thread each."""

    memory: tuple[int, ...]
    reason: str

    @property
    def workers(self) -> int:
        return len(self.memory)

    def describe(self) -> str:
        """``"4 worker(s) x 1 thread, 5.8 GiB each"``, or with the large ones named."""
        gib = [m / 2**30 for m in self.memory]
        if max(gib) - min(gib) < 0.05:
            return f"{len(gib)} worker(s) x 1 thread, {gib[0]:.1f} GiB each"
        big = [g for g in gib if g > min(gib) + 0.05]
        sizes = ", ".join(f"{g:.1f}" for g in big)
        return (
            f"{len(gib)} worker(s) x 1 thread: {len(big)} of {sizes} GiB for the largest "
            f"areas, the others {min(gib):.1f} GiB each"
        )


def plan_local(estimates: Sequence[int], *, workers: int | None = None) -> Plan:
    """Workers for tasks needing ``estimates`` bytes each: one per core (or per task, if
    fewer), the largest tasks given workers of their size and the others sharing the rest
    of the memory evenly; fewer workers when even that does not fit. ``workers`` fixes the
    count (memory then split as well as it allows).

    Examples
    --------
    >>> gib = 2**30
    >>> plan = plan_local([3 * gib] + [gib // 4] * 99, workers=4)
    >>> plan.workers, round(plan.memory[0] / gib, 1) >= 3
    (4, True)
    """
    memory, n_cores = usable_memory(), cores()
    needs = sorted((int(e) for e in estimates), reverse=True) or [0]
    n = max(1, int(workers)) if workers is not None else max(1, min(n_cores, len(needs)))
    first = n
    sizes = _sizes(memory, n, needs)
    while sizes is None and workers is None and n > 1:
        n -= 1
        sizes = _sizes(memory, n, needs)
    if sizes is None:  # the largest does not fit even alone, or --workers asks for more
        return Plan((memory // n,) * n, "the largest area may not fit in its worker's memory")
    if workers is not None:
        reason = "as asked"
    elif n < first:
        reason = f"fewer than the cores: the largest area needs about {needs[0] / 2**30:.1f} GiB"
    elif n < n_cores:
        reason = "one per area"
    else:
        reason = "one per core"
    return Plan(tuple(sizes), reason)


def _sizes(memory: int, n: int, needs: Sequence[int]) -> list[int] | None:
    """Memory of ``n`` workers: the largest needs each their own size while they exceed an
    even share of what is left, then the rest evenly; None when that does not fit."""
    sizes: list[int] = []
    left = memory
    for k in range(n):
        even = left // (n - k)
        need = needs[k] if k < len(needs) else 0
        if need <= even:
            return sizes + [even] * (n - k)
        sizes.append(need)
        left -= need
        if left < 0:
            return None
    return sizes


@contextlib.contextmanager
def local_client(plan: Plan) -> Iterator[Client]:
    """A local cluster of ``plan.workers`` processes, one thread each, and its client.

    Each worker's memory limit is its size in the plan, declared as the :data:`MEMORY`
    resource (a ``SpecCluster`` of nannies, as ``LocalCluster`` starts, but each worker with
    its own memory); a worker that grows past its limit is restarted by its nanny and its
    task runs again once (``allowed-failures`` 1). The numeric libraries run one thread each
    (:data:`ONE_THREAD`).
    """
    import dask
    from distributed import Client, Nanny, Scheduler, SpecCluster

    dashboard = ":0" if importlib.util.find_spec("bokeh") is not None else None
    quiet = logging.CRITICAL  # a failed area is said once, by the batch
    host = "127.0.0.1"
    workers = {
        i: {
            "cls": Nanny,
            "options": {
                "nthreads": 1,
                "memory_limit": size,
                "resources": {MEMORY: size},
                "host": host,
                "silence_logs": quiet,
            },
        }
        for i, size in enumerate(plan.memory)
    }
    scheduler = {"cls": Scheduler, "options": {"host": host, "dashboard_address": dashboard}}
    with dask.config.set(_LOCAL_CONFIG):
        cluster = SpecCluster(
            workers=workers, scheduler=scheduler, silence_logs=quiet, name="fifteenmin batch"
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
