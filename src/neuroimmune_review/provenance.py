"""Which data and code each page read, so a rebuild re-executes exactly the pages a change affects.

Jupyter Book's execution cache keys a page on its code cells only: a new row in
``data/evidence.csv`` would otherwise leave every chart stale.  Instead, every data
query a page runs is recorded with a digest of its result (``tracked``) and the content
digests of the files the query reads (``tracked(reads=...)``).  Before the next build,
``stale_pages`` hashes each input file once: a query whose files are unchanged keeps its
answer without running; only the queries over a changed file run again (and share one
evidence join), and a page whose answers changed is re-read and its cached notebook
dropped.  Queries that declare no files (the git-state ones: stamp, history, maintainers,
the suggest-a-study form, which also reads the environment) run every time; each costs
about 0.01-0.02 s.  At the end of a build, answers no page records are deleted
(``prune_answers``).  Values read from large files outside tracked queries (the evidence
join, validation's verdict, the PRISMA cited keys) are kept in ``_build/.memo`` under their
files' digests (``remembered``).

A page's code is the set of package modules its cells can reach (the static import graph
from the page's own cells, see ``reachable_modules``), each with its content digest: an
edit to a module no page imports (curation, the benchmark) re-executes nothing, and an edit
to a chart builder re-executes exactly the pages that import it.

Long by design: recording answers, keying them by file and code digests, the stale check
and the pruning of those answers share one set of keying rules; split apart, a change to
one key's shape could silently stop matching the other.

Hand-written on purpose: jupyter-cache and myst-nb know a page's cells, not the files and
modules those cells read, and no library tracks that for notebook pages.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import paths
from .files import atomic_write

RECORD_DIR = ".provenance"
ANSWER_DIR = "answers"
PACKAGE = __package__
PACKAGE_DIR = Path(__file__).resolve().parent
_QUERIES: dict[str, Callable[..., Any]] = {}
_READS: dict[str, Callable[..., Iterable[str]] | None] = {}
_ANSWER_OF: dict[str, Callable[..., str]] = {}
_page: dict[str, Any] | None = None


def digest(value: Any) -> str:
    """A stable digest of a query result (DataFrame, mapping, text or bytes)."""
    # Performance: pandas is imported only by what made a DataFrame (a no-op or prose build
    # runs only the git-state queries, which answer dicts: importing pandas was 0.4 s of it).
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return frame_digest(value.columns, row_hashes(value))
    h = hashlib.sha256()
    if isinstance(value, bytes):
        h.update(value)
    elif isinstance(value, str):
        h.update(value.encode())
    else:
        h.update(json.dumps(value, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def row_hashes(frame: Any) -> Any:
    """One hash per row of *frame* (a DataFrame; its values as text), as ``digest`` hashes a frame.

    Each row's hash depends on that row's values and the number of columns only, so the
    hashes of some rows of a frame, in order, are those rows' hashes in the whole frame.
    """
    import pandas as pd  # only for a frame, which means pandas is loaded already

    return pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()


def frame_digest(columns: Iterable[Any], hashes: Any) -> str:
    """The digest of a frame with these columns whose rows hash to *hashes* (``row_hashes``)."""
    h = hashlib.sha256()
    h.update(json.dumps(list(map(str, columns))).encode())
    h.update(hashes.tobytes())
    return h.hexdigest()[:20]


# ---------------------------------------------------------------------------------------------
# Content digests of files, each computed once per process while the file is unchanged


@functools.lru_cache(maxsize=512)
def _hash_file(path: str, mtime_ns: int, size: int, inode: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:20]


def file_digest(path: Path) -> str | None:
    """Digest of a file's bytes (None if it does not exist)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return _WHOLE_DIGESTS.get(key) or _hash_file(*key)


# Whole-file digests found by ``prefix_digests`` (which reads the whole file too), by the same
# key as ``_hash_file``'s: the file is then not read again for ``file_digest``.
_WHOLE_DIGESTS: dict[tuple[str, int, int, int], str] = {}


@functools.lru_cache(maxsize=8)
def _hash_prefix(path: str, mtime_ns: int, size: int, inode: int, prefix: int) -> tuple[str, str]:
    with open(path, "rb") as handle:
        h = hashlib.sha256(handle.read(prefix))
        first = h.hexdigest()[:20]
        while chunk := handle.read(1 << 20):
            h.update(chunk)
    return first, h.hexdigest()[:20]


def prefix_digests(path: Path, prefix: int) -> tuple[str, str] | None:
    """(digest of the first *prefix* bytes, digest of the whole file), as ``file_digest`` digests
    a file; None if it does not exist.  Performance: whether rows were only appended to a file
    is asked by validation and by the evidence join of one process; the file is read once."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    digests = _hash_prefix(*key, prefix)
    if len(_WHOLE_DIGESTS) > 64:
        _WHOLE_DIGESTS.clear()
    _WHOLE_DIGESTS[key] = digests[1]
    return digests


def _input_digests(name: str, params: dict[str, Any], root: Path) -> dict[str, str | None] | None:
    reads = _READS.get(name)
    if reads is None:
        return None
    return {rel: file_digest(root / rel) for rel in sorted(set(reads(**params)))}


# ---------------------------------------------------------------------------------------------
# Tracked queries


def tracked(
    query: Callable[..., Any] | None = None,
    *,
    reads: Iterable[str] | Callable[..., Iterable[str]] | None = None,
    answer: Callable[..., str] | None = None,
) -> Any:
    """Register a keyword-only data query whose answers a page's output depends on.

    *reads* names the files (relative to the review root) the query's answer depends on,
    or is a function of the query's parameters giving them: while those files keep their
    content, the recorded answer holds and the query is not run again to check it.
    *answer*, a function of the same parameters, gives ``digest`` of the query's result
    more cheaply than building it (the same digest, exactly: tests compare the two).
    """
    if query is None:
        return lambda q: tracked(q, reads=reads, answer=answer)
    name = f"{query.__module__}.{query.__qualname__}"
    _QUERIES[name] = query
    if answer is not None:
        _ANSWER_OF[name] = answer
    if reads is None or callable(reads):
        _READS[name] = reads
    else:
        fixed = tuple(reads)
        _READS[name] = lambda **_params: fixed

    @functools.wraps(query)
    def run(**params: Any) -> Any:
        result = query(**params)
        if _page is not None:
            key = json.dumps([name, params], sort_keys=True)
            root = Path(_page["root"])
            files = _input_digests(name, params, root)
            known = _page["inputs"].get(key)
            if files is not None and known is not None and known.get("files") == files:
                # Already recorded by this page over the same files (pages ask for labels per
                # row: at 1000x, 18,000 repeats cost the contested page 13 of its 95 s).
                return result
            answer = _remembered_answer(root, key, files) if files is not None else None
            if answer is None:
                answer = _ANSWER_OF[name](**params) if name in _ANSWER_OF else digest(result)
                if files is not None:
                    _remember_answer(root, key, files, answer)
            entry = {"answer": answer, "files": files}
            if _page["inputs"].get(key) != entry:
                _page["inputs"][key] = entry
                _page_changed()
        return result

    return run


# The answer of a query over unchanged files is the same in every process of a build: the
# check before the build, and each shared kernel.  The digest of a large answer (all
# evidence at 1000×: about a second) is therefore kept on disk, keyed by the query and the
# digests of its files, and computed once per build.
_ANSWERS: dict[str, str] = {}


def _answer_path(root: Path, key: str, files: dict[str, str | None]) -> tuple[str, Path]:
    # The query's own code is part of the key: new code over the same files may answer differently.
    code = _query_code(json.loads(key)[0])
    memo = hashlib.sha256(json.dumps([key, files, code], sort_keys=True).encode()).hexdigest()[:32]
    return memo, paths.build_dir(root) / RECORD_DIR / ANSWER_DIR / memo


def _remembered_answer(root: Path, key: str, files: dict[str, str | None]) -> str | None:
    memo, path = _answer_path(root, key, files)
    if memo not in _ANSWERS:
        try:
            _ANSWERS[memo] = path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
    return _ANSWERS[memo] or None


def _remember_answer(root: Path, key: str, files: dict[str, str | None], answer: str) -> None:
    memo, path = _answer_path(root, key, files)
    _ANSWERS[memo] = answer
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, answer.encode("utf-8"), durable=False)
    except OSError:
        pass  # only a cache: the next process computes the digest itself


def prune_answers(root: Path) -> int:
    """Delete the remembered answers no page record names any more; returns how many.

    Called at the end of a build: every data change leaves the answers over the old file
    digests behind (at 1000x, one per query per changed file per build), and nothing reads them.
    """
    records = paths.build_dir(root) / RECORD_DIR
    answers = records / ANSWER_DIR
    if not answers.is_dir() or _nothing_new_since_check(root):
        return 0
    with _one_pass(root):
        # The code digests this build's stale check computed, in this process, are taken as
        # they were: pruning only deletes, so were the package edited since, an answer kept
        # under the new code would be deleted and computed again, never a stale one served
        # (answers are looked up under the code as it is then).  0.02 s of each build at 1x.
        check = last_check
        if check is not None and check.root == root and _code_memo is not None:
            _code_memo.update(check.codes)
        wanted = _wanted_answers(root, records, answers)
    removed = 0
    for path in answers.iterdir():
        if path.is_file() and path.name not in wanted:
            path.unlink(missing_ok=True)
            _ANSWERS.pop(path.name, None)
            removed += 1
    return removed


def _nothing_new_since_check(root: Path) -> bool:
    """Whether this build's stale check kept no new answer and no page executed since.

    Then no answer was written and no record changed, so the answers no record wants are
    those the last pruning left (a code change can orphan some; the next build that
    executes a page deletes them): a no-op or prose build skips the walk over every
    record and every query's import graph (0.2-0.3 s).
    """
    check = last_check
    if check is None or check.root != root or check.answers_written:
        return False
    # A file's time comes from a coarser clock than time_ns (up to a 10 ms tick behind).
    return not executed_since(root, check.started_ns - 50_000_000)


def _wanted_answers(root: Path, records: Path, answers: Path) -> set[str]:
    wanted: set[str] = set()
    for path in records.rglob("*.json"):
        if answers in path.parents:
            continue
        try:
            page = json.loads(path.read_text(encoding="utf-8"))
            inputs = page.get("inputs", {}) if isinstance(page, dict) else {}
        except (OSError, ValueError):
            continue
        for key, entry in inputs.items():
            files = entry.get("files") if isinstance(entry, dict) else None
            if files is not None:
                try:
                    wanted.add(_answer_path(root, key, files)[0])
                except (ValueError, IndexError, TypeError):
                    continue
    return wanted


# Beside the page records, not among them: every *.json under RECORD_DIR is a page record.
MEMO_DIR = ".memo"


def remembered(
    name: str,
    root: Path,
    files: Iterable[Path],
    compute: Callable[[], Any],
    extra: Any = None,
) -> Any:
    """``compute()`` (JSON-serialisable), kept on disk under the content digests of *files*.

    For values read from large files outside tracked queries (the stamp and banner every page
    carries, computed in the Sphinx process on every build): while the files keep their
    bytes, no process of any build reads them again.  Code changes do not invalidate it, so
    *name* should change when *compute*'s meaning does.  *extra* (JSON) joins the key: what
    the value depends on beyond whole files.
    """
    digests = {str(f): file_digest(Path(f)) for f in files}
    key = json.dumps([name, digests, extra], sort_keys=True, default=str)
    memo = hashlib.sha256(key.encode()).hexdigest()[:32]
    path = paths.build_dir(root) / MEMO_DIR / f"{memo}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # only a cache
    return value


# ---------------------------------------------------------------------------------------------
# The narrow code digest: the package modules a page's cells can reach

_IMPORT_LINE = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<base>[\w.]+)[ \t]+import[ \t]+(?P<names>\(?[\w \t,]+\)?)"
    r"|import[ \t]+(?P<modules>[\w. \t,]+))",
    re.MULTILINE,
)


def _lazy_page_modules() -> dict[str, str]:
    """Names the package resolves on first use (``from neuroimmune_review import charts``)."""
    package = importlib.import_module(PACKAGE)
    return {name: f"{PACKAGE}.pages.{name}" for name in getattr(package, "_PAGE_MODULES", ())}


def _module_file(module: str, package_dir: Path) -> Path | None:
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    # os.path on text: pathlib's joins and suffixes were most of an import-graph walk's time.
    base = os.path.join(package_dir, *parts[1:])
    for file in (os.path.join(base, "__init__.py"), f"{base}.py"):
        if os.path.isfile(file):
            return Path(file)
    return None


def _statements(body: list[ast.AST]) -> Iterator[ast.AST]:
    """Every statement of *body*, nested ones included (function bodies, branches, handlers).

    An import is a statement, so this finds every one ``ast.walk`` would, without visiting
    each expression node (``ast.walk`` of the package took most of the 0.3 s a process spent
    on the import graph).
    """
    for node in body:
        yield node
        for name in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for case in getattr(node, "cases", None) or ():  # ``match``
            yield from _statements(case.body)


@functools.lru_cache(maxsize=256)
def _module_imports(path: str, mtime_ns: int, size: int, module: str) -> tuple[str, ...]:
    """Package modules named by the imports of one module (anywhere in it, lazy ones too)."""
    if _imports_memo is None:
        return _parse_imports(path, module)
    key = f"{module}|{_imports_key(Path(path))}"
    if key not in _imports_memo:
        _imports_memo[key] = list(_parse_imports(path, module))
    return tuple(_imports_memo[key])


def _imports_key(file: Path) -> str:
    """What a module's imports depend on besides its name: its bytes, whether it is a package
    (relative imports resolve from it) and the parsing code."""
    return f"{file_digest(file)}|{file.name == '__init__.py'}|{_IMPORTS_CODE}"


def _parse_imports(path: str, module: str) -> tuple[str, ...]:
    tree = ast.parse(Path(path).read_bytes(), filename=path)
    is_package = path.endswith("__init__.py")
    found: list[str] = []
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return tuple(name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}."))


# Performance: while one pass over many records runs (the stale check, the pruning), each
# query's code digest is computed once, not once per recorded answer (at the end of a no-op
# build, 187 walks of the import graph: 0.8 s).  The package's code does not change during a pass.
# The imports each module names are a function of its bytes alone, so they are also kept on
# disk under the module's content digest (``IMPORTS_MEMO``): a pass in a new process does not
# parse the package again (ast.parse of 43 modules: 0.2 s of every build).
_code_memo: dict[str, str] | None = None
_imports_memo: dict[str, list[str]] | None = None
IMPORTS_MEMO = "module-imports.json"  # in MEMO_DIR


@contextlib.contextmanager
def _one_pass(root: Path | None = None) -> Iterator[None]:
    global _code_memo, _imports_memo
    if _code_memo is not None:
        yield  # already inside a pass
        return
    path = paths.build_dir(root) / MEMO_DIR / IMPORTS_MEMO if root is not None else None
    kept: dict[str, list[str]] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            kept = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            pass
    _code_memo, _imports_memo = {}, dict(kept)
    try:
        yield
    finally:
        found, _code_memo, _imports_memo = _imports_memo, None, None
        if path is not None and found.keys() != kept.keys():
            _save_imports(path, found)


def _save_imports(path: Path, found: dict[str, list[str]]) -> None:
    """Keep the entries that still match a module's current bytes (old versions are dropped)."""
    current = {}
    for key, names in found.items():
        module, _, rest = key.partition("|")
        file = _module_file(module, PACKAGE_DIR)
        if file is not None and rest == _imports_key(file):
            current[key] = names
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(current, sort_keys=True).encode("utf-8"), durable=False)
    except OSError:
        pass  # only a cache


def _code_of(*functions: Callable[..., Any]) -> str:
    """A digest of the functions' compiled code that is the same in every process.

    A function's constants include the code of its comprehensions and generator expressions,
    whose ``repr`` holds a memory address: digested as text, the digest changed from one
    process to the next, and no process found the imports another had kept.
    """
    return digest([_code_parts(f.__code__) for f in functions])


def _code_parts(code: Any) -> list[Any]:
    return [
        code.co_code.hex(),
        [_code_parts(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts],
    ]


# What the kept imports were computed by: new parsing code invalidates them.
_IMPORTS_CODE = _code_of(_parse_imports, _statements)


def _query_code(name: str) -> str:
    """Digest of the modules a query's own module can reach (kept per module: the 15 queries
    the pages record live in 7 modules)."""
    module = name.rpartition(".")[0]
    if _code_memo is not None and module in _code_memo:
        return _code_memo[module]
    modules = reachable_modules(f"import {module}")
    code = digest({m: file_digest(f) for m, f in modules.items()})
    if _code_memo is not None:
        _code_memo[module] = code
    return code


def _page_imports(text: str) -> list[str]:
    """Package modules named by the import statements of a page's source (its cells).

    The bare package appears only for ``import neuroimmune_review`` (which may reach any
    lazily resolved name), not for ``from neuroimmune_review import charts``.
    """
    found: list[str] = []
    for match in _IMPORT_LINE.finditer(text):
        if match["base"]:
            names = [n.split(" as ")[0].strip() for n in match["names"].strip("()").split(",")]
            found += [f"{match['base']}.{n}" for n in names if n]
        else:
            found += [m.split(" as ")[0].strip() for m in match["modules"].split(",")]
    return [name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")]


# Walks of the import graph already made in this process: (imported names, package folder) ->
# (the signature below when the walk began, its modules).  Performance: a page worker walked
# the graph once per query a page records (for the answer's code key) and once per page (its
# code record), 73 walks of 1.5-7 ms each in a 1x one-row build's ten pages.  What a walk
# finds depends only on the bytes of the modules it reached (their imports) and on which
# files exist where it looked; so a kept walk is reused while every module it reached and
# every folder of the package (whose modification time changes when a file or folder in it
# is created, renamed or deleted) has the same (mtime, size, inode) as when it began.
_WALKS: dict[tuple[tuple[str, ...], str], tuple[tuple, dict[str, Path]]] = {}


def _stats(files: Iterable[Path | str]) -> tuple:
    found = []
    for file in files:
        try:
            stat = os.stat(file)
        except OSError:
            found.append(None)
        else:
            found.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(found)


def _package_folders(package_dir: Path) -> list[str]:
    folders = []
    for folder, subfolders, _files in os.walk(package_dir):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        folders.append(folder)
    return folders


def reachable_modules(page_text: str, package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every package module the page's cells can import, directly or through other modules.

    The walk follows the static import graph (``import`` statements anywhere in a module,
    lazy ones included), the parent packages each import runs, and the names the package
    resolves lazily.  The tracking cell's own import (``provenance``) is always included.
    """
    imported = tuple(_page_imports(page_text))
    key = (imported, str(package_dir))
    kept = _WALKS.get(key)
    if kept is not None:
        (folders, signature), modules = kept
        if _stats([*folders, *modules.values()]) == signature:
            return dict(modules)
    began = time.time_ns()
    folders = _package_folders(package_dir)
    before = _stats(folders)  # before the walk, and each module as the walk read it: a change
    stats: dict[str, tuple] = {}  # during the walk shows as a different signature next time
    modules = _walk_modules(list(imported), package_dir, stats)
    signature = before + tuple(stats[m] for m in modules)
    # A file system stamps modification times from a clock that ticks every few milliseconds:
    # a folder or module changed just now could change again within the same tick, unseen.
    # Such a walk is not kept (as git treats an index entry as racy).
    if all(stat is not None and stat[0] < began - _RACY_NS for stat in signature):
        _WALKS[key] = ((folders, signature), modules)
    return dict(modules)


_RACY_NS = 100_000_000  # 0.1 s, well above a file system's time stamp granularity


def _walk_modules(
    imported: list[str], package_dir: Path, stats: dict[str, tuple]
) -> dict[str, Path]:
    lazy = _lazy_page_modules()
    todo = [*imported, f"{PACKAGE}.provenance"]
    if PACKAGE in imported:  # ``import neuroimmune_review``: any lazily resolved name may follow
        todo += list(lazy.values())
    lazy_names = {f"{PACKAGE}.{short}": module for short, module in lazy.items()}
    reached: dict[str, Path] = {}
    # Each name is looked up once: the imports of a module's imports name the same modules
    # and functions again and again (3,150 look-ups, two file tests each, for 289 modules
    # reached by a one-row build's ten pages).
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        file = _module_file(name, package_dir)
        if file is None:
            if name in lazy_names:
                todo.append(lazy_names[name])
            continue  # a function or constant imported from a module, not a module
        reached[name] = file
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        stat = file.stat()
        stats[name] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        todo += _module_imports(str(file), stat.st_mtime_ns, stat.st_size, name)
    return dict(sorted(reached.items()))


def _all_modules(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    modules = {}
    for file in sorted(package_dir.rglob("*.py")):
        parts = list(file.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join([PACKAGE, *parts])] = file
    return modules


def page_source(docname: str, root: Path) -> str | None:
    for suffix in (".md", ".ipynb"):
        path = root / f"{docname}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def code_digests(
    docname: str, root: Path, package_dir: Path = PACKAGE_DIR
) -> dict[str, str | None]:
    """Module name -> content digest, for every module the page's cells can reach.

    If the page's source cannot be read or parsed, every module of the package counts.
    """
    try:
        text = page_source(docname, root)
        modules = (
            reachable_modules(text, package_dir) if text is not None else _all_modules(package_dir)
        )
    except (OSError, SyntaxError, ValueError):
        modules = _all_modules(package_dir)
    return {name: file_digest(file) for name, file in modules.items()}


def code_changed(
    recorded: Any, package_dir: Path = PACKAGE_DIR, memo: dict[str, str | None] | None = None
) -> bool:
    """Whether any module of a page's recorded code (``code_digests``) changed or vanished.

    *memo* (module -> current digest) is shared by the pages of one check: 34 pages name
    about 30 modules each, and finding and stating each module's file once per page cost
    0.1-0.2 s of every build.
    """
    if not isinstance(recorded, dict) or not recorded:
        return True  # a record from before the narrow digest
    for module, answer in recorded.items():
        if memo is not None and module in memo:
            current = memo[module]
        else:
            file = _module_file(module, package_dir)
            current = file_digest(file) if file is not None else None
            if memo is not None:
                memo[module] = current
        if current is None or current != answer:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Page records


def record_path(docname: str, root: Path | None = None) -> Path:
    return paths.build_dir(root) / RECORD_DIR / f"{docname}.json"


def begin_page(docname: str) -> None:
    """Called by the hidden first cell the build adds to every executed page."""
    global _page
    root = paths.find_root()
    # One pass: a worker's first page takes the package's imports from the kept file
    # (IMPORTS_MEMO) instead of parsing every module again.
    with _one_pass(root):
        code = code_digests(docname, root)
    _page = {"docname": docname, "root": str(root), "code": code, "inputs": {}}
    _page_changed()


# In a page worker (``build.shell_worker``), which calls ``finish_page`` after every page: the
# page's record is written once, when the page is done, instead of again after every new
# input (75 writes of the whole record, each a temporary file and a rename, for a 1x one-row
# build's ten pages; a rename over the old file made ext4 write the new one out, ~3 ms of
# wall each).  The record written is the same: the last of those writes was the page's final
# state.  Elsewhere (myst-nb's kernel, which has no such call) each change is written at once.
_save_when_finished = False
_unsaved = False


def warm_up() -> None:
    """Called once in each page worker, before its first page (``build.shell_worker``)."""
    global _save_when_finished
    _save_when_finished = True


def finish_page() -> None:
    """Called by a page worker after each page's cells, whether they ran or failed."""
    global _unsaved
    if _unsaved and _page is not None:
        _save(_page)
    _unsaved = False


def _page_changed() -> None:
    global _unsaved
    if _save_when_finished:
        _unsaved = True
    else:
        _save(_page)


def _save(page: dict[str, Any]) -> None:
    path = record_path(page["docname"], Path(page["root"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(page, indent=1, sort_keys=True).encode("utf-8"), durable=False)


def _query(name: str) -> Callable[..., Any] | None:
    """The registered query *name*, importing only the module that defines it."""
    if name not in _QUERIES:
        module = name.rpartition(".")[0]
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a query that cannot load counts as changed
            return None
    return _QUERIES.get(name)


class _Check:
    """One stale-page check: each file hashed once, each changed query answered once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.answers: dict[str, str | None] = {}
        self.queries_run = 0
        self.answers_written = 0  # the git-state queries run every time but keep no answer
        self.started_ns = time.time_ns()  # before any page of this build executes
        # Each file and module is stated and looked up once per check, not once per answer.
        self.files: dict[str, str | None] = {}
        self.modules: dict[str, str | None] = {}
        self.codes: dict[str, str] = {}  # each query module's code digest (``_query_code``)

    def file_digest(self, rel: str) -> str | None:
        if rel not in self.files:
            self.files[rel] = file_digest(self.root / rel)
        return self.files[rel]

    def files_unchanged(self, recorded: dict[str, str | None]) -> bool:
        return all(self.file_digest(rel) == answer for rel, answer in recorded.items())

    def answer_changed(self, key: str, entry: Any) -> bool:
        if not isinstance(entry, dict):
            return True  # a record from before file digests: execute the page once more
        files = entry.get("files")
        if files is not None and self.files_unchanged(files):
            return False
        if key not in self.answers:
            self.answers[key] = self._answer(key)
        return self.answers[key] is None or self.answers[key] != entry.get("answer")

    def _answer(self, key: str) -> str | None:
        name, params = json.loads(key)
        query = _query(name)
        if query is None:
            return None
        files = _input_digests(name, params, self.root)
        if files is not None:
            known = _remembered_answer(self.root, key, files)
            if known is not None:
                return known
        self.queries_run += 1
        try:
            if name in _ANSWER_OF:
                answer = _ANSWER_OF[name](**params)
            else:
                answer = digest(_QUERIES[name](**params))
        except Exception:  # noqa: BLE001 - a query that now fails must re-run so the build shows it
            return None
        if files is not None:
            _remember_answer(self.root, key, files, answer)
            self.answers_written += 1
        return answer


last_check: _Check | None = None  # the latest check, for tests and the benchmark


def check_summary() -> dict[str, Any] | None:
    """What the pruning at the end of a build needs of the latest check, as JSON (the check
    may run in another process: ``build.early_checks``); None if there was none."""
    check = last_check
    if check is None:
        return None
    return {
        "root": str(check.root),
        "started_ns": check.started_ns,
        "answers_written": check.answers_written,
        "queries_run": check.queries_run,
        "codes": check.codes,
    }


def adopt_check(summary: dict[str, Any]) -> None:
    """Make a check summarised by :func:`check_summary` (in another process) this process's
    latest, as if it had run here."""
    global last_check
    check = _Check(Path(summary["root"]))
    check.started_ns = int(summary["started_ns"])
    check.answers_written = int(summary["answers_written"])
    check.queries_run = int(summary["queries_run"])
    check.codes = dict(summary["codes"])
    last_check = check


def stale_pages(root: Path, docnames: list[str]) -> list[str]:
    """Pages whose recorded inputs no longer give the same answers (or whose code changed)."""
    with _one_pass(root):
        stale = _stale_pages(root, docnames)
        if last_check is not None and _code_memo is not None:
            last_check.codes = dict(_code_memo)  # for the pruning at the end of the build
        return stale


def _stale_pages(root: Path, docnames: list[str]) -> list[str]:
    global last_check
    check = last_check = _Check(root)
    stale = []
    for docname in docnames:
        path = record_path(docname, root)
        if not path.is_file():
            continue  # never executed, or has no code cells: the cache decides alone
        try:
            page = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stale.append(docname)
            continue
        inputs = page.get("inputs", {})
        if code_changed(page.get("code"), memo=check.modules) or any(
            check.answer_changed(key, entry) for key, entry in inputs.items()
        ):
            stale.append(docname)
        else:
            _refresh_file_digests(path, page, check)
    return stale


def _refresh_file_digests(path: Path, page: dict[str, Any], check: _Check) -> None:
    """Bring a fresh page's record up to the files as they are now.

    A page whose files changed but whose answers did not is not executed, so its record
    would keep naming the old files: every later check would answer its queries again
    (importing their modules, joining the evidence: 2 s at 1000x in each prose or no-op
    build after a data change), and the pruning would delete the answers over the new files
    that it needs, since no record names them.  The answers were just found equal, so the
    record now names the current files.  Its time is kept: it says when the page last
    executed (``executed_since``).
    """
    changed = False
    for entry in page.get("inputs", {}).values():
        files = entry.get("files") if isinstance(entry, dict) else None
        if files:
            current = {rel: check.file_digest(rel) for rel in files}
            if current != files:
                entry["files"] = current
                changed = True
    if not changed:
        return
    try:
        stat = path.stat()
        atomic_write(
            path, json.dumps(page, indent=1, sort_keys=True).encode("utf-8"), durable=False
        )
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    except OSError:
        pass  # only a shortcut: the next check answers the queries again


def current_docname() -> str | None:
    """The page being executed, if any (used for links relative to that page)."""
    return _page["docname"] if _page else None


def executed_since(root: Path, since_ns: int) -> set[str]:
    """Pages executed since *since_ns* (a ``time.time_ns()``): their record was written since.

    Every execution of a page, in a shared kernel or by myst-nb, starts with
    ``begin_page``, which rewrites the page's record; so the records, not the build
    log, say which pages ran.
    """
    records = paths.build_dir(root) / RECORD_DIR
    return {
        path.relative_to(records).with_suffix("").as_posix()
        for path in records.rglob("*.json")
        if path.stat().st_mtime_ns >= since_ns
    }
