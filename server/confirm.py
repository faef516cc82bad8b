"""Asking the user before a destructive tool sends anything.

Where the client supports elicitation, a resolver (mcp 2.x ``Resolve`` + ``Elicit``) asks the
user, outside the model's context, and the tool body runs only on an explicit yes. Where it
does not, ``Settings.confirm_destructive`` decides: "proceed" (the annotations already mark
the tool destructive, so the client may gate it) or "refuse".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from server.state import AppState
from tools.spec import Operation

PARAMETER = "confirmation"


class Confirm(BaseModel):
    confirm: bool = Field(description="Yes, do it.")


def _supports_elicitation(ctx: Context[AppState, Any]) -> bool:
    capabilities = ctx.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


def resolver(op: Operation[Any, Any], validate: Callable[[dict[str, Any], AppState], BaseModel]) -> Any:
    """The resolver that asks about ``op``; it takes the tool's raw arguments (see server/registry.py)."""

    async def ask(ctx: Context[AppState, Any], arguments: dict[str, Any]) -> Confirm | Elicit[Confirm]:
        state = ctx.request_context.lifespan_context
        inp = validate(arguments, state)  # never ask about a call that would be refused anyway
        if not _supports_elicitation(ctx):
            if state.settings.confirm_destructive == "refuse":
                raise ToolError(
                    f"{op.name} needs the user's confirmation and this client cannot ask for it; nothing "
                    "was changed. Ask the user to do it in Feishu, or set FEISHU_CONFIRM_DESTRUCTIVE=proceed."
                )
            return Confirm(confirm=True)
        return Elicit(op.confirm.format(**inp.model_dump()), Confirm)

    ask.__qualname__ = ask.__name__ = f"confirm_{op.name}"
    return ask


def parameter(op: Operation[Any, Any], validate: Callable[[dict[str, Any], AppState], BaseModel]) -> inspect.Parameter:
    """The hidden tool parameter that the confirmation resolver fills."""
    annotation = Annotated[ElicitationResult[Confirm], Resolve(resolver(op, validate))]
    return inspect.Parameter(PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def require_yes(op: Operation[Any, Any], outcome: Any) -> None:
    """Raise unless the user (or the no-elicitation policy) said yes."""
    if isinstance(outcome, AcceptedElicitation) and isinstance(outcome.data, Confirm) and outcome.data.confirm:
        return
    action = getattr(outcome, "action", "declined")
    what = "did not confirm" if action == "accept" else f"{action}d" if action == "decline" else "cancelled"
    raise ToolError(f"The user {what} {op.name}; nothing was sent to Feishu and nothing changed.")
