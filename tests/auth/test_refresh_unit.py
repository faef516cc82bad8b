"""Refresh rules on their own: leeway, rotation persisted before use, one grant for many callers, dead logins."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from auth.errors import LoginRequired, ReloginRequired
from auth.oauth import AppCredentials, Endpoints
from auth.record import TokenRecord
from auth.session import UserTokens
from auth.store import FileTokenStore, StoreData, StoreTransaction, load_record, save_record
from tests.auth.fake_accounts import APP_ID, APP_SECRET, OPEN_ID, FakeAccounts

pytestmark = pytest.mark.anyio
COMMAND = "feishu-calendar-mcp login --profile p"


def signed_in(fake: FakeAccounts, store: FileTokenStore, *, expires_in: float) -> TokenRecord:
    """A stored login whose access token expires in ``expires_in`` seconds (as the fake sees it)."""
    answer = fake._issue("calendar:calendar.event:read offline_access").json()
    record = TokenRecord.from_token_response(APP_ID, OPEN_ID, answer, now=fake.now)
    record = replace(record, expires_at=fake.now + expires_in)
    fake.access_tokens[record.access_token] = fake.now + expires_in
    save_record(store, record, "p")
    return record


def tokens_for(fake: FakeAccounts, store: FileTokenStore) -> UserTokens:
    return UserTokens(
        store,
        AppCredentials(APP_ID, APP_SECRET),
        Endpoints.for_domain("https://open.feishu.test"),
        "p",
        login_command=COMMAND,
        transport=fake.transport(),
        clock=lambda: fake.now,
    )


async def test_a_fresh_token_is_used_as_is(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    record = signed_in(fake, store, expires_in=3600)
    assert await tokens_for(fake, store).access_token() == record.access_token
    assert fake.token_grants == {}


async def test_refresh_inside_the_leeway_persists_the_rotated_refresh_token(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    old = signed_in(fake, store, expires_in=100)  # inside the 300 s leeway
    tokens = tokens_for(fake, store)
    new_access = await tokens.access_token()
    stored = load_record(store, "p")
    assert stored is not None and new_access == stored.access_token != old.access_token
    assert stored.refresh_token != old.refresh_token and fake.refresh_tokens[stored.refresh_token]
    assert fake.refresh_tokens[old.refresh_token] is False
    assert stored.expires_at == fake.now + 7200 and stored.refresh_expires_at == fake.now + 604800
    assert fake.bodies[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": old.refresh_token,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
    }
    assert tokens.identity == f"{APP_ID}/{OPEN_ID}"


async def test_rejection_forces_one_refresh_even_before_expiry(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    old = signed_in(fake, store, expires_in=3600)
    tokens = tokens_for(fake, store)
    new = await tokens.refresh_after_rejection(old.access_token)
    assert new != old.access_token and fake.token_grants == {"refresh_token": 1}
    # A second caller that was rejected with the same old token gets the new one, no second grant.
    assert await tokens_for(fake, store).refresh_after_rejection(old.access_token) == new
    assert fake.token_grants == {"refresh_token": 1}


async def test_many_callers_many_objects_one_grant(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    signed_in(fake, store, expires_in=0)
    results: list[str] = []

    async def call() -> None:
        results.append(await tokens_for(fake, store).access_token())

    async with anyio.create_task_group() as tasks:
        for _ in range(8):
            tasks.start_soon(call)
    assert fake.token_grants == {"refresh_token": 1}
    assert len(set(results)) == 1


@pytest.mark.parametrize("code", [20026, 20037, 20064, 20073, 20074])
async def test_dead_refresh_token_says_exactly_how_to_sign_in_again(tmp_path: Path, code: int) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    signed_in(fake, store, expires_in=0)
    fake.next_error = (400, code, "invalid_grant")
    with pytest.raises(ReloginRequired) as caught:
        await tokens_for(fake, store).access_token()
    assert COMMAND in str(caught.value) and str(code) in str(caught.value)


async def test_refresh_token_past_its_lifetime_is_not_even_tried(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    signed_in(fake, store, expires_in=0)
    fake.now += 604800 + 1
    with pytest.raises(ReloginRequired, match="refresh token past its lifetime"):
        await tokens_for(fake, store).access_token()
    assert fake.token_grants == {}


async def test_nobody_signed_in_or_other_app(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    with pytest.raises(LoginRequired, match="nobody is signed in"):
        await tokens_for(fake, store).access_token()
    record = signed_in(fake, store, expires_in=3600)
    save_record(store, replace(record, app_id="cli_other"), "p")
    with pytest.raises(LoginRequired, match="belongs to app cli_other"):
        await tokens_for(fake, store).access_token()


class FailingWrites(FileTokenStore):
    def begin(self) -> StoreTransaction:
        tx = super().begin()

        class NoWrite:
            def read(self) -> StoreData:
                return tx.read()

            def write(self, data: StoreData) -> None:
                raise OSError("disk full")

            def close(self) -> None:
                tx.close()

        return NoWrite()


async def test_a_new_token_is_not_used_unless_its_refresh_token_was_saved(tmp_path: Path) -> None:
    fake = FakeAccounts()
    signed_in(fake, FileTokenStore(tmp_path), expires_in=0)
    with pytest.raises(OSError, match="disk full"):
        await tokens_for(fake, FailingWrites(tmp_path)).access_token()


async def test_token_service_trouble_says_retry_not_sign_in(tmp_path: Path) -> None:
    from server.errors import UpstreamUnavailable
    from server.tokens import StoredLogin

    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    signed_in(fake, store, expires_in=0)
    fake.next_error = (503, 20072, "temporarily_unavailable")
    with pytest.raises(UpstreamUnavailable) as caught:
        await StoredLogin(tokens_for(fake, store)).access_token()
    assert "retry in a minute" in str(caught.value) and "login" not in str(caught.value)
    assert "temporarily unavailable" in str(caught.value)
    record = load_record(store, "p")
    assert record is not None and fake.refresh_tokens[record.refresh_token], "the refresh token is still good"


async def test_a_call_cancelled_mid_refresh_still_saves_the_rotated_refresh_token(tmp_path: Path) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    old = signed_in(fake, store, expires_in=0)
    with anyio.CancelScope() as scope:
        fake.on_token_request = scope.cancel  # the caller gives up while Feishu is rotating the token
        await tokens_for(fake, store).access_token()
    assert scope.cancel_called and fake.token_grants == {"refresh_token": 1}
    record = load_record(store, "p")
    assert record is not None and record.refresh_token != old.refresh_token
    assert fake.refresh_tokens[record.refresh_token], "the stored refresh token is the live one"
    # ... and the store's lock was released despite the cancellation.
    taken = threading.Event()

    def take_lock() -> None:
        store.begin().close()
        taken.set()

    threading.Thread(target=take_lock, daemon=True).start()
    assert taken.wait(5), "the cancelled refresh left the store locked"


class TornFirstRead:
    """A store whose first read pairs the current token with an expiry already past (a torn read)."""

    def __init__(self, store: FileTokenStore) -> None:
        self.store = store
        self.torn = True
        self.description = store.description

    def read(self) -> StoreData:
        data = self.store.read()
        if self.torn:
            self.torn = False
            data.accounts = {key: replace(rec, expires_at=0.0) for key, rec in data.accounts.items()}
        return data

    def begin(self) -> StoreTransaction:
        return self.store.begin()


async def test_a_token_judged_stale_on_a_torn_read_is_not_refreshed_once_the_store_says_valid(
    tmp_path: Path,
) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    record = signed_in(fake, store, expires_in=3600)
    tokens = tokens_for(fake, store)
    tokens.store = TornFirstRead(store)
    assert await tokens.access_token() == record.access_token
    assert fake.token_grants == {}, "the re-read shows the token valid: no refresh"
