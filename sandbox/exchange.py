"""Exchange bindings: create, get and delete (feishu-api.md ops 21-23, codes 195100-195106).

All three take a user token of a tenant super-admin (195101 otherwise). The sandbox has no
Exchange server, so it stands in for one with a rule a real one also enforces: an admin account
can only bind mailboxes of its own mail domain (195105 otherwise), and an admin "account" that is
not a mailbox address cannot be found (195106). A binding's id is the base64 of
``"<admin_account> <exchange_account>"``, the shape real ids have (URL-safe alphabet, so an id
always fits in a path); anything that does not decode
to that shape is an invalid id (195102). After creation the calendar import moves through
``doing`` -> ``cal_done`` -> ``timespan_done`` -> ``done`` as the sandbox clock advances.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from starlette.routing import BaseRoute

from sandbox.state import ExchangeBinding, User
from sandbox.wire import CALENDAR_V4, Call, FeishuFault, api_route, invalid

if TYPE_CHECKING:
    from sandbox.core import Api

EXCHANGE = CALENDAR_V4 + "/exchange_bindings"
CREATE_SCOPES = ("calendar:calendar", "calendar:calendar:readonly", "calendar:exchange.bindings:create")
READ_SCOPES = ("calendar:calendar:readonly", "calendar:exchange.bindings:read")
DELETE_SCOPES = ("calendar:calendar", "calendar:exchange.bindings:delete")
EMAIL_SCOPE = "contact:user.email:readonly"  # the accounts are only returned with it
ACCOUNT_LIMIT = 500
MAILBOX = re.compile(r"[^@\s]+@(?P<domain>[^@\s]+\.[^@\s]+)")
# Seconds after creation at which the import reaches each later status.
ImportStatus = Literal["doing", "cal_done", "timespan_done", "done", "err"]
IMPORT_STAGES: tuple[tuple[int, ImportStatus], ...] = ((60, "cal_done"), (120, "timespan_done"), (300, "done"))


@dataclass
class TimedBinding(ExchangeBinding):
    """A binding that remembers when it was made, so its import status can follow the clock."""

    created_at: float = 0.0


def routes(sb: Api) -> list[BaseRoute]:
    one = EXCHANGE + "/{exchange_binding_id}"
    return [
        api_route(sb, "POST", EXCHANGE, create_binding, scopes=CREATE_SCOPES, user_only=True),
        api_route(sb, "GET", one, get_binding, scopes=READ_SCOPES, user_only=True),
        api_route(sb, "DELETE", one, delete_binding, scopes=DELETE_SCOPES, user_only=True),
    ]


def binding_id(admin_account: str, exchange_account: str) -> str:
    return base64.urlsafe_b64encode(f"{admin_account} {exchange_account}".encode()).decode()


def create_binding(call: Call) -> dict[str, Any]:
    admin = _super_admin(call)
    admin_account = _account(call, "admin_account")
    exchange_account = _account(call, "exchange_account")
    bound_user = _bound_user(call, admin)
    admin_mailbox = MAILBOX.fullmatch(admin_account)
    if admin_mailbox is None:
        raise FeishuFault(195106, "exchange admin account not found", 404)
    mailbox = MAILBOX.fullmatch(exchange_account)
    if mailbox is None:
        raise invalid("exchange_account", exchange_account, "must be a mailbox address")
    if mailbox["domain"].lower() != admin_mailbox["domain"].lower():
        raise FeishuFault(195105, "exchange admin account cannot bind a mailbox outside its domain", 403)
    bindings = call.sb.world.exchange_bindings
    if any(b.exchange_account.lower() == exchange_account.lower() for b in bindings.values()):
        raise invalid("exchange_account", exchange_account, "is already bound")
    if any(b.open_id == bound_user.open_id for b in bindings.values()):
        raise invalid("user_id", call.body.get("user_id"), "already has an Exchange binding")
    binding = TimedBinding(
        exchange_binding_id=binding_id(admin_account, exchange_account),
        admin_account=admin_account,
        exchange_account=exchange_account,
        open_id=bound_user.open_id,
        created_at=call.sb.clock.now(),
    )
    bindings[binding.exchange_binding_id] = binding
    return _binding_json(call, binding)


def get_binding(call: Call) -> dict[str, Any]:
    return _binding_json(call, _existing(call))


def delete_binding(call: Call) -> None:
    binding = _existing(call)
    del call.sb.world.exchange_bindings[binding.exchange_binding_id]


def _super_admin(call: Call) -> User:
    user = call.user
    assert user is not None  # user_only routes always have a user
    if not user.is_super_admin:
        raise FeishuFault(195101, "only a tenant super-admin can manage Exchange bindings", 403)
    return user


def _account(call: Call, name: str) -> str:
    value = call.required_field(name, str)
    if not 1 <= len(value) <= ACCOUNT_LIMIT:
        raise invalid(name, value, f"must be 1 to {ACCOUNT_LIMIT} characters")
    return value


def _bound_user(call: Call, admin: User) -> User:
    user_id = call.required_field("user_id", str)
    user = call.sb.world.user_by_any_id(user_id, call.user_id_type())
    if user is None or user.status != "active":
        raise FeishuFault(195100, "user is not in the tenant or has left it", 404)
    if user.tenant_key != admin.tenant_key:
        raise FeishuFault(195104, "the user belongs to another tenant", 403)
    return user


def _existing(call: Call) -> ExchangeBinding:
    admin = _super_admin(call)
    wanted = call.path["exchange_binding_id"]
    if not _well_formed(wanted):
        raise FeishuFault(195102, "invalid exchange_binding_id", 400)
    binding = call.sb.world.exchange_bindings.get(wanted)
    if binding is None:
        raise FeishuFault(195103, "exchange binding not found", 404)
    owner = call.sb.world.users.get(binding.open_id)
    if owner is None or owner.tenant_key != admin.tenant_key:
        raise FeishuFault(195104, "the binding belongs to another tenant", 403)
    return binding


def _well_formed(exchange_binding_id: str) -> bool:
    try:
        text = base64.b64decode(exchange_binding_id, altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 (UnicodeDecodeError)
        return False
    admin_account, _, exchange_account = text.partition(" ")
    return bool(admin_account) and MAILBOX.fullmatch(exchange_account) is not None


def _binding_json(call: Call, binding: ExchangeBinding) -> dict[str, Any]:
    if isinstance(binding, TimedBinding):
        age = call.sb.clock.now() - binding.created_at
        for after, status in IMPORT_STAGES:
            if age >= after:
                binding.status = status
    data: dict[str, Any] = {"status": binding.status, "exchange_binding_id": binding.exchange_binding_id}
    user = call.sb.world.users.get(binding.open_id)
    if user is not None:
        data["user_id"] = call.user_ref(user)
    if EMAIL_SCOPE in call.token.scopes:
        data["admin_account"] = binding.admin_account
        data["exchange_account"] = binding.exchange_account
    return data
