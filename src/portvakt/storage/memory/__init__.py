"""The in-memory reference store, composed of one repository per concern as the SQL store is (decision S3)."""

from .replay import MemoryReplayCache
from .store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryReplayCache", "MemoryStore", "MemoryUnitOfWork"]
