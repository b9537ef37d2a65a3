"""Writing a file a person named (`template -o`, `backup`): the one place that does.

What is at the path decides how it is written:
- `-` is standard output;
- a terminal, FIFO or other character device (/dev/stdout, /dev/null) is written
  into, never replaced; a socket or block device is refused;
- a regular file, or a name not there yet, is written under a fresh temporary
  name in the same folder and renamed over the target once complete, so a
  failure leaves the target as it was and no temporary file behind. An existing
  file keeps its mode (and owner, where allowed); a new one gets the umask's
  mode, as open() would give it;
- a symlink is followed: its target is written, the link stays;
- a folder is refused.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from civreform.errors import OutputFileError

STDOUT = "-"


@contextmanager
def text_output(target: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text stream (no newline translation) that ends up at `target`."""
    name = str(target)
    if name == STDOUT:
        yield sys.stdout
        return
    real, found = _inspect(name)
    if found is not None and not stat.S_ISREG(found.st_mode):  # a terminal, FIFO or device
        with _failing_as(name, in_place=True), open(name, "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    with _temporary(name, real, found) as temporary, _failing_as(name):
        with open(temporary, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, real)


@contextmanager
def new_file(target: str | Path) -> Iterator[Path]:
    """A fresh, empty temporary file in `target`'s folder for the caller to fill; when
    the block ends without an error it becomes `target`, which must not exist (nothing
    there is ever deleted or reused). Used for a database copy, written by SQLite."""
    name = str(target)
    if name == STDOUT:
        raise OutputFileError(f"{name}: a database copy is a file, it cannot go to standard output; name a file")
    real, found = _inspect(name)
    if found is not None:
        raise OutputFileError(f"{name}: already exists; choose a new file name")
    with _temporary(name, real, None) as temporary:
        yield temporary
        with _failing_as(name):
            _link_new(temporary, real, name)


def _inspect(name: str) -> tuple[str, os.stat_result | None]:
    """The path a file written at `name` takes (symlinks followed), and what is there
    now (None: nothing yet). Kinds of file civreform never writes are refused here.
    What is there is asked of `name` itself: /dev/stdout leads through /proc/self/fd/1
    to a pipe or terminal that has no path of its own."""
    try:
        found = os.stat(name)
    except FileNotFoundError:
        found = None
    except OSError as error:  # a symlink loop, a folder we may not look into
        raise OutputFileError(f"{name}: cannot write there ({error.strerror})") from None
    real = os.path.realpath(name)
    if found is None:
        return real, None
    kind = found.st_mode
    if stat.S_ISDIR(kind):
        raise OutputFileError(f"{name}: is a folder; name a file to write")
    if stat.S_ISSOCK(kind):
        raise OutputFileError(f"{name}: is a socket; civreform writes only files, terminals and pipes")
    if stat.S_ISBLK(kind):
        raise OutputFileError(f"{name}: is a block device (a disk); civreform will not write over it")
    return real, found


@contextmanager
def _temporary(name: str, real: str, existing: os.stat_result | None) -> Iterator[Path]:
    """A new file beside `real`, with the mode the target has (or would get), removed
    again (with any -journal/-wal/-shm SQLite left beside it) unless renamed away."""
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise OutputFileError(f"{name}: the folder {folder} does not exist")
    with _failing_as(name):
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".tmp")
    try:
        with _failing_as(name):
            _take_over_mode(handle, existing)
        os.close(handle)
        handle = None
        yield Path(temporary)
    finally:
        if handle is not None:
            os.close(handle)
        for leftover in (temporary, *(temporary + suffix for suffix in ("-journal", "-wal", "-shm"))):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def _take_over_mode(handle: int, existing: os.stat_result | None) -> None:
    """mkstemp makes the file 0600: give it the existing file's mode and owner, or the
    mode open() would give a new file under this process's umask."""
    if existing is None:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        return
    os.fchmod(handle, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(handle, existing.st_uid, existing.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the file becomes ours, as any editor's would


def _link_new(temporary: Path, real: str, name: str) -> None:
    """Move the finished file to `real` unless something is there by now: a hard link
    fails rather than replace. Where links are not supported (FAT, some network
    shares), check and rename."""
    try:
        os.link(temporary, real)
    except FileExistsError:
        raise OutputFileError(f"{name}: already exists; choose a new file name") from None
    except OSError:
        if os.path.lexists(real):
            raise OutputFileError(f"{name}: already exists; choose a new file name") from None
        os.replace(temporary, real)
    # the temporary name goes with the rest of _temporary's clean-up


@contextmanager
def _failing_as(name: str, in_place: bool = False) -> Iterator[None]:
    """An operating-system error while writing, as one line naming the target (not
    whatever was being read). A reader that went away (a FIFO) stays a BrokenPipeError."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        tail = "" if in_place else "; nothing was written there"
        raise OutputFileError(f"{name}: cannot write ({error.strerror or error}){tail}") from None
