"""Fuzzing every hook's settings, connections and request checks: each input either works or
raises one of async_hooks' own errors (a ``HookError``), and no error shows a planted secret.

No request is sent: ``AsyncHttpHook._prepare_request`` holds every check ``request`` makes
before its first byte of I/O. Kept quick (the suite runs on two shared cores).
"""

from __future__ import annotations

import json
import math
import re

import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from async_hooks import (
    AsyncAwsHook,
    AsyncGcpHook,
    AsyncHttpHook,
    Connection,
    HookConfigError,
    HookError,
    RetryPolicy,
)
from async_hooks.connections._lookup import preset_connections

QUICK = settings(max_examples=250, deadline=None)
#: Distinctive, so no fixed message can hold it by chance.
SECRET = "Zq8-planted-SECRET"

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=6)
)
#: Anything: scalars, and lists, tuples and dicts of them.
ANY = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=3)
    ),
    max_leaves=6,
)
#: What JSON can hold.
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
#: Text that looks like a URL often enough to get past the first checks.
URLISH = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "//", ""]),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("[]:@%/?#.-x"), max_size=24),
)
SETTING = ANY | URLISH
HEADERS = ANY | st.dictionaries(
    st.text(max_size=8) | _SCALARS, st.text(max_size=8) | ANY, max_size=3
)
RETRY = st.none() | st.just(RetryPolicy()) | ANY
NUMBER = st.none() | st.integers() | st.floats() | st.integers(min_value=2**1100) | ANY


def _planted(value: object) -> object:
    return SECRET + value if isinstance(value, str) else value


def _check(error: HookError, *secrets: object) -> None:
    text = str(error)
    for secret in secrets:
        if isinstance(secret, str) and secret.startswith(SECRET):
            assert SECRET not in text
    if isinstance(error, HookConfigError):
        assert error.__cause__ is None


# ---------------------------------------------------------------------- AsyncHttpHook


@QUICK
@given(
    base_url=st.none() | SETTING,
    headers=st.none() | HEADERS,
    auth=st.none() | ANY | st.tuples(st.text(max_size=6), st.text(max_size=8)),
    timeout=NUMBER,
    max_concurrency=NUMBER,
    rate_limit=NUMBER,
    retry=RETRY,
)
def test_http_hook_settings(base_url, headers, auth, timeout, max_concurrency, rate_limit, retry):
    if isinstance(auth, tuple) and len(auth) == 2:
        auth = (auth[0], _planted(auth[1]))
        secret = auth[1]
    else:
        auth = secret = _planted(auth)
    try:
        hook = AsyncHttpHook(
            base_url,
            headers=headers,
            auth=auth,
            timeout=timeout,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            retry=retry,
        )
    except HookError as error:
        _check(error, secret)
    else:
        repr(hook)
        if hook.base_url is not None:
            assert hook.base_url.scheme in ("http", "https") and hook.base_url.host


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@QUICK
@given(
    method=st.sampled_from(["GET", "post", "M-SEARCH", "GÉT", "GET\r\n", ""]) | ANY,
    path=URLISH | ANY | st.text(max_size=20),
    params=st.none()
    | ANY
    | st.dictionaries(st.text(max_size=5), ANY, max_size=3)
    | st.lists(st.tuples(st.text(max_size=5), ANY), max_size=3),
    headers=st.none() | HEADERS,
)
def test_http_request_checks(method, path, params, headers):
    hook = AsyncHttpHook("http://127.0.0.1:9/api", auth=SECRET)
    try:
        request = hook._prepare_request(method, path, params=params, headers=headers)
    except HookError as error:
        _check(error, SECRET)
    else:
        assert _TOKEN.fullmatch(request.method)
        assert request.url.scheme in ("http", "https") and request.url.host
        str(request.url.update_query(request.params))  # what aiohttp does with params
        for name, value in request.headers.items():
            assert _TOKEN.fullmatch(name.upper()) and not _CONTROL.search(value)


# ---------------------------------------------------------------------- AsyncAwsHook

_CONFIG_KEYS = st.sampled_from(
    [*Config.OPTION_DEFAULTS, "connector_args", "warm_up_loader_caches", "bogus"]
)
CONFIG_KWARGS = ANY | st.dictionaries(
    _CONFIG_KEYS,
    ANY
    | st.dictionaries(
        st.sampled_from(["mode", "max_attempts", "total_max_attempts", "addressing_style"]),
        ANY | st.sampled_from(["standard", "path", "nope"]),
        max_size=2,
    ),
    max_size=3,
)
AWS_TEXT = st.none() | st.text(max_size=16) | ANY


@QUICK
@given(
    region_name=AWS_TEXT | st.sampled_from(["us-east-1", "us-east-1\n", "EU-WEST-1"]),
    endpoint_url=st.none() | SETTING,
    aws_access_key_id=AWS_TEXT,
    aws_secret_access_key=AWS_TEXT,
    aws_session_token=AWS_TEXT,
    profile_name=AWS_TEXT,
    role_arn=AWS_TEXT | st.just("arn:aws:iam::1:role/x"),
    config_kwargs=st.none() | CONFIG_KWARGS,
    max_concurrency=NUMBER,
    rate_limit=NUMBER,
    retry=RETRY,
)
def test_aws_hook_settings(**kwargs):
    for name in ("aws_secret_access_key", "aws_session_token"):
        kwargs[name] = _planted(kwargs[name])
    try:
        hook = AsyncAwsHook(**kwargs)
    except HookError as error:
        _check(error, kwargs["aws_secret_access_key"], kwargs["aws_session_token"])
    else:
        repr(hook)
        from async_hooks.aws._config import client_config

        client_config(hook.config_kwargs, 10)  # what the first client will build


# ---------------------------------------------------------------------- AsyncGcpHook

#: A key file's look, with a planted private key: no message may repeat it.
_KEY = {"type": "service_account", "private_key": SECRET, "project_id": "p"}
SERVICE_FILE = (
    ANY
    | st.text(max_size=20).map(lambda t: "\ufeff" + t)
    | st.sampled_from(["a\x00b.json", "k" * 5000, "~no-such-user/key.json", "/", "\ud800"])
    | st.builds(
        lambda lead, value, cut: (lead + json.dumps(value))[: cut or None],
        st.sampled_from(["", "\ufeff", " \n", "\ufeff ", "x"]),
        JSON_VALUE | st.just(_KEY) | st.lists(st.just(_KEY), max_size=2),
        st.integers(-3, 0),
    )
    | st.dictionaries(st.text(max_size=5) | st.integers(), ANY, max_size=3).map(
        lambda d: {**d, "private_key": SECRET}
    )
)


@QUICK
@given(
    project=st.none() | st.text(max_size=10),
    service_file=st.none() | SERVICE_FILE,
    scopes=st.none() | st.lists(st.text(max_size=10), max_size=2),
    api_root=st.none() | SETTING,
    storage_api_root=st.none() | SETTING,
    timeout=st.floats() | st.integers(-5, 10**6),
    max_concurrency=NUMBER,
    rate_limit=NUMBER,
    retry=RETRY,
)
def test_gcp_hook_settings(**kwargs):
    try:
        hook = AsyncGcpHook(**kwargs)
    except HookError as error:
        assert SECRET not in str(error) and "service_account" not in str(error)
        assert error.__cause__ is None
    else:
        assert SECRET not in repr(hook)


# ---------------------------------------------------------------------- connections


@QUICK
@given(st.text(max_size=60) | ANY)
def test_connection_text(text):
    for parse in (Connection.parse, Connection.from_uri, Connection.from_json):
        try:
            conn = parse(text)
        except HookError:
            pass
        else:
            assert conn.port is None or (type(conn.port) is int and 0 <= conn.port <= 65535)
            assert isinstance(conn.extra, dict)


_FIELDS = st.sampled_from(["conn_type", "host", "login", "schema", "extra"])
_PORT = (
    st.none()
    | st.booleans()
    | st.integers(-5, 70000)
    | st.floats()
    | st.sampled_from(["", "80", " 80", "1.5", "x", "99999"])
    | JSON_VALUE
)


@QUICK
@given(st.dictionaries(_FIELDS, JSON_VALUE | st.sampled_from(["", "[]", "{}"])), _PORT)
def test_connection_json_fields(fields, port):
    fields = {**fields, "port": port, "password": SECRET}
    try:
        conn = Connection.from_json(json.dumps(fields))
    except HookError as error:
        _check(error, SECRET)
    else:
        assert conn.port is None or (type(conn.port) is int and 0 <= conn.port <= 65535)
        assert not isinstance(fields.get("port"), (bool, float))  # the Task SDK refuses them
        assert SECRET not in repr(conn)


@QUICK
@given(st.text(max_size=20) | ANY | st.sampled_from(["id\ud800", "id\x00", "\udcff"]))
def test_conn_id_lookup(conn_id):
    try:
        Connection.from_env(conn_id)
    except HookError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    conn_type=st.none() | st.sampled_from(["http", "HTTPS", "aws", "google_cloud_platform"]),
    host=st.none() | st.text(max_size=12) | URLISH,
    port=st.none() | st.integers(0, 65535),
    login=st.none() | st.text(max_size=6),
    schema=st.none() | st.text(max_size=6),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "timeout",
                "token",
                "headers",
                "X-Team",
                "bad key",
                "region_name",
                "endpoint_url",
                "role_arn",
                "profile_name",
                "config_kwargs",
                "keyfile_dict",
                "key_path",
                "project",
                "scope",
            ]
        ),
        JSON_VALUE | URLISH,
        max_size=4,
    ),
)
def test_every_hook_from_a_fuzzed_connection(conn_type, host, port, login, schema, extra):
    conn = Connection(
        conn_type=conn_type,
        host=host,
        port=port,
        login=login,
        password=SECRET,
        schema=schema,
        extra=extra,
        conn_id="fuzz",
    )
    with preset_connections({"fuzz": conn}):
        for hook_class in (AsyncHttpHook, AsyncAwsHook, AsyncGcpHook):
            try:
                repr(hook_class(conn_id="fuzz"))
            except HookError as error:
                _check(error, SECRET)


def test_the_strategies_reach_past_the_first_checks():
    """Guard against a fuzz test that only ever sees the first type check fail."""
    hook = AsyncHttpHook("http://127.0.0.1:9", headers={"X-A": "1"}, auth=("u", "p"))
    assert hook._prepare_request("get", "/x", params={"a": [1, 2.5]}).method == "GET"
    assert AsyncAwsHook(config_kwargs={"retries": {"mode": "standard"}}).config_kwargs
    assert math.isfinite(AsyncGcpHook(timeout=1).timeout)


# ---------------------------------------------------------------------- found by the fuzzing
# Ints beyond a float's range (math.isfinite raises OverflowError for them) and scopes that are
# not a list, found in the core and GCP settings: each pinned by its own example.


def test_a_huge_rate_limit_is_a_config_error():
    with pytest.raises(HookConfigError, match="rate_limit"):
        AsyncHttpHook(rate_limit=2**1100)


def test_a_huge_gcp_timeout_is_a_config_error():
    with pytest.raises(HookConfigError, match="timeout"):
        AsyncGcpHook(timeout=2**1100)


@pytest.mark.parametrize("scopes", [1, "https://www.googleapis.com/auth/cloud-platform"])
def test_gcp_scopes_must_be_a_list_of_str(scopes):
    try:
        hook = AsyncGcpHook(scopes=scopes)
    except HookConfigError:
        return
    raise AssertionError(f"scopes={scopes!r} accepted as {hook.scopes!r}")
