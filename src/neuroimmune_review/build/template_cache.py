"""The theme's compiled templates, kept between builds (Jinja's own bytecode cache).

Every build that writes a page compiled the theme's templates afresh: pydata-sphinx-theme
and sphinx-book-theme render about 35 templates per build (layout, page, navbar and footer
parts), and compiling them was about 0.8 s of a prose rebuild's profile.  Jinja ships the
fix: ``FileSystemBytecodeCache`` keeps each template's compiled code in a file.

Why it cannot serve stale code:

- Jinja stores, with each template's code, the SHA-1 of the template's source, and loads
  the code only when the source it is about to render has that checksum
  (``jinja2.bccache.Bucket.load_bytecode``): an edited template, in our ``templates/`` or
  in an upgraded theme, is compiled again.  Its file is named by the template's name and
  path, so two themes' ``layout.html`` never share an entry.
- The code also depends on the Jinja version, the Python version and the environment's
  compiler settings (delimiters, autoescape, extensions), which Jinja's key does not hold:
  they name the cache's directory (``cache_dir``), so a Jinja, Sphinx or Python upgrade
  starts an empty one.

The cache lives under ``_build/`` (beside the HTML), so a cold build, which deletes
``_build``, starts without it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

CACHE_DIR = ".jinja-bytecode"  # in _build/, beside html/ and .doctrees/

# The Environment settings the compiled code depends on (the lexer's and the code
# generator's); the loader, filters and globals are looked up when a template renders.
_COMPILER_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
    "finalize",
    "is_async",
    "sandboxed",
    "code_generator_class",
    "template_class",
)


def _name(value) -> str:
    """A setting as text: callables and classes by their qualified name, values by repr."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def cache_dir(build_dir: Path, environment) -> Path:
    """The cache's directory for *environment*: one per Jinja, Sphinx and Python version and
    compiler settings."""
    import jinja2
    import sphinx

    settings = [
        f"jinja2 {jinja2.__version__}",
        f"sphinx {sphinx.__version__}",
        f"python {sys.version}",
        f"environment {_name(type(environment))}",
        *(f"{name} {_name(getattr(environment, name, None))}" for name in _COMPILER_SETTINGS),
        *(f"extension {name}" for name in sorted(getattr(environment, "extensions", {}))),
    ]
    key = hashlib.sha256("\n".join(settings).encode()).hexdigest()[:16]
    return build_dir / CACHE_DIR / key


def use_bytecode_cache(app, *_args) -> None:
    """``builder-inited``: give the builder's template environment a bytecode cache."""
    from jinja2 import FileSystemBytecodeCache

    environment = getattr(getattr(app.builder, "templates", None), "environment", None)
    if environment is None or environment.bytecode_cache is not None:
        return  # not Sphinx's Jinja bridge (another builder or template bridge), or set already
    directory = cache_dir(Path(app.outdir).parent, environment)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # only a cache: templates are compiled as before
    environment.bytecode_cache = FileSystemBytecodeCache(str(directory))
