"""Letting the user pick when a name means several people, chats or rooms.

A tool that takes names (its Operation has ``prepare``) gets a hidden parameter filled by a
resolver (mcp 2.x ``Resolve`` + ``Elicit``): it looks the names up before the tool runs and,
where one means several and the client supports elicitation, asks the user to pick, outside the
model's context. The picks travel to ``prepare`` as ``{name: id}``. Without elicitation nothing
is asked: ``prepare`` fails with the candidates and what tells them apart, for the model to ask.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, create_model

from server.errors import FeishuError
from server.state import AppState
from server.upstream import ServerUpstream
from tools.common.resolve import NotResolved
from tools.spec import Operation

PARAMETER = "picks"


def _supports_elicitation(ctx: Context[AppState, Any]) -> bool:
    capabilities = ctx.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


def question(problem: NotResolved) -> tuple[str, type[BaseModel]] | None:
    """The question for the names that mean several: one choice field each, whose labels end in the id."""
    groups = [(name, c) for name, c in problem.groups if len(c) > 1]
    if not groups or len(groups) != len(problem.groups):
        return None  # a name that matches nobody cannot be fixed by picking
    fields: dict[str, Any] = {}
    for index, (name, candidates) in enumerate(groups):
        labels = tuple(c.label() for c in candidates)
        fields[f"pick_{index}"] = (Literal[labels], Field(description=f'Which "{name}"?'))
    model = create_model("Pick", **fields)
    names = ", ".join(f'"{name}"' for name, _ in groups)
    return f"{names} could mean several. Which one do you mean?", model


def resolver(op: Operation[Any, Any], validate: Callable[[dict[str, Any], AppState], BaseModel]) -> Any:
    """The resolver that looks ``op``'s names up and asks the user to pick where one means several."""

    async def ask(ctx: Context[AppState, Any], arguments: dict[str, Any]) -> Any:
        state = ctx.request_context.lifespan_context
        if op.prepare is None or not _supports_elicitation(ctx):
            return {}
        try:
            inp = validate(arguments, state)
            await op.prepare(inp, ServerUpstream(state, op.name), {})
        except NotResolved as problem:
            asked = question(problem)
            # Nothing to pick (a name that matches nobody): the tool reports it, with the reason.
            return {} if asked is None else Elicit(*asked)
        except (ToolError, FeishuError):
            return {}  # refused input or a failed look-up: the tool body reports it the usual way
        return {}

    ask.__qualname__ = ask.__name__ = f"pick_for_{op.name}"
    return ask


def parameter(op: Operation[Any, Any], validate: Callable[[dict[str, Any], AppState], BaseModel]) -> inspect.Parameter:
    """The hidden tool parameter the pick resolver fills."""
    annotation = Annotated[ElicitationResult[Any], Resolve(resolver(op, validate))]
    return inspect.Parameter(PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def picks(outcome: Any) -> dict[str, str]:
    """``{name: id}`` from the resolver's outcome; a declined or cancelled question stops the call."""
    if outcome is None:
        return {}
    if not isinstance(outcome, AcceptedElicitation):
        action = getattr(outcome, "action", "cancel")
        raise ToolError(f"The user {action}d choosing; nothing was sent to Feishu and nothing changed.")
    data = outcome.data
    if isinstance(data, dict):
        return {}
    chosen: dict[str, str] = {}
    for key, label in data.model_dump().items():
        field = type(data).model_fields[key]
        name = str(field.description or "").removeprefix('Which "').removesuffix('"?')
        chosen[name] = _id_of(str(label))
    return chosen


def _id_of(label: str) -> str:
    """The id at the end of a candidate's label: ``张伟 (Backend, Shanghai; ou_x)`` -> ``ou_x``."""
    return label.rstrip(")").rsplit("; ", 1)[-1].rsplit("(", 1)[-1]
