"""file-lock's lock files: named by what the store is, not by how it is spelled, and safe to share.

Two spellings of one store must take one lock, or two invocations sell the same tickets: a
symlinked path and its target, `sqlite:///file:t.db?uri=true` and `t.db`, `localhost` and
`127.0.0.1`, a port given or left to its default. Beside a file store the lock file is named after
the resolved path, created readable and writable by everyone who may use the store (so a leftover
from another user's run never refuses ours), and never followed through a symlink. For a server
store it lives in a directory private to the user: nobody else can plant a file there to deny
service, which makes file-lock's scope on a server one host and one user.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.stores.base import StoreKind

LOCK_MODE = 0o666  # whoever may use the store may take its lock; the umask does not narrow it
LOOPBACK = frozenset({"", "localhost", "::1", "ip6-localhost", "ip6-loopback"})
DEFAULT_PORTS = {StoreKind.POSTGRESQL: 5432, StoreKind.MYSQL: 3306}


def beside(path: Path) -> Path:
    """The lock file of a file store: beside the file it resolves to (symlinks followed)."""
    real = Path(os.path.realpath(path))
    return real.with_name(real.name + ".lock")


def for_server(kind: StoreKind, host: str | None, port: int | None, database: str) -> Path:
    """The lock file of a server database, in this user's private lock directory."""
    name = (host or "").lower().strip("[]")
    if name in LOOPBACK or name.startswith("127."):
        name = "loopback"
    where = f"{kind.value}://{name}:{port or DEFAULT_PORTS.get(kind, 0)}/{database}"
    return private_directory() / f"booking-{hashlib.sha256(where.encode()).hexdigest()[:16]}.lock"


def private_directory() -> Path:
    """`$TMPDIR/booking-locks-<uid>`, mode 0700, refused unless it is this user's own directory."""
    directory = Path(tempfile.gettempdir()) / f"booking-locks-{os.getuid()}"
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise CannotRun(
            _("lock directory {directory}: cannot be made ({strerror})").format(
                directory=directory, strerror=exc.strerror
            )
        ) from None
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise CannotRun(
            _(
                "lock directory {directory}: not this user's private directory (owner uid {st_uid}, mode "
                "{filemode}); remove it"
            ).format(directory=directory, st_uid=st.st_uid, filemode=stat.filemode(st.st_mode))
        )
    return directory


def prepare(path: Path) -> Path:
    """Make sure the buyers can open the lock file before they start: create it (mode 0666), never
    through a symlink; refuse in one line one they could not open (another user's, not writable)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, LOCK_MODE)
    except FileExistsError:
        fd = -1
    except OSError as exc:
        raise CannotRun(
            _("lock file {path}: cannot be made ({strerror})").format(path=path, strerror=exc.strerror)
        ) from None
    if fd >= 0:
        try:
            os.fchmod(fd, LOCK_MODE)
        finally:
            os.close(fd)
        return path
    try:
        os.close(os.open(path, os.O_RDWR | os.O_NOFOLLOW))
    except OSError as exc:
        st = os.lstat(path)
        what = _("a symlink") if stat.S_ISLNK(st.st_mode) else f"owner uid {st.st_uid}, {stat.filemode(st.st_mode)}"
        raise CannotRun(
            _("lock file {path}: cannot be opened ({strerror}; {what}): remove it").format(
                path=path, strerror=exc.strerror, what=what
            )
        ) from None
    return path
