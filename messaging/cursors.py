"""Where one socket stands in each group it follows, and what to do with each event.

The socket never trusts the fan-out to be complete or to come after the client's
catch-up: per group it remembers

- ``delivered``: nothing at or below it is sent any more;
- ``floor``: everything this socket has sent is above it (``floor == delivered``
  means nothing was sent yet);
- whether the group is *live*: live events go out only once the client has synced
  the group (or the grace after the hello has passed), so that catch-up pages and
  live events leave in seq order.

``Cursors`` only keeps that state and decides; it does no I/O and reads no clock (the
caller passes ``now``). The consumer (messaging/consumers.py) asks it, then sends the
frame, reads the gap from the database or tells the client to resync.
"""

import dataclasses
import enum


class Action(enum.Enum):
    SEND = "send"  # the next event of its group: send it now
    HOLD = "hold"  # the group waits for the client's sync, which reads it from the database
    DROP = "drop"  # already sent, or of a group this socket does not follow
    LEAVE = "leave"  # the event removes this socket's user: stop following the group
    FILL_GAP = "fill_gap"  # events are missing before it: send (after, until] from the database
    CATCH_UP = "catch_up"  # a sync: send (after, until] from the database, in pages
    RESYNC = "resync"  # a sync the socket cannot serve in seq order: the client starts over


@dataclasses.dataclass(frozen=True)
class Decision:
    action: Action
    after: int = 0  # FILL_GAP and CATCH_UP: the events to send are (after, until]
    until: int = 0


SEND = Decision(Action.SEND)
HOLD = Decision(Action.HOLD)
DROP = Decision(Action.DROP)
LEAVE = Decision(Action.LEAVE)
RESYNC = Decision(Action.RESYNC)


class Cursors:
    """The followed groups of one socket, each with its slug, cursor and floor.

    ``live_from`` is when the grace ends (on the caller's clock): from then on a group
    the client has not synced goes live at its next event.
    """

    def __init__(self, *, live_from: float):
        self.live_from = live_from
        self._slugs: dict[int, str] = {}
        self._delivered: dict[int, int] = {}
        self._floor: dict[int, int] = {}
        self._live: set[int] = set()

    # ---- the groups -------------------------------------------------------------

    def follow(self, group_id: int, slug: str, *, head: int, live: bool = False) -> None:
        """Follow a group whose client has everything up to ``head``."""
        self._slugs[group_id] = slug
        self._delivered[group_id] = self._floor[group_id] = head
        if live:
            self._live.add(group_id)

    def leave(self, group_id: int) -> str | None:
        """Forget a group; its slug, or None when it was not followed."""
        self._delivered.pop(group_id, None)
        self._floor.pop(group_id, None)
        self._live.discard(group_id)
        return self._slugs.pop(group_id, None)

    def __contains__(self, group_id: int) -> bool:
        return group_id in self._slugs

    def __iter__(self):
        return iter(list(self._slugs))

    def slug(self, group_id: int) -> str:
        return self._slugs[group_id]

    def group_id(self, slug) -> int | None:
        """The followed group with this slug; None for any other (or no) group."""
        return next((g for g, s in self._slugs.items() if s == slug), None)

    def delivered(self, group_id: int) -> int:
        return self._delivered[group_id]

    def is_live(self, group_id: int) -> bool:
        return group_id in self._slugs and group_id in self._live

    def live_groups(self) -> list[int]:
        return [g for g in self._slugs if g in self._live]

    def waiting_groups(self) -> list[int]:
        """Followed groups that are not live yet (not synced, grace not over)."""
        return [g for g in self._slugs if g not in self._live]

    def end_grace(self) -> list[int]:
        """The grace is over: every waiting group goes live. Returns those groups: the
        client missed what happened there since the hello."""
        waiting = self.waiting_groups()
        self._live.update(waiting)
        return waiting

    def sent(self, group_id: int, seq: int) -> None:
        """Events up to ``seq`` of the group went out (a page, or a filled gap)."""
        if group_id in self._slugs:
            self._delivered[group_id] = seq

    # ---- the decisions ----------------------------------------------------------

    def on_event(self, group_id: int, seq: int, *, removes_me: bool, now: float) -> Decision:
        """What to do with a live event of seq ``seq``. A SEND is counted as sent."""
        if group_id not in self._slugs:
            return DROP  # a group this socket no longer holds: never leak it
        if removes_me:
            return LEAVE
        if group_id not in self._live:
            if now < self.live_from:
                return HOLD
            self._live.add(group_id)
        delivered = self._delivered[group_id]
        if seq <= delivered:
            return DROP
        if seq == delivered + 1:
            self._delivered[group_id] = seq
            return SEND
        # An event was lost or overtaken on the way; the database has it.
        return Decision(Action.FILL_GAP, after=delivered, until=seq)

    def on_sync(self, group_id: int, cursor: int, *, head: int) -> Decision:
        """The client has seen the group up to ``cursor``; the group's head is ``head``.

        CATCH_UP leaves out what this socket already sent, and makes the group live.
        """
        if group_id not in self._slugs:
            return DROP
        if cursor > head:
            return RESYNC
        floor, delivered = self._floor[group_id], self._delivered[group_id]
        if floor == delivered:
            # Nothing sent yet: the client's cursor is where this socket starts.
            self._floor[group_id] = self._delivered[group_id] = position = cursor
        elif cursor < floor:
            # The client lacks events older than ones this socket already sent; sending
            # them now would break seq order.
            return RESYNC
        else:
            position = self._delivered[group_id] = max(cursor, delivered)
        self._live.add(group_id)
        return Decision(Action.CATCH_UP, after=position, until=head)
