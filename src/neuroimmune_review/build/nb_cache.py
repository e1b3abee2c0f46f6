"""Executed notebooks served from jupyter-cache's files without importing SQLAlchemy.

A build that re-reads a page (a prose edit) looks the page up in the execution cache twice:
``page_execution`` asks whether it must execute it, and myst-nb takes its outputs from there.
jupyter-cache answers both through SQLAlchemy's ORM, and importing that is about 0.45 s of CPU,
a quarter of a prose rebuild.  This module answers the same two questions from the same files:

- the notebook's key is computed exactly as ``JupyterCacheBase.create_hashed_notebook`` does;
- its record is read from the cache's SQLite table (``global.db``, table ``nbcache``) with the
  standard library's ``sqlite3``;
- the cached notebook is merged into the page as ``merge_match_into_notebook`` merges it, and
  the record's access time is updated as ``get_cache_bundle`` updates it.

Only hits are served here.  A miss, and a cache this module was not written for (another
jupyter-cache version, no database yet, a record without data), go to jupyter-cache itself,
which executes and stores as before.

A one-row rebuild also deletes the stale pages' records (:func:`remove`) and stores the pages
the workers executed (:func:`store`), as ``remove_cache`` and ``cache_notebook_bundle`` do;
a cold build (no database yet) and anything else unusual goes to jupyter-cache.

Hand-written because jupyter-cache has no way to read a record without its ORM; the layout is
that of jupyter-cache 1.0.1 (pinned; any other version is left to jupyter-cache), and
``tests/build/test_nb_cache.py`` checks key, record, merged notebook, access time, deletions
and stored records against jupyter-cache's own answers.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import nbformat as nbf

JUPYTER_CACHE_VERSION = "1.0.1"  # the version whose files this module reads
DB_NAME = "global.db"  # jupyter_cache.cache.db.DB_NAME
NB_VERSION = 4  # jupyter_cache.base.NB_VERSION
HASHED_NB_METADATA = ("kernelspec",)  # create_hashed_notebook's default
MERGED_NB_METADATA = ("kernelspec", "language_info", "widgets")  # merge_match_into_notebook's
# SQLAlchemy's storage format of a DateTime column in SQLite (sqlalchemy.dialects.sqlite.DATETIME).
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
CACHE_LIMIT_KEY = "cache_limit"  # jupyter_cache.cache.main.CACHE_LIMIT_KEY
DEFAULT_CACHE_LIMIT = 1000  # jupyter_cache.cache.main.DEFAULT_CACHE_LIMIT


class Unsupported(Exception):
    """This cache is not one this module reads: ask jupyter-cache."""


@dataclass(frozen=True)
class Record:
    """A row of ``nbcache``, as ``NbCacheRecord`` holds it."""

    pk: int
    hashkey: str
    uri: str
    data: dict
    created: dt.datetime  # naive, as SQLAlchemy returns it


def _supported() -> bool:
    import jupyter_cache  # its package only: nothing else is imported (its own rule)

    return getattr(jupyter_cache, "__version__", None) == JUPYTER_CACHE_VERSION


def _database(cache_path: str | Path) -> Path:
    # jupyter-cache takes the path as given, relative to the working directory.
    return Path(cache_path).absolute() / DB_NAME


def _hashed(notebook):
    """The notebook as jupyter-cache stores it (v4, code cells only) and its key: exactly
    ``JupyterCacheBase.create_hashed_notebook``."""
    nb = nbf.convert(copy.deepcopy(notebook), to_version=NB_VERSION)
    if nb.nbformat_minor > 5:
        raise Unsupported("notebook version greater than 4.5")
    nb.cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    hash_nb = nbf.from_dict(
        {
            "nbformat": nb.nbformat,
            "nbformat_minor": 4,  # v4.5 includes cell ids, which jupyter-cache does not hash
            "metadata": {k: v for k, v in nb.metadata.items() if k in HASHED_NB_METADATA},
            "cells": [
                {
                    "cell_type": cell.cell_type,
                    "source": cell.source,
                    "metadata": dict(cell.metadata.items()),
                    "execution_count": None,
                    "outputs": [],
                }
                for cell in nb.cells
            ],
        }
    )
    return nb, hashlib.md5(nbf.writes(hash_nb, nbf.NO_CONVERT).encode()).hexdigest()


def hashkey(notebook) -> str:
    """The notebook's key in the cache (``JupyterCacheBase.create_hashed_notebook``)."""
    return _hashed(notebook)[1]


def _connect(database: Path, *, write: bool = False) -> sqlite3.Connection:
    mode = "rw" if write else "ro"  # never create: a missing database is jupyter-cache's to make
    return sqlite3.connect(f"{database.as_uri()}?mode={mode}", uri=True, timeout=5.0)


def has_records(cache_path: str | Path) -> bool:
    """Whether the cache holds any executed notebook (``bool(cache.list_cache_records())``).

    :raises Unsupported: if this is not a cache this module reads.
    """
    if not _supported():
        raise Unsupported(f"jupyter-cache is not {JUPYTER_CACHE_VERSION}")
    database = _database(cache_path)
    if not database.is_file():
        return False  # jupyter-cache would create it, empty
    try:
        with closing(_connect(database)) as connection:
            return connection.execute("SELECT 1 FROM nbcache LIMIT 1").fetchone() is not None
    except sqlite3.Error as error:
        raise Unsupported(str(error)) from None


def record(cache_path: str | Path, notebook) -> Record | None:
    """The cache record of *notebook* (``match_cache_notebook``), or None if there is none.

    :raises Unsupported: if this is not a cache this module reads.
    """
    if not _supported():
        raise Unsupported(f"jupyter-cache is not {JUPYTER_CACHE_VERSION}")
    database = _database(cache_path)
    if not database.is_file():
        return None
    key = hashkey(notebook)
    try:
        with closing(_connect(database)) as connection:
            row = connection.execute(
                "SELECT pk, hashkey, uri, data, created FROM nbcache WHERE hashkey = ?", (key,)
            ).fetchone()
    except sqlite3.Error as error:
        raise Unsupported(str(error)) from None
    if row is None:
        return None
    pk, hashed, uri, data, created = row
    try:
        data = json.loads(data) if data is not None else None
        created = dt.datetime.fromisoformat(created)  # as SQLAlchemy reads the column
    except (TypeError, ValueError) as error:
        raise Unsupported(f"record {pk}: {error}") from None
    if not isinstance(data, dict):
        raise Unsupported(f"record {pk} has no data")
    return Record(pk, hashed, uri, data, created)


def _notebook_file(cache_path: str | Path, key: str) -> Path:
    return Path(cache_path).absolute() / "executed" / key / "base.ipynb"


def _touch(cache_path: str | Path, pk: int) -> None:
    """The record's last access is now (``NbCacheRecord.touch``; it orders truncation)."""
    now = dt.datetime.now(dt.UTC).strftime(SQLITE_DATETIME)
    try:
        with closing(_connect(_database(cache_path), write=True)) as connection:
            with connection:  # one transaction, committed
                changed = connection.execute(
                    "UPDATE nbcache SET accessed = ? WHERE pk = ?", (now, pk)
                ).rowcount
    except sqlite3.Error as error:
        raise Unsupported(str(error)) from None
    if changed != 1:
        raise Unsupported(f"record {pk} went away")


def merged(cache_path: str | Path, notebook) -> tuple[Record, object] | None:
    """The cached outputs merged into *notebook* (``merge_match_into_notebook``), with its
    record, or None if the cache has no such notebook (or its file is missing).

    :raises Unsupported: if this is not a cache this module reads.
    """
    found = record(cache_path, notebook)
    if found is None:
        return None
    path = _notebook_file(cache_path, found.hashkey)
    if not path.is_file():
        return None  # jupyter-cache raises here: let it
    _touch(cache_path, found.pk)  # get_cache_bundle touches before it reads
    cache_nb = nbf.reads(path.read_text(encoding="utf8"), nbf.NO_CONVERT)
    nb = nbf.convert(copy.deepcopy(notebook), NB_VERSION)
    for key in MERGED_NB_METADATA:
        if key in cache_nb.metadata:
            nb.metadata[key] = cache_nb.metadata[key]
    for index in range(len(nb.cells)):
        if nb.cells[index].cell_type == "code":
            cache_cell = cache_nb.cells.pop(0)
            if nb.nbformat_minor >= 5:
                cache_cell.id = nb.cells[index].id
            else:
                cache_cell.pop("id", None)
            nb.cells[index] = cache_cell
    return found, nb


def _existing_database(cache_path: str | Path) -> Path:
    if not _supported():
        raise Unsupported(f"jupyter-cache is not {JUPYTER_CACHE_VERSION}")
    database = _database(cache_path)
    if not database.is_file():
        raise Unsupported("no database yet")  # jupyter-cache creates it, with its schema
    return database


def remove(cache_path: str | Path, uris: set[str], notebooks) -> list[int]:
    """Delete the records cached from any of *uris* (resolved paths) or matching any of
    *notebooks*, each with its folder of files, as ``remove_cache`` deletes a record; return
    their primary keys.

    This is what ``sphinx_ext._drop_cached_outputs`` asked of jupyter-cache
    (``list_cache_records``, ``match_cache_notebook``, ``remove_cache``) after a data change,
    before Sphinx re-reads the pages: importing its ORM there was ~0.5 s on the critical path.

    :raises Unsupported: (before deleting anything) if this is not a cache this module reads,
        or a record's notebook file is missing (``remove_cache`` raises then: let it).
    """
    database = _existing_database(cache_path)
    keys = {hashkey(notebook) for notebook in notebooks}
    try:
        with closing(_connect(database, write=True)) as connection:
            rows = connection.execute("SELECT pk, hashkey, uri FROM nbcache").fetchall()
            stale = [
                (pk, key)
                for pk, key, uri in rows
                if key in keys or str(Path(uri).resolve()) in uris
            ]
            if any(not _notebook_file(cache_path, key).exists() for _, key in stale):
                raise Unsupported("a record without its notebook file")
            for _, key in stale:
                shutil.rmtree(_notebook_file(cache_path, key).parent)
            with connection:  # one transaction, committed
                connection.executemany(
                    "DELETE FROM nbcache WHERE pk = ?", [(pk,) for pk, _ in stale]
                )
    except sqlite3.Error as error:
        raise Unsupported(str(error)) from None
    return [pk for pk, _ in stale]


def store(cache_path: str | Path, notebook, uri: str, data: dict) -> int:
    """Cache an executed notebook as ``cache_notebook_bundle(CacheBundleIn(notebook, uri,
    data=data), check_validity=False, overwrite=True)`` does (no artifacts); return its
    record's primary key.

    ``page_execution`` stores each page the workers executed; through jupyter-cache that
    imported SQLAlchemy (~0.5 s CPU) while the workers needed both cores.

    :raises Unsupported: (before changing anything) if this is not a cache this module
        reads, or the new record would make jupyter-cache truncate the cache (left to it).
    """
    database = _existing_database(cache_path)
    stored, key = _hashed(notebook)
    path = _notebook_file(cache_path, key)
    now = dt.datetime.now(dt.UTC).strftime(SQLITE_DATETIME)  # the columns' default
    try:
        with closing(_connect(database, write=True)) as connection:
            setting = connection.execute(
                "SELECT value FROM settings WHERE key = ?", (CACHE_LIMIT_KEY,)
            ).fetchone()
            limit = setting[0] if setting is not None else DEFAULT_CACHE_LIMIT
            if isinstance(limit, str):  # JSON text; a bare number SQLite keeps as a number
                limit = json.loads(limit)
            others = connection.execute(
                "SELECT count(*) FROM nbcache WHERE hashkey != ?", (key,)
            ).fetchone()[0]
            if not isinstance(limit, int) or others + 1 > limit:
                raise Unsupported("the cache would be truncated")
            if path.exists():
                shutil.rmtree(path.parent)
            with connection:  # one transaction, committed
                connection.execute("DELETE FROM nbcache WHERE hashkey = ?", (key,))
                pk = connection.execute(
                    "INSERT INTO nbcache (hashkey, uri, description, data, created, accessed)"
                    " VALUES (?, ?, '', ?, ?, ?)",
                    (key, uri, json.dumps(data), now, now),  # SQLAlchemy's JSON: json.dumps
                ).lastrowid
    except sqlite3.Error as error:
        raise Unsupported(str(error)) from None
    path.parent.mkdir(parents=True)
    path.write_text(nbf.writes(stored, nbf.NO_CONVERT), encoding="utf8")
    return pk


def serve_hits_to_myst_nb() -> None:
    """Let myst-nb take a page's cached outputs from :func:`merged` instead of jupyter-cache.

    myst-nb's parser asks ``create_client`` for a notebook client; in ``cache`` mode that is
    ``NotebookClientCache``, whose module imports jupyter-cache's ORM.  The wrapper returns, for
    a page the cache holds, a client that does what ``NotebookClientCache.start_client`` does on
    a hit (same notebook, same execution metadata, same log line); everything else (a miss, an
    excluded page, another mode, another jupyter-cache) goes to myst-nb's own ``create_client``.
    """
    from myst_nb import sphinx_ as myst_nb_parser
    from myst_nb.core.execute.base import NotebookClientBase

    original = getattr(myst_nb_parser, "create_client", None)
    if original is None or getattr(original, "serves_cache_hits", False):
        return

    class CachedNotebookClient(NotebookClientBase):
        def start_client(self):
            found, notebook = self._kwargs["hit"]
            self.logger.info(f"Using cached notebook: ID={found.pk}")
            self._notebook = notebook
            self.exec_metadata = {
                "mtime": found.created.timestamp(),
                "runtime": found.data.get("execution_seconds", None),
                "method": self.nb_config.execution_mode,
                "succeeded": True,
                "error": None,
                "traceback": None,
            }

    def create_client(notebook, source, nb_config, logger, read_fmt=None):
        hit = None
        if nb_config.execution_mode == "cache":
            hit = _hit(notebook, source, nb_config)
        if hit is None:
            return original(notebook, source, nb_config, logger, read_fmt)
        return CachedNotebookClient(notebook, Path(source), nb_config, logger, hit=hit)

    create_client.serves_cache_hits = True
    myst_nb_parser.create_client = create_client


def _hit(notebook, source, nb_config):
    from pathlib import PurePosixPath

    try:
        path = Path(source)
        if not path.is_file():
            return None
    except OSError:
        return None
    posix = PurePosixPath(path.as_posix())
    if any(posix.match(pattern) for pattern in nb_config.execution_excludepatterns):
        return None  # myst-nb does not execute it: its own client says so
    try:
        return merged(nb_config.execution_cache_path or ".jupyter_cache", notebook)
    except Unsupported:
        return None
