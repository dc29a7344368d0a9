"""The result cache: least-recently-used eviction, one computation per key at a time."""

from __future__ import annotations

import threading
import time

from saisei.services.caching import ResultCache


def test_lru_eviction_and_reuse() -> None:
    cache = ResultCache(max_entries=2)
    calls: list[str] = []

    def make(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert cache.get("a", lambda: make("a")) == "A"
    assert cache.get("b", lambda: make("b")) == "B"
    assert cache.get("a", lambda: make("a")) == "A"  # reused, and now most recent
    cache.get("c", lambda: make("c"))  # evicts b, the least recently used
    cache.get("b", lambda: make("b"))
    assert calls == ["a", "b", "c", "b"] and len(cache) == 2


def test_concurrent_misses_compute_once() -> None:
    cache = ResultCache()
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(calls) == 1
