"""Running work in other processes: a pool of forked workers for many sources, and a single
forked child for one piece of work beside the parent's own (a large deck's checks or formats).

Forking (POSIX) lets a child start with everything the parent has built (the plan, a loaded
deck) without pickling it; only results travel back, pickled. Callers fall back to working in
this process where fork is unavailable (``can_fork``).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, Generic, TypeVar

from deckkit.atomic import release_in_child

_Context = TypeVar("_Context")
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def can_fork() -> bool:
    """Whether this platform can fork worker processes."""
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


class _Worker(Generic[_Context, _Item, _Result]):
    """What one pool process knows: the context it was started with and the work to do."""

    # Set in each worker process by the pool's initializer, from the pool's own arguments; the
    # parent never sets it. With the fork start method those arguments are inherited, not pickled.
    current: _Worker[object, object, object] | None = None

    def __init__(self, work: Callable[[_Context, _Item], _Result], context: _Context) -> None:
        self.work = work
        self.context = context


def _start_worker(work: Callable[[Any, Any], object], context: object, parent: int) -> None:
    release_in_child(parent)
    _Worker.current = _Worker(work, context)


def _work_in_worker(item: object) -> object:
    worker = _Worker.current
    assert worker is not None, "the pool's initializer runs before any work"
    return worker.work(worker.context, item)


def map_in_workers(
    work: Callable[[_Context, _Item], _Result],
    context: _Context,
    items: Sequence[_Item],
    workers: int,
) -> Iterator[_Result]:
    """``work(context, item)`` for each item, in forked worker processes, results in order.

    Each worker receives ``context`` once, when the pool starts; only items and results are
    pickled.
    """
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        # Forked, each worker inherits this call instead of receiving it pickled.
        initializer=partial(_start_worker, work, context, os.getpid()),
    )
    with pool:
        results: Iterator[Any] = pool.map(_work_in_worker, items)  # work's results
        yield from results


class Forked(Generic[_Result]):
    """A function running in a forked child; ``result()`` returns (or raises) what it gave."""

    def __init__(self, pid: int, reader: int) -> None:
        self.pid = pid
        self.reader = reader

    def result(self) -> _Result:
        """Wait for the child and return its result, or raise the exception it raised."""
        with os.fdopen(self.reader, "rb") as pipe:
            data = pipe.read()  # read everything before waiting: a full pipe would block the child
        os.waitpid(self.pid, 0)
        if not data:
            raise RuntimeError("a deckkit worker process ended unexpectedly")
        outcome = pickle.loads(data)
        if isinstance(outcome, BaseException):
            raise outcome
        result: _Result = outcome
        return result


def run_forked(work: Callable[[], _Result]) -> Forked[_Result]:
    """Start ``work`` in a forked child and return at once (POSIX only: see ``can_fork``)."""
    reader, writer = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(reader)
            release_in_child(parent)
            payload: object = work()
            status = 0
        except BaseException as error:  # the parent re-raises it
            payload = error
        try:
            with os.fdopen(writer, "wb") as pipe:
                pickle.dump(payload, pipe)
        finally:
            os._exit(status)
    os.close(writer)
    return Forked(pid, reader)
