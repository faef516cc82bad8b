"""Names wherever a tool takes them, and letting the user pick when one means several.

One path for every tool that takes names (people, chats, rooms; a calendar's name for
``calendar_id``): :func:`settle_names` turns them into ids, every name through
tools/common/resolve.py's ``settle``. A tool that takes names gets a hidden parameter filled by
a resolver (mcp 2.x ``Resolve`` + ``Elicit``) that settles the names before the tool runs and,
where one means several and the client supports elicitation, asks the user to pick, outside
the model's context; the picks travel back to :func:`settle_names` as ``{name: id}``. Names that
settle at once are handed to the tool as they are (:class:`Settled`), so nothing is looked up
twice. Without elicitation nothing is asked: the tool fails with the candidates and what tells
them apart, for the model to ask. A declined or cancelled question ends the call, saying so.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, create_model

from server.errors import FeishuError
from server.state import AppState
from server.upstream import ServerUpstream
from tools.calendars import calendar_id_named
from tools.common.composite import Refusal, Upstream
from tools.common.resolve import NotResolved, Picks
from tools.spec import Operation

PARAMETER = "picks"


@dataclass(frozen=True)
class Settled:
    """The resolver's answer when every name settled without asking: the input with ids."""

    input: BaseModel


def takes_names(op: Operation[Any, Any]) -> bool:
    """Whether ``op`` takes names: its own (``prepare``) or a calendar's name for ``calendar_id``."""
    return op.prepare is not None or "calendar_id" in op.input_model.model_fields


def _calendar_name(inp: BaseModel) -> str | None:
    calendar = getattr(inp, "calendar_id", None)
    is_name = isinstance(calendar, str) and calendar != "primary" and "@" not in calendar
    return calendar if is_name else None


async def settle_names(op: Operation[Any, Any], inp: BaseModel, up: Upstream, picks: Picks) -> BaseModel:
    """``inp`` with every name replaced by its id; every name that does not settle is raised at
    once (one NotResolved), so one question covers them all."""
    problems: list[NotResolved] = []
    calendar = _calendar_name(inp)
    if calendar is not None:
        try:
            inp = inp.model_copy(update={"calendar_id": await calendar_id_named(up, calendar, picks)})
        except NotResolved as problem:
            problems.append(problem)
    if op.prepare is not None:  # the tool's own names (tools/common/names.py, resolve.py)
        try:
            inp = await op.prepare(inp, up, dict(picks))
        except NotResolved as problem:
            problems.append(problem)
    if problems:
        raise NotResolved.combine(problems)
    return inp


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
    """The resolver that settles ``op``'s names and asks the user to pick where one means several."""

    async def ask(ctx: Context[AppState, Any], arguments: dict[str, Any]) -> Any:
        if not _supports_elicitation(ctx):
            return None  # the tool settles the names itself and reports what does not settle
        state = ctx.request_context.lifespan_context
        try:
            inp = validate(arguments, state)
            if _calendar_name(inp) is None and op.prepare is None:
                return Settled(inp)  # nothing to settle (the common case: the primary calendar)
            with state.client.tool_call():  # the look-ups run under the call's deadline
                return Settled(await settle_names(op, inp, ServerUpstream(state, op.name), {}))
        except NotResolved as problem:
            asked = question(problem)
            # Nothing to pick (a name that matches nobody): the tool reports it, with the reason.
            return None if asked is None else Elicit(*asked)
        except (ToolError, FeishuError, Refusal):
            return None  # refused input or a failed look-up: the tool body reports it the usual way

    ask.__qualname__ = ask.__name__ = f"pick_for_{op.name}"
    return ask


def parameter(op: Operation[Any, Any], validate: Callable[[dict[str, Any], AppState], BaseModel]) -> inspect.Parameter:
    """The hidden tool parameter the pick resolver fills."""
    annotation = Annotated[ElicitationResult[Any], Resolve(resolver(op, validate))]
    return inspect.Parameter(PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def outcome_of(resolved: Any) -> Settled | dict[str, str]:
    """What the resolver settled: the input with ids, or the user's picks ``{name: id}`` ({} when
    nothing was asked). A declined or cancelled question stops the call, saying so."""
    if resolved is None:
        return {}
    if not isinstance(resolved, AcceptedElicitation):
        action = getattr(resolved, "action", "cancel")
        done = "declined to choose" if action == "decline" else "cancelled the choice"
        raise ToolError(
            f"The user {done}, so nothing was done and nothing was changed. Ask them which one they mean "
            "(or pass its id) before calling again."
        )
    data = resolved.data
    if isinstance(data, Settled):
        return data
    if not isinstance(data, BaseModel):
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
