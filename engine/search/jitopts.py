"""The options the search's kernels are compiled with (``@njit(**KERNEL)``).

``cache``: compiled code is kept between runs (engine/search/kernels.py says where).
``nogil``: search threads run kernels side by side.

``_nrt`` off: no reference counting of arrays inside the kernels. With it on, numba
increments and decrements the count of every array a kernel binds — each of the tree's
eighteen arrays at each call that takes the tree, and again in loops — with atomic
instructions: on the dev machine that was about 85 % of a shogi descent (4.0 µs of 4.5 for a
path of four nodes, against 0.5 µs without). The kernels allocate nothing and return no
array, so they need no counts: every array they touch belongs to a Python caller for the
whole call. A kernel that allocated would fail to compile, not misbehave. The option is
numba's own (underscored, but present since numba's early releases); where a numba lacks
it, the kernels compile with reference counting, slower but the same.
"""

from __future__ import annotations

from typing import Any

from numba.core import cpu

#: reference counting off where this numba has the switch
NO_REFCOUNT: dict[str, Any] = {"_nrt": False} if hasattr(cpu.CPUTargetOptions, "_nrt") else {}

#: the options of every search kernel
KERNEL: dict[str, Any] = {"cache": True, "nogil": True, **NO_REFCOUNT}
