"""JSON schemas every MCP client accepts, generated from the tools' pydantic models.

Some clients (Gemini, Vertex) reject ``anyOf`` with null and top-level combinators, and
every byte of ``tools/list`` is paid for in the model's context. So the generator:
- publishes an optional ``X | None`` field as plain ``X`` (leaving it out means "not given"),
  and never writes ``default: null``;
- leaves out the auto-generated ``title`` of each property (the name says it already);
- inlines ``$defs`` so that no client has to resolve ``$ref``;
- keeps ``additionalProperties: false`` (every input model refuses unknown names, naming the
  accepted ones): a client or model that trusts the schema never sends one;
- leaves out length and item bounds of 200 and more (validation still applies them);
- leaves out ``required`` from result schemas (every field is always sent);
- leaves out ``additionalProperties: true`` (the ``dict[str, Any]`` objects of results):
  JSON Schema allows any further property anyway, so it says nothing.

Generating them costs ~20 ms of CPU at every start of the server (and forces every model to be
built), so the schemas of the shipped models are generated once into ``tool_schemas.json``
beside this module; a test fails when that file no longer matches the models, and
``UPDATE_TOOL_SNAPSHOTS=1 python -m pytest tests/test_contract.py`` rewrites it. A model that
is not in the file (a test's own operation, say) is generated on the spot.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class ClientFriendlySchema(GenerateJsonSchema):
    """Pydantic's generator with null branches and noise removed (see module doc)."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        # A null default says nothing; a result's defaults say nothing to the caller either.
        if generated.get("default", ...) is None or self.mode == "serialization":
            generated.pop("default", None)
        return generated

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if node.get("additionalProperties") is True:
            # JSON Schema's default already: publishing it costs bytes in every tools/list.
            node = {k: v for k, v in node.items() if k != "additionalProperties"}
        if any(node.get(k, 0) >= LOOSE_BOUND for k in ("maxLength", "maxItems")):
            # Bounds no model comes near (40960 characters, 1000 attendees) still hold when the
            # input is validated; published they only cost context in every tools/list.
            node = {k: v for k, v in node.items() if not (k in ("maxLength", "maxItems") and v >= LOOSE_BOUND)}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = dict(_inline(defs[ref.removeprefix("#/$defs/")], defs))
            target.pop("title", None)
            siblings = {k: _inline(v, defs) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings}
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def model_schema(model: type[BaseModel], *, mode: str = "validation") -> dict[str, Any]:
    """The flat, inlined, null-free schema of ``model`` (input or output)."""
    raw = model.model_json_schema(
        by_alias=True,
        schema_generator=ClientFriendlySchema,
        mode="serialization" if mode == "serialization" else "validation",
    )
    schema: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    if mode == "serialization":
        schema = _without_required(schema)
    schema.pop("title", None)
    schema.pop("description", None)  # the model docstring is for developers; the tool has its own
    schema.setdefault("type", "object")
    return schema


def _without_required(node: Any) -> Any:
    """A result schema without ``required`` lists: the server always sends the model's every field
    (defaults included), so the lists tell a reader nothing and cost context in every tools/list."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(item) for item in node]
    return node


PREGENERATED = Path(__file__).with_name("tool_schemas.json")
# Length and item bounds from here up are not published (see _inline).
LOOSE_BOUND = 200


def model_key(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


@functools.cache
def _pregenerated() -> dict[str, dict[str, Any]]:
    try:
        loaded: dict[str, dict[str, Any]] = json.loads(PREGENERATED.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"validation": {}, "serialization": {}}
    return loaded


def reload_pregenerated() -> None:
    """Read the file again (after it was regenerated)."""
    _pregenerated.cache_clear()


def published_schema(model: type[BaseModel], *, mode: str = "validation") -> dict[str, Any]:
    """``model_schema(model, mode=mode)``, from the pre-generated file when it holds the model.

    The same dict is handed to every tool that uses the model: callers must not change it.
    """
    found = _pregenerated()[mode].get(model_key(model))
    return found if found is not None else model_schema(model, mode=mode)


def generate(inputs: Iterable[type[BaseModel]], outputs: Iterable[type[BaseModel]]) -> str:
    """The text of ``tool_schemas.json`` for these models (sorted, so diffs stay readable)."""
    data = {
        "validation": {model_key(m): model_schema(m) for m in inputs},
        "serialization": {model_key(m): model_schema(m, mode="serialization") for m in outputs},
    }
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
