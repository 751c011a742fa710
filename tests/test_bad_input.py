"""Bad input gets a typed ``HookConfigError`` that names the problem and echoes no secret.

Each test here failed before its fix: a raw ``ValueError``/``TypeError``/``AttributeError``/
``UnicodeError``, an error found only at the first request or client, or a message that
repeated a private key.
"""

from __future__ import annotations

import json
import traceback

import pytest

from async_hooks import (
    AsyncAwsHook,
    AsyncGcpHook,
    AsyncHttpHook,
    Connection,
    HookConfigError,
    RetryPolicy,
)
from async_hooks.testing.gcp import make_service_account

SECRET = "Pl4nted-S3cret-VALUE"
#: Nothing listens on port 9 (discard) of localhost: a request that got that far would fail
#: with a ServiceError, not a HookConfigError.
UNREACHABLE = "http://127.0.0.1:9"


def _no_secret(error: BaseException, *secrets: str) -> None:
    """Neither the message nor a chained cause repeats any of ``secrets``."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert error.__cause__ is None


def _raises(call, *args, match: str | None = None, secrets: tuple[str, ...] = (), **kwargs):
    with pytest.raises(HookConfigError, match=match) as caught:
        call(*args, **kwargs)
    _no_secret(caught.value, *secrets)
    return caught.value


# ---------------------------------------------------------------------- AsyncHttpHook: headers


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Team": "data\r\nX-Injected: 1"},
        {"X-Team": "data\nmore"},
        {"X-Team": "nul\x00byte"},
        {"X-Bad\r\nName": "v"},
        {"X Space": "v"},
        {"": "v"},
        {"X-Colon:": "v"},
        {"X-Team": "lone \ud800 surrogate"},
    ],
)
def test_bad_header_refused_at_construction(headers):
    _raises(AsyncHttpHook, UNREACHABLE, headers=headers, match="header")


def test_bad_header_value_error_names_the_header_not_the_value():
    error = _raises(
        AsyncHttpHook,
        UNREACHABLE,
        headers={"X-Api-Key": f"{SECRET}\r\n"},
        secrets=(SECRET,),
        match="X-Api-Key",
    )
    assert "value" in str(error)


def test_connection_extras_that_become_headers_are_checked(monkeypatch):
    extra = {"X-Team": "data\nmore", "api_key": f"{SECRET}\n"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_BAD_HEADERS",
        json.dumps({"conn_type": "http", "host": "127.0.0.1", "extra": extra}),
    )
    _raises(AsyncHttpHook, conn_id="bad_headers", match="header", secrets=(SECRET,))
    monkeypatch.setenv(
        "AIRFLOW_CONN_BAD_NESTED",
        json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "extra": {"headers": {"X-A": "1\r\n"}}}
        ),
    )
    _raises(AsyncHttpHook, conn_id="bad_nested", match="X-A")


async def test_bad_request_header_refused_before_any_request():
    async with AsyncHttpHook(UNREACHABLE, retry=RetryPolicy.none()) as hook:
        with pytest.raises(HookConfigError, match="X-Trace") as caught:
            await hook.request("GET", "/x", headers={"X-Trace": f"{SECRET}\r\nEvil: 1"})
        _no_secret(caught.value, SECRET)
        with pytest.raises(HookConfigError, match="header"):
            await hook.request("GET", "/x", headers={"X-Trace": 5})  # type: ignore[dict-item]
        with pytest.raises(HookConfigError, match="headers"):
            await hook.request("GET", "/x", headers=["X-Trace"])  # type: ignore[arg-type]
    assert hook.stats()["calls"] == 0


def test_bearer_token_and_basic_auth_are_checked():
    _raises(AsyncHttpHook, UNREACHABLE, auth=f"{SECRET}\x00", secrets=(SECRET,), match="token")
    # aiohttp encodes basic auth as UTF-8: a lone surrogate raised a raw UnicodeEncodeError.
    _raises(
        AsyncHttpHook,
        UNREACHABLE,
        auth=("user", f"{SECRET}\ud800"),
        secrets=(SECRET,),
        match="password",
    )
    _raises(AsyncHttpHook, UNREACHABLE, auth=("us\ner", "pw"), match="user")


def test_huge_timeout_is_a_config_error():
    # float(2**2000) raised a raw OverflowError.
    _raises(AsyncHttpHook, UNREACHABLE, timeout=2**2000, match="timeout")


# ---------------------------------------------------------------------- AsyncHttpHook: method


@pytest.mark.parametrize(
    "method", ["GÉT", "GET\r\n", "GE T", "", "GET\x00", "(GET)", "\uff27\uff25\uff34"]
)
def test_method_must_be_an_rfc9110_token(method):
    hook = AsyncHttpHook(UNREACHABLE)
    _raises(hook._prepare_request, method, "/x", match="method")


async def test_non_token_method_refused_before_any_request():
    # "GÉT".isalpha() is True: it went out to aiohttp, which raised a raw ValueError.
    async with AsyncHttpHook(UNREACHABLE, retry=RetryPolicy.none()) as hook:
        with pytest.raises(HookConfigError, match="method"):
            await hook.request("GÉT", "/x")
    assert hook.stats()["calls"] == 0


@pytest.mark.parametrize(("method", "sent"), [("get", "GET"), ("M-SEARCH", "M-SEARCH")])
def test_token_methods_are_upper_cased(method, sent):
    hook = AsyncHttpHook(UNREACHABLE)
    assert hook._prepare_request(method, "/x").method == sent


# ---------------------------------------------------------------------- AsyncHttpHook: params


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"a": None}, "'a'"),
        ({"a": True}, "'a'"),
        ({"a": [1, None]}, "'a'"),
        ({"a": [[1]]}, "'a'"),
        ({"a": b"bytes"}, "'a'"),
        ({"a": {"b": 1}}, "'a'"),
        ({"a": float("nan")}, "'a'"),
        ({"a": float("inf")}, "'a'"),
        ({"a": "lone \udc80"}, "'a'"),
        ({1: "x"}, "name"),
        ("a=1", "params"),
        (5, "params"),
    ],
)
async def test_bad_params_refused_before_any_request(params, problem):
    async with AsyncHttpHook(UNREACHABLE, retry=RetryPolicy.none()) as hook:
        with pytest.raises(HookConfigError, match=problem):
            await hook.request("GET", "/x", params=params)
    assert hook.stats()["calls"] == 0


def test_params_yarl_accepts_pass():
    hook = AsyncHttpHook(UNREACHABLE)
    request = hook._prepare_request(
        "GET", "/x", params={"s": "v", "i": 1, "f": 1.5, "many": [1, "two", 3.0], "none": ()}
    )
    assert request.params == {"s": "v", "i": 1, "f": 1.5, "many": [1, "two", 3.0], "none": ()}
    pairs = hook._prepare_request("GET", "/x", params=[("a", 1), ("a", "2")])
    assert pairs.params == [("a", 1), ("a", "2")]


async def test_params_are_sent_as_before(scripted):
    url, _ = scripted()
    async with AsyncHttpHook(url) as hook:
        answer = await hook.get_json("/x", params={"a": [1, "b"], "c": 2.5})
    assert answer["status"] == "SUCCEEDED"


# ---------------------------------------------------------------------- URLs of every hook


@pytest.mark.parametrize(
    "path", ["https://[::1", "http://[::1]:99999/x", "http://xn--:300/x", "http://a b/x"]
)
def test_bad_absolute_path_is_a_config_error(path):
    hook = AsyncHttpHook(UNREACHABLE)
    _raises(hook._prepare_request, "GET", path, match="URL")


@pytest.mark.parametrize("path", ["/jobs/42\n", "/jobs\r\nX: 1", "jobs\x00", "\t/jobs"])
def test_path_with_a_control_character_is_refused(path):
    # yarl drops CR, LF and TAB without a word: "/jobs/42\n" went out as "/jobs/42".
    hook = AsyncHttpHook(UNREACHABLE)
    _raises(hook._prepare_request, "GET", path, match="control character")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://xn--:300", "host"),  # raw UnicodeError from the IDNA codec
        ("http://xn--a", "host"),
        ("https://[::1", "IPv6"),
        ("http://h:99999", "port"),
        ("http://a b", "host"),
        ("http://a\x00b", "control character"),
        ("http://h/jobs\n", "control character"),  # yarl drops a line break silently
        ("http://\u200b", "URL"),
    ],
)
def test_every_url_setting_refuses_a_broken_url(url, problem):
    _raises(AsyncHttpHook, url, match=f"base_url.*{problem}")
    _raises(AsyncAwsHook, endpoint_url=url, match=f"endpoint_url.*{problem}")
    _raises(AsyncGcpHook, api_root=url, match=f"api_root.*{problem}")
    _raises(AsyncGcpHook, storage_api_root=url, match=f"storage_api_root.*{problem}")


def test_a_url_with_credentials_never_echoes_them():
    error = _raises(
        AsyncHttpHook, f"http://user:{SECRET}@xn--:1", match="base_url", secrets=(SECRET,)
    )
    assert "xn--" not in str(error)


def test_airflow_ipv6_host_and_upper_case_type_build_a_base_url(monkeypatch):
    # Airflow's own parser gives "::1" (no brackets) and keeps a JSON conn_type's case.
    monkeypatch.setenv(
        "AIRFLOW_CONN_V6", json.dumps({"conn_type": "HTTPS", "host": "::1", "port": 8443})
    )
    assert str(AsyncHttpHook(conn_id="v6").base_url) == "https://[::1]:8443"


# ---------------------------------------------------------------------- AsyncGcpHook: service_file


@pytest.fixture(scope="module")
def account() -> dict:
    return make_service_account("http://127.0.0.1:9/token")


def _key_parts(account: dict) -> tuple[str, ...]:
    return (account["private_key"].splitlines()[5], account["private_key_id"])


def test_service_file_path_with_a_nul_byte():
    _raises(AsyncGcpHook, service_file="/tmp/x\x00.json", match="service_file path")


def test_service_file_path_too_long():
    _raises(AsyncGcpHook, service_file="a" * 5000, match="service_file path cannot be read")


def test_unreadable_path_is_not_echoed(tmp_path):
    path = str(tmp_path / f"{SECRET}.json")
    _raises(AsyncGcpHook, service_file=path, match="cannot be read", secrets=(SECRET,))


@pytest.mark.parametrize("lead", ["\ufeff", "\ufeff \n", " \n\ufeff", "\t"])
def test_json_text_with_a_bom_or_leading_space_is_json(account, lead):
    hook = AsyncGcpHook(service_file=lead + json.dumps(account))
    assert hook.project == account["project_id"]


def test_a_json_list_names_the_problem_without_the_key(account):
    error = _raises(
        AsyncGcpHook,
        service_file="\ufeff" + json.dumps([account]),
        match="credentials JSON object",
        secrets=_key_parts(account),
    )
    assert "cannot be read" not in str(error)


def test_broken_json_text_never_repeats_the_key(account):
    text = "\ufeff" + json.dumps(account)[:-1]  # no closing brace
    _raises(AsyncGcpHook, service_file=text, match="not valid JSON", secrets=_key_parts(account))
    deep = "[" * 100_000
    _raises(AsyncGcpHook, service_file=deep, match="not valid JSON")


def test_service_file_contents_with_a_bom(account, tmp_path):
    path = tmp_path / "key.json"
    path.write_text("\ufeff" + json.dumps(account), encoding="utf-8")
    assert AsyncGcpHook(service_file=str(path)).project == account["project_id"]
    path.write_bytes(b"\xff\xfe not utf-8")
    _raises(AsyncGcpHook, service_file=str(path), match="UTF-8")
    path.write_text(json.dumps([account]), encoding="utf-8")
    _raises(
        AsyncGcpHook,
        service_file=str(path),
        match="credentials JSON object",
        secrets=_key_parts(account),
    )


@pytest.mark.parametrize("value", [b'{"type": "service_account"}', 5, ["a"], True])
def test_service_file_of_another_type(value):
    _raises(AsyncGcpHook, service_file=value, match="path, a JSON string or a mapping")


def test_service_file_mapping_must_be_json_data(account):
    # json.dumps of the identity raised a raw TypeError.
    _raises(
        AsyncGcpHook,
        service_file={**account, "extra": b"bytes"},
        match="JSON",
        secrets=_key_parts(account),
    )
    _raises(AsyncGcpHook, service_file={**account, 1: "x"}, match="JSON")


# ---------------------------------------------------------------------- AsyncAwsHook


@pytest.mark.parametrize(
    ("config_kwargs", "problem"),
    [
        ("x", "config_kwargs must be a mapping"),
        (["retries"], "config_kwargs must be a mapping"),
        ({"retries": 3}, "'retries'.*mapping"),
        ({"s3": "x"}, "'s3'.*mapping"),
        ({"proxies": "http://proxy"}, "'proxies'.*mapping"),
        ({"max_pool_connections": "x"}, "'max_pool_connections'.*int"),
        ({"max_pool_connections": True}, "'max_pool_connections'.*int"),
        ({"max_pool_connections": 0}, "'max_pool_connections'"),
        ({"user_agent_extra": True}, "'user_agent_extra'.*str"),
        ({"region_name": 5}, "'region_name'.*str"),
        ({"connect_timeout": "5"}, "'connect_timeout'.*number"),
        ({"connect_timeout": True}, "'connect_timeout'.*number"),
        ({"read_timeout": float("nan")}, "'read_timeout'"),
        ({"read_timeout": -1}, "'read_timeout'"),
        ({"parameter_validation": "yes"}, "'parameter_validation'.*bool"),
        ({"bogus": 1, "other": 2}, r"unknown.*\['bogus', 'other'\]"),
        ({"retries": {"mode": "nope"}}, "retries"),
        ({"retries": {"max_attempts": "3"}}, "max_attempts"),
        ({"retries": {"bogus": 1}}, "retries"),
        ({"s3": {"addressing_style": "sideways"}}, "addressing_style"),
        ({"connector_args": {"force_close": "yes"}}, "connector_args"),
        ({"connector_args": {"bogus": 1}}, "connector_args"),
        ({"client_cert": 5}, "'client_cert'"),
    ],
)
def test_bad_config_kwargs_are_refused_at_construction(config_kwargs, problem):
    _raises(AsyncAwsHook, config_kwargs=config_kwargs, match=problem)


def test_config_kwargs_never_echo_a_proxy_password():
    _raises(
        AsyncAwsHook,
        config_kwargs={"proxies": {"https": f"http://u:{SECRET}@proxy:3128", "x": 5}},
        match="proxies",
        secrets=(SECRET,),
    )


def test_good_config_kwargs_build_the_client_config():
    hook = AsyncAwsHook(
        config_kwargs={
            "connect_timeout": 5,
            "read_timeout": 2.5,
            "retries": {"mode": "standard", "max_attempts": 7},
            "s3": {"addressing_style": "path"},
            "max_pool_connections": 500,
            "signature_version": "unsigned",
            "proxies": {"https": "http://proxy:3128"},
            "connector_args": {"keepalive_timeout": 3},
            "user_agent_extra": "jobs/1",
        }
    )
    from botocore import UNSIGNED

    from async_hooks.aws._config import client_config

    config = client_config(hook.config_kwargs, 100)
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.max_pool_connections == 500
    assert config.signature_version is UNSIGNED  # as Airflow's AWS connection does
    assert config.s3 == {"addressing_style": "path"}
    assert client_config({}, 100).max_pool_connections == 100


@pytest.mark.parametrize("extra_config", ['{"connect_timeout": 5}', "[1]", 5, {"retries": "x"}])
def test_config_kwargs_from_the_connection_must_be_an_object(monkeypatch, extra_config):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_BAD_CONFIG",
        json.dumps({"conn_type": "aws", "extra": {"config_kwargs": extra_config}}),
    )
    _raises(AsyncAwsHook, conn_id="aws_bad_config", match="config_kwargs")


@pytest.mark.parametrize(
    "region", ["us-east-1\n", " us-east-1", "us_east_1", "-us-east-1", "123", "a" * 64, "é"]
)
def test_region_name_must_be_a_valid_host_label(region):
    _raises(AsyncAwsHook, region_name=region, match="region_name")


def test_region_name_from_the_connection_is_checked(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AWS_BAD_REGION", "aws://?region_name=us-east-1%0A")
    _raises(AsyncAwsHook, conn_id="aws_bad_region", match="region_name")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"profile_name": "dev\n"}, "profile_name"),
        ({"profile_name": "  "}, "profile_name"),
        ({"profile_name": " dev"}, "profile_name"),
        ({"role_arn": "arn:aws:iam::1:role/x\n"}, "role_arn"),
        ({"role_arn": "  "}, "role_arn"),
        ({"role_arn": "reader"}, "role_arn"),
    ],
)
def test_profile_and_role_must_be_single_line_names(kwargs, problem):
    _raises(AsyncAwsHook, **kwargs, match=problem)


def test_keys_with_control_characters_are_refused_without_echo():
    _raises(
        AsyncAwsHook,
        aws_access_key_id="AKIA",
        aws_secret_access_key=f"{SECRET}\n",
        match="aws_secret_access_key",
        secrets=(SECRET,),
    )
    _raises(
        AsyncAwsHook,
        aws_access_key_id="AKIA",
        aws_secret_access_key="s",
        aws_session_token=f"{SECRET}\ud800",
        match="aws_session_token",
        secrets=(SECRET,),
    )


def test_good_aws_settings_still_pass():
    hook = AsyncAwsHook(
        region_name="eu-west-1",
        profile_name="",  # empty means unset, as before
        role_arn="arn:aws:iam::123456789012:role/reader",
        aws_access_key_id="AKIA",
        aws_secret_access_key="s/+=",
    )
    assert hook.region_name == "eu-west-1" and hook.profile_name is None


# ---------------------------------------------------------------------- connections


def test_json_empty_port_is_no_port():
    assert Connection.from_json('{"conn_type": "http", "port": ""}').port is None


@pytest.mark.parametrize("port", ["1.5", "true", "false", '"1.5"', "[80]", "{}", "-1", '"x"'])
def test_json_port_must_be_an_integer(port):
    _raises(Connection.from_json, f'{{"port": {port}, "password": "{SECRET}"}}', secrets=(SECRET,))


@pytest.mark.parametrize(("port", "value"), [("80", 80), ('"80"', 80), ("0", 0), ("null", None)])
def test_json_ports_airflow_accepts(port, value):
    assert Connection.from_json(f'{{"port": {port}}}').port == value


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("postgresql", "postgres"),
        ("google-cloud-platform", "google_cloud_platform"),
        ("aws", "aws"),
    ],
)
def test_conn_type_normalised_as_airflow_does(given, normalised):
    assert Connection.from_uri(f"{given}://h").conn_type == normalised
    assert Connection.from_json(json.dumps({"conn_type": given})).conn_type == normalised


def test_upper_case_uri_scheme_is_read_as_airflow_reads_it():
    conn = Connection.from_uri("HTTPS://h:1")
    assert (conn.conn_type, conn.host, conn.port) == ("https", "h", 1)


@pytest.mark.parametrize("value", [5, None, b'{"conn_type": "aws"}', ["x"]])
def test_non_text_is_a_config_error(value):
    _raises(Connection.from_json, value, match="str")
    _raises(Connection.parse, value, match="str")


def test_conn_id_that_cannot_be_an_environment_variable():
    _raises(Connection.from_env, "bad\ud800id", match="conn_id")
    _raises(Connection.from_env, "bad\x00id", match="conn_id")


async def test_a_json_body_that_json_cannot_carry_is_a_config_error_before_sending(scripted):
    url, script = scripted([], then=(200, {}))
    async with AsyncHttpHook(url) as hook:
        for body in ({"when": object()}, {"x": float("nan")}, {1j: 2}):
            with pytest.raises(HookConfigError, match="json="):
                await hook.request("POST", "/jobs", json=body)
        with pytest.raises(HookConfigError, match="not both"):
            await hook.request("POST", "/jobs", json={}, data=b"x")
        assert script.seen_headers == []  # nothing was sent
        await hook.request("POST", "/jobs", json={"name": "etl"})
    assert script.seen_headers[0]["Content-Type"] == "application/json"


def test_an_empty_region_in_the_environment_is_named_not_a_bad_endpoint(monkeypatch):
    from async_hooks.aws import AsyncAwsHook

    monkeypatch.setenv("AWS_DEFAULT_REGION", "")
    monkeypatch.delenv("AWS_REGION", raising=False)
    hook = AsyncAwsHook(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-real-secret")
    try:
        with pytest.raises(HookConfigError, match="the region is empty") as caught:
            hook.sync.call("batch", "describe_jobs", jobs=["j-1"])
    finally:
        hook.sync.close()
    assert "not-a-real-secret" not in str(caught.value)
