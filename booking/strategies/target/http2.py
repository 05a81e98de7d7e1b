"""A buyer's buy over HTTP/2 (--http2, or http = "2" in the target config): handed to the parent, whose one
connection sends it as a stream with every buyer's, their final frames in one write (target/batch.py); where
nothing can be handed over (--schedule free, or sync = "none"), alone on a connection of the buyer's own.
"""

from __future__ import annotations

import time

from booking.history import Attempt
from booking.kit import points
from booking.strategies.base import BuyerContext
from booking.strategies.target.batch import Request, hand_request, reply_from
from booking.strategies.target.handover import written_at
from booking.strategies.target.spec import LAST_BYTE, Spec
from booking.strategies.target.streams import Streams
from booking.strategies.target.wire import Reply


def send_http2(target: str, spec: Spec, request: Request, ctx: BuyerContext, rec: Attempt) -> Reply:
    """The buy as a stream of the parent's one HTTP/2 connection, finished with everyone's in one write
    (target/batch.py); where nothing was handed over (--schedule free), alone on a connection of its own."""
    end = ctx.made.last_bytes
    answer = hand_request(end, ctx.buyer, request) if end is not None and spec.sync == LAST_BYTE else None
    ctx.point(points.BEFORE_LOCK)  # the window: lockstep lets every buyer send at once
    if answer is not None:  # the parent sends it: its answer comes back on `answer`
        went = written_at(ctx.said())
        rec.t_sent, rec.released = ctx.clock() - (time.monotonic() - (went or time.monotonic())), went is not None
        points.hit(points.IN_CRITICAL)
        return reply_from(answer, max(ctx.time_left(), 0.1))
    streams = Streams(target, max(ctx.time_left(), 0.1))
    try:
        streams.connect()
        stream = streams.open(*request)
        streams.write(streams.finals([stream]))
        rec.t_sent = ctx.clock()
        ctx.tell("sent")
        points.hit(points.IN_CRITICAL)
        return streams.answer(stream, time.monotonic() + max(ctx.time_left(), 0.1))
    finally:
        streams.close()
