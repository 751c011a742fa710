"""Connection parsing (Airflow's URI and JSON forms), environment look-up, and fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from async_hooks import AsyncHttpHook, Connection, HookConfigError


def test_uri_with_every_part():
    conn = Connection.from_uri(
        "http://us%40er:p%2Fss@api.example.com:8443/v1?timeout=5&X-Team=data"
    )
    assert conn.conn_type == "http"
    assert conn.login == "us@er" and conn.password == "p/ss"
    assert conn.host == "api.example.com" and conn.port == 8443
    assert conn.schema == "v1"
    assert conn.extra == {"timeout": "5", "X-Team": "data"}


def test_uri_extra_as_json():
    extra = json.dumps({"region_name": "eu-west-1", "config_kwargs": {"a": 1}})
    conn = Connection.from_uri(f"aws://?__extra__={extra}")
    assert conn.conn_type == "aws"
    assert conn.extra == {"region_name": "eu-west-1", "config_kwargs": {"a": 1}}


def test_uri_host_with_its_own_protocol_and_dashed_type():
    conn = Connection.from_uri("google-cloud-platform://https%3A%2F%2Fexample.com")
    assert conn.conn_type == "google_cloud_platform"
    assert conn.host == "https://example.com"


def test_json_form():
    conn = Connection.parse(
        '{"conn_type": "http", "host": "h", "port": "80", "login": "u", "password": "p",'
        ' "extra": "{\\"k\\": \\"v\\"}"}'
    )
    assert (conn.host, conn.port, conn.login, conn.password) == ("h", 80, "u", "p")
    assert conn.extra == {"k": "v"}


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("no-scheme-at-all", "no scheme"),
        ("http://h:99999", "port"),
        ("http://h:notaport", "port"),
        ("a://b://c://d", "more than two"),
        ("http://user:pass@https://host", "host protocol"),
        ("aws://?__extra__={not json", "extra"),
        ("aws://?__extra__=[1,2]", "extra"),
    ],
)
def test_malformed_uris_name_the_problem(uri, problem):
    with pytest.raises(HookConfigError, match=problem):
        Connection.from_uri(uri)


def test_malformed_uri_never_echoes_the_password():
    with pytest.raises(HookConfigError) as caught:
        Connection.from_uri("http://user:hunter2-secret@host:port/x")
    assert "hunter2-secret" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{bad json",
        '{"port": "x"}',
        '{"port": 70000}',
        '{"extra": 5}',
        '{"bogus": 1}',
        '{"host": 5}',
    ],
)
def test_malformed_json_is_a_config_error(text):
    with pytest.raises(HookConfigError):
        Connection.from_json(text)


def test_env_lookup_prefers_async_hooks_over_airflow(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_JOBS", "http://airflow-host")
    assert Connection.from_env("jobs").host == "airflow-host"
    monkeypatch.setenv("ASYNC_HOOKS_CONN_JOBS", "http://ours")
    assert Connection.from_env("jobs").host == "ours"


def test_unknown_conn_id_names_it_and_the_variables(no_conn_env):
    with pytest.raises(
        HookConfigError, match=r"'missing'.*ASYNC_HOOKS_CONN_MISSING.*AIRFLOW_CONN_MISSING"
    ):
        Connection.from_env("missing")


def test_http_connection_gives_base_url_and_basic_auth(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_API", "http://user:pass@127.0.0.1:8080")
    hook = AsyncHttpHook(conn_id="api")
    assert str(hook.base_url) == "http://127.0.0.1:8080"
    assert hook._authorization is not None and hook._authorization.startswith("Basic ")


def test_explicit_arguments_win_over_the_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_API",
        '{"conn_type": "http", "host": "conn-host", "extra": {"token": "t0k3n"}}',
    )
    hook = AsyncHttpHook("http://explicit:1", auth=("me", "pw"), conn_id="api")
    assert str(hook.base_url) == "http://explicit:1"
    assert hook._auth_kind == "basic"
    from_conn = AsyncHttpHook(conn_id="api")
    assert str(from_conn.base_url) == "http://conn-host"
    assert from_conn._auth_kind == "bearer"


def test_repr_masks_password_and_secret_extras():
    conn = Connection.from_uri("http://u:pw-secret@h?api_key=k-secret&team=x")
    text = repr(conn)
    assert "pw-secret" not in text and "k-secret" not in text
    assert "team" in text and "***" in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fuzzed_text_parses_or_raises_config_error(text):
    try:
        Connection.parse(text)
    except HookConfigError:
        pass


_PARTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "aws", "google-cloud-platform", "x"]),
    user=_PARTS,
    password=_PARTS,
    host=_PARTS,
    port=st.one_of(st.none(), st.integers(-5, 70000), _PARTS),
    path=_PARTS,
    query=_PARTS,
)
def test_fuzzed_uris_parse_or_raise_config_error(scheme, user, password, host, port, path, query):
    password = f"Pw9{password}"  # distinctive, so a fixed message cannot contain it by chance
    uri = f"{scheme}://{user}:{password}@{host}"
    if port is not None:
        uri += f":{port}"
    uri += f"/{path}?{query}"
    try:
        conn = Connection.from_uri(uri)
    except HookConfigError as error:
        assert password not in str(error)
    else:
        assert conn.port is None or 0 <= conn.port <= 65535


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_fuzzed_json_parses_or_raises_config_error(value):
    try:
        Connection.from_json(json.dumps(value))
    except HookConfigError:
        pass
