"""City sizes of the benchmark, shared by ``make_city.py`` and ``run.py``.

Kept free of heavy imports so that benchmark workers measure only the system they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class CitySpec:
    """Parameters of one city size.

    Attributes
    ----------
    n : int
        Number of grid lines per axis (the grid has ``n * n`` intersections).
    n_spaces : int
        Number of coworking spaces.
    n_diagonals : int
        Number of diagonal avenues per direction.
    n_ring_crossings : int
        Number of streets crossing the ring motorway (over- or underpasses).
    spacing_m : float
        Mean distance between neighbouring grid lines, in metres.
    """

    n: int
    n_spaces: int
    n_diagonals: int
    n_ring_crossings: int
    spacing_m: float = 58.0


SIZES: dict[str, CitySpec] = {
    "xs": CitySpec(n=30, n_spaces=120, n_diagonals=1, n_ring_crossings=6),
    "s": CitySpec(n=110, n_spaces=150, n_diagonals=1, n_ring_crossings=8),
    "m": CitySpec(n=250, n_spaces=250, n_diagonals=2, n_ring_crossings=12),
    "l": CitySpec(n=610, n_spaces=500, n_diagonals=2, n_ring_crossings=16),
}
