"""Calendar settings: a CalDAV configuration for other calendar apps."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools.common.outputs import FeishuData, feishu_data
from tools.spec import Input, Operation, Replay


class CaldavInput(Input):
    # Only device_name exists in the request (feishu-api.md §9: the seed doc's Password is wrong).
    device_name: Annotated[str | None, Field(max_length=100, description="Label shown in settings.")] = None


def _caldav_check(inp: CaldavInput) -> str:
    return (
        "call generate_caldav_config again: it returns a working user name and password. A configuration the "
        "lost call may have made was never shown to anyone, so it cannot be used; if Feishu's calendar settings "
        "(CalDAV) list an extra device, the user can remove it there"
    )


generate_caldav_config = Operation(
    name="generate_caldav_config",
    title="Generate CalDAV config",
    description=(
        "Create a CalDAV account for syncing your Feishu calendar to a device calendar app. Returns "
        "server_address, user_name and a new password: show them to the user only."
    ),
    interface_function="GenerateCaldavConfSettingAsync",
    method="POST",
    route="/open-apis/calendar/v4/settings/generate_caldav_conf",
    input_model=CaldavInput,
    output_model=FeishuData,
    toolset="settings",
    read_only=False,
    destructive=False,
    idempotent=False,
    replay=Replay.NEVER,  # each call mints a password: never send it twice unseen
    scopes=("calendar:calendar", "calendar:settings.caldav:create"),
    respond=feishu_data,
    outcome_check=_caldav_check,
)
