"""nbformat's schema validators come from _build after the first build, and validate the same."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import fastjsonschema
import nbformat
import pytest
from nbformat import json_compat, validator

from neuroimmune_review.build import nb_schemas


@pytest.fixture
def patched(tmp_path, monkeypatch):
    """nbformat as a build patches it, with its per-process cache of validators emptied."""
    monkeypatch.setattr(json_compat.FastJsonSchemaValidator, "__init__", _original_init())
    monkeypatch.setattr(validator, "validators", {})
    nb_schemas.keep_compiled_validators(SimpleNamespace(outdir=str(tmp_path / "_build/html")))
    return tmp_path / "_build" / nb_schemas.CACHE_DIR


def _original_init():
    init = json_compat.FastJsonSchemaValidator.__init__
    while getattr(init, "review_cache", None) is not None:  # patched by an earlier test
        init = init.original
    return init


def test_a_later_process_loads_the_validator_without_compiling_it(patched, monkeypatch):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.validate(notebook)  # compiled once, kept in _build
    assert len(list(patched.glob("schema_*.py"))) == 1
    assert len(list((patched / "__pycache__").glob("*.pyc"))) == 1

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(fastjsonschema, "compile", no_compiling)
    monkeypatch.setattr(fastjsonschema, "compile_to_code", no_compiling)
    monkeypatch.setattr(validator, "validators", {})  # a new process
    nbformat.validate(notebook)
    broken = copy.deepcopy(notebook)
    broken.cells[0]["cell_type"] = "no such type"
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(broken)  # the loaded validator still refuses what nbformat refuses


def test_each_schema_version_has_its_own_module(patched):
    validator.get_validator(4, 4)
    validator.get_validator(4, 5)
    assert len(list(patched.glob("schema_*.py"))) == 2


def test_a_broken_module_falls_back_to_nbformats_own_compile(patched):
    schema = {"type": "object", "required": ["cells"]}
    nb_schemas.compiled_validator(schema, patched)
    for module in patched.glob("schema_*.py"):
        module.write_text("this is not Python", encoding="utf-8")
    for cached in (patched / "__pycache__").glob("*.pyc"):
        cached.unlink()
    validate = nb_schemas.compiled_validator(schema, patched)
    validate({"cells": []})
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validate({})
