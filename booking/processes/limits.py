"""What a crowd needs from the machine, settled before the first buyer starts: open files, server
connections, and the imports every forked buyer would otherwise repeat.

A run that cannot fit is refused up front with the numbers and what would work (exit 2), never
failed half way by "Too many open files" or by a server out of connection slots (which would make
a safe strategy look broken: the harness overloaded the store, not the strategy).
"""

from __future__ import annotations

import importlib
import os
import resource
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.config import RunConfig
from booking.strategies import Choice

FILES_PER_BUYER = 3  # in the parent: the two ends of the pipe Process keeps per child (one its sentinel), and the gate
FILES_PER_QUEUE_BUYER = 2  # and its reply pipe, with --lock queue
FILES_PER_HANDING_BUYER = 1  # and its socket handed over until the release writes its last byte (--target)
FILES_SPARE = 64  # the store, the report channel, the sellers, what libraries open


def preload(choice: Choice, start_method: str) -> None:
    """Import in the parent what every buyer would import after the fork (fork shares it for free)."""
    if start_method != "fork" or choice.purchase is not None:
        return  # a fresh interpreter per buyer imports for itself; your own code is not imported here
    infos = [choice.buyer_info(), choice.seller_info()]
    for info in infos:
        for module in info.imports if info is not None else ():
            importlib.import_module(module)


def files_needed(config: RunConfig, choice: Choice) -> int:
    per_buyer = FILES_PER_BUYER + (FILES_PER_QUEUE_BUYER if choice.needs.sellers else 0)
    per_buyer += FILES_PER_HANDING_BUYER if choice.needs.last_bytes else 0
    return _open_now() + config.buyers * per_buyer + config.sellers * 4 + FILES_SPARE


def make_room_for_files(config: RunConfig, choice: Choice) -> None:
    """Raise the soft limit on open files to what the crowd needs, or refuse the run naming the limit."""
    needed = files_needed(config, choice)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or needed <= soft:
        return
    if hard == resource.RLIM_INFINITY or needed <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    per_buyer = (needed - _open_now() - FILES_SPARE) / config.buyers
    fits = max(0, int((hard - _open_now() - FILES_SPARE - config.sellers * 4) / per_buyer))
    raise BadInput(
        _(
            "--buyers {buyers:,} needs about {needed:,} open files in this process, over the limit "
            "of {hard:,} (ulimit -n): raise it to at least {needed:,} (ulimit -n {needed}) or use at "
            "most {fits:,} buyers"
        ).format(buyers=config.buyers, needed=needed, hard=hard, fits=fits)
    )


def check_connections(store: Any, config: RunConfig, choice: Choice) -> None:
    """On a server, one connection per buyer (and seller) must fit in its free slots, or the run is refused."""
    room = getattr(store, "connection_room", None)
    if room is None:
        return
    found = room()
    if found is None:
        return
    limit, used, reserved = found
    info = choice.buyer_info()
    needed = (config.buyers if info.opens_store else 0) + (choice.sellers if choice.needs.sellers else 0)
    free = limit - used - reserved
    if needed <= free:
        return
    who = _("one per buyer") if info.opens_store else "one per seller"
    fits = max(free - (needed - config.buyers if info.opens_store else needed), 0)
    raise BadInput(
        _(
            "--buyers {buyers:,}: {display} allows {limit:,} connections ({used:,} in use, "
            "{reserved:,} reserved for superusers: {max:,} free); this run needs {needed:,} ({who}): "
            "use at most {fits:,} buyers, or raise the server's max_connections"
        ).format(
            buyers=config.buyers,
            display=store.display,
            limit=limit,
            used=used,
            reserved=reserved,
            max=max(free, 0),
            needed=needed,
            who=who,
            fits=fits,
        )
    )


def _open_now() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 32
