"""Run locks: one update run per database at a time, across processes.

PostgreSQL uses a session advisory lock (see ``postgres_backend``); a DuckDB file uses an OS file lock
beside it (:class:`FileRunLock`). Either way the holder records its pid and start time where a second
run can read them, so the refusal says who holds the lock and since when.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass

from filelock import FileLock, Timeout

from alphahome.errors import RunLockHeld


@dataclass(frozen=True)
class LockHolder:
    """Who holds a run lock, as far as it recorded."""

    pid: int | None = None
    host: str | None = None
    started_at: dt.datetime | None = None

    @classmethod
    def current(cls) -> LockHolder:
        """This process, now."""
        return cls(os.getpid(), socket.gethostname(), dt.datetime.now(dt.UTC))

    def refusal(self, name: str, where: str) -> RunLockHeld:
        """The error a second would-be holder gets."""
        pid = f"pid {self.pid}" if self.pid is not None else "pid unknown"
        if self.host and self.host != socket.gethostname():
            pid += f" on {self.host}"
        since = "unknown time"
        if self.started_at is not None:
            started = self.started_at.astimezone() if self.started_at.tzinfo else self.started_at
            since = started.strftime("%Y-%m-%d %H:%M:%S")
        return RunLockHeld(f"another run is in progress ({pid}, since {since}) [lock {name!r} on {where}]")


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` derived from the lock's name."""
    digest = hashlib.sha256(f"alphahome.run_lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _safe_name(name: str) -> str:
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"run lock names use letters, digits, '_', '.', '-': got {name!r}")
    return name


class FileRunLock:
    """An exclusive OS lock on ``<database file>.<name>.lock``; the holder's identity goes in ``….lock.info``.

    The identity lives in a separate file because some filelock versions truncate the lock file when a
    second process merely tries to take it.
    """

    def __init__(self, database_path: str, name: str, where: str) -> None:
        self.name = _safe_name(name)
        self.where = where
        self.lock_path = f"{database_path}.{self.name}.lock"
        self.info_path = f"{self.lock_path}.info"
        # Not thread-local: asyncio may acquire and release from different worker threads.
        self._lock = FileLock(self.lock_path, timeout=0, thread_local=False)

    def acquire(self) -> None:
        """Take the lock now or raise :class:`RunLockHeld` naming the holder."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise self.read_holder().refusal(self.name, self.where) from None
        holder = LockHolder.current()
        payload = {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at and holder.started_at.isoformat()}
        tmp = f"{self.info_path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, self.info_path)

    def release(self) -> None:
        """Release the lock (the info file is removed first, while it is still ours)."""
        try:
            os.remove(self.info_path)
        except FileNotFoundError:
            pass
        self._lock.release()

    def is_held(self) -> bool:
        """True when another holder has the lock right now (probes without keeping it)."""
        probe = FileLock(self.lock_path, timeout=0, thread_local=False)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return True
        probe.release()
        return False

    @classmethod
    def held_beside(cls, database_path: str, where: str) -> FileRunLock | None:
        """A run lock beside ``database_path`` that some process holds now, if any."""
        prefix = f"{database_path}."
        for lock_path in sorted(glob.glob(f"{glob.escape(database_path)}.*.lock")):
            name = lock_path[len(prefix) : -len(".lock")]
            try:
                lock = cls(database_path, name, where)
            except ValueError:
                continue
            if lock.is_held():
                return lock
        return None

    def read_holder(self) -> LockHolder:
        """The identity the current holder recorded (empty if it has not written it yet)."""
        try:
            with open(self.info_path, encoding="utf-8") as fh:
                data = json.load(fh)
            started = dt.datetime.fromisoformat(data["started_at"]) if data.get("started_at") else None
            return LockHolder(data.get("pid"), data.get("host"), started)
        except (OSError, ValueError, KeyError, TypeError):
            return LockHolder()
