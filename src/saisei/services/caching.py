"""A small thread-safe LRU cache for derived views of immutable inputs.

Time-series segments and monitoring model versions never change once stored (a correction is
a new segment, a rebuild a new version), so a view computed from them can be reused while its
key - which names the segment ids or the model version - stays the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["ResultCache"]

T = TypeVar("T")


class ResultCache:
    """Least-recently-used results by key.

    Parameters
    ----------
    max_entries : int
        Results kept; the least recently used is dropped beyond it.
    """

    def __init__(self, max_entries: int = 128) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result stored under ``key``, computing and storing it when absent.

        Concurrent callers of a missing key wait for the first one's result instead of
        computing it again (one computation per key at a time).
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
            flight = self._computing.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]  # type: ignore[return-value]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
            return value

    def __len__(self) -> int:
        return len(self._items)
