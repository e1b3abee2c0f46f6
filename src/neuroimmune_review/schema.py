"""The data dictionary, read from ``data/datapackage.json``.

The Frictionless Data Package is the single source of truth for the columns,
required fields, enums, patterns, keys and field descriptions of every table.
The validator, the book and the tests read it through this module, so a new
enum value or a new column is added in one place: the JSON file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = "data"
DATAPACKAGE_FILE = "datapackage.json"


class SchemaError(ValueError):
    """The data package descriptor is missing, unreadable or malformed."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    title: str = ""
    description: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Display label of each enum value, from the field's Table Schema ``categories``.
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def label(self, value: str) -> str:
        return self.labels.get(value, value)


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    name: str
    path: str  # relative to the directory holding datapackage.json
    title: str = ""
    description: str = ""
    fields: tuple[FieldSpec, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def enums(self) -> dict[str, tuple[str, ...]]:
        return {f.name: f.enum for f in self.fields if f.enum is not None}

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")


@dataclass(frozen=True)
class PackageSpec:
    path: Path
    name: str = ""
    title: str = ""
    licenses: tuple[dict[str, Any], ...] = ()
    tables: dict[str, TableSpec] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def table(self, name: str) -> TableSpec:
        try:
            return self.tables[name]
        except KeyError:
            raise SchemaError(f"{self.path}: no resource named {name!r}") from None

    def table_path(self, name: str) -> Path:
        return self.base_dir / self.table(name).path


def datapackage_path(root: str | Path) -> Path:
    return Path(root) / DATA_DIR / DATAPACKAGE_FILE


def load_package(path: str | Path) -> PackageSpec:
    """Read a data package descriptor; raise SchemaError (never anything else) if it is unusable."""
    path = Path(path)
    try:
        descriptor = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise SchemaError(
            f"{path}: not a readable JSON file ({type(error).__name__}: {error})"
        ) from None
    try:
        return _package_from_descriptor(path, descriptor)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise SchemaError(f"{path}: malformed data package descriptor ({error!r})") from None


def load_root_package(root: str | Path) -> PackageSpec:
    return load_package(datapackage_path(root))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise TypeError(message)


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    # Table Schema allows a single field name as well as a list of them.
    names = (value,) if isinstance(value, str) else tuple(value)
    _expect(
        all(isinstance(name, str) for name in names), f"field names must be strings, not {value!r}"
    )
    return names


def _field_from_descriptor(descriptor: dict[str, Any]) -> FieldSpec:
    _expect(
        isinstance(descriptor, dict) and isinstance(descriptor.get("name"), str),
        f"bad field {descriptor!r}",
    )
    constraints = descriptor.get("constraints", {})
    _expect(
        isinstance(constraints, dict),
        f"field {descriptor['name']!r}: constraints must be an object",
    )
    enum = constraints.get("enum")
    _expect(
        enum is None or isinstance(enum, list), f"field {descriptor['name']!r}: enum must be a list"
    )
    pattern = constraints.get("pattern")
    _expect(
        pattern is None or isinstance(pattern, str),
        f"field {descriptor['name']!r}: pattern must be a string",
    )
    _expect(
        isinstance(descriptor.get("type", "string"), str),
        f"field {descriptor['name']!r}: type must be a string",
    )
    for bound in ("minimum", "maximum"):
        value = constraints.get(bound)
        _expect(
            value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
            f"field {descriptor['name']!r}: {bound} must be a number",
        )
    categories = descriptor.get("categories", [])
    _expect(
        isinstance(categories, list)
        and all(isinstance(c, str) or (isinstance(c, dict) and "value" in c) for c in categories),
        f"field {descriptor['name']!r}: categories must be a list of values or {{value, label}} objects",
    )
    labels = {
        str(c["value"]): str(c.get("label", c["value"])) for c in categories if isinstance(c, dict)
    }
    return FieldSpec(
        name=descriptor["name"],
        labels=labels,
        type=descriptor.get("type", "string"),
        title=descriptor.get("title", ""),
        description=descriptor.get("description", ""),
        required=bool(constraints.get("required", False)),
        unique=bool(constraints.get("unique", False)),
        enum=tuple(str(v) for v in enum) if enum is not None else None,
        pattern=pattern,
        minimum=constraints.get("minimum"),
        maximum=constraints.get("maximum"),
    )


def _table_from_descriptor(descriptor: dict[str, Any]) -> TableSpec:
    _expect(
        isinstance(descriptor, dict) and isinstance(descriptor.get("name"), str),
        f"bad resource {descriptor!r}",
    )
    _expect(
        isinstance(descriptor.get("path"), str),
        f"resource {descriptor['name']!r}: path must be one string",
    )
    schema = descriptor["schema"]
    _expect(isinstance(schema, dict), f"resource {descriptor['name']!r}: schema must be inline")
    foreign_keys = tuple(
        ForeignKey(
            fields=_as_tuple(fk["fields"]),
            resource=fk["reference"].get("resource") or descriptor["name"],
            reference_fields=_as_tuple(fk["reference"]["fields"]),
        )
        for fk in schema.get("foreignKeys", [])
    )
    return TableSpec(
        name=descriptor["name"],
        path=descriptor["path"],
        title=descriptor.get("title", ""),
        description=descriptor.get("description", ""),
        fields=tuple(_field_from_descriptor(f) for f in schema["fields"]),
        primary_key=_as_tuple(schema.get("primaryKey", [])),
        foreign_keys=foreign_keys,
    )


def _package_from_descriptor(path: Path, descriptor: dict[str, Any]) -> PackageSpec:
    _expect(isinstance(descriptor, dict), "the descriptor must be a JSON object")
    tables = {}
    for resource in descriptor["resources"]:
        table = _table_from_descriptor(resource)
        if table.name in tables:
            raise ValueError(f"duplicate resource name {table.name!r}")
        tables[table.name] = table
    return PackageSpec(
        path=path,
        name=descriptor.get("name", ""),
        title=descriptor.get("title", ""),
        licenses=tuple(descriptor.get("licenses", [])),
        tables=tables,
    )
