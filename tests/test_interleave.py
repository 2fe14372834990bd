"""The measure-until-precise loop (runners/interleave.py), on a fake clock: no timing in tests."""

from __future__ import annotations

import pytest

from pytest_goblin.runners.interleave import Deadline, RunStart, interleave


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


class Cut(FakeRun):
    """A run that raises the deadline on its `at`-th call (1-based) and from then on."""

    def __init__(self, *args: object, at: int):
        super().__init__(*args)  # type: ignore[arg-type]
        self.at, self.calls = at, 0

    def __call__(self) -> list[float]:
        self.calls += 1
        if self.calls >= self.at:
            raise Deadline("budget spent")
        return super().__call__()


def test_a_deadline_cuts_the_loop_and_keeps_the_runs_so_far() -> None:
    clock, order = [0.0], []
    ra = Cut(clock, "A", [1.0], 1.0, order, at=3)  # A's third run finds the time spent
    rb = FakeRun(clock, "B", [0.5], 1.0, order)
    done = interleave(ra, rb, rounds=5, clock=lambda: clock[0])
    assert done.cut
    assert order == ["A", "B", "B", "A"]  # round 3 starts with A, which is cut: B never runs
    assert done.a == [1.0, 1.0] and done.b == [0.5, 0.5] and done.rounds == 2


def test_a_deadline_before_both_sides_have_a_sample_is_raised() -> None:
    clock, order = [0.0], []
    rb = Cut(clock, "B", [0.5], 1.0, order, at=1)
    with pytest.raises(Deadline):
        interleave(FakeRun(clock, "A", [1.0], 1.0, order), rb, rounds=2, clock=lambda: clock[0])
    # a reused sample of the other side is enough to return what was measured
    done = interleave(FakeRun(clock, "A", [1.0], 1.0, order), Cut(clock, "B", [0.5], 1.0, order, at=2), rounds=2, reuse_b=[0.5], clock=lambda: clock[0])
    assert done.cut and done.a == [1.0] and done.b == [0.5, 0.5] and done.reused == 1


def test_reused_samples_come_first_and_the_rounds_are_all_fresh() -> None:
    ra, rb, clock, order = _pair([1.0], [0.5])
    done = interleave(ra, rb, rounds=2, reuse_a=[1.1], clock=lambda: clock[0])
    assert order == ["A", "B", "B", "A"] and done.a == [1.1, 1.0, 1.0] and done.b == [0.5, 0.5] and done.reused == 1


def test_progress_is_told_before_each_run_and_the_plan_grows_with_added_rounds() -> None:
    ra, rb, clock, _ = _pair([1.0, 3.0], [0.5, 2.5])  # noisy: rounds are added until the budget
    seen: list[RunStart] = []
    done = interleave(ra, rb, rounds=2, target_half_width=0.03, max_seconds=6.0, reuse_a=[2.0], on_run=seen.append, clock=lambda: clock[0])
    assert done.rounds == 3
    assert [(s.side, s.run, s.planned) for s in seen] == [(0, 1, 4), (1, 2, 4), (1, 3, 4), (0, 4, 4), (0, 5, 6), (1, 6, 6)]
    assert seen[0].a == (2.0,) and seen[0].b == () and seen[2].b == (0.5, 2.5)


def test_with_decided_rounds_go_on_until_it_says_so_not_at_a_narrow_interval() -> None:
    """Issue 27: the command runner measures until the verdict is decided; a narrow interval that
    still straddles a threshold is not the end."""
    ra, rb, clock, _ = _pair([1.0], [0.5])
    seen: list[int] = []

    def decided(a: list[float], b: list[float]) -> bool:
        seen.append(len(a))
        return len(a) >= 5

    done = interleave(ra, rb, rounds=2, target_half_width=0.03, max_seconds=1000, clock=lambda: clock[0], decided=decided)
    assert done.rounds == 5 and seen == [2, 3, 4, 5]
    ra, rb, clock, _ = _pair([1.0], [0.5])
    cut = interleave(ra, rb, rounds=2, max_seconds=9, clock=lambda: clock[0], decided=lambda a, b: False)
    assert cut.rounds == 4  # never decided: the time allowed ends it (a fifth round would end at 8 + 2 > 9)
