"""Folder trees deeper than Python's recursion limit, built and removed without recursing.

Python 3.11's `shutil.rmtree` recurses once per level, so pytest's own clean-up of an old
temp folder holding such a tree dies with RecursionError at the end of a later run. Every
test that builds one removes it again through the `deep_tree` fixture."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEPTH = 1100


def build(parent: Path, levels: int = DEPTH, name: str = "Smith QM123") -> Path:
    """`levels` nested folders under `parent` (built with relative names: the absolute path
    of the deepest one is far beyond what one system call accepts)."""
    top = parent / name
    fd = os.open(parent, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            new = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, name = new, "d"
    finally:
        os.close(fd)
    return top


def remove(top: Path) -> None:
    """Delete `top` and everything under it, however deep, with an explicit stack of open
    folders instead of recursion."""
    if not os.path.lexists(top):
        return
    if not os.path.isdir(top) or os.path.islink(top):
        os.unlink(top)
        return
    stack = [(os.open(top.parent, os.O_RDONLY), top.name)]
    try:
        while stack:
            parent_fd, name = stack[-1]
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent_fd)
            subdir = None
            with os.scandir(fd) as entries:
                for entry in entries:
                    if stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
                        subdir = entry.name
                        break
                    os.unlink(entry.name, dir_fd=fd)
            if subdir is not None:
                stack.append((fd, subdir))
                continue
            os.close(fd)
            os.rmdir(name, dir_fd=parent_fd)
            stack.pop()
            if not stack or stack[-1][0] != parent_fd:
                os.close(parent_fd)
    finally:
        for parent_fd, _ in stack:
            try:
                os.close(parent_fd)
            except OSError:
                pass
