"""Files people open are written whole or not at all: to a temporary name in the same
folder, then renamed over the old one (atomic on POSIX), so a reader or a crashed run
never leaves half a file behind."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from quality import failpoints


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp_path), then rename tmp_path to path. A temporary copy left by a run
    that was killed before its rename is removed (one run per home writes a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        failpoints.hit("write")  # crash tests: killed between writing and renaming
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically (`atomic_write`): readers see the old file
    or the new one, never half of it."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
