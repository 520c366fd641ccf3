"""Where tasks run: in this process, a local process pool, or a Dask cluster.

Every backend maps a function over tasks and yields the results as they finish (a sweep) or
in task order (a calibration, ``opvang run``), keeping only a bounded number of tasks in
flight: results are handed on one by one and nothing piles up in the parent. Results do not
depend on the backend, because a task is a pure function of its arguments.

Local workers die with the process that started them, however it ends (each watches a
pipe whose only writer is that process: the kernel closes it when the process dies, even by
SIGKILL), and are stopped at once when it stops early (Ctrl-C, SIGTERM, an error). A Dask
scheduler must complete its handshake within ``CONNECT_TIMEOUT``; a cluster without workers
for ``NO_WORKERS_TIMEOUT`` stops the sweep with a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sim.input.errors import InputError

CONNECT_TIMEOUT = 20.0  # seconds for a Dask scheduler to accept and complete its handshake
NO_WORKERS_TIMEOUT = 60.0  # seconds a Dask cluster may have no workers before the sweep stops
POLL_SECONDS = 1.0
ADDRESS = re.compile(r"(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})")
T = TypeVar("T")
R = TypeVar("R")


class BackendError(Exception):
    """The backend cannot go on (its workers are gone); the message says what to do."""


class Backend(Protocol):
    """Runs tasks; use as a context manager."""

    description: str

    def __enter__(self) -> Backend: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def map(self, fn: Callable[[T], R], items: Iterable[T], ordered: bool = False) -> Iterator[R]:
        """Results of ``fn`` over ``items``: in task order when ``ordered``, else as they finish."""
        ...


def make_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """A Dask cluster when a scheduler address is given, else ``workers`` local processes."""
    if scheduler is not None:
        return DaskBackend(scheduler)
    workers = workers or os.cpu_count() or 1
    return SerialBackend() if workers == 1 else PoolBackend(workers)


def windowed(submit: Callable[[T], Any], wait_any: Callable[[list[Any]], object], items: Iterable[T],
             window: int, ordered: bool) -> Iterator[Any]:
    """Finished futures of ``submit`` over ``items``, with at most ``window`` in flight.

    ``wait_any`` blocks until one of the futures it is given is done. In task order when
    ``ordered`` (only the first pending future is waited for), else as they finish.
    """
    queue = iter(items)
    pending = deque(submit(item) for item in itertools.islice(queue, window))
    while pending:
        wait_any([pending[0]] if ordered else list(pending))
        if ordered:
            ready = []
            while pending and pending[0].done():
                ready.append(pending.popleft())
        else:
            ready = [f for f in pending if f.done()]
            taken = {id(f) for f in ready}
            pending = deque(f for f in pending if id(f) not in taken)
        pending.extend(submit(item) for item in itertools.islice(queue, len(ready)))
        yield from ready


class SerialBackend:
    """Every task in this process, one after the other (in task order)."""

    description = "this process"

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def map(self, fn: Callable[[T], R], items: Iterable[T], ordered: bool = False) -> Iterator[R]:
        """Results in task order."""
        return (fn(item) for item in items)


class PoolBackend:
    """A local process pool, one process per worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local processes"
        self.executor: ProcessPoolExecutor | None = None
        self.lifeline: tuple[Connection, Connection] | None = None

    def __enter__(self) -> PoolBackend:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["sim.batch.tasks"])  # workers start with the engine imported
        self.lifeline = context.Pipe(duplex=False)  # workers get the reading end only
        self.executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                            initializer=worker_setup, initargs=(self.lifeline[0],))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.executor is not None:
            if error is not None:  # stop the running tasks now instead of waiting for them
                for process in list((self.executor._processes or {}).values()):  # no public API
                    process.terminate()
            self.executor.shutdown(wait=True, cancel_futures=True)
        for end in self.lifeline or ():
            end.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T], ordered: bool = False) -> Iterator[R]:
        """Results with at most two tasks per worker in flight (four in task order)."""
        assert self.executor is not None, "use the backend as a context manager"
        executor = self.executor

        def submit(item: T) -> Future[R]:
            with interrupts_held():  # a submit may start a worker; that must not be cut in half
                return executor.submit(fn, item)

        futures: Iterator[Future[R]] = windowed(
            submit, lambda fs: wait(fs, return_when=FIRST_COMPLETED),
            items, (4 if ordered else 2) * self.workers, ordered)
        finished = False
        try:
            for future in futures:
                yield future.result()
                finished = True
        except BrokenProcessPool as err:
            if finished:
                raise
            raise BrokenProcessPool(f"{err}. The workers stopped before finishing a task: a "
                                    "script that starts a sweep must do it under `if __name__ "
                                    "== '__main__':` (each worker imports the script), or use "
                                    "one worker") from err


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them to their own handlers.

    A worker's start must not be cut in half: a parent interrupted while it waits for the new
    worker's process id (for about half a second, while the forkserver imports the engine)
    never records the worker, so it cannot stop it; the worker then looks for its task queue's
    semaphore after the parent has removed it and prints a traceback under the parent's last
    message.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(received):  # each once, in the order they came
            signal.raise_signal(signum)


def worker_setup(lifeline: Connection) -> None:
    """Run in each local worker: leave Ctrl-C to the parent, and end when the parent ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True,
                     name="lifeline").start()


def _exit_with_parent(lifeline: Connection) -> None:
    """Block until the parent's end of the pipe closes (nothing is ever sent), then exit.

    Only the parent holds the writing end (a forkserver and its other children do not), so
    the read ends exactly when the parent closes the pool or dies, even by SIGKILL.
    """
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(1)


class DaskBackend:
    """A Dask distributed cluster, reached at a scheduler address."""

    def __init__(self, address: str) -> None:
        self.address = scheduler_address(address)
        self.description = f"Dask scheduler {self.address}"
        self.client: Any = None

    def __enter__(self) -> DaskBackend:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler", "", "needs Dask: pip install 'opvang-sim[dask]'") from None
        probe(self.address, CONNECT_TIMEOUT)
        try:
            self.client = Client(self.address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError("--scheduler", "", f"no Dask scheduler answered at {self.address!r} "
                             f"({err})") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T], ordered: bool = False) -> Iterator[R]:
        """Results with at most two tasks per worker thread in flight."""
        client = self.client
        window = max(4, 2 * sum(client.nthreads().values()))
        for future in windowed(lambda item: client.submit(fn, item, pure=False), self._wait_any,
                               items, window, ordered):
            result = future.result()
            future.release()
            yield result

    def _wait_any(self, futures: list[Any]) -> None:
        """Wait for one of ``futures``; stop when the cluster has had no workers for too long."""
        from distributed import wait as dask_wait

        alone_since: float | None = None
        while True:
            try:
                with self.client.as_current():
                    dask_wait(futures, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                return
            except TimeoutError:
                pass
            if self.client.nthreads():
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
                print(f"waiting for Dask workers at {self.address}", file=sys.stderr)
            elif time.monotonic() - alone_since > NO_WORKERS_TIMEOUT:
                raise BackendError(f"the Dask cluster at {self.address} has had no workers for "
                                   f"{NO_WORKERS_TIMEOUT:g} s: start workers (dask worker "
                                   f"{self.address}) and run the same command again")


def scheduler_address(address: str) -> str:
    """``tcp://HOST:PORT`` from what the user wrote, or an :class:`InputError`."""
    match = ADDRESS.fullmatch(address.strip())
    if match is None or not 0 < int(match[2]) < 65536:
        raise InputError("--scheduler", "", f"expected tcp://HOST:PORT, got {address!r}")
    return f"tcp://{match[1]}:{match[2]}"


def reach(address: str, timeout: float) -> None:
    """Open a TCP connection to ``address`` (``tcp://HOST:PORT``) and close it; an
    :class:`InputError` that says why not: the port is closed (refused), the host is unknown,
    or nothing answered within ``timeout`` seconds."""
    match = ADDRESS.fullmatch(address)
    assert match is not None, address  # made by scheduler_address
    host, port = match[1].strip("[]"), int(match[2])
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        raise InputError("--scheduler", "", f"no Dask scheduler at {address!r}: the connection was "
                         "refused (nothing listens on that port); start the scheduler (dask "
                         "scheduler) or check the address") from None
    except socket.gaierror as err:
        raise InputError("--scheduler", "", f"no Dask scheduler at {address!r}: the host {host!r} "
                         f"is not known ({err.strerror})") from None
    except TimeoutError:
        raise InputError("--scheduler", "", f"no Dask scheduler at {address!r}: no answer to a "
                         f"connection within {timeout:g} s (a wrong address, or a firewall)") from None
    except OSError as err:
        raise InputError("--scheduler", "", f"no Dask scheduler at {address!r}: cannot connect "
                         f"({err.strerror or err})") from None


def probe(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete Dask's handshake within ``timeout`` seconds.

    Dask's own connection has no limit on the handshake (a silent port hangs it) and trusts
    the first bytes it reads as a message size (a port that answers with other bytes makes
    it allocate exabytes); this check says what answered instead.
    """
    from distributed.comm import connect

    reach(address, timeout)

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    try:  # in a thread of its own: the caller may run an event loop already (a notebook)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, handshake()).result()
    except TimeoutError:
        raise InputError("--scheduler", "", f"no Dask scheduler answered at {address!r} within "
                         f"{timeout:g} s (the port is open but silent)") from None
    except OSError as err:
        raise InputError("--scheduler", "", f"no Dask scheduler answered at {address!r} ({err})") from None
    except (Exception, MemoryError) as err:
        raise InputError("--scheduler", "", f"{address} answered, but not as a Dask scheduler "
                         f"({type(err).__name__})") from None
