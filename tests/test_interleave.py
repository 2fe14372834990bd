"""The measure-until-precise loop (runners/interleave.py), on a fake clock: no timing in tests."""

from __future__ import annotations

from pytest_goblin.runners.interleave import interleave


class FakeRun:
    """A benchmark that takes `seconds` of fake time per call and returns `samples`."""

    def __init__(self, clock: list[float], name: str, samples: list[float], seconds: float, order: list[str]):
        self.clock, self.name, self.samples, self.seconds, self.order = clock, name, samples, seconds, order

    def __call__(self) -> list[float]:
        self.clock[0] += self.seconds
        self.order.append(self.name)
        return list(self.samples)


def _pair(a: list[float], b: list[float], seconds: float = 1.0) -> tuple[FakeRun, FakeRun, list[float], list[str]]:
    clock, order = [0.0], []
    return FakeRun(clock, "A", a, seconds, order), FakeRun(clock, "B", b, seconds, order), clock, order


def test_rounds_alternate_their_order() -> None:
    ra, rb, clock, order = _pair([1.0], [0.5])
    done = interleave(ra, rb, rounds=3, clock=lambda: clock[0])
    assert order == ["A", "B", "B", "A", "A", "B"] and done.rounds == 3
    assert done.a == [1.0, 1.0, 1.0] and done.b == [0.5, 0.5, 0.5]


def test_a_narrow_interval_stops_at_the_minimum_rounds() -> None:
    ra, rb, clock, _ = _pair([1.0, 1.0], [0.5, 0.5])
    done = interleave(ra, rb, rounds=2, target_half_width=0.03, max_seconds=1000, clock=lambda: clock[0])
    assert done.rounds == 2


def test_a_wide_interval_adds_rounds_until_the_next_would_overrun_the_budget() -> None:
    ra, rb, clock, _ = _pair([1.0, 3.0], [0.5, 2.5])  # noisy: never within +-3%
    done = interleave(ra, rb, rounds=2, target_half_width=0.03, max_seconds=20.0, clock=lambda: clock[0])
    # each round costs 2 fake seconds; a round is started only if it ends within 20 s
    assert done.rounds == 10 and clock[0] == 20.0


def test_no_target_means_exactly_the_minimum_rounds() -> None:
    ra, rb, clock, _ = _pair([1.0, 3.0], [0.5, 2.5])
    assert interleave(ra, rb, rounds=4, max_seconds=1e9, clock=lambda: clock[0]).rounds == 4
