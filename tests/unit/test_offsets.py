from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hookhouse.common.offsets import OffsetTracker, PartitionOffsets


def test_commit_never_passes_an_in_flight_record() -> None:
    p = PartitionOffsets()
    for offset in (10, 11, 12):
        p.take(offset)
    p.done(11)
    p.done(12)
    assert p.committable() == 10
    p.done(10)
    assert p.committable() == 13


def test_nothing_new_to_commit_after_marking() -> None:
    tracker = OffsetTracker()
    tracker.take("t", 0, 5)
    tracker.done("t", 0, 5)
    positions = tracker.committable()
    assert positions == {("t", 0): 6}
    tracker.mark_committed(positions)
    assert tracker.committable() == {}


def test_forgotten_partitions_ignore_late_completions() -> None:
    tracker = OffsetTracker()
    tracker.take("t", 1, 0)
    tracker.forget("t", 1)
    tracker.done("t", 1, 0)
    assert tracker.committable() == {} and tracker.in_flight == 0


@given(st.permutations(list(range(30))), st.integers(min_value=0, max_value=30))
def test_committed_position_is_the_contiguous_prefix(order: list[int], finished: int) -> None:
    p = PartitionOffsets()
    for offset in range(30):
        p.take(offset)
    done = set(order[:finished])
    for offset in done:
        p.done(offset)
    expected = next((o for o in range(30) if o not in done), 30)
    assert p.committable() == expected


def test_untaken_records_hold_the_commit_at_their_offset() -> None:
    p = PartitionOffsets()
    for offset in (3, 4, 5, 6):
        p.take(offset)
    p.done(3)
    p.untake_from(5)  # 5 and 6 will be read again after a seek
    assert p.committable() == 4
    p.done(4)
    assert p.committable() == 5


def test_a_position_asked_is_not_asked_again_until_the_broker_answers() -> None:
    tracker = OffsetTracker()
    tracker.take("t", 0, 5)
    tracker.done("t", 0, 5)
    asked = tracker.committable()
    tracker.ask(asked)
    assert tracker.committable() == {}  # on its way: not sent twice
    assert tracker.partitions[("t", 0)].committed is None  # nor counted before the answer
    assert tracker.committable(unconfirmed=True) == {("t", 0): 6}  # a commit that waits
    tracker.answer("t", 0, 6, ok=True)
    assert tracker.partitions[("t", 0)].committed == 6
    assert tracker.committable(unconfirmed=True) == {}


def test_a_refused_commit_is_asked_again() -> None:
    tracker = OffsetTracker()
    for offset in (0, 1):
        tracker.take("t", 0, offset)
        tracker.done("t", 0, offset)
    tracker.ask(tracker.committable())
    tracker.answer("t", 0, 2, ok=False)
    assert tracker.partitions[("t", 0)].committed is None
    assert tracker.committable() == {("t", 0): 2}


def test_a_late_answer_never_moves_the_committed_position_back() -> None:
    p = PartitionOffsets()
    p.take(9)
    p.done(9)
    p.confirm(10)
    p.confirm(4)  # an older commit answered last
    assert p.committed == 10 and p.committable() is None
