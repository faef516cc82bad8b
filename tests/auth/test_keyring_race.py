"""The keyring store under concurrency: a record is read as one unit, and one expiry means one refresh.

Before, the expiry lived in the file and the token in the keyring: a reader could pair the new token
with the old expiry, judge it stale and refresh again (2 of 30 rounds). The fake keyring pauses on
every call, as a D-Bus round trip does, so readers and writers interleave in every round.
"""

from __future__ import annotations

import threading
from pathlib import Path

import anyio

from auth.keyring_store import KeyringTokenStore
from auth.record import TokenRecord
from auth.session import UserTokens
from auth.store import load_record, save_record
from tests.auth.fake_accounts import APP_ID, OPEN_ID, FakeAccounts
from tests.auth.fake_keyring import FakeKeyring
from tests.auth.test_refresh_unit import tokens_for

THREADS = 8
ROUNDS = 30
CALLS = 4


def test_a_reader_never_sees_a_token_beside_another_tokens_expiry(tmp_path: Path) -> None:
    ring = FakeKeyring(pause=0.0002)
    store = KeyringTokenStore(tmp_path, ring)
    save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-0", 0.0, "r-0"), None)
    done = threading.Event()

    def writer() -> None:
        for i in range(1, 200):
            save_record(store, TokenRecord(APP_ID, OPEN_ID, f"u-{i}", float(i), f"r-{i}"), None)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = set()
    while not done.is_set():
        record = load_record(KeyringTokenStore(tmp_path, ring), None)
        assert record is not None
        assert (record.access_token, record.refresh_token) == (
            f"u-{record.expires_at:.0f}",
            f"r-{record.expires_at:.0f}",
        )
        seen.add(record.expires_at)
    thread.join()
    assert len(seen) >= 3, "the reader ran while the writer wrote"


def test_eight_threads_thirty_expiries_one_refresh_each(tmp_path: Path) -> None:
    fake = FakeAccounts()
    ring = FakeKeyring(pause=0.0002)
    answer = fake._issue("calendar:calendar.event:read offline_access").json()
    save_record(
        KeyringTokenStore(tmp_path, ring), TokenRecord.from_token_response(APP_ID, OPEN_ID, answer, now=fake.now), "p"
    )

    def call(tokens: UserTokens, start: threading.Barrier, got: list[str], failures: list[BaseException]) -> None:
        start.wait()
        try:
            for _ in range(CALLS):  # later calls land while another thread is writing the new record
                got.append(anyio.run(tokens.access_token))
        except BaseException as exc:  # reported below with the round
            failures.append(exc)

    # One store object and one UserTokens per thread: as separate processes have.
    sessions = [tokens_for(fake, KeyringTokenStore(tmp_path, ring)) for _ in range(THREADS)]
    for round_ in range(1, ROUNDS + 1):
        fake.now += fake.access_lifetime  # every stored access token is now expired
        start = threading.Barrier(THREADS)
        got: list[str] = []
        failures: list[BaseException] = []
        threads = [threading.Thread(target=call, args=(tokens, start, got, failures)) for tokens in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == [], (round_, failures)
        assert fake.token_grants.get("refresh_token") == round_, f"round {round_}: a second refresh"
        assert len(got) == THREADS * CALLS and len(set(got)) == 1, f"round {round_}: everyone gets the one new token"
        assert fake.access_tokens[got[0]] > fake.now
