"""Turns each Operation declaration into an MCP tool, and runs it behind one error boundary.

The SDK would build an argument model from the tool function's signature and silently drop
every argument it does not name. Our input models already validate everything (Feishu's
rules, cross-field checks, unknown names refused), so the SDK's argument step is reduced to
handing the raw arguments over whole: each tool function takes one ``arguments`` dict, and the
input model is the only judge of what a call may carry. The published input schema is the
client-friendly one generated from the same input model.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import logging
import types
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ValidationError

from server import choose, confirm, writes
from server.errors import FeishuError
from server.overlaps import add_overlap_warnings
from server.results import tool_result
from server.schema import published_schema
from server.state import AppState
from server.upstream import ServerUpstream
from tools.common.composite import Refusal
from tools.common.outputs import EventResult
from tools.common.resolve import NotResolved
from tools.spec import Operation

log = logging.getLogger("feishu_calendar_mcp.tools")

# Names models bring from other APIs (or from this server before one spelling per concept),
# mapped to ours; difflib finds the rest (typos, plurals).
LIKELY_MEANT = {
    "start_time": "start",
    "end_time": "end",
    "time_min": "start",
    "time_max": "end",
    "from": "start",
    "to": "end",
    "until": "end",
    "title": "summary",
    "name": "summary",
    "open_id": "user_id",
    "url": "meeting_url",
}


# A model's fields never change, and every call of a tool asks for its names (~3 µs to work out).
_ACCEPTED: dict[type[BaseModel], tuple[str, ...]] = {}


def accepted_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The argument names ``model`` accepts (a field's alias and its own name)."""
    found = _ACCEPTED.get(model)
    if found is None:
        names: list[str] = []
        for name, field in model.model_fields.items():
            names += [n for n in (field.alias, name) if n and n not in names]
        found = _ACCEPTED[model] = tuple(names)
    return found


def likely_meant(name: str, accepted: Sequence[str]) -> str | None:
    name = name.rpartition(".")[2]  # a nested field's own name
    alias = LIKELY_MEANT.get(name.lower())
    if alias in accepted:
        return alias
    close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_name(name: str, accepted: Sequence[str], what: str = "argument") -> str:
    shown = name if len(name) <= 64 else name[:61] + "..."
    guess = likely_meant(name, accepted) if len(name) <= 64 else None
    return f"{shown}: unknown {what}" + (f"; did you mean {guess}?" if guess else "")


MAX_ERROR_LINES = 12


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The nested model that holds the field at ``loc`` (list indexes skipped), if there is one."""
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        leaves = _leaves(field.annotation) if field is not None else []
        nested = [a for a in leaves if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _leaves(annotation: Any) -> list[Any]:
    """The types inside Annotated, unions and lists: ``list[Location] | None`` gives Location."""
    args = get_args(annotation)
    if not args:
        return [annotation]
    if get_origin(annotation) is Annotated:
        args = args[:1]
    return [leaf for arg in args for leaf in _leaves(arg)]


def describe_validation_error(
    operation: str, exc: ValidationError, accepted: Sequence[str] = (), model: type[BaseModel] | None = None
) -> str:
    """One line per broken rule, each naming the field and the rule."""
    lines = []
    unknown = False
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "input"
        if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
            lines.append("- " + _unknown_name(where, accepted))
            unknown = True
            continue
        if err["type"] == "extra_forbidden":
            nested = _model_at(model, err["loc"]) if model is not None else None
            names = accepted_names(nested) if nested is not None else ()
            line = _unknown_name(where, names, "field")
            lines.append(f"- {line}" + (f" (it takes {', '.join(names)})" if names else ""))
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        if ":" in message.split(" ")[0] and where == "input":
            lines.append(f"- {message}")  # a cross-field rule already names its fields
        else:
            lines.append(f"- {where}: {message}")
    if len(lines) > MAX_ERROR_LINES:  # a call with a thousand bad keys gets a readable answer
        lines[MAX_ERROR_LINES:] = [f"- and {len(lines) - MAX_ERROR_LINES} more"]
    if unknown:
        lines.append(f"Accepted arguments: {', '.join(accepted)}." if accepted else "This tool takes no arguments.")
    return f"Invalid arguments for {operation} (nothing was sent to Feishu):\n" + "\n".join(lines)


def validate(op: Operation[Any, Any], arguments: dict[str, Any], state: AppState) -> BaseModel:
    """The operation's input model from the raw arguments: null means "not given", unknown names are refused."""
    accepted = accepted_names(op.input_model)
    # Only a known name may be null: an unknown one is refused whatever its value.
    given = {k: v for k, v in arguments.items() if v is not None or k not in accepted}
    try:
        inp: BaseModel = op.input_model.model_validate(
            given, context={"timezone": state.timezone, "now": state.clock.now()}
        )
        return inp
    except ValidationError as exc:
        raise ToolError(describe_validation_error(op.name, exc, accepted, op.input_model)) from exc


async def execute(
    op: Operation[Any, Any], inp: BaseModel, state: AppState, picks: dict[str, str] | None = None
) -> BaseModel:
    """Send one validated operation to Feishu and shape its result, all within one deadline."""
    with state.client.tool_call():
        inp = await choose.settle_names(op, inp, ServerUpstream(state, op.name), picks or {})
        return await _execute(op, inp, state)


async def execute_settled(op: Operation[Any, Any], inp: BaseModel, state: AppState) -> BaseModel:
    """:func:`execute` for an input whose names are already ids (the pick resolver settled them)."""
    with state.client.tool_call():
        return await _execute(op, inp, state)


async def _execute(op: Operation[Any, Any], inp: BaseModel, state: AppState) -> BaseModel:
    up = ServerUpstream(state, op.name)
    if op.gather is not None:  # several requests (tools/common/composite.py), through the same client
        if getattr(inp, "calendar_id", None) == "primary":
            inp = inp.model_copy(update={"calendar_id": await state.client.primary_calendar_id()})
        gathered = await op.gather(inp, up)
        if gathered is not None:  # None: the one request below is what it takes
            result: BaseModel = op.respond(inp, gathered)
            return result
    wire = op.wire(inp)
    params = dict(wire.path_params)
    if params.get("calendar_id") == "primary":
        params["calendar_id"] = await state.client.primary_calendar_id()
    data, notes = await writes.send(op, inp, params, wire, state)
    if op.after is not None:  # more requests once the one has answered (e.g. a new event's attendees)
        data = await op.after(inp, data, up, params["calendar_id"])
    result = op.respond(inp, data)
    if notes:  # what a late or unanswered request may have done: the model must see it
        result = writes.with_notes(result, notes)
    moved = wire.body is not None and "start_time" in wire.body
    if op.check_overlaps and moved and isinstance(result, EventResult):
        result = await add_overlap_warnings(result, params["calendar_id"], state)
    return result


async def error_boundary(operation: str, work: Awaitable[BaseModel]) -> BaseModel:
    """Every failure leaves as a ToolError the model can act on; nothing crashes bare."""
    try:
        return await work
    except (ToolError, MCPError):
        raise
    except FeishuError as exc:
        log.info("%s: Feishu code %s (log id %s)", operation, exc.code, exc.log_id)
        raise ToolError(str(exc)) from exc
    except NotResolved as exc:
        step = "ask the user which one, then pass its id" if exc.candidates else "check the name with the user"
        raise ToolError(f"{operation}: {exc}. Nothing was changed; {step}.") from exc
    except Refusal as exc:
        raise ToolError(f"{operation}: {exc}. Nothing was changed.") from exc
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        log.exception("internal error in %s (reference %s)", operation, reference)
        raise ToolError(
            f"{operation} failed with an internal error of this server (reference {reference}); "
            "the details are in the server log. Report the reference if it persists."
        ) from exc


def _run_function(op: Operation[Any, Any]) -> Callable[..., Awaitable[BaseModel]]:
    async def run(ctx: Context[AppState, Any], arguments: dict[str, Any], **resolved: Any) -> BaseModel:
        state = ctx.request_context.lifespan_context

        async def work() -> BaseModel:
            settled = choose.outcome_of(resolved.get(choose.PARAMETER))
            inp = settled.input if isinstance(settled, choose.Settled) else validate(op, arguments, state)
            if op.destructive:
                confirm.require_yes(op, resolved.get(confirm.PARAMETER))
            if isinstance(settled, choose.Settled):
                return await execute_settled(op, inp, state)
            return await execute(op, inp, state, settled)

        return await error_boundary(op.name, work())

    if op.destructive or choose.takes_names(op):
        # The SDK finds resolved parameters in the signature: the confirmation and the picks.
        keyword = inspect.Parameter.KEYWORD_ONLY
        params = [
            inspect.Parameter("ctx", keyword, annotation=Context),
            inspect.Parameter(ARGUMENTS, keyword, annotation=dict[str, Any]),
        ]
        if op.destructive:
            params.append(confirm.parameter(op, lambda args, state: validate(op, args, state)))
        if choose.takes_names(op):
            params.append(choose.parameter(op, lambda args, state: validate(op, args, state)))
        run.__signature__ = inspect.Signature(params, return_annotation=op.output_model)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params} | {"return": op.output_model}
    run.__name__ = op.name
    return run


def annotations_of(op: Operation[Any, Any]) -> ToolAnnotations:
    # The title is the tool's own (``Tool.title``); repeating it here cost every tools/list ~20 B a tool.
    return ToolAnnotations(
        read_only_hint=op.read_only,
        destructive_hint=op.destructive,
        idempotent_hint=op.idempotent,
        open_world_hint=True,  # every tool talks to Feishu
    )


def _compact_result(run: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[CallToolResult]]:
    """The tool's result as structured content, and the same JSON, compact, as its text.

    Left to itself the SDK sends the text pretty-printed (indent 2): ~30% more bytes for the
    model to read on every call, for no information, and one more serialisation of the result.
    The JSON is made once (server/results.py).
    """

    @functools.wraps(run)  # keeps the signature (and the confirmation parameter) the SDK reads
    async def call(**arguments: Any) -> CallToolResult:
        return tool_result(wire_form(await run(**arguments)))

    return call


def wire_form(result: BaseModel) -> dict[str, Any]:
    """A result as it is sent, built once: each field under its wire name, its value as the tool shaped it.

    Results hold Feishu's parsed JSON and strings we rendered, values JSON already has, so a
    ``model_dump(mode="json")`` only copied them (11 ms for a 1,000-event page) before the SDK
    copies them once more on the way out; that copy, and the final encoding, still turn anything
    else into JSON the same way. Nested models (a day range) are dumped.
    """
    out: dict[str, Any] = {}
    for name, field in type(result).model_fields.items():
        value = getattr(result, name)
        if isinstance(value, BaseModel):
            value = wire_form(value)
        elif isinstance(value, list) and any(isinstance(item, BaseModel) for item in value):
            value = [wire_form(item) if isinstance(item, BaseModel) else item for item in value]
        out[field.serialization_alias or field.alias or name] = value
    return out


def _takes_only_text(annotation: Any) -> bool:
    """Whether a field accepts nothing but a string (str, a Literal of strings, or those | None)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_only_text(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return bool(options) and all(_takes_only_text(a) for a in options)
    if origin is Literal:
        return all(isinstance(value, str) for value in get_args(annotation))
    return annotation is str


ARGUMENTS = "arguments"


def _json_text(value: Any) -> Any:
    """A list or object sent as JSON text, decoded; anything else as it came."""
    if not isinstance(value, str) or value[:1] not in ("[", "{"):
        return value
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return value  # not JSON after all: the input model says what is wrong with it
    return decoded if isinstance(decoded, list | dict) else value


class _Arguments(FuncMetadata):
    """The SDK's argument step, reduced to handing the raw arguments to the tool whole.

    The SDK's own step validates against a model built from the function's signature and
    drops every name it does not know, so ``update_event(start_time=...)`` would reach us as
    an empty patch. Here nothing is dropped: the tool's input model (``extra="forbid"``)
    refuses unknown names, naming the accepted ones.

    One courtesy of the SDK's is kept: clients that send a list or object as JSON text (Claude
    Desktop does) have it decoded, but only for fields that are not text: an event titled
    ``[1, 2]`` stays a title.
    """

    json_fields: frozenset[str] = frozenset()

    def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
        decoded = {k: _json_text(v) if k in self.json_fields else v for k, v in arguments_to_validate.items()}
        return {ARGUMENTS: decoded}


def build_tool(op: Operation[Any, Any]) -> Tool:
    """The SDK tool for ``op``, assembled as ``Tool.from_function`` would, minus the schemas.

    ``from_function`` derives the schemas from the signature (~1 ms a tool at every start);
    ours are pre-generated from the input and output models. The output schema is published
    without its model: given one, the SDK validates every result's structured content against
    it, a second pass over what ``op.respond`` just built as that very model (``mcp.Client``,
    behind the e2e tests, checks every result against the published schema).
    """
    fn = _compact_result(_run_function(op))
    resolved = find_resolved_parameters(fn)
    fields = op.input_model.model_fields
    metadata = _Arguments(
        arg_model=ArgModelBase,  # unused: validate_arguments above replaces the SDK's model
        output_schema=published_schema(op.output_model, mode="serialization"),
        json_fields=frozenset(
            key for name, f in fields.items() if not _takes_only_text(f.annotation) for key in (name, f.alias) if key
        ),
    )
    return Tool(
        fn=fn,
        name=op.name,
        title=op.title,
        description=op.description,
        parameters=published_schema(op.input_model),
        fn_metadata=metadata,
        is_async=True,
        context_kwarg="ctx",
        resolved_params=dict(resolved),
        resolver_plans=build_resolver_plans(resolved, {ARGUMENTS}),
        annotations=annotations_of(op),
    )
