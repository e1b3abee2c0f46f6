"""The build's data checks (validation, then the stale-page check), run early in another process.

Both need pandas and, after a data change, the evidence; the Sphinx process needed them before
it could send a page to the workers.  At 1x a one-row rebuild spent ~0.4 s validating (half of
it importing pandas) and ~0.15 s on the stale check there, at 1000x ~0.7 s and ~0.5 s (loading
the join the fork server was loading too), while the workers' fork server, which imports pandas
and the package anyway, was already running.  So the server, once it has imported pandas and
the data module (``fork_check``, first of its imports), forks a *checker* that runs both checks
(importing the validator itself) and leaves their results in files, while the server goes on
importing the rest.  The Sphinx
process waits for each result where it used to compute it (:func:`wait_for`), never imports
pandas in a rebuild after a data change, and does the checks itself whenever no result comes
(no checker was started, it died, or there is nowhere for its results): only the time they
are computed changes.

The results are the very ones the Sphinx process would compute: validation's verdict is kept
by ``provenance.remembered`` (the Sphinx process reads it back under the digests of the files
as they are then, so a file changed since is validated again), and the stale check is
``provenance.stale_pages`` over every page with a record.  The protocol (a lock the checker
holds while it works, a result file per check) is hand-written: multiprocessing passes the
fork server no descriptor of ours, and the checker is no multiprocessing child.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

from .. import paths, provenance
from ..cited import book_citation_keys
from ..files import atomic_write

CHECK_ENV = "REVIEW_EARLY_CHECKS"  # the results' path prefix, in the fork server's environment
VALIDATED, SCREENING, STALE = "validated", "screening", "stale"
LOCK = "lock"
CHECK_DIR = "early-checks"  # in provenance.MEMO_DIR
# How long the Sphinx process waits for a checker that has not started (a fork server still
# importing on a very busy machine); past it, it checks alone.
START_LIMIT_S = 30.0


# ---------------------------------------------------------------------------------------------
# The checks themselves (the Sphinx process's fallback calls the same functions)


def validation_inputs(root: Path) -> tuple[list[Path], list[str]]:
    """What validation can read: every file of data/, the toc and config, the bibliography
    and the package's own code (a new check must run), and of the book's pages only the
    keys they cite (``book_citation_keys``, its one use of them): a prose edit that cites
    nothing new does not validate 357k rows again.
    """
    inputs = [root / "references.bib", root / "_toc.yml", root / "_config.yml"]
    inputs += sorted(p for p in paths.data_dir(root).rglob("*") if p.is_file())
    inputs += sorted(provenance.PACKAGE_DIR.rglob("*.py"))
    return inputs, sorted(book_citation_keys(root))


def validation_errors(root: Path) -> list[str]:
    """Validation's error messages (none: valid), kept under the digests of what it reads."""
    files, book_keys = validation_inputs(root)

    def errors_found() -> list[str]:
        from ..validate.incremental import build_errors  # with pandas: only on a miss

        # After rows were appended to a valid evidence file, only they are validated.
        return build_errors(root, files, book_keys)

    # Performance: validation reads every table in full (seconds at 1000x, on every build);
    # its verdict is kept under the digests of everything it can read, so a rebuild with
    # nothing changed, or only prose, pays for hashing, not for validating.
    return provenance.remembered("validation.v1", root, files, errors_found, extra=book_keys)


SEARCH_SCHEDULE_MONTHS = 6  # review_search_schedule_months unless _config.yml says otherwise
MONTHS_ENV = "REVIEW_EARLY_CHECK_MONTHS"  # the months the checker computes the stamp for


def screening_parts(root: Path, months: int) -> list[str]:
    """The stamp's screening part and the overdue-search banner (``pages.prisma``).

    Performance: computing them imports the screening and curation code (with the BibTeX
    parser), ~0.1-0.15 s of every build, a tenth of a prose rebuild, and after a data change
    they read the evidence (with pandas).  They are kept under the digests of what they can
    read (every file of data/, the package's code), the schedule and today's date (the
    banner compares the last search with it).
    """
    import datetime as dt

    def compute() -> list[str]:
        from ..pages.prisma import banner_html, stamp_suffix

        return [stamp_suffix(root), banner_html(root, months)]

    files = sorted(p for p in paths.data_dir(root).rglob("*") if p.is_file())
    files += sorted(provenance.PACKAGE_DIR.rglob("*.py"))
    extra = [months, dt.date.today().isoformat()]
    return provenance.remembered("stamp.screening.v1", root, files, compute, extra=extra)


def checked_months() -> int | None:
    """The months the checker this process started computes the stamp for (None: none)."""
    from .worker_processes import started_with

    value = started_with(MONTHS_ENV)
    return int(value) if value and value.isdigit() else None


def recorded_pages(root: Path) -> list[str]:
    """Every page with a provenance record (the pages the stale check can find stale)."""
    records = paths.build_dir(root) / provenance.RECORD_DIR
    answers = records / provenance.ANSWER_DIR
    if not records.is_dir():
        return []
    return sorted(
        path.relative_to(records).with_suffix("").as_posix()
        for path in records.rglob("*.json")
        if answers not in path.parents
    )


# ---------------------------------------------------------------------------------------------
# The checker (in a process forked from the fork server)


def run_checker(root: Path, prefix: str) -> None:
    """Validate, then find the stale pages; each result goes to its file as soon as it is known."""
    from .. import data

    # The evidence join the fork server loaded for the workers, and any built here, is written
    # once the results are out (``fork_check``): no process waits for it.
    data.defer_join_writes()
    try:
        errors = validation_errors(root)
        _write(prefix, VALIDATED, {"errors": len(errors)})
        if errors:
            return  # the build stops at validation
        months = os.environ.get(MONTHS_ENV, "")
        if months.isdigit():
            screening_parts(root, int(months))
        _write(prefix, SCREENING, {})
        if not _builder_alive(prefix):
            return  # its build has ended: the next one checks for itself
        stale = provenance.stale_pages(root, recorded_pages(root))
        _write(prefix, STALE, {"stale": stale, "check": provenance.check_summary()})
    finally:
        data.write_deferred_joins()


def _write(prefix: str, name: str, value: dict) -> None:
    atomic_write(Path(f"{prefix}.{name}"), json.dumps(value).encode("utf-8"), durable=False)


def start_checker(root: Path, prefix: str) -> None:
    """Fork the checker and return at once (in the fork server, from ``fork_check``).

    The checker holds an exclusive lock on ``<prefix>.lock`` while it lives (the system drops
    it when the process ends, however it ends), and the lock file appears only once locked:
    so a waiter that can lock it knows the checker is gone.  It is forked twice, so that the
    fork server, whose loop reaps only the workers it forked, never meets it.
    """
    lock = Path(f"{prefix}.{LOCK}")
    taken = Path(f"{prefix}.{LOCK}.{os.getpid()}.tmp")
    fd = os.open(taken, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.replace(taken, lock)
        middle = os.fork()
        if middle == 0:  # pragma: no cover - in the forked processes (their exits end them)
            try:
                if os.fork() == 0:
                    _run_detached(root, prefix)
            finally:
                os._exit(0)
        os.waitpid(middle, 0)
    finally:
        os.close(fd)  # the checker holds the same lock through its own copy


def _run_detached(root: Path, prefix: str) -> None:  # pragma: no cover - in the checker
    """The checker's life: quiet (the build's output is the Sphinx process's), then gone."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        here = os.getcwd()
        os.chdir(root)  # as a page's cells find the root: the same cache keys
        try:
            run_checker(root, prefix)
        finally:
            os.chdir(here)
    except BaseException:  # noqa: BLE001 - a missing result makes the build check alone
        pass
    finally:
        os._exit(0)


# ---------------------------------------------------------------------------------------------
# The Sphinx process's side


def new_prefix(root: Path) -> str | None:
    """Where this build's checker leaves its results (earlier builds' are deleted), named by
    this process's id; None if there is nowhere to put them (the build checks alone)."""
    folder = paths.build_dir(root) / provenance.MEMO_DIR / CHECK_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            with contextlib.suppress(OSError):
                old.unlink()
    except OSError:
        return None
    return str(folder / f"{os.getpid()}-{time.time_ns()}")


def _builder_alive(prefix: str) -> bool:
    """Whether the build that asked for these checks still runs (its id starts the prefix).

    A checker outlives a build stopped early (Ctrl-C while it works); it must not then refresh
    page records beside the next build's workers.
    """
    pid = Path(prefix).name.partition("-")[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's
    return True


def wait_for(prefix: str | None, name: str, server_alive) -> dict | None:
    """The checker's result *name*, once it is there; None if no checker will give it.

    *server_alive* tells whether the fork server that starts the checker still runs.
    """
    if prefix is None:
        return None
    result, lock = Path(f"{prefix}.{name}"), Path(f"{prefix}.{LOCK}")
    began = time.monotonic()
    while True:
        found = _read(result)
        if found is not None:
            return found
        if lock.exists():
            if not _locked(lock):  # the checker has ended: its result is there or never will be
                return _read(result)
        elif not server_alive() or time.monotonic() - began > START_LIMIT_S:
            return None
        time.sleep(0.002)


def _read(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _locked(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
