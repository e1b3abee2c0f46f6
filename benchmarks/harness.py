"""Benchmark of the build and the pages from 1× to 1000× the evidence (``make bench``).

Everything happens in temporary copies of the review (``_config.yml``, ``_toc.yml``,
``book/``, ``data/``, ``references.bib``); the real data are never touched.  At each
scale the copy's ``data/evidence.csv`` is replaced by synthetic findings drawn from the
real vocabularies and citations, then we measure:

- validation time (``validate_root``, in a fresh process);
- a build with execution off (baseline) and a cold build with cached execution;
- a no-op rebuild, a rebuild after adding one evidence row for one drug class, and a
  rebuild after editing one chapter's prose (on a second copy of the same data, built once
  first; the builds with execution off, the cold builds and these two rebuilds are taken in
  turn, so each ratio a target divides is of neighbouring builds);
- per page, its weight (HTML plus every local script, stylesheet and image it loads) raw
  and gzipped, as a static host serves it, and its request count; the heaviest text-only
  page, the heaviest chart page and the total site size;
- in headless Chromium, the time from navigation start until every chart on the
  heaviest chart page is drawn (``window.reviewChartsRendered``).

Every timing is repeated (``--repeats``, 3 by default; 1 in the smoke run), its runs are
kept with their min, median and max, and the 1-minute load average is recorded at the start
of each run: on a shared 2-core machine one slow run says little.  Targets are decided on
the medians.

Results go to ``benchmarks/results.json`` and ``benchmarks/results.md``, with a
``targets`` list (name, value, limit, met) checked against the issue's limits.

Long by design: one script that a single ``make bench`` runs end to end (copies, data
synthesis, timed builds, page weights, the browser timing and the report); it is not
imported by the package or the build.
"""

from __future__ import annotations

import compileall
import contextlib
import csv
import datetime as dt
import functools
import gzip
import html.parser
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import neuroimmune_review
from neuroimmune_review import git as review_git
from neuroimmune_review import provenance

from .browser import launch_chromium

COPIED = ("_config.yml", "_toc.yml", "book", "data", "references.bib")
SCALES = (1, 10, 100, 1000)
SMOKE_PAGES = ("book/antidepressants/ssri",)
ADDED_ROW_CLASS = "SSRI"
ADDED_ROW_CHAPTER = "book/antidepressants/ssri"
PROSE_PAGE = "book/neuroimmunology/introduction"
BUILD_FLAGS = ("-n", "--keep-going")
MB = 1_000_000
KB = 1_000
REPEATS = 3
GZIP_LEVEL = 6  # what nginx and most static hosts use for text; fonts and images barely shrink

# name, description, limit, comparison ("le").
TARGETS = [
    ("cold_build_over_execution_off", "cold build ÷ build with execution off", 2.0),
    ("row_rebuild_over_cold_build", "rebuild after one evidence row ÷ cold build", 0.3),
    ("prose_rebuild_over_cold_build", "rebuild after one chapter's prose ÷ cold build", 0.15),
    ("text_page_gzip_kb", "heaviest chapter without a chart, kB gzipped (at every scale)", 150),
    ("chart_page_gzip_kb", "heaviest chart page at 1×, kB gzipped", 400),
    ("heaviest_page_mb", "heaviest chart page at 1×, MB raw", 1.5),
    ("heaviest_page_1000x_over_1x", "heaviest chart page at 1000× ÷ at 1× (raw)", 1.2),
    ("cold_build_1000x_over_1x", "cold build at 1000× ÷ at 1×", 2.0),
    ("validation_200k_rows_s", "validation of ≥200k rows, s", 3.0),
    ("charts_rendered_1000x_s", "charts rendered after load, heaviest page, 1000×, s", 1.0),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_average() -> float | None:
    """The 1-minute load average now (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _timed(measure: Any) -> dict[str, Any]:
    load = load_average()
    result = measure()
    result["load_at_start"] = load
    return result


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's dict with ``seconds`` replaced by the median, plus ``min``, ``median``,
    ``max`` and ``runs`` (seconds, load at its start, pages executed)."""
    seconds = [r["seconds"] for r in results]
    summary = dict(results[0])
    summary.update(
        seconds=round(statistics.median(seconds), 3),
        min=round(min(seconds), 3),
        median=round(statistics.median(seconds), 3),
        max=round(max(seconds), 3),
        runs=[
            {k: r[k] for k in ("seconds", "load_at_start", "pages_executed") if k in r}
            for r in results
        ],
    )
    return summary


def repeated(runs: int, measure: Any) -> dict[str, Any]:
    """Call *measure* (returning a dict with ``seconds``) *runs* times; keep every run."""
    return _summary([_timed(measure) for _ in range(max(1, runs))])


def interleaved(runs: int, *measures: Any) -> list[dict[str, Any]]:
    """Like ``repeated`` for several measures at once, taken in turn (A B A B A B).

    For timings that a target divides: on this shared machine a single build moves by seconds
    from one minute to the next, and a block of A's followed by a block of B's puts that drift
    into their ratio.
    """
    results: list[list[dict[str, Any]]] = [[] for _ in measures]
    for _ in range(max(1, runs)):
        for bucket, measure in zip(results, measures, strict=True):
            bucket.append(_timed(measure))
    return [_summary(bucket) for bucket in results]


# ---------------------------------------------------------------------------------------------
# The temporary copy and its synthetic data


def make_copy(repo: Path, dest: Path, pages: tuple[str, ...] | None = None) -> Path:
    """Copy what a build needs into *dest*.  With *pages*, keep only those pages executable.

    A reduced copy keeps every page of the toc (the validator checks chapters against it),
    but replaces the others with one-line stubs, so a smoke build is quick.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = repo / name
        if source.is_dir():
            shutil.copytree(
                source, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build")
            )
        elif source.is_file():
            shutil.copy2(source, dest / name)
    if pages is not None:
        keep = {*pages, "book/about/references"}
        for page in toc_pages(dest):
            target = dest / f"{page}.md"
            if page in keep and target.is_file():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                f"# {page.rsplit('/', 1)[-1]}\n\nNot part of this benchmark.\n", encoding="utf-8"
            )
        (dest / "book/index.md").write_text(
            "# Benchmark book\n\nA reduced copy of the review.\n", encoding="utf-8"
        )
    return dest


def toc_pages(root: Path) -> list[str]:
    return re.findall(
        r"(?:root|file):\s*(book/[\w/.-]+)", (root / "_toc.yml").read_text(encoding="utf-8")
    )


def synthesize(root: Path, scale: int, seed: int = 7) -> dict[str, Any]:
    """Replace ``data/evidence.csv`` with *scale* × the real number of findings.

    The real rows come first; every further row copies a real row's citation, review
    reference, chapter, species and dose, and draws intervention and mediator from those
    the same chapter uses (real vocabularies), direction and evidence type from their
    enumerations and the sample from the real samples.  A key of the validator's
    FINDING_COLUMNS already used is redrawn, so the validator finds no duplicate; an outcome
    row keeps its outcome; ids are renumbered EV000001….
    """
    import numpy as np
    import pandas as pd

    from neuroimmune_review import data

    path = root / "data" / "evidence.csv"
    real = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    n_real = len(real)
    target = n_real * scale
    rng = np.random.default_rng(seed)
    extra = target - n_real
    frames = [real]
    if extra > 0:
        template_idx = np.arange(extra) % n_real
        rows = real.iloc[template_idx].reset_index(drop=True).copy()
        by_chapter_int = real.groupby("chapter")["intervention"].unique().to_dict()
        by_chapter_med = real.groupby("chapter")["mediator"].unique().to_dict()
        samples = real["sample"].unique()
        directions = np.array(data.directions())
        types = np.array(data.evidence_types())
        for chapter, index in rows.groupby("chapter").groups.items():
            ints, meds = by_chapter_int[chapter], by_chapter_med[chapter]
            k = len(index)
            rows.loc[index, "intervention"] = ints[rng.integers(0, len(ints), k)]
            rows.loc[index, "mediator"] = meds[rng.integers(0, len(meds), k)]
        # An outcome row keeps its outcome: only immune mediators are drawn for the other claims.
        outcome = rows["claim_type"] == "non_mediator_outcome" if "claim_type" in rows else None
        if outcome is not None:
            rows.loc[outcome, "mediator"] = real.iloc[template_idx[outcome.to_numpy()]][
                "mediator"
            ].to_numpy()
        rows["direction"] = directions[rng.integers(0, len(directions), extra)]
        rows["evidence_type"] = types[rng.integers(0, len(types), extra)]
        rows["sample"] = samples[rng.integers(0, len(samples), extra)]
        rows["note"] = "Synthetic finding for the benchmark."
        # Redraw keys that repeat an earlier finding; past a few rounds, make the sample unique.
        from neuroimmune_review.validate import FINDING_COLUMNS

        key_cols = [*FINDING_COLUMNS, "review_ref"]  # the validator's notion of one finding
        for attempt in range(12):
            both = pd.concat([real[key_cols], rows[key_cols]], ignore_index=True)
            dup = both.duplicated(keep="first").to_numpy()[n_real:]
            if not dup.any():
                break
            where = np.flatnonzero(dup)
            if attempt < 8:
                rows.loc[where, "sample"] = samples[rng.integers(0, len(samples), len(where))]
                rows.loc[where, "direction"] = directions[
                    rng.integers(0, len(directions), len(where))
                ]
            else:
                rows.loc[where, "sample"] = [
                    f"{s} (synthetic cohort {i})"
                    for s, i in zip(rows.loc[where, "sample"], where, strict=False)
                ]
        frames.append(rows)
    out = pd.concat(frames, ignore_index=True)
    out["id"] = [f"EV{i:06d}" for i in range(1, len(out) + 1)]
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return {"rows": len(out), "real_rows": n_real, "bytes": path.stat().st_size}


def add_one_row(root: Path) -> str:
    """Append one new finding for one drug class (keeping the file's line ending)."""
    import pandas as pd

    data_dir = root / "data"
    interventions = pd.read_csv(data_dir / "interventions.csv", dtype=str, keep_default_na=False)
    drug = sorted(
        interventions.loc[
            (interventions["drug_class"] == ADDED_ROW_CLASS) & (interventions["kind"] == "drug"),
            "name",
        ]
    )[0]
    path = data_dir / "evidence.csv"
    raw = path.read_bytes()
    ids = re.findall(rb"^EV(\d+),", raw, flags=re.MULTILINE)
    width = max((len(i) for i in ids), default=6)
    new_id = f"EV{max(int(i) for i in ids) + 1:0{width}d}"
    ending = "\r\n" if raw.endswith(b"\r\n") else "\n"
    import io

    header = next(csv.reader(io.StringIO(raw.decode("utf-8").lstrip("\ufeff"))))
    row = {
        "id": new_id,
        "claim_type": "intervention_effect",
        "intervention": drug,
        "comparator": "vehicle or untreated",
        "mediator": "IL-6",
        "direction": "decrease",
        "reported_as": "reduced",
        "evidence_type": "in_vitro",
        "species": "rat",
        # Its own sample: a second run's row would otherwise repeat the first's finding, which
        # validation rejects (the rebuild then measured a failed build, not an incremental one).
        "sample": f"benchmark probe sample {new_id}",
        "citation": "nava2025modulation",
        "chapter": ADDED_ROW_CHAPTER,
        "note": "added by the benchmark",
    }
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerow([row.get(c, "") for c in header])
    with path.open("ab") as handle:
        if raw and not raw.endswith(b"\n"):
            handle.write(ending.encode())
        handle.write(buffer.getvalue().encode("utf-8"))
    return new_id


def edit_prose(root: Path, page: str = PROSE_PAGE) -> None:
    path = root / f"{page}.md"
    path.write_text(
        path.read_text(encoding="utf-8") + "\nAn editor's added sentence for the benchmark.\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------------------------
# Measurements


VALIDATION_SNIPPET = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from neuroimmune_review.validate import validate_root
t1 = time.perf_counter()
problems = validate_root(Path(sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0,
                  "errors": sum(p.severity == "error" for p in problems),
                  "warnings": sum(p.severity != "error" for p in problems)}))
"""


_SNAPSHOT: Path | None = (
    None  # a frozen copy of the package the builds import (see snapshot_package)
)


def snapshot_package(repo: Path, work: Path) -> Path:
    """Freeze the package for the whole run: edits made meanwhile must not re-execute pages."""
    global _SNAPSHOT
    source = Path(neuroimmune_review.__file__).resolve().parent  # the package this run imports
    target = work / "src"
    shutil.copytree(
        source, target / "neuroimmune_review", ignore=shutil.ignore_patterns("__pycache__")
    )
    # Its bytecode, as an installed package has: with PYTHONDONTWRITEBYTECODE set, every build
    # and every worker process compiled the modules it imports from source again (0.2-0.3 s
    # of a no-op build), a cost an installed package does not have.
    compileall.compile_dir(target / "neuroimmune_review", quiet=1)
    _SNAPSHOT = target
    return target


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    env.setdefault("PYTHONHASHSEED", "0")
    if _SNAPSHOT is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_SNAPSHOT), env.get("PYTHONPATH", "")) if p
        )
    return env


def time_validation(root: Path, python: str = sys.executable) -> dict[str, Any]:
    result = subprocess.run(
        [python, "-c", VALIDATION_SNIPPET, str(root)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"validation crashed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


UPDATED = re.compile(r"(\d+) added, (\d+) changed, (\d+) removed")


def build(
    root: Path,
    label: str,
    logs: Path,
    *,
    config: Path | None = None,
    output: Path | None = None,
    jupyter_book: str | None = None,
) -> dict[str, Any]:
    """Run ``jupyter-book build`` as ``make site`` does (minus -W: reduced copies warn), timed."""
    exe = jupyter_book or str(Path(sys.executable).with_name("jupyter-book"))
    cmd = [exe, "build", str(root), *BUILD_FLAGS]
    if config is not None:
        cmd += ["--config", str(config)]
    if output is not None:
        cmd += ["--path-output", str(output)]
    started_ns = time.time_ns()
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=7200)
    seconds = time.perf_counter() - t0
    text = result.stdout + result.stderr
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{label}.log").write_text(text, encoding="utf-8")
    site = (output or root) / "_build" / "html"
    if not (site / "index.html").is_file() and not any(site.glob("**/*.html")):
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
        failing = sorted(
            set(re.findall(r"(book/[\w/-]+)\.md: WARNING: Executing notebook failed", plain))
        )
        errors = sorted(set(re.findall(r"^(\w+Error: .{0,160})", plain, flags=re.MULTILINE)))
        raise BuildFailed(
            f"build {label} produced no site (exit {result.returncode}):\n{text[-4000:]}",
            [f"{page} ({'; '.join(errors[:2])})" for page in failing] or errors[:3],
        )
    updated = UPDATED.findall(re.sub(r"\x1b\[[0-9;]*m", "", text))
    reread = sum(int(a) + int(c) for a, c, _ in updated)
    warnings = [
        line for line in text.splitlines() if "WARNING" in line and "IPKernelApp" not in line
    ]
    return {
        "seconds": round(seconds, 3),
        "exit_code": result.returncode,
        "pages_read": reread,
        # From the pages' provenance records, which every execution rewrites.
        "pages_executed": sorted(provenance.executed_since(root, started_ns)),
        "warnings": len(warnings),
    }


class BuildFailed(RuntimeError):
    def __init__(self, message: str, pages: list[str]):
        super().__init__(message)
        self.pages = pages


def tolerate_errors(root: Path) -> None:
    """Let the copy's build go on past a failing page (the error is shown in that page)."""
    text = (root / "_config.yml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*allow_errors:\s*).*$", r"\1true", text)
    text = re.sub(r"(?m)^(\s*nb_execution_raise_on_error:\s*).*$", r"\1false", text)
    (root / "_config.yml").write_text(text, encoding="utf-8")


class _AssetParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or "").split():
            self.urls.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.urls.append(a["src"])


def page_weight(site: Path, page: Path) -> dict[str, Any]:
    """Bytes of *page* plus every local script, stylesheet and image it references."""
    parser = _AssetParser()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    assets: dict[str, Path] = {}
    for url in parser.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        if target.is_file() and site.resolve() in target.parents:
            assets[target.relative_to(site.resolve()).as_posix()] = target
    html_bytes = page.stat().st_size
    asset_bytes = sum(f.stat().st_size for f in assets.values())
    return {
        "page": page.relative_to(site).as_posix(),
        "html_bytes": html_bytes,
        "asset_bytes": asset_bytes,
        "total_bytes": html_bytes + asset_bytes,
        "gzip_bytes": gzipped_size(page) + sum(gzipped_size(f) for f in assets.values()),
        "assets": len(assets),
        "requests": 1 + len(assets),
    }


@functools.lru_cache(maxsize=4096)
def _gzipped(path: str, mtime_ns: int, size: int) -> int:
    data = Path(path).read_bytes()
    if Path(path).suffix in (".woff2", ".woff", ".png", ".jpg", ".gif"):
        return len(data)  # already compressed: hosts send these as they are
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def gzipped_size(path: Path) -> int:
    """Bytes of *path* as a static host sends it (gzip for text, as is for compressed files)."""
    stat = path.stat()
    return _gzipped(str(path), stat.st_mtime_ns, stat.st_size)


def site_sizes(site: Path) -> dict[str, Any]:
    pages = [
        p
        for p in site.rglob("*.html")
        if not {"_static", "_sources"} & set(p.relative_to(site).parts)
    ]
    weights = [page_weight(site, p) for p in pages]
    heaviest = max(weights, key=lambda w: w["total_bytes"])
    chart_pages = [
        w for w in weights if "review-chart__spec" in (site / w["page"]).read_text(encoding="utf-8")
    ]
    heaviest_chart = max(chart_pages, key=lambda w: w["total_bytes"]) if chart_pages else None
    charted = {w["page"] for w in chart_pages}
    # Chapters without a chart; Sphinx's own search and index pages are not chapters (the
    # search page alone loads the search index), and their weight stays in per_page.
    text_pages = [w for w in weights if w["page"] not in charted and w["page"].startswith("book/")]
    heaviest_text = max(text_pages, key=lambda w: w["gzip_bytes"]) if text_pages else None
    total = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    return {
        "total_site_bytes": total,
        "pages": len(pages),
        "heaviest_page": heaviest,
        "heaviest_chart_page": heaviest_chart,
        "heaviest_text_page": heaviest_text,
        "per_page": sorted(
            ({k: w[k] for k in ("page", "total_bytes", "gzip_bytes", "requests")} for w in weights),
            key=lambda w: w["page"],
        ),
    }


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# Records when window.reviewChartsRendered resolves, whenever the page's module sets it.
RENDER_PROBE = """
(() => {
  let value;
  Object.defineProperty(window, "reviewChartsRendered", {
    configurable: true,
    get() { return value; },
    set(promise) {
      value = promise;
      Promise.resolve(promise).then(() => { window.__reviewChartsDoneAt = performance.now(); },
                                    (e) => { window.__reviewChartsError = String(e); });
    },
  });
})();
"""


def chart_render_time(site: Path, page: str, runs: int = 3) -> dict[str, Any]:
    """Median ms from navigation start until every chart is drawn, and after the load event."""
    from playwright.sync_api import sync_playwright

    results = []
    with serve(site) as base, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for _ in range(runs):
                context = browser.new_context()
                tab = context.new_page()
                tab.add_init_script(RENDER_PROBE)
                tab.goto(base + page, wait_until="load", timeout=120_000)
                figures = tab.evaluate("""async () => {
                    await window.reviewChartsRendered;
                    while (window.__reviewChartsDoneAt === undefined && !window.__reviewChartsError)
                        await new Promise(r => setTimeout(r, 5));
                    const nav = performance.getEntriesByType("navigation")[0];
                    return {done: window.__reviewChartsDoneAt, error: window.__reviewChartsError || null,
                            load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd,
                            charts: document.querySelectorAll("script.review-chart__spec").length,
                            drawn: document.querySelectorAll("[data-rendered=yes]").length};
                }""")
                context.close()
                if figures["error"]:
                    raise RuntimeError(f"charts failed on {page}: {figures['error']}")
                results.append(figures)
        finally:
            browser.close()
    done = [r["done"] for r in results]
    after_load = [max(0.0, r["done"] - r["load"]) for r in results]
    return {
        "page": page,
        "runs": runs,
        "charts": results[-1]["charts"],
        "drawn": results[-1]["drawn"],
        "from_navigation_ms": round(statistics.median(done), 1),
        "after_load_event_ms": round(statistics.median(after_load), 1),
        "load_event_ms": round(statistics.median(r["load"] for r in results), 1),
    }


# ---------------------------------------------------------------------------------------------
# One scale


def execution_off_config(root: Path, dest: Path) -> Path:
    text = (root / "_config.yml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^(\s*execute_notebooks:\s*).*$", r'\1"off"', text)
    if not n:
        raise RuntimeError("_config.yml has no execute_notebooks setting to switch off")
    dest.write_text(text, encoding="utf-8")
    return dest


def run_scale(
    repo: Path,
    work: Path,
    scale: int,
    *,
    smoke: bool = False,
    logs: Path,
    browser: bool = True,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    root = make_copy(repo, work / f"scale-{scale}", SMOKE_PAGES if smoke else None)
    result: dict[str, Any] = {"scale": scale, "load_at_start": load_average()}
    counter = iter(range(1, 1000))
    log(f"{scale}×: generating data")
    result["data"] = synthesize(root, scale)
    log(f"{scale}×: {result['data']['rows']} rows; validating")
    result["validation"] = repeated(repeats, lambda: time_validation(root))
    if result["validation"]["errors"]:
        raise RuntimeError(
            f"synthetic data at {scale}× has {result['validation']['errors']} validation errors"
        )
    label = f"{scale}x"
    off_out = work / f"scale-{scale}-off"
    config = execution_off_config(root, work / f"noexec-{scale}.yml")

    def execution_off() -> dict[str, Any]:
        # Cold too: the build's memos (validation verdict, evidence join) live in
        # ROOT/_build whatever the output path, and later runs would reuse them.
        shutil.rmtree(off_out, ignore_errors=True)
        shutil.rmtree(root / "_build", ignore_errors=True)
        return build(
            root, f"{label}-execution-off-{next(counter)}", logs, config=config, output=off_out
        )

    def cold() -> dict[str, Any]:
        # The chart bundle and the provenance live in ROOT/_build: each cold build starts from nothing.
        shutil.rmtree(root / "_build", ignore_errors=True)
        return build(root, f"{label}-cold-{next(counter)}", logs)

    added: list[str] = []
    rebuilt = [root]  # the copy the rebuilds run on (below)

    def noop() -> dict[str, Any]:
        return build(rebuilt[0], f"{label}-noop-{next(counter)}", logs)

    def one_row() -> dict[str, Any]:
        added.append(add_one_row(rebuilt[0]))  # each run adds one more row
        return build(rebuilt[0], f"{label}-one-row-{next(counter)}", logs)

    def prose() -> dict[str, Any]:
        edit_prose(rebuilt[0])  # each run adds one more sentence
        return build(rebuilt[0], f"{label}-prose-{next(counter)}", logs)

    try:
        if smoke:
            result["build_cold"] = repeated(1, cold)
        else:
            # Each ratio a target divides is taken from neighbouring builds, whatever the machine
            # does between them: the builds with execution off and the cold builds of this copy,
            # in turn with the rebuilds of a second copy of the same data (built once first).
            # Taken in blocks, the cold builds and the one-row rebuilds were minutes apart, and a
            # change of the machine's speed in between went into their ratio.
            rebuilt[0] = work / f"scale-{scale}-rebuilt"
            shutil.copytree(root, rebuilt[0], symlinks=True)
            log(f"{scale}×: a first build of the copy the rebuilds run on; no-op rebuild")
            build(rebuilt[0], f"{label}-rebuilt-first", logs)
            result["rebuild_noop"] = repeated(repeats, noop)
            log(
                f"{scale}×: builds with execution off, cold, after one {ADDED_ROW_CLASS} row and "
                f"after a prose edit, in turn (×{repeats})"
            )
            (
                result["build_execution_off"],
                result["build_cold"],
                result["rebuild_one_row"],
                result["rebuild_prose"],
            ) = interleaved(repeats, execution_off, cold, one_row, prose)
            result["added_row_ids"] = added
    except BuildFailed as failure:
        # A page that cannot execute at this scale is itself a finding: record it, then measure
        # the rest of the book with execution errors shown in the page instead of stopping.
        result["build_failures"] = failure.pages
        log(
            f"{scale}×: build failed on {', '.join(failure.pages) or 'unknown pages'}; retrying with errors allowed"
        )
        for key in ("rebuild_noop", "rebuild_one_row", "rebuild_prose", "added_row_ids"):
            result.pop(key, None)
        added.clear()
        rebuilt[0] = root
        if not smoke:
            result["build_execution_off"] = repeated(repeats, execution_off)
        tolerate_errors(root)
        shutil.rmtree(root / "_build", ignore_errors=True)
        result["build_cold"] = build(root, f"{label}-cold-errors-allowed", logs)
    shutil.rmtree(off_out, ignore_errors=True)
    if "rebuild_noop" not in result:
        log(f"{scale}×: no-op rebuild")
        result["rebuild_noop"] = repeated(repeats, noop)
    if not smoke and "rebuild_one_row" not in result:
        log(f"{scale}×: rebuild after one {ADDED_ROW_CLASS} row (×{repeats})")
        result["rebuild_one_row"] = repeated(repeats, one_row)
        result["added_row_ids"] = added
        log(f"{scale}×: rebuild after a prose edit (×{repeats})")
        result["rebuild_prose"] = repeated(repeats, prose)
    site = root / "_build" / "html"
    result["sizes"] = site_sizes(site)
    if browser and result["sizes"]["heaviest_chart_page"]:
        log(f"{scale}×: chart rendering in Chromium")
        result["charts"] = chart_render_time(site, result["sizes"]["heaviest_chart_page"]["page"])
    shutil.rmtree(root, ignore_errors=True)
    if rebuilt[0] != root:
        shutil.rmtree(rebuilt[0], ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------
# Whole run, targets and report


def machine() -> dict[str, Any]:
    memory = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": cpus,
        "load_at_start": load_average(),
        "memory_gb": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit(repo: Path) -> dict[str, Any]:
    return {
        "commit": review_git.text(repo, "rev-parse", "HEAD") or "",
        "dirty": bool(review_git.text(repo, "status", "--porcelain")),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def targets(scales: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One object per target (name, value, limit, met); ratios are taken within one scale."""

    def secs(scale: int, key: str) -> float | None:
        return scales.get(scale, {}).get(key, {}).get("seconds")

    worst = lambda values: max((v for v in values if v is not None), default=None)  # noqa: E731
    present = sorted(scales)
    value: dict[str, Any] = {
        "cold_build_over_execution_off": worst(
            _ratio(secs(s, "build_cold"), secs(s, "build_execution_off")) for s in present
        ),
        "row_rebuild_over_cold_build": worst(
            _ratio(secs(s, "rebuild_one_row"), secs(s, "build_cold")) for s in present
        ),
        "prose_rebuild_over_cold_build": worst(
            _ratio(secs(s, "rebuild_prose"), secs(s, "build_cold")) for s in present
        ),
        "text_page_gzip_kb": worst(
            round(text["gzip_bytes"] / KB, 1)
            for s in present
            if (text := scales[s]["sizes"].get("heaviest_text_page"))
        ),
        "chart_page_gzip_kb": None,
        "heaviest_page_mb": None,
        "heaviest_page_1000x_over_1x": None,
        "cold_build_1000x_over_1x": _ratio(secs(1000, "build_cold"), secs(1, "build_cold")),
        "validation_200k_rows_s": None,
        "charts_rendered_1000x_s": None,
    }

    def chart_page(scale: int) -> dict[str, Any] | None:
        return scales.get(scale, {}).get("sizes", {}).get("heaviest_chart_page")

    if chart_page(1):
        value["chart_page_gzip_kb"] = round(chart_page(1)["gzip_bytes"] / KB, 1)
        value["heaviest_page_mb"] = round(chart_page(1)["total_bytes"] / MB, 3)
    if chart_page(1) and chart_page(1000):
        value["heaviest_page_1000x_over_1x"] = _ratio(
            chart_page(1000)["total_bytes"], chart_page(1)["total_bytes"]
        )
    big = [s for s in present if scales[s]["data"]["rows"] >= 200_000]
    if big:
        value["validation_200k_rows_s"] = round(
            max(scales[s]["validation"]["seconds"] for s in big), 3
        )
    if 1000 in scales and "charts" in scales[1000]:
        value["charts_rendered_1000x_s"] = round(
            scales[1000]["charts"]["from_navigation_ms"] / 1000, 3
        )
    return [
        {
            "name": name,
            "description": description,
            "value": value[name],
            "limit": limit,
            "met": value[name] is not None and value[name] <= limit,
        }
        for name, description, limit in TARGETS
    ]


def run(
    repo: Path,
    out: Path,
    scales: list[int],
    *,
    smoke: bool = False,
    browser: bool = True,
    keep: bool = False,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    host = machine()  # the load average is the one at the start of the run
    # The code measured is the tree as the run starts (the snapshot below); taken later, the
    # status would always show the run's own partial results as uncommitted changes.
    code = git_commit(repo)
    work = Path(tempfile.mkdtemp(prefix="review-bench-"))
    logs = out / "logs"
    results: dict[int, dict[str, Any]] = {}
    snapshot_package(repo, work)
    try:
        for scale in scales:
            results[scale] = run_scale(
                repo, work, scale, smoke=smoke, logs=logs, browser=browser, repeats=repeats
            )
            _write_partial(out, results)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "duration_seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "machine": host,
        "repeats": repeats,
        **code,
        "smoke": smoke,
        "scales": {str(s): r for s, r in results.items()},
        "targets": targets(results),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "results.md").write_text(markdown_report(report, out), encoding="utf-8")
    (out / "partial.json").unlink(missing_ok=True)
    return report


def _write_partial(out: Path, results: dict[int, dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "partial.json").write_text(
        json.dumps({str(k): v for k, v in results.items()}, indent=1), encoding="utf-8"
    )


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def markdown_report(report: dict[str, Any], out: Path) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`scripts/benchmark.py`) on {report['date']}; commit "
        f"`{report['commit'][:12] or 'unknown'}`{' (with uncommitted changes)' if report.get('dirty') else ''}; "
        f"{m['cores']} cores, {m['memory_gb']} GB memory, Python {m['python']}, {m['platform']}; "
        f"1-minute load average {_fmt(m.get('load_at_start'))} at the start. "
        f"Each timing was run {report.get('repeats', 1)} time(s); the figures are medians. "
        f"Run time {report['duration_seconds'] / 60:.1f} min. Numbers below are written by the run; do not edit them.",
        "",
        "## Targets",
        "",
        "| target | value | limit | met | gap |",
        "|---|---:|---:|:---:|---:|",
    ]
    for t in report["targets"]:
        gap = (
            ""
            if t["met"] or t["value"] is None
            else f"+{t['value'] - t['limit']:.2f} ({t['value'] / t['limit']:.1f}× the limit)"
        )
        lines.append(
            f"| {t['description']} | {_fmt(t['value'])} | {t['limit']} | {'met' if t['met'] else '**missed**'} | {gap} |"
        )
    lines += [
        "",
        "Ratios are of medians, the worst over the scales measured. Page weight is the HTML plus every local "
        "script, stylesheet and image the page references, raw and gzipped "
        f"(level {GZIP_LEVEL}, as a static host sends text; fonts and images as they are).",
    ]
    lines += [
        "",
        "## Figures per scale",
        "",
        "| scale | rows | validation s | execution off s | cold build s | no-op s | one row s (pages executed) "
        "| prose edit s (pages executed) | heaviest page MB | total site MB | charts drawn ms (after load) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale, r in report["scales"].items():

        def s(key: str) -> str:
            b = r.get(key)  # noqa: B023 - called within this iteration
            return _fmt(b["seconds"]) if b else "–"

        def executed(key: str) -> str:
            b = r.get(key)  # noqa: B023 - called within this iteration
            return f"{b['seconds']:.2f} ({len(b['pages_executed'])})" if b else "–"

        charts = r.get("charts")
        lines.append(
            f"| {scale}× | {r['data']['rows']} | {r['validation']['seconds']:.2f} | {s('build_execution_off')} "
            f"| {s('build_cold')} | {s('rebuild_noop')} | {executed('rebuild_one_row')} | {executed('rebuild_prose')} "
            f"| {r['sizes']['heaviest_page']['total_bytes'] / MB:.3f} | {r['sizes']['total_site_bytes'] / MB:.2f} "
            f"| {(_fmt(charts['from_navigation_ms']) + ' (' + _fmt(charts['after_load_event_ms']) + ')') if charts else '–'} |"
        )
    lines += ["", *spread_table(report), "", *weight_table(report)]
    for scale, r in report["scales"].items():
        if r.get("build_failures"):
            lines += [
                "",
                f"**At {scale}× the build failed** on: {'; '.join(r['build_failures'])}. The figures for "
                f"{scale}× were then measured with execution errors allowed (the failing page shows its error).",
            ]
    lines += [
        "",
        "Heaviest page per scale: "
        + "; ".join(
            f"{scale}× `{r['sizes']['heaviest_page']['page']}` ({r['sizes']['heaviest_page']['html_bytes'] / 1000:.0f} kB HTML"
            f" + {r['sizes']['heaviest_page']['asset_bytes'] / 1000:.0f} kB assets)"
            for scale, r in report["scales"].items()
        )
        + ".",
    ]
    before_file = out / "before.json"
    if before_file.is_file():
        lines += ["", *before_after(json.loads(before_file.read_text(encoding="utf-8")), report)]
    notes = out / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


TIMINGS = (
    ("validation", "validation"),
    ("build_execution_off", "execution off"),
    ("build_cold", "cold build"),
    ("rebuild_noop", "no-op rebuild"),
    ("rebuild_one_row", "one-row rebuild"),
    ("rebuild_prose", "prose rebuild"),
)


def spread_table(report: dict[str, Any]) -> list[str]:
    """Every timing's runs: min, median, max (s) and the load average at the start of each run."""
    lines = [
        "## Timings: spread over the runs",
        "",
        "| scale | timing | runs | min s | median s | max s | load at the start of each run |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for scale, r in report["scales"].items():
        for key, label in TIMINGS:
            t = r.get(key)
            if not t:
                continue
            runs = t.get("runs") or [{"seconds": t["seconds"], "load_at_start": None}]
            loads = ", ".join(_fmt(run.get("load_at_start")) for run in runs)
            lines.append(
                f"| {scale}× | {label} | {len(runs)} | {_fmt(t.get('min', t['seconds']))} "
                f"| {_fmt(t.get('median', t['seconds']))} | {_fmt(t.get('max', t['seconds']))} | {loads} |"
            )
    return lines


def weight_table(report: dict[str, Any]) -> list[str]:
    """The heaviest text-only and chart pages per scale: raw, gzipped and requests."""
    lines = [
        "## Page weight",
        "",
        "| scale | page | kind | raw kB | gzip kB | requests |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for scale, r in report["scales"].items():
        for kind, key in (("text only", "heaviest_text_page"), ("chart", "heaviest_chart_page")):
            w = r["sizes"].get(key)
            if w and "gzip_bytes" in w:
                lines.append(
                    f"| {scale}× | `{w['page']}` | {kind} | {w['total_bytes'] / KB:.0f} "
                    f"| {w['gzip_bytes'] / KB:.0f} | {w['requests']} |"
                )
    return lines


def before_after(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Side by side: a run of the code before the performance changes (``before.json``) and this one."""
    rows = [
        ("validation s", lambda r: r["validation"]["seconds"]),
        ("execution off s", lambda r: r["build_execution_off"]["seconds"]),
        ("cold build s", lambda r: r["build_cold"]["seconds"]),
        (
            "cold ÷ execution off",
            lambda r: r["build_cold"]["seconds"] / r["build_execution_off"]["seconds"],
        ),
        ("no-op rebuild s", lambda r: r["rebuild_noop"]["seconds"]),
        ("one-row rebuild s", lambda r: r["rebuild_one_row"]["seconds"]),
        ("prose rebuild s", lambda r: r["rebuild_prose"]["seconds"]),
        ("heaviest page MB", lambda r: r["sizes"]["heaviest_page"]["total_bytes"] / MB),
        ("heaviest page HTML kB", lambda r: r["sizes"]["heaviest_page"]["html_bytes"] / 1000),
        ("total site MB", lambda r: r["sizes"]["total_site_bytes"] / MB),
        ("charts drawn ms", lambda r: r["charts"]["from_navigation_ms"]),
    ]
    scales = [s for s in after["scales"] if s in before["scales"]]
    lines = [
        "## Before and after the performance changes",
        "",
        f"Before: a run of the same benchmark on the code without the changes "
        f"({before['date']}, commit `{before['commit'][:12]}`"
        + (f"; {before['note']}" if before.get("note") else "")
        + "); after: this run.",
        "",
        "| figure | " + " | ".join(f"{s}× before | {s}× after" for s in scales) + " |",
        "|---|" + "---:|---:|" * len(scales),
    ]
    for label, get in rows:
        cells = []
        for s in scales:
            for run in (before, after):
                try:
                    cells.append(f"{get(run['scales'][s]):.2f}")
                except (KeyError, TypeError, ZeroDivisionError):
                    cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def render_only(out: Path) -> None:
    """Re-write results.md from results.json (e.g. once before.json is in place)."""
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (out / "results.md").write_text(markdown_report(report, out), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Benchmark the build and the pages from 1× to 1000× the evidence."
    )
    parser.add_argument(
        "--scales",
        default=",".join(map(str, SCALES)),
        help="comma-separated multiples (default 1,10,100,1000)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1× only, one executed page, validation + cold and no-op build",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: benchmarks/ in the repository)",
    )
    parser.add_argument(
        "--repo", type=Path, default=Path(__file__).resolve().parents[1], help="review to copy"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"runs of each timing (default {REPEATS}; 1 with --smoke)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="only re-write results.md from OUT/results.json (+ before.json, notes.md)",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        render_only((args.out or args.repo / "benchmarks").resolve())
        return 0
    scales = [1] if args.smoke else [int(s) for s in args.scales.split(",") if s.strip()]
    out = args.out or args.repo / "benchmarks"
    report = run(
        args.repo.resolve(),
        out.resolve(),
        scales,
        smoke=args.smoke,
        browser=not args.no_browser,
        keep=args.keep,
        repeats=args.repeats or (1 if args.smoke else REPEATS),
    )
    for t in report["targets"]:
        log(
            f"{'met   ' if t['met'] else 'MISSED'} {t['description']}: {t['value']} (limit {t['limit']})"
        )
    return 0
