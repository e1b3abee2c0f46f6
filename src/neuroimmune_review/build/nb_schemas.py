"""nbformat's notebook validators, compiled once into ``_build`` instead of in every build.

nbformat validates every notebook it reads or writes with fastjsonschema, which turns the
notebook schema into Python source and compiles that source, in each process, once per
schema version: two versions in a build that reads one page (its MyST notebook is v4.5,
cached ones v4.4), about 0.15 s each, a tenth of a prose rebuild.  fastjsonschema's own
``compile_to_code`` writes that source out as a module; imported from ``_build``, Python
keeps its bytecode and the next build loads it in milliseconds.

A patch (no setting of nbformat's chooses this): ``FastJsonSchemaValidator.__init__`` is
replaced by one that does what it did (``JsonSchemaValidator.__init__``, then a compiled
validator) but gets the validator from the module.  The module's name is a digest of the
schema and of the fastjsonschema and Python versions, so an upgrade or a new schema compiles
a new one.  Any problem falls back to nbformat's own compile.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import py_compile
import sys
from pathlib import Path

CACHE_DIR = ".nbformat-validators"  # in _build/


def compiled_validator(schema: dict, directory: Path):
    """fastjsonschema's validation function for *schema*, from (or first written to) *directory*."""
    import fastjsonschema

    text = json.dumps(schema, sort_keys=True)
    versions = f"fastjsonschema {fastjsonschema.VERSION}\npython {sys.version}\n"
    key = hashlib.sha256((versions + text).encode()).hexdigest()[:20]
    path = directory / f"schema_{key}.py"
    try:
        if not path.is_file():
            directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(fastjsonschema.compile_to_code(schema), encoding="utf-8")
            tmp.replace(path)
            # Its bytecode too, written even where PYTHONDONTWRITEBYTECODE is set: compiling
            # the 176 kB module was most of what the cache saves.
            py_compile.compile(str(path), cfile=importlib.util.cache_from_source(str(path)))
        spec = importlib.util.spec_from_file_location(f"_review_nb_schema_{key}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.validate  # compile_to_code names the schema's function ``validate``
    except Exception:  # noqa: BLE001 - only a cache: nbformat's own way
        return fastjsonschema.compile(schema)


def keep_compiled_validators(app, *_args) -> None:
    """``builder-inited``: nbformat's fastjsonschema validators come from ``_build``."""
    from nbformat import json_compat

    validator_class = json_compat.FastJsonSchemaValidator
    if getattr(validator_class.__init__, "review_cache", None) is not None:
        return  # patched already (a second Sphinx app in this process)
    directory = Path(app.outdir).parent / CACHE_DIR

    def __init__(self, schema):
        json_compat.JsonSchemaValidator.__init__(self, schema)
        self._validator = compiled_validator(schema, directory)

    __init__.review_cache = directory
    __init__.original = validator_class.__init__
    validator_class.__init__ = __init__
