"""Numba settings in one place (as stumpy's ``config.py``).

``fastmath`` deliberately omits ``nnan`` and ``ninf``: the kernels must keep
IEEE semantics for NaN/inf checks. ``reassoc`` lets reductions vectorise; the
results stay bit-for-bit reproducible on one machine because every parallel
loop works on fixed-size chunks whose partial results are reduced in order.
"""
import os
import threading

# OpenMP workers that spin between parallel regions steal the core the main
# thread needs for the serial steps in between (measured on 2 cores: a 1-MP
# preview took twice as long). Must be set before the OpenMP runtime starts.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

from palette_app import _runtime  # noqa: E402  (stdlib only; chose the cache folder)

#: Keyword arguments shared by every serial kernel. Cached on disk unless no
#: folder is writable (see ``palette_app/_runtime.py``).
JIT = dict(nogil=True, cache=_runtime.CACHE_OK, fastmath=FASTMATH, error_model="numpy")
#: Keyword arguments shared by every parallel kernel.
JIT_PARALLEL = dict(JIT, parallel=True)

#: Work items per parallel chunk. Fixed (not derived from the thread count) so
#: that partial sums, and so results, do not depend on how many threads run.
CHUNK = 8192

#: Numba's default ``workqueue`` threading layer must not be entered from two
#: threads at once. Every public wrapper that calls a parallel kernel holds
#: this lock (GUI workers and the warm-up thread may run concurrently).
PARALLEL_LOCK = threading.RLock()
