"""What your code prints in a buyer: shown on stderr as it comes, and kept for the history.

booking's stdout is its own (--json must stay one JSON object), so a buyer running your code points
file descriptor 1 at a pipe. A thread in the buyer copies what arrives to stderr, where you see it live,
and keeps the first PRINTED_MAX bytes; the buyer's last word to the parent carries them, and the history
keeps them with the buyer's end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

PRINTED_MAX = 16_384  # bytes kept per buyer: a debugging print, not a log
_DRAIN_S = 0.5  # how long the buyer's end waits for the copy (a child of your code may hold the pipe)

_kept = bytearray()
_pump: threading.Thread | None = None


def capture() -> None:
    """From now on, this process's stdout (fd 1) is copied to stderr and kept. Call once per buyer."""
    global _pump
    if _pump is not None:
        return
    sys.stdout.flush()
    reader, writer = os.pipe()
    os.dup2(writer, 1)
    os.close(writer)
    _pump = threading.Thread(target=_copy, args=(reader,), name="booking-printed", daemon=True)
    _pump.start()


def _copy(reader: int) -> None:
    pending = b""  # the start of a line not yet ended: each buyer's lines reach stderr whole
    try:
        while chunk := os.read(reader, 65_536):
            room = PRINTED_MAX - len(_kept)
            if room > 0:
                _kept.extend(chunk[:room])
            whole, newline, pending = (pending + chunk).rpartition(b"\n")
            if newline:
                _say(whole + newline)
        _say(pending)
    finally:
        os.close(reader)


def _say(data: bytes) -> None:
    with contextlib.suppress(OSError):  # stderr closed: keep what can be kept
        while data:
            data = data[os.write(2, data) :]


def taken() -> str:
    """Everything kept (up to PRINTED_MAX bytes); stdout is stderr again from here on."""
    if _pump is None:
        return ""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    os.dup2(2, 1)  # the pipe's last write end in this process closes: the copy reads to its end
    _pump.join(_DRAIN_S)
    return bytes(_kept).decode(errors="replace")
