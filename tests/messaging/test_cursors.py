"""The socket's catch-up bookkeeping (messaging.cursors), without a socket or a database.

The clock is the test's: ``live_from`` is 100, so ``now=99`` is inside the grace after
the hello and ``now=100`` past it.
"""

import pytest

from messaging.cursors import Action, Cursors, Decision

GROUP, OTHER = 1, 2
HEAD = 10
IN_GRACE, AFTER_GRACE = 99.0, 100.0


def followed(*, live: bool = False, head: int = HEAD) -> Cursors:
    cursors = Cursors(live_from=100.0)
    cursors.follow(GROUP, "demo", head=head, live=live)
    return cursors


def event(cursors: Cursors, seq: int, *, now: float = AFTER_GRACE, removes_me=False):
    return cursors.on_event(GROUP, seq, removes_me=removes_me, now=now)


def synced(cursor: int = HEAD, *, head: int = HEAD) -> Cursors:
    cursors = followed(head=head)
    assert cursors.on_sync(GROUP, cursor, head=head).action is Action.CATCH_UP
    return cursors


# ---- following --------------------------------------------------------------------


def test_a_followed_group_is_known_by_id_and_by_slug():
    cursors = followed()
    assert GROUP in cursors and OTHER not in cursors
    assert list(cursors) == [GROUP]
    assert cursors.slug(GROUP) == "demo"
    assert cursors.group_id("demo") == GROUP
    assert cursors.delivered(GROUP) == HEAD


@pytest.mark.parametrize("slug", ["other", None, 1, ["demo"]])
def test_any_other_slug_names_no_group(slug):
    assert followed().group_id(slug) is None


def test_a_group_followed_at_the_hello_waits_and_one_granted_later_is_live():
    cursors = followed()
    cursors.follow(OTHER, "granted", head=4, live=True)
    assert cursors.waiting_groups() == [GROUP]
    assert cursors.live_groups() == [OTHER]
    assert not cursors.is_live(GROUP) and cursors.is_live(OTHER)


def test_leaving_forgets_everything_about_the_group():
    cursors = followed(live=True)
    assert cursors.leave(GROUP) == "demo"
    assert GROUP not in cursors and cursors.group_id("demo") is None
    assert cursors.live_groups() == [] and cursors.waiting_groups() == []
    assert not cursors.is_live(GROUP)
    assert event(cursors, HEAD + 1).action is Action.DROP
    assert cursors.leave(GROUP) is None


def test_a_group_left_and_granted_again_starts_from_its_new_head():
    cursors = followed(live=True)
    event(cursors, HEAD + 1)
    cursors.leave(GROUP)
    cursors.follow(GROUP, "demo", head=20, live=True)
    assert event(cursors, 15).action is Action.DROP
    assert event(cursors, 21).action is Action.SEND


# ---- live events ------------------------------------------------------------------


def test_the_next_event_of_a_live_group_is_sent_once():
    cursors = followed(live=True)
    assert event(cursors, HEAD + 1) == Decision(Action.SEND)
    assert cursors.delivered(GROUP) == HEAD + 1
    assert event(cursors, HEAD + 1).action is Action.DROP
    assert event(cursors, HEAD + 2).action is Action.SEND


@pytest.mark.parametrize("seq", [1, HEAD - 1, HEAD])
def test_an_event_at_or_below_the_cursor_is_dropped(seq):
    cursors = followed(live=True)
    assert event(cursors, seq).action is Action.DROP
    assert cursors.delivered(GROUP) == HEAD


def test_an_event_past_a_gap_asks_for_the_gap_and_itself_from_the_database():
    cursors = followed(live=True)
    assert event(cursors, HEAD + 3) == Decision(Action.FILL_GAP, after=HEAD, until=HEAD + 3)
    # Nothing counts as sent until the caller says what it sent.
    assert cursors.delivered(GROUP) == HEAD
    cursors.sent(GROUP, HEAD + 3)
    assert event(cursors, HEAD + 3).action is Action.DROP
    assert event(cursors, HEAD + 4).action is Action.SEND


def test_an_event_of_a_group_not_followed_is_dropped_even_if_it_removes_the_user():
    cursors = followed(live=True)
    assert cursors.on_event(OTHER, 1, removes_me=False, now=AFTER_GRACE).action is Action.DROP
    assert cursors.on_event(OTHER, 1, removes_me=True, now=AFTER_GRACE).action is Action.DROP


@pytest.mark.parametrize("live", [True, False])
@pytest.mark.parametrize("seq", [HEAD, HEAD + 1, HEAD + 5])
def test_an_event_that_removes_the_user_leaves_the_group_whatever_its_seq(live, seq):
    cursors = followed(live=live)
    assert event(cursors, seq, now=IN_GRACE, removes_me=True) == Decision(Action.LEAVE)
    # Deciding is not doing: the caller leaves the group, and says so to the client.
    assert GROUP in cursors


# ---- the grace after the hello ----------------------------------------------------


def test_before_the_sync_live_events_are_held_during_the_grace():
    cursors = followed()
    assert event(cursors, HEAD + 1, now=IN_GRACE) == Decision(Action.HOLD)
    assert event(cursors, HEAD + 2, now=IN_GRACE).action is Action.HOLD
    assert cursors.delivered(GROUP) == HEAD
    assert cursors.waiting_groups() == [GROUP]


def test_after_the_grace_the_next_event_makes_the_group_live():
    cursors = followed()
    assert event(cursors, HEAD + 1, now=AFTER_GRACE).action is Action.SEND
    assert cursors.is_live(GROUP)
    # Live now, whatever the clock says.
    assert event(cursors, HEAD + 2, now=0.0).action is Action.SEND


def test_after_the_grace_events_held_meanwhile_are_a_gap():
    cursors = followed()
    event(cursors, HEAD + 1, now=IN_GRACE)
    event(cursors, HEAD + 2, now=IN_GRACE)
    assert event(cursors, HEAD + 3, now=AFTER_GRACE) == Decision(
        Action.FILL_GAP, after=HEAD, until=HEAD + 3
    )


def test_ending_the_grace_makes_every_waiting_group_live_and_names_them():
    cursors = followed()
    cursors.follow(OTHER, "granted", head=4, live=True)
    cursors.follow(3, "third", head=0)
    assert cursors.end_grace() == [GROUP, 3]
    assert cursors.waiting_groups() == []
    assert event(cursors, HEAD + 1, now=IN_GRACE).action is Action.SEND
    assert cursors.end_grace() == []


def test_a_synced_group_is_live_during_the_grace():
    cursors = synced()
    assert cursors.is_live(GROUP)
    assert event(cursors, HEAD + 1, now=IN_GRACE).action is Action.SEND


# ---- sync -------------------------------------------------------------------------


def test_a_first_sync_starts_at_the_clients_cursor():
    cursors = followed()
    assert cursors.on_sync(GROUP, 4, head=HEAD + 2) == Decision(
        Action.CATCH_UP, after=4, until=HEAD + 2
    )
    assert cursors.delivered(GROUP) == 4
    assert cursors.is_live(GROUP)


def test_a_sync_at_the_head_catches_up_nothing():
    assert followed().on_sync(GROUP, HEAD, head=HEAD) == Decision(
        Action.CATCH_UP, after=HEAD, until=HEAD
    )


def test_a_cursor_beyond_the_head_needs_a_resync():
    cursors = followed()
    assert cursors.on_sync(GROUP, HEAD + 1, head=HEAD) == Decision(Action.RESYNC)
    assert not cursors.is_live(GROUP)
    assert cursors.delivered(GROUP) == HEAD


def test_a_sync_of_a_group_not_followed_does_nothing():
    cursors = followed()
    assert cursors.on_sync(OTHER, 0, head=HEAD).action is Action.DROP
    assert OTHER not in cursors


def test_pages_sent_during_a_sync_move_the_cursor():
    cursors = followed()
    cursors.on_sync(GROUP, 0, head=HEAD)
    cursors.sent(GROUP, 3)
    assert cursors.delivered(GROUP) == 3
    assert event(cursors, 3).action is Action.DROP
    assert event(cursors, 5) == Decision(Action.FILL_GAP, after=3, until=5)


def test_a_live_event_during_a_paged_sync_is_sent_once_after_it():
    cursors = followed()
    cursors.on_sync(GROUP, 0, head=HEAD)
    cursors.sent(GROUP, HEAD)  # the last page
    assert event(cursors, HEAD).action is Action.DROP
    assert event(cursors, HEAD + 1).action is Action.SEND


def test_a_second_sync_leaves_out_what_the_socket_already_sent():
    cursors = synced()
    event(cursors, HEAD + 1)
    event(cursors, HEAD + 2)
    # The client's sync crossed those events on the wire: it still says HEAD.
    assert cursors.on_sync(GROUP, HEAD, head=HEAD + 2) == Decision(
        Action.CATCH_UP, after=HEAD + 2, until=HEAD + 2
    )
    assert cursors.delivered(GROUP) == HEAD + 2


def test_a_second_sync_ahead_of_the_socket_moves_it_forward():
    cursors = synced()
    event(cursors, HEAD + 1)
    assert cursors.on_sync(GROUP, HEAD + 3, head=HEAD + 4) == Decision(
        Action.CATCH_UP, after=HEAD + 3, until=HEAD + 4
    )
    assert event(cursors, HEAD + 3).action is Action.DROP


def test_a_sync_older_than_what_was_sent_needs_a_resync():
    cursors = synced()
    event(cursors, HEAD + 1)
    assert cursors.on_sync(GROUP, HEAD - 1, head=HEAD + 1) == Decision(Action.RESYNC)
    # The socket keeps its place: nothing already sent is sent again.
    assert cursors.delivered(GROUP) == HEAD + 1
    assert event(cursors, HEAD + 2).action is Action.SEND


def test_before_anything_was_sent_a_sync_may_start_below_an_earlier_one():
    cursors = synced(HEAD)
    assert cursors.on_sync(GROUP, 2, head=HEAD) == Decision(Action.CATCH_UP, after=2, until=HEAD)
    assert cursors.delivered(GROUP) == 2


def test_a_sync_below_the_hello_head_before_anything_was_sent_starts_there():
    cursors = followed()
    event(cursors, HEAD + 1, now=IN_GRACE)  # held, not sent
    assert cursors.on_sync(GROUP, 2, head=HEAD + 1) == Decision(
        Action.CATCH_UP, after=2, until=HEAD + 1
    )


def test_sent_for_a_group_not_followed_is_ignored():
    cursors = followed()
    cursors.sent(OTHER, 5)
    assert OTHER not in cursors
    cursors.leave(GROUP)
    cursors.sent(GROUP, 5)
    assert GROUP not in cursors
