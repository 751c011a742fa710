"""Masking with many learnt secrets: every secret masked wherever it shows, the index built
once per change of the set, expired secrets dropped after their grace, the set bounded.

No test here times anything: ``benchmarks/masking.py`` measures the cost."""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from async_hooks._core import learnt
from async_hooks._core.redact import MASK, Redactor, learn_secret
from async_hooks._jsonable import json_safe

NOW = 1_800_000_000.0  # the fake clock's epoch second
HOUR = dt.timedelta(hours=1)
B64 = string.ascii_letters + string.digits + "+/"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now

    def at(self, seconds_after_now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(NOW + seconds_after_now, dt.timezone.utc)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh process-wide set of learnt secrets on a fake clock, for this test only."""
    fake = Clock()
    monkeypatch.setattr(learnt, "LEARNT", learnt.LearntSecrets(clock=fake))
    return fake


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every set of secrets an index is built for, in order."""
    sizes: list[int] = []
    real = learnt.build_index

    def counting(secrets):
        secrets = tuple(secrets)
        sizes.append(len(secrets))
        return real(secrets)

    monkeypatch.setattr(learnt, "build_index", counting)
    return sizes


def _learnt_like_the_hooks(count: int, seed: int = 4) -> list[str]:
    """Role key pairs (a 40-character key, a session token with AWS's common prefix) and
    Google access tokens, as the hooks learn them."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        if len(found) % 3 == 2:
            tail = rng.choices(string.ascii_letters + string.digits + "-_", k=rng.randint(100, 200))
            found.append("ya29.a0Af" + "".join(tail))
        else:
            found.append("".join(rng.choices(B64, k=40)))
            found.append("IQoJb3JpZ2luX2VjE" + "".join(rng.choices(B64, k=rng.randint(300, 600))))
    return found[:count]


OWN_PASSWORD = "hunter2!"  # short, with a character no token has: searched one by one
OWN_API_KEY = "k3y-0f-the-h00k-itself-1234567890"


def _pem() -> str:
    rng = random.Random(7)
    lines = ["".join(rng.choices(B64, k=64)) for _ in range(6)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def _contexts(secret: str) -> list[str]:
    """Where a server or a job may echo a secret."""
    return [
        secret,
        f"The security token included in the request is invalid: {secret}",
        f"x{secret}y",  # inside a longer run of token characters
        f"AKIA{secret}{secret[:7]}",
        f"Bearer {secret}",
        f"https://bucket.s3.amazonaws.com/key?X-Amz-Security-Token={secret}&X-Amz-Expires=60",
        f"https://h/{secret}/path",
        json.dumps({"error": {"message": f"denied: {secret}", "token": secret}}),
        f"line one\n{secret}\nline three",
        f"{secret}{secret}",
    ]


def test_every_secret_of_1024_learnt_and_the_hooks_own_is_masked_in_every_string(clock):
    secrets = _learnt_like_the_hooks(1024)
    for secret in secrets:
        learn_secret(secret)
    assert len(learnt.LEARNT) == 1024
    pem = _pem()
    redact = Redactor([OWN_PASSWORD, OWN_API_KEY, pem])
    own = [OWN_PASSWORD, OWN_API_KEY, pem, *pem.splitlines()[1:-1]]
    planted = secrets[::37] + secrets[-3:] + own  # every context for a spread of them
    payload = {
        "jobs": [
            {
                "jobId": f"job-{n}",
                "statusReason": _contexts(secret),
                "container": {"command": ["run", f"--token={secret}"]},
            }
            for n, secret in enumerate(planted)
        ],
        "every": [f"echo {secret} echo" for secret in secrets],  # each of the 1,024 once
    }
    shown = "\0".join(_strings(json_safe(payload, redact)))
    for secret in [*secrets, *own]:
        assert secret not in shown, "a planted secret shows"
    assert "The security token included in the request is invalid: ***" in shown
    assert "X-Amz-Security-Token=***&X-Amz-Expires=60" in shown
    assert "x***y" in shown and "line one\n***\nline three" in shown


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(s for item in value.values() for s in _strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_nothing_else_is_touched_and_keys_are_not_masked(clock):
    secret = _learnt_like_the_hooks(1)[0]
    learn_secret(secret)
    redact = Redactor([OWN_API_KEY])
    job = {
        secret: "the key stays",
        "jobArn": "arn:aws:batch:us-east-1:123456789012:job/5e1f0a2c-7b3d-4c8e-9f10-2a3b4c5d6e7f",
        "logStreamName": "etl/default/5e1f0a2ceb3d4c8e9f102a3b4c5d6e7f5e1f0a2ceb3d4c8e",
        "statusReason": f"{OWN_API_KEY} and {secret}",
        "attempts": [7, True, None, 1.5],
    }
    masked = json_safe(job, redact)
    assert list(masked) == list(job)  # the keys, the learnt secret among them, as they were
    assert masked["statusReason"] == f"{MASK} and {MASK}"
    assert {k: v for k, v in masked.items() if k != "statusReason"} == {
        k: v for k, v in job.items() if k != "statusReason"
    }


def test_a_secret_containing_or_overlapping_another_is_masked_whole(clock):
    inner = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    outer = f"xyz{inner}+/abcdefghij"
    overlapping = f"{inner[-20:]}OVERLAPPING0123456789"
    for secret in (inner, outer, overlapping):
        learn_secret(secret)
    redact = Redactor(["hunter2-" + inner[:6]])
    assert redact(f"a {outer} b") == f"a {MASK} b"
    assert redact(f"a {inner}OVERLAPPING0123456789 b") == f"a {MASK} b"
    assert redact(f"[hunter2-{inner}]") == f"[{MASK}]"
    assert redact(f"{inner} {inner}") == f"{MASK} {MASK}"


def test_texts_shorter_than_every_secret_come_back_as_they_are(clock):
    learn_secret("s" * 40)
    redact = Redactor(["p" * 30])
    text = "s" * 29
    assert redact(text) is text


def test_percent_encoded_secrets_are_not_recognised(clock):
    """As before the index: a secret is masked where it shows as it is. A URL's query holds a
    key with ``/`` or ``+`` percent-encoded; pinned so that a change of this is deliberate."""
    secret = "pl4nted/AWS+secret/KEY0123456789abcdefghij"
    learn_secret(secret)
    assert Redactor()(f"?X-Amz-Security-Token={quote_plus(secret)}").endswith(quote_plus(secret))


# ------------------------------------------------------------------- against a plain search

SECRET_CHARS = st.sampled_from("ab+/=-_.Z9: \n")


def _reference(text: str, secrets: set[str]) -> str:
    """Every occurrence of every secret found one position at a time, overlapping ones
    masked as one."""
    spans = sorted(
        (at, at + len(s)) for s in secrets for at in range(len(text)) if text.startswith(s, at)
    )
    groups: list[list[int]] = []
    for start, end in spans:
        if groups and start < groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], end)
        else:
            groups.append([start, end])
    pieces, kept = [], 0
    for start, end in groups:
        pieces += [text[kept:start], MASK]
        kept = end
    return "".join([*pieces, text[kept:]])


@settings(max_examples=300, deadline=None)
@given(
    own=st.lists(st.text(SECRET_CHARS, min_size=4, max_size=40), max_size=4),
    learnt_now=st.lists(st.text(SECRET_CHARS, min_size=8, max_size=80), max_size=12),
    pieces=st.lists(
        st.one_of(st.text(SECRET_CHARS, max_size=30), st.integers(min_value=0, max_value=99)),
        max_size=10,
    ),
)
def test_masking_matches_a_plain_search_of_every_secret(own, learnt_now, pieces):
    """Any secrets (short and long, of token characters or not, sharing windows, containing
    each other), any text made of them and of other characters: the same masking as a plain
    search for every secret, so no secret shows."""
    fresh = learnt.LearntSecrets()
    for secret in learnt_now:
        fresh.learn(secret)
    secrets = [*own, *learnt_now]
    text = "".join(
        secrets[p % len(secrets)] if isinstance(p, int) and secrets else str(p) for p in pieces
    )
    process, learnt.LEARNT = learnt.LEARNT, fresh
    try:
        redact = Redactor(own)
        masked = redact(text)
    finally:
        learnt.LEARNT = process
    mine = {s for s in own if len(s) >= 4}
    lines = {line.strip() for s in mine if "\n" in s for line in s.splitlines()}
    everything = mine | {line for line in lines if len(line) >= 16} | set(learnt_now)
    assert masked == _reference(text, everything)
    for secret in everything:
        assert secret not in masked


# ------------------------------------------------------------------- built once per change


def test_the_learnt_index_is_built_once_per_change_of_the_set_not_per_call(clock, builds):
    redacts = [Redactor(), Redactor([OWN_API_KEY])]
    assert builds == [0, 1]  # each hook's own secrets, once
    secrets = _learnt_like_the_hooks(300)
    for secret in secrets[:200]:
        learn_secret(secret)
    assert builds == [0, 1]  # learning builds nothing: the next mask does
    texts = [f"job {n}: {secrets[n]} failed" for n in range(200)]
    for redact in redacts:
        assert all(MASK in redact(text) for text in texts)
    assert builds == [0, 1, 200]  # one build for every hook and call
    for secret in secrets[:200]:
        learn_secret(secret)  # known: the set does not change
    redacts[0]("x" * 500)
    assert builds == [0, 1, 200]
    learn_secret(secrets[200])
    learn_secret(secrets[201])
    for redact in redacts:
        redact("y" * 500)
        redact(secrets[201])
    assert builds == [0, 1, 200, 202]


# ------------------------------------------------------------------- expiry and the bound


def test_an_expired_secret_is_masked_through_its_grace_then_dropped(clock):
    expiring, lasting, unknown = _learnt_like_the_hooks(3)
    learn_secret(expiring, expires_at=clock.at(900))
    learn_secret(lasting, expires_at=clock.at(900 + 86_400))
    learn_secret(unknown)
    redact = Redactor()
    clock.now = NOW + 900 + learnt.GRACE - 1  # expired, within the grace: still masked
    learn_secret("touches-the-set-0001")
    assert redact(expiring) == MASK
    clock.now = NOW + 900 + learnt.GRACE
    assert redact(expiring) == MASK  # dropped only when the set is touched
    learn_secret("touches-the-set-0002")
    assert expiring not in learnt.LEARNT
    assert redact(expiring) == expiring
    assert redact(f"{lasting} {unknown}") == f"{MASK} {MASK}"
    clock.now = NOW + 10 * 86_400
    learn_secret("touches-the-set-0003")
    assert lasting not in learnt.LEARNT and unknown in learnt.LEARNT


def test_expiry_is_read_as_utc_when_naive_and_extended_when_learnt_again(clock):
    secret = _learnt_like_the_hooks(1)[0]
    naive = clock.at(60).replace(tzinfo=None)
    learn_secret(secret, expires_at=naive)
    clock.now = NOW + 60 + learnt.GRACE
    learn_secret(secret, expires_at=clock.at(7200))  # a refresh returned the same token
    clock.now = NOW + 7200 + learnt.GRACE - 1
    learn_secret("touches-the-set-0001")
    assert secret in learnt.LEARNT
    clock.now = NOW + 7200 + learnt.GRACE
    learn_secret("touches-the-set-0002")
    assert secret not in learnt.LEARNT


def test_a_secret_past_its_grace_is_not_learnt(clock):
    learn_secret("long-expired-token-0123456789", expires_at=clock.at(-learnt.GRACE - 1))
    assert len(learnt.LEARNT) == 0


def test_the_set_keeps_the_1024_most_recently_used(clock):
    secrets = _learnt_like_the_hooks(1100)
    for secret in secrets[:1024]:
        learn_secret(secret)
    learn_secret(secrets[0])  # used again: now the most recent
    for secret in secrets[1024:]:
        learn_secret(secret)
    assert len(learnt.LEARNT) == 1024
    redact = Redactor()
    assert redact(secrets[0]) == MASK and redact(secrets[-1]) == MASK
    assert all(redact(secret) == secret for secret in secrets[1:77])
    assert all(redact(secret) == MASK for secret in secrets[77:])


def test_short_or_empty_secrets_are_not_learnt(clock):
    for secret in (None, "", "1234567"):
        learn_secret(secret)
    assert len(learnt.LEARNT) == 0


def test_no_secret_shows_in_a_repr(clock):
    secret = _learnt_like_the_hooks(1)[0]
    learn_secret(secret)
    redact = Redactor([OWN_API_KEY])
    texts = [repr(redact), repr(learnt.LEARNT), repr(learnt.LEARNT.current())]
    assert all(secret not in text and OWN_API_KEY not in text for text in texts)


# ------------------------------------------------------------------- what the hooks learn


async def test_an_assumed_roles_keys_are_learnt_with_their_expiry(clock, monkeypatch):
    from aiobotocore.credentials import AioAssumeRoleCredentialFetcher

    from async_hooks.aws._session import build_session

    key, token = _learnt_like_the_hooks(2)
    expires = clock.at(3600)

    async def fetched(self):
        # As aiobotocore's fetcher returns them: the expiry serialised to ISO 8601.
        return {
            "access_key": "ASIAEXAMPLE",
            "secret_key": key,
            "token": token,
            "expiry_time": expires.isoformat(),
        }

    monkeypatch.setattr(AioAssumeRoleCredentialFetcher, "fetch_credentials", fetched)
    session = await build_session(
        profile_name=None,
        role_arn="arn:aws:iam::123456789012:role/reader",
        access_key="AKIAEXAMPLE",
        secret_key="source-secret-0123456789",
        session_token=None,
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:1",
    )
    credentials = await session.get_credentials()
    assert (await credentials.get_frozen_credentials()).token == token
    assert key in learnt.LEARNT and token in learnt.LEARNT
    clock.now = NOW + 3600 + learnt.GRACE
    learn_secret("touches-the-set-0001")
    assert key not in learnt.LEARNT and token not in learnt.LEARNT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-06T04:16:21+00:00", 1796530581.0),  # aiobotocore's AssumeRole fetcher
        ("2026-12-06T04:16:21UTC", 1796530581.0),  # botocore's strftime form
        (dt.datetime(2026, 12, 6, 4, 16, 21, tzinfo=dt.timezone.utc), 1796530581.0),
        ("not a date", None),
        (None, None),
    ],
)
def test_the_fetched_expiry_is_read_or_left_out(value, expected):
    from async_hooks.aws._session import _expiry

    found = _expiry(value)
    assert (found.timestamp() if found else None) == expected


async def test_a_google_tokens_expiry_is_when_it_was_acquired_plus_its_duration():
    import aiohttp

    from async_hooks.gcp._token import build_token
    from async_hooks.testing.gcp import make_service_account

    account = make_service_account("http://127.0.0.1:1/token")
    async with aiohttp.ClientSession() as session:  # no request is made
        token = build_token(account, session, [])
        assert token.expiry_of("ya29.none-yet") is None
        acquired = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.timezone.utc)
        token.access_token, token.access_token_acquired_at = "ya29.live-token", acquired
        token.access_token_duration = 3599
        assert token.expiry_of("ya29.live-token") == acquired + dt.timedelta(seconds=3599)
        assert token.expiry_of("ya29.older-token") is None  # not the one the times are of
