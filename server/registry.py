"""Turns each Operation declaration into an MCP tool, and runs it behind one error boundary.

The SDK builds a tool's argument model from the function signature, so each tool gets a
synthesized signature (one parameter per input field, typed ``Any``: our own input model
validates, with Feishu's rules and cross-field checks) and the published input schema is
replaced by the client-friendly one generated from the same input model.
"""

from __future__ import annotations

import functools
import inspect
import logging
import types
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pydantic_core
from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata, func_metadata
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from server import confirm
from server.errors import FeishuError
from server.overlaps import add_overlap_warnings
from server.paths import fill_route
from server.schema import published_schema
from server.state import AppState
from tools.outputs import EventResult
from tools.spec import Operation

log = logging.getLogger("feishu_calendar_mcp.tools")


def describe_validation_error(operation: str, exc: ValidationError) -> str:
    """One line per broken rule, each naming the field and the rule."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "input"
        message = str(err["msg"]).removeprefix("Value error, ")
        if ":" in message.split(" ")[0] and where == "input":
            lines.append(f"- {message}")  # a cross-field rule already names its fields
        else:
            lines.append(f"- {where}: {message}")
    return f"Invalid arguments for {operation} (nothing was sent to Feishu):\n" + "\n".join(lines)


def validate(op: Operation[Any, Any], arguments: dict[str, Any], state: AppState) -> BaseModel:
    """The operation's input model from raw arguments; null means "not given"."""
    given = {k: v for k, v in arguments.items() if v is not None}
    try:
        inp: BaseModel = op.input_model.model_validate(
            given, context={"timezone": state.timezone, "now": state.clock.now()}
        )
        return inp
    except ValidationError as exc:
        raise ToolError(describe_validation_error(op.name, exc)) from exc


async def execute(op: Operation[Any, Any], inp: BaseModel, state: AppState) -> BaseModel:
    """Send one validated operation to Feishu and shape its result, all within one deadline."""
    with state.client.tool_call():
        return await _execute(op, inp, state)


async def _execute(op: Operation[Any, Any], inp: BaseModel, state: AppState) -> BaseModel:
    wire = op.wire(inp)
    params = dict(wire.path_params)
    if params.get("calendar_id") == "primary":
        params["calendar_id"] = await state.client.primary_calendar_id()
    data = await state.client.call(
        op.name,
        op.method,
        fill_route(op.route, params),
        query=wire.query,
        body=wire.body,
        replay=op.replay,
        done_after_replay=op.done_after_replay,
        writes=not op.read_only,
        scopes=op.scopes,
    )
    result: BaseModel = op.respond(inp, data)
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
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        log.exception("internal error in %s (reference %s)", operation, reference)
        raise ToolError(
            f"{operation} failed with an internal error of this server (reference {reference}); "
            "the details are in the server log. Report the reference if it persists."
        ) from exc


def _run_function(op: Operation[Any, Any]) -> Callable[..., Awaitable[BaseModel]]:
    async def run(ctx: Context[AppState, Any], **arguments: Any) -> BaseModel:
        state = ctx.request_context.lifespan_context
        answer = arguments.pop(confirm.PARAMETER, None)

        async def work() -> BaseModel:
            inp = validate(op, arguments, state)
            if op.destructive:
                confirm.require_yes(op, answer)
            return await execute(op, inp, state)

        return await error_boundary(op.name, work())

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    if op.destructive:
        params.append(confirm.parameter(op, lambda args, state: validate(op, args, state)))
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Any)
        for name in op.input_model.model_fields
    ]
    run.__signature__ = inspect.Signature(params, return_annotation=op.output_model)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params} | {"return": op.output_model}
    run.__name__ = op.name
    return run


def annotations_of(op: Operation[Any, Any]) -> ToolAnnotations:
    return ToolAnnotations(
        title=op.title,
        read_only_hint=op.read_only,
        destructive_hint=op.destructive,
        idempotent_hint=op.idempotent,
        open_world_hint=True,  # every tool talks to Feishu
    )


def _compact_result(run: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[CallToolResult]]:
    """The tool's result as structured content, and the same JSON, compact, as its text.

    Left to itself the SDK sends the text pretty-printed (indent 2): ~30% more bytes for the
    model to read on every call, for no information, and one more serialisation of the result.
    """

    @functools.wraps(run)  # keeps the synthesized signature the SDK reads
    async def call(**arguments: Any) -> CallToolResult:
        data = (await run(**arguments)).model_dump(mode="json", by_alias=True)
        text = pydantic_core.to_json(data).decode()
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)

    return call


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


class _Arguments(FuncMetadata):
    """The SDK's argument handling, except that a text field's value is never JSON-decoded.

    The SDK decodes a string argument holding a JSON array or object whenever the parameter
    is not annotated ``str`` (a courtesy to clients that send lists as strings), and every
    synthesized parameter is ``Any``: an event titled ``[1, 2]`` reached the input model as
    a list and was refused. Skipping text fields also spares a json.loads per string.
    """

    text_fields: frozenset[str] = frozenset()

    def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
        parsed = super().pre_parse_json({k: v for k, v in data.items() if k not in self.text_fields})
        return {k: v if k in self.text_fields else parsed[k] for k, v in data.items()}


def build_tool(op: Operation[Any, Any]) -> Tool:
    """The SDK tool for ``op``, assembled as ``Tool.from_function`` would, minus the schemas.

    ``from_function`` derives an input schema from the synthesized signature (and, for
    structured output, an output schema): ~1 ms a tool at every start, for schemas that are
    replaced by the published ones at once. So the parts it would assemble are assembled here
    (the argument model the SDK validates with, and the resolver plans of a confirmation),
    and the published schemas are taken pre-generated. Output conversion reads only
    ``fn_metadata.output_model`` and ``output_schema`` (and checks the structured content
    of the CallToolResult against the output model).
    """
    fn = _compact_result(_run_function(op))
    resolved = find_resolved_parameters(fn)
    text_fields = frozenset(name for name, f in op.input_model.model_fields.items() if _takes_only_text(f.annotation))
    metadata = _Arguments(
        arg_model=func_metadata(fn, skip_names=["ctx", *resolved], structured_output=False).arg_model,
        output_model=op.output_model,
        output_schema=published_schema(op.output_model, mode="serialization"),
        text_fields=text_fields,
    )
    argument_names = {field.alias or name for name, field in metadata.arg_model.model_fields.items()}
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
        resolver_plans=build_resolver_plans(resolved, argument_names),
        annotations=annotations_of(op),
    )
