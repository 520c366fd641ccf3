"""Where the tasks of a sweep run: in this process, a local process pool, or a Dask cluster.

Each backend maps a function over tasks and yields results as they finish, keeping only a
bounded number of tasks in flight: results are handed on one by one and nothing piles up
in the parent, however long the sweep. Results do not depend on the backend, because a task
is a pure function of its arguments.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sim.errors import InputError

CONNECT_TIMEOUT = "20s"  # how long to wait for a Dask scheduler to answer
T = TypeVar("T")
R = TypeVar("R")


class Backend(Protocol):
    """Runs tasks; use as a context manager."""

    description: str

    def __enter__(self) -> Backend: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Results of ``fn`` over ``items``, in the order they finish."""
        ...


def make_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """A Dask cluster when a scheduler address is given, else ``workers`` local processes."""
    if scheduler is not None:
        return DaskBackend(scheduler)
    workers = workers or os.cpu_count() or 1
    return SerialBackend() if workers == 1 else PoolBackend(workers)


class SerialBackend:
    """Every task in this process, one after the other."""

    description = "this process"

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Results in task order."""
        return (fn(item) for item in items)


class PoolBackend:
    """A local process pool, one process per worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local processes"
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> PoolBackend:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["sim.sweep"])  # workers start with the engine imported
        self.executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                            initializer=_ignore_interrupts)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=error is None, cancel_futures=True)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Results as they finish, with at most two tasks per worker in flight."""
        assert self.executor is not None, "use the backend as a context manager"
        executor = self.executor
        queue = iter(items)
        pending: set[Future[R]] = {executor.submit(fn, item)
                                   for item in itertools.islice(queue, 2 * self.workers)}
        finished = 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            try:
                pending |= {executor.submit(fn, item) for item in itertools.islice(queue, len(done))}
                results = [future.result() for future in done]
            except BrokenProcessPool as err:
                if finished:
                    raise
                raise BrokenProcessPool(f"{err}. The workers stopped before finishing a task: a "
                                        "script that starts a sweep must do it under `if __name__ "
                                        "== '__main__':` (each worker imports the script), or use "
                                        "one worker") from err
            finished += len(results)
            yield from results


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops the sweep cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskBackend:
    """A Dask distributed cluster, reached at a scheduler address."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.description = f"Dask scheduler {address}"
        self.client: Any = None

    def __enter__(self) -> DaskBackend:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler", "", "needs Dask: pip install 'opvang-sim[dask]'") from None
        try:
            self.client = Client(self.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError("--scheduler", "", f"no Dask scheduler answered at {self.address!r} "
                             f"({err})") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Results as they finish, with at most two tasks per worker thread in flight."""
        from distributed import as_completed

        client = self.client
        window = max(4, 2 * sum(client.nthreads().values()))
        queue = iter(items)
        running = as_completed([client.submit(fn, item, pure=False)
                                for item in itertools.islice(queue, window)], loop=client.loop)
        for future in running:
            result = future.result()
            future.release()
            for item in itertools.islice(queue, 1):
                running.add(client.submit(fn, item, pure=False))
            yield result
