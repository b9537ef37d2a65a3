"""civreform's own errors. Lower layers raise these; only the CLI prints them."""

from __future__ import annotations


class CivreformError(Exception):
    """Base of every error civreform reports to the user as one line."""

    exit_code = 3  # bad data or a database problem (documented in the README)


class PlanFileError(CivreformError):
    """A plan file that cannot be read or does not validate."""

    def __init__(self, problem: str, path: str | None = None, line: int | None = None):
        self.problem = problem
        self.path = path
        self.line = line
        where = path or "<plan>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


class DeadlineError(CivreformError):
    """A deadline phrase or structured deadline civreform cannot read."""


class DateInputError(CivreformError):
    """A date typed by a user that is not a real date."""


class NotFoundError(CivreformError):
    """An unknown task, milestone, plan or agency."""


class AmbiguousError(CivreformError):
    """A name that matches more than one thing."""


class ProgressError(CivreformError):
    """A progress record that cannot be accepted."""


class ImportFileError(CivreformError):
    """A CSV import that was rejected as a whole."""


class DatabaseError(CivreformError):
    """A database that cannot be opened, read or written."""


class OutputFileError(CivreformError):
    """A file civreform was asked to write (-o, backup) that it cannot or will not write."""


class SettingError(CivreformError):
    """An environment variable with a value civreform cannot use (a usage error)."""

    exit_code = 2


class RegisterFileError(PlanFileError):
    """An agency register file that cannot be read or does not validate (FILE:LINE: problem)."""
