"""The in-memory reference store, composed of one repository per concern as the SQL store is (decisions S6, S7)."""

from .replay import MemoryReplayCache
from .store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryReplayCache", "MemoryStore", "MemoryUnitOfWork"]
