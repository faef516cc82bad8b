"""Exchange bindings: sync a Feishu calendar with an Exchange account."""

from __future__ import annotations

import base64
from typing import Annotated

from pydantic import Field

from tools.common.fields import PathId, UserIdTypeField
from tools.common.outputs import Done, FeishuData, done, feishu_data
from tools.spec import IN_QUERY, Input, Operation, Replay

EXCHANGE = "/open-apis/calendar/v4/exchange_bindings"


class CreateExchangeInput(Input):
    admin_account: Annotated[str | None, Field(min_length=1, max_length=500, description="Exchange admin.")] = None
    exchange_account: Annotated[
        str | None, Field(min_length=1, max_length=500, description="Exchange mailbox to bind.")
    ] = None
    user_id: Annotated[PathId | None, Field(description="Feishu user to bind it to.")] = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


def binding_ids(admin_account: str, exchange_account: str) -> list[str]:
    """The id Feishu gives the binding of these accounts: the base64 of "<admin> <exchange>" (the
    docs' example id decodes so). Whether it uses the URL-safe alphabet is not documented: both
    spellings are given when they differ."""
    raw = f"{admin_account} {exchange_account}".encode()
    return list(dict.fromkeys([base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]))


def _exchange_check(inp: CreateExchangeInput) -> str:
    if inp.admin_account is None or inp.exchange_account is None:
        return (
            "without both admin_account and exchange_account the binding's id cannot be worked out; call "
            "create_exchange_binding again: if the lost call made it, Feishu refuses the mailbox as already bound"
        )
    ids = " or ".join(f'exchange_binding_id="{i}"' for i in binding_ids(inp.admin_account, inp.exchange_account))
    return (
        f"call get_exchange_binding with {ids} (a binding's id is the base64 of its admin and Exchange accounts): "
        "if it answers, the lost call made the binding; if it fails with 195103 (no such binding), call "
        "create_exchange_binding again"
    )


create_exchange_binding = Operation(
    name="create_exchange_binding",
    title="Bind Exchange account",
    description=(
        "Bind an Exchange mailbox to a Feishu user so its calendar is imported (tenant super-admin only). "
        "Returns exchange_binding_id and status."
    ),
    interface_function="CreateExchangeBindingAsync",
    method="POST",
    route=EXCHANGE,
    input_model=CreateExchangeInput,
    output_model=FeishuData,
    toolset="exchange",
    read_only=False,
    destructive=False,
    idempotent=False,
    replay=Replay.NEVER,
    scopes=("calendar:calendar", "calendar:calendar:readonly", "calendar:exchange.bindings:create"),
    respond=feishu_data,
    outcome_check=_exchange_check,
)


class ExchangeRef(Input):
    exchange_binding_id: Annotated[PathId, Field(description="From create_exchange_binding.")]


class GetExchangeInput(ExchangeRef):
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


delete_exchange_binding = Operation(
    name="delete_exchange_binding",
    title="Unbind Exchange account",
    description="Remove an Exchange binding (tenant super-admin only); the mailbox can then be bound again.",
    interface_function="DeleteExchangeBindingAsync",
    method="DELETE",
    route=EXCHANGE + "/{exchange_binding_id}",
    input_model=ExchangeRef,
    output_model=Done,
    toolset="exchange",
    read_only=False,
    destructive=True,
    idempotent=True,
    replay=Replay.DELETE,
    scopes=("calendar:calendar", "calendar:exchange.bindings:delete"),
    respond=done("exchange binding deleted"),
    confirm="Delete Exchange binding {exchange_binding_id}?",
    done_after_replay=frozenset({195103}),
)

get_exchange_binding = Operation(
    name="get_exchange_binding",
    title="Get Exchange binding",
    description="Status of an Exchange binding: doing, cal_done, timespan_done, done or err.",
    interface_function="GetExchangeBindingAsync",
    method="GET",
    route=EXCHANGE + "/{exchange_binding_id}",
    input_model=GetExchangeInput,
    output_model=FeishuData,
    toolset="exchange",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=("calendar:calendar:readonly", "calendar:exchange.bindings:read"),
    respond=feishu_data,
)
