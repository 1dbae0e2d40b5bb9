"""The exact maximal covering problem behind the suggested sites: street atoms and an ILP.

Greedy siting (:mod:`fifteenmin.planning`) maximises a continuous objective: residents
spread evenly along each zone's walkable streets, a point ``x`` of a segment ``(u, v)`` of
length ``L`` being within the walk of a facility ``j`` when
``min(d_j(u) + x, d_j(v) + L - x) <= limit``. On a street piece that set is an interval
from each end, so cutting every piece at each point where a facility's catchment begins
or ends (:func:`fifteenmin.capacity._points`) leaves *atoms* on which the set of
facilities within reach is fixed. An atom's weight is its residents; atoms with the same
covering set are merged (their weights summed). Maximal covering on the atoms is then the
very problem greedy solves, without approximation: a set of facilities covers exactly
the weight of the atoms whose covering set it meets.

The integer programme is PySAL spopt's MCLP (Church and ReVelle 1974), solved with CBC
through PuLP (the optional extra ``fifteenmin[exact]``); see :func:`solve`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .capacity import _points, _reach
from .travel import SearchGraph, WalkTimes
from .zones import StreetPieces

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install fifteenmin[exact]"
"""How to get the exact check (spopt, PuLP and its bundled CBC)."""

_HASH_SEED = 15  # the covering sets are grouped by two random 64-bit sums (fixed seed)


@dataclass(frozen=True)
class Atoms:
    """Pieces of street on which the set of facilities within reach is fixed, merged by set.

    ``weight[i]`` is the residents (or weighted residents) of atom ``i``; the facilities
    within reach of it are ``fac[ptr[i]:ptr[i + 1]]`` (at least one each).
    """

    weight: np.ndarray
    ptr: np.ndarray
    fac: np.ndarray
    n_facilities: int

    def __len__(self) -> int:
        return len(self.weight)

    def covered(self, open_: np.ndarray) -> np.ndarray:
        """Whether each atom is within reach of a facility marked in ``open_``."""
        hits = np.concatenate([[0], np.cumsum(np.asarray(open_, dtype=bool)[self.fac])])
        return hits[self.ptr[1:]] > hits[self.ptr[:-1]]

    def value(self, open_: np.ndarray) -> float:
        """Weight within reach of the facilities marked in ``open_`` (a boolean per facility)."""
        return float(self.weight[self.covered(open_)].sum())


def street_atoms(
    walk: WalkTimes,
    graph: SearchGraph,
    pieces: StreetPieces,
    density: np.ndarray,
    limit_m: float,
    sources: np.ndarray,
) -> Atoms:
    """The atoms of the pieces for facilities at the nodes ``sources`` of ``graph``.

    ``density`` is per zone of ``pieces`` (residents per metre of street); one search per
    facility, up to ``limit_m``. Pieces of zones without residents are left out.
    """
    sources = np.asarray(sources, dtype=np.int64)
    n_fac = len(sources)
    keep = density[pieces.zone] > 0
    if not n_fac or not keep.any():
        return Atoms(np.zeros(0), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), n_fac)
    # a walk whose "spaces" are the facilities: capacity's per-space searches and cuts
    as_spaces = dataclasses.replace(walk, graph=dataclasses.replace(graph, space_node=sources))
    reach = _reach(as_spaces, pieces, keep, limit_m, np.arange(n_fac))
    pts = _points(pieces, reach, density, limit_m)
    return _merge(pts.demand, pts.pair_point, pts.pair_space, n_fac)


def _merge(weight: np.ndarray, point: np.ndarray, fac: np.ndarray, n_fac: int) -> Atoms:
    """Group the points (``weight`` each) by their set of facilities ``fac`` (pairs)."""
    order = np.lexsort((fac, point))
    point, fac = point[order], fac[order]
    n_pts = len(weight)
    count = np.bincount(point, minlength=n_pts)
    rng = np.random.default_rng(_HASH_SEED)
    keys = [count.astype(np.uint64)]
    for _ in range(2):  # sums of random 64-bit words, wrapping: one per set, w.h.p.
        h = rng.integers(0, np.iinfo(np.uint64).max, size=n_fac, dtype=np.uint64, endpoint=True)
        run = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(h[fac], dtype=np.uint64)])
        ptr = np.concatenate([[0], np.cumsum(count)])
        keys.append(run[ptr[1:]] - run[ptr[:-1]])
    has = count > 0
    table = np.column_stack(keys)[has]
    rep_of, atom = np.unique(table, axis=0, return_index=True, return_inverse=True)[1:]
    atom = np.asarray(atom).ravel()
    weights = np.bincount(atom, weights=weight[has], minlength=len(rep_of))
    # each atom's set: the pairs of its first point
    rep = np.flatnonzero(has)[rep_of]
    ptr = np.concatenate([[0], np.cumsum(count)])
    sizes = count[rep]
    idx = np.repeat(ptr[rep] - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    idx += np.arange(sizes.sum())
    return Atoms(
        weight=weights,
        ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        fac=fac[idx].astype(np.int64),
        n_facilities=n_fac,
    )


def available() -> bool:
    """Whether spopt and PuLP can be imported (without importing them)."""
    from importlib.util import find_spec

    return find_spec("spopt") is not None and find_spec("pulp") is not None


@dataclass(frozen=True)
class Solution:
    """The best set of facilities found by the integer programme."""

    open_: np.ndarray  # a boolean per facility: open in the solution (the fixed ones too)
    value: float  # weight of the atoms within reach of the open facilities
    status: str  # "optimal", "time_limit" (best found, not proven) or "not_solved"
    solver_status: str  # PuLP's words
    seconds: float  # building and solving the programme
    n_rows: int  # demand rows of the programme (atoms left after the reduction)
    n_columns: int  # facility columns (with the empty ones that let fewer sites open)


def solve(
    atoms: Atoms,
    *,
    n_new: int,
    fixed: np.ndarray,
    exclusive: np.ndarray | None = None,
    time_limit_s: float | None = None,
    start: np.ndarray | None = None,
) -> Solution:
    """Open the ``fixed`` facilities and at most ``n_new`` more, covering the most weight.

    spopt's :class:`~spopt.locate.MCLP` on the atoms: the fixed facilities are its
    predefined facilities and ``p_facilities`` is their number plus ``n_new``. The model
    is built as ``MCLP.from_cost_matrix`` builds it (spopt's ``FacilityModelBuilder``: the
    same variables, objective and constraints), except that each coverage row names only
    the facilities that reach the atom: ``from_cost_matrix`` writes every facility into
    every row, zeros included (on 300 candidates of the sample city, 12 s of Python and a
    CBC run slowed by a million zero coefficients).
    ``n_new`` empty facilities (covering nothing) let fewer open, as greedy may stop early
    or be held back by ``exclusive``: pairs ``(i, j)`` of facilities that may not both open
    (closer than the minimum separation). Exact reductions keep the programme small: the
    atoms within reach of a fixed facility are covered whatever opens, so they form one
    row, covered by the fixed facilities only. ``start`` (a boolean per facility, e.g.
    greedy's set with the fixed ones) is given to CBC as a first solution, so that a run
    stopped by ``time_limit_s`` still has one at least as good.

    Raises
    ------
    ImportError
        If spopt or PuLP is missing (see :data:`INSTALL_HINT`).
    """
    import pulp
    from spopt.locate import MCLP
    from spopt.locate.base import FacilityModelBuilder

    t0 = time.perf_counter()
    fixed = np.asarray(fixed, dtype=bool)
    n_fac = atoms.n_facilities
    pre = atoms.covered(fixed)
    free = np.flatnonzero(~pre)
    n_cols = n_fac + n_new
    rows = len(free) + int(pre.any())
    if not len(free) or n_new == 0 or not (~fixed).any():
        return Solution(
            open_=fixed.copy(),
            value=atoms.value(fixed),
            status="optimal",
            solver_status="nothing to choose",
            seconds=time.perf_counter() - t0,
            n_rows=rows,
            n_columns=n_cols,
        )
    # the atoms' sets of facilities, one row each; the row of the atoms covered anyway last
    sizes = atoms.ptr[free + 1] - atoms.ptr[free]
    first = np.repeat(atoms.ptr[free] - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    cols = atoms.fac[first + np.arange(sizes.sum())]
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    weights = atoms.weight[free]
    if pre.any():
        cols = np.concatenate([cols, np.flatnonzero(fixed)])
        ptr = np.append(ptr, len(cols))
        weights = np.append(weights, atoms.weight[pre].sum())
    with warnings.catch_warnings():  # PuLP 3.3 announces its 4.0 API on every variable
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP("fifteenmin_sites", pulp.LpProblem("fifteenmin_sites", pulp.LpMaximize))
        FacilityModelBuilder.add_facility_integer_variable(model, range(n_cols), "x[{i}]")
        FacilityModelBuilder.add_client_integer_variable(model, range(rows), "y[{i}]")
        model.aij = sp.csr_matrix((np.ones(len(cols)), cols, ptr), shape=(rows, n_cols))
        x, y = model.fac_vars, model.cli_vars
        model.problem += pulp.lpSum(float(w) * y[i] for i, w in enumerate(weights))
        if fixed.any():
            predefined = np.zeros(n_cols, dtype=np.int64)
            predefined[:n_fac] = fixed
            FacilityModelBuilder.add_predefined_facility_constraint(model, predefined)
        for i in range(rows):  # the same as MCLP.from_cost_matrix's, without its zero terms
            model.problem += pulp.lpSum(x[j] for j in cols[ptr[i] : ptr[i + 1]]) >= y[i]
        FacilityModelBuilder.add_facility_constraint(model, int(fixed.sum()) + int(n_new))
        for i, j in np.asarray(exclusive if exclusive is not None else np.empty((0, 2)), dtype=int):
            model.problem += x[i] + x[j] <= 1
        if start is not None:
            _warm_start(model, atoms, free, np.asarray(start, dtype=bool) | fixed, fixed, n_new)
        cbc = getattr(pulp, "PULP_CBC_CMD", None) or pulp.COIN_CMD  # bundled CBC, else CBC
        solver = cbc(msg=False, timeLimit=time_limit_s, warmStart=start is not None)
        try:
            model.solve(solver, results=False)
        except RuntimeError:  # spopt: not solved (no feasible set found in the time)
            pass
    seconds = time.perf_counter() - t0
    sol = model.problem.sol_status
    words = pulp.LpSolution.get(sol, str(sol))
    if sol == pulp.LpSolutionOptimal:
        status = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible:
        status = "time_limit"
    else:
        status = "not_solved"
    chosen = np.array([(v.value() or 0.0) > 0.5 for v in x[:n_fac]], dtype=bool) | fixed
    if status == "not_solved":
        chosen = fixed.copy()
    return Solution(
        open_=chosen,
        value=atoms.value(chosen),
        status=status,
        solver_status=words,
        seconds=seconds,
        n_rows=rows,
        n_columns=n_cols,
    )


def _warm_start(
    model: Any,
    atoms: Atoms,
    free: np.ndarray,
    start: np.ndarray,
    fixed: np.ndarray,
    n_new: int,
) -> None:
    """Set the programme's variables to the solution ``start``, empty columns filling up."""
    x, y = model.fac_vars, model.cli_vars
    n_fac = len(start)
    for j in range(n_fac):
        x[j].setInitialValue(int(start[j]))
    spare = n_new - int((start & ~fixed).sum())  # greedy may have stopped early
    for j in range(n_new):
        x[n_fac + j].setInitialValue(int(j < spare))
    covered = atoms.covered(start)
    for i, a in enumerate(free):
        y[i].setInitialValue(int(covered[a]))
    if len(y) > len(free):  # the row of the atoms covered by the fixed facilities
        y[len(free)].setInitialValue(1)
