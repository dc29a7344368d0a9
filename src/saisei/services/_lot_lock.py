"""One acquirer per lot: an exclusive OS file lock held for the whole acquisition.

The lock is ``flock`` on a file under the home's time-series folder
(``_locks/acquire-<lot>.lock``), so every process acquiring into the same home sees it.
The operating system releases it when the holder ends, however it ends (a clean stop, a
crash, ``kill -9``), so a stale lock never blocks the next run: the file left behind only
names the last holder. While held, the file names the holder (process id, host, user,
start time) for the error a second acquirer gets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from saisei.errors import Conflict

__all__ = ["LotLock", "lock_path"]


def lock_path(root: Path, lot: str) -> Path:
    """The lock file of ``lot`` under the time-series folder ``root``."""
    return Path(root) / "_locks" / f"acquire-{quote(lot, safe='')}.lock"


class LotLock:
    """Exclusive lock on the acquisition of one lot (a context manager).

    Parameters
    ----------
    root : Path
        The home's time-series folder.
    lot : str
        Lot number.
    actor : str
        User running the acquisition (named to a refused second acquirer).
    endpoint : str
        Server acquired from (named too).
    """

    def __init__(self, root: Path, lot: str, *, actor: str, endpoint: str) -> None:
        self.path = lock_path(root, lot)
        self.lot = lot
        self.actor = actor
        self.endpoint = endpoint
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """What the lock file says about its (last) holder; empty if unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> None:
        """Take the lock.

        Raises
        ------
        Conflict
            If another process (or another acquisition in this one) holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            held = self.holder()
            who = (
                f"process {held.get('pid', '?')} on {held.get('host', '?')} (user "
                f"{held.get('actor', '?')}, from {held.get('endpoint', '?')}, since "
                f"{held.get('since', '?')})"
                if held
                else "another process"
            )
            raise Conflict(
                f"Lot {self.lot} is already being acquired by {who}. Stop that acquisition "
                f"first; two acquirers of one lot would store its values twice. Lock file: "
                f"{self.path}."
            ) from None
        record = {
            "lot": self.lot,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "actor": self.actor,
            "endpoint": self.endpoint,
            "since": datetime.now(UTC).isoformat(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> LotLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
