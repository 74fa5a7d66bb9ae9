"""Where a widget is on screen, found by its accessible role and name over AT-SPI.

Run with the system Python, which has the Debian package python3-pyatspi (the project's
virtual environment has no GObject bindings); bench/walk_journey.py calls it to click
widgets the way a screen reader finds them:

    /usr/bin/python3 bench/atspi_where.py ROLE NAME_REGEX      -> "x y width height"
    /usr/bin/python3 bench/atspi_where.py --dump [WINDOW_REGEX] -> the tree, for reading

Only showing widgets of the application named picsafe-desktop are considered; exit 1 when
none matches.
"""

from __future__ import annotations

import re
import sys

import pyatspi  # Debian: python3-pyatspi

APP = re.compile(r"picsafe", re.IGNORECASE)
SKIP_INSIDE = {"list", "table", "tree table", "tree", "page tab list", "scroll bar"}


def apps():
    desktop = pyatspi.Registry.getDesktop(0)
    return [a for a in desktop if a is not None and APP.search(a.name or "")]


def showing(acc) -> bool:
    try:
        return acc.getState().contains(pyatspi.STATE_SHOWING)
    except Exception:  # noqa: BLE001 - a widget destroyed while walking
        return False


def extents(acc):
    ext = acc.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    return ext.x, ext.y, ext.width, ext.height


def walk(acc, depth=0):
    try:
        role, name = acc.getRoleName(), acc.name or ""
        count = acc.childCount
    except Exception:  # noqa: BLE001
        return
    yield depth, acc, role, name
    if role in SKIP_INSIDE and depth > 0:
        return
    for i in range(count):
        try:
            child = acc.getChildAtIndex(i)
        except Exception:  # noqa: BLE001
            continue
        if child is not None and showing(child):
            yield from walk(child, depth + 1)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--dump":
        window = re.compile(argv[1] if len(argv) > 1 else "")
        for app in apps():
            for top in (app.getChildAtIndex(i) for i in range(app.childCount)):
                if top is None or not showing(top) or not window.search(top.name or ""):
                    continue
                for depth, acc, role, name in walk(top):
                    try:
                        where = extents(acc)
                    except Exception:  # noqa: BLE001
                        where = None
                    print("  " * depth, role, repr(name), where)
        return 0
    role, pattern = argv[0], re.compile(argv[1])
    for app in apps():
        for _depth, acc, acc_role, name in walk(app):
            if acc_role == role and pattern.search(name) and showing(acc):
                print(*extents(acc))
                return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
