"""A second process that records a large import's batches while the import reads on.

Inserting a batch and hashing its chain links is a large part of an import, and most of it
is SQLite or PostgreSQL at work, which a thread of the same process cannot overlap with the
parsing (the GIL is taken back for every row `executemany` binds). So a child process opens
the same ledger (its own recorder: the same statements, the same chain) and records the
batches it is sent, one at a time and in order: batch N+1 is sent only once batch N is
committed, so the store always holds a prefix of a clean run, as before.

The child dies with the importing process (Linux: PR_SET_PDEATHSIG): a batch is never
committed after the import that sent it is gone, so an import run again after a kill never
races the last batch of the one that was killed.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from practice_es.infrastructure.processes import start_python

if TYPE_CHECKING:
    from practice_es.infrastructure.settings import Settings

Row = tuple[bytes, int, str, bytes]  # an event to store: id (16 bytes), version, topic, state
_HEADER = struct.Struct(">Q")
DEPTH = 2  # batches sent and not yet committed: the child always has the next one at hand
_READY = "ready"
_MODULE = "practice_es.migration.recorder_process"  # not __name__: __main__ in the child


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


class RecorderProcess:
    """The parent's side: `insert` sends a batch once the previous one is committed.

    A batch is a few megabytes: a thread of ours writes it into the pipe, so the import reads
    on while the child takes it in (on a busy machine, each pipeful waits for the child to
    be scheduled). The thread holds no GIL while it waits in `os.write`."""

    def __init__(self, settings: Settings) -> None:
        self._child = start_python(_MODULE, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._child.stdin is not None and self._child.stdout is not None
        self._input: IO[bytes] = self._child.stdin
        self._output: IO[bytes] = self._child.stdout
        _widen(self._input)
        send(self._input, (settings, os.getpid()))
        self._ready = self._failed = False
        self._sent = 0  # batches not yet acknowledged
        self.committed: list[Sequence[int]] = []  # the positions of each batch committed since
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_batches, daemon=True,
                                        name="practice-import-sender")
        self._sender.start()

    def _send_batches(self) -> None:
        descriptor = self._input.fileno()
        while (frame := self._outbox.get()) is not None:
            view = memoryview(frame)
            try:
                while view:
                    view = view[os.write(descriptor, view):]
            except OSError:
                return  # the child is gone: `wait` says so

    def ready(self, wait: bool = False) -> bool:
        """Whether the child has opened the ledger (until then the import records itself);
        with `wait`, once it has (False if it could not)."""
        if not (self._ready or self._failed) and select.select(
                [self._output], [], [], None if wait else 0)[0]:
            try:
                self._ready = receive(self._output) == _READY
            except EOFError:  # it could not open the ledger (its error is on stderr)
                self._failed = True
        return self._ready

    def insert(self, rows: Sequence[Row]) -> None:
        """Send the events (id, version, topic, stored state), once fewer than `DEPTH`
        batches sent before are still being recorded."""
        while self._sent >= DEPTH:
            self._acknowledged()
        data = _flat_pickle(rows)
        self._outbox.put(_HEADER.pack(len(data)) + data)
        self._sent += 1

    def wait(self) -> None:
        """Until every batch sent is committed; the error of one that failed."""
        while self._sent:
            self._acknowledged()

    def _acknowledged(self) -> None:
        self._sent -= 1
        try:
            reply = receive(self._output)
        except (EOFError, OSError):
            self._sent = 0
            raise PersistenceError("the import's recording process stopped") from None
        if isinstance(reply, Exception):
            raise reply
        self.committed.append(range(*reply))

    def close(self) -> None:
        """Wait for the last batch, then let the child go. (A batch's error is the import's
        to report, from `wait`; here the import is over, or failing already.)"""
        try:
            with suppress(PersistenceError, RuntimeError):
                self.wait()
        finally:
            self._outbox.put(None)
            self._sender.join()
            with suppress(OSError):
                self._input.close()  # the child ends at the end of its input
            try:
                self._child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            self._output.close()


def _flat_pickle(rows: Sequence[Row]) -> bytes:
    """A batch pickled without the memo (`fast`): its rows are flat tuples that share
    nothing worth naming twice but their topics, so memoising each row's four parts would
    be work spent for nothing."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # (no cycles in a list of flat tuples: nothing to memoise for)
    pickler.dump(rows)
    return buffer.getvalue()


def _widen(pipe: IO[bytes]) -> None:
    """A pipe of a megabyte rather than 64 KB where the system allows (fewer handovers)."""
    with suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


def serve() -> None:
    """The child: open the ledger, then record each batch it reads, replying with the
    batch's positions (first, last + 1) or the error (as a type the parent can rebuild)."""
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the replies
    settings, parent = receive(stdin)
    _die_with(parent)
    from practice_es.application import PracticeLedger

    ledger = PracticeLedger(settings)
    send(stdout, _READY)
    failed: Exception | None = None
    try:
        while True:
            try:
                rows = receive(stdin)
            except EOFError:
                return
            reply: Exception | tuple[int, int] | None = failed
            if failed is None:  # after a failed batch, none: the store keeps a prefix
                try:
                    positions = insert_rows(ledger.recorder, rows)
                    reply = (positions[0], positions[-1] + 1) if positions else (0, 0)
                except Exception as error:  # every error goes back to the parent
                    reply = failed = _portable(error)
            send(stdout, reply)
    finally:
        ledger.close()


def insert_rows(recorder: Any, rows: Sequence[Row]) -> Sequence[int]:
    """Record events given as (UUID's 16 bytes, version, topic, stored state): as they are
    where the recorder takes them so, else as stored events. Their log positions, in order
    (none where the recorder does not say)."""
    if hasattr(recorder, "insert_rows"):
        positions = recorder.insert_rows(rows)
    else:
        positions = recorder.insert_events([StoredEvent(
            originator_id=UUID(bytes=i), originator_version=v, topic=t, state=s)
            for i, v, t, s in rows])
    return list(positions) if positions and len(positions) == len(rows) else []


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)  # the parent is already gone


def _portable(error: Exception) -> Exception:
    """The error as one of the persistence errors the import knows (a driver's own may not
    pickle)."""
    from practice_es.infrastructure.chain import ChainBroken

    message = f"{type(error).__name__}: {error}"
    for kind in (ChainBroken, IntegrityError, PersistenceError):
        if isinstance(error, kind):
            return kind(message)
    return RuntimeError(message)


if __name__ == "__main__":
    serve()
