"""`Blocking` (client/blocking.py), what SyncCrowdClient and SyncNodeApi are: coroutine
methods block, async iterators become plain ones (closed when left early), one loop."""

from __future__ import annotations

from crowdcompute.client.blocking import Blocking


class Toy:
    def __init__(self) -> None:
        self.closed = False
        self.iterators_closed = 0
        self.loops: set[int] = set()

    async def add(self, a: int, b: int) -> int:
        import asyncio

        self.loops.add(id(asyncio.get_running_loop()))
        return a + b

    async def lines(self, n: int):
        try:
            for i in range(n):
                yield f"line {i}"
        finally:
            self.iterators_closed += 1

    def follow_logs(self, n: int):  # an async iterator from a plain method, as CrowdClient's
        return self.lines(n)

    async def close(self) -> None:
        self.closed = True

    name = "toy"


def test_coroutines_block_and_async_iterators_become_plain_ones():
    toy = Toy()
    with Blocking(toy) as sync:
        assert sync.add(2, 3) == 5 and sync.add(1, 1) == 2
        assert len(toy.loops) == 1  # one private loop for the wrapper's life
        assert list(sync.lines(3)) == ["line 0", "line 1", "line 2"]
        for line in sync.follow_logs(100):
            if line == "line 1":
                break  # left early: the async iterator is closed on the loop
        assert toy.iterators_closed == 2
        assert sync.name == "toy" and sync.aio is toy
    assert toy.closed
