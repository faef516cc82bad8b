"""A process-local token store: tests, or an embedding application that keeps tokens itself."""

from __future__ import annotations

import json
import threading

from auth.store import StoreData, StoreTransaction, decode, encode


class MemoryTokenStore:
    """A process-local store (tests, or an embedding application that keeps tokens itself)."""

    description = "memory (not persisted)"

    def __init__(self) -> None:
        self._data = StoreData()
        self._lock = threading.Lock()

    def read(self) -> StoreData:
        return decode(json.loads(json.dumps(encode(self._data))), "the memory token store")

    def begin(self) -> StoreTransaction:
        self._lock.acquire()
        return _MemoryTransaction(self)


class _MemoryTransaction:
    def __init__(self, store: MemoryTokenStore) -> None:
        self._store = store
        self._open = True

    def read(self) -> StoreData:
        return self._store.read()

    def write(self, data: StoreData) -> None:
        self._store._data = decode(json.loads(json.dumps(encode(data))))

    def close(self) -> None:
        if self._open:
            self._open = False
            self._store._lock.release()
