"""Keep Python's cyclic garbage collector off the event loop's back (issue 17).

An open 100,000-photo vault keeps hundreds of thousands of objects alive for the whole
session (its state entries and indexes). Every full (generation 2) collection walked all of
them, 75-95 ms holding the GIL, and a worker listing patients at sign-in triggered two of
them: the GUI thread could not run meanwhile. Objects alive once the window is built live as
long as the session, so they are moved out of the collector's sight (`gc.freeze`); later
collections walk only what was made since (about 20 ms at sign-in on the same vault).
Reference counting still frees frozen objects as usual; only cycles among them are never
collected, and a collection just before freezing leaves none behind.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect once, then exempt every object alive now from later collections."""
    gc.collect()
    gc.freeze()
