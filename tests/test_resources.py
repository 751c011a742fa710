"""Nothing leaks: clients close with their last hook, at loop shutdown, and under -X dev."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from conftest import run_dev_mode

from async_hooks import AsyncHttpHook, HookClosedError, HookConfigError
from async_hooks._core.loopstate import current_state


async def test_two_hooks_with_the_same_settings_share_one_session(job_server):
    server = job_server()
    first, second = AsyncHttpHook(server.url), AsyncHttpHook(server.url)
    await first.get_json("/ping")
    await second.get_json("/ping")
    assert first.stats()["clients_created"] + second.stats()["clients_created"] == 1
    assert len(current_state().clients) == 1
    await first.close()
    assert len(current_state().clients) == 1  # still used by the second hook
    await second.get_json("/ping")
    await second.close()
    assert len(current_state().clients) == 0


async def test_different_credentials_get_different_sessions(job_server):
    server = job_server()
    async with AsyncHttpHook(server.url, auth="a-token") as a, AsyncHttpHook(server.url) as b:
        await a.get_json("/ping")
        await b.get_json("/ping")
        assert len(current_state().clients) == 2


async def test_client_is_created_once_when_hundreds_ask_at_once(job_server):
    server = job_server()
    async with AsyncHttpHook(server.url) as hook:
        await asyncio.gather(*(hook.get_json("/ping") for _ in range(300)))
        assert hook.stats()["clients_created"] == 1


async def test_closed_hook_refuses_calls_and_closing_twice_is_fine(job_server):
    server = job_server()
    hook = AsyncHttpHook(server.url)
    await hook.get_json("/ping")
    await hook.close()
    await hook.close()
    with pytest.raises(HookClosedError):
        await hook.get_json("/ping")
    async with hook:  # entering again reopens it
        assert await hook.get_json("/ping") == {"ok": True}


def test_a_hook_works_across_several_asyncio_runs(job_server):
    server = job_server()
    hook = AsyncHttpHook(server.url)

    async def once() -> object:
        return await hook.get_json("/ping")  # never closed: the loop's shutdown closes it

    for _ in range(3):
        assert asyncio.run(once()) == {"ok": True}
    assert hook.stats()["clients_created"] == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "ftp://host"},
        {"base_url": "not a url"},
        {"base_url": "http://user:pw@host"},
        {"timeout": 0},
        {"auth": ("a",)},
        {"auth": ""},
        {"max_concurrency": 0},
        {"rate_limit": -1.0},
        {"retry": 3},
        {"headers": {"X": 1}},
    ],
)
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(HookConfigError):
        AsyncHttpHook(**kwargs)


async def test_relative_path_without_base_url_is_a_config_error():
    hook = AsyncHttpHook()
    with pytest.raises(HookConfigError, match="base_url"):
        await hook.request("GET", "/x")


DEV_MODE_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import gc
    from async_hooks import AsyncHttpHook
    from async_hooks._core import loopstate
    from async_hooks.testing import JobBoard, ThreadedServer, job_server_app

    sessions = []
    board = JobBoard()
    with ThreadedServer(job_server_app(board)) as server:
        job = server.call(lambda: board.create(polls=1))

        async def main(close: bool) -> None:
            hook = AsyncHttpHook(server.url)
            await hook.wait_for_job(f"/jobs/{job}", poll_interval=0.01)
            await asyncio.gather(*(hook.get_json("/ping") for _ in range(20)))
            sessions.append(await hook._client("any"))
            if close:
                async with hook:
                    pass

        for close in (True, False, True):
            asyncio.run(main(close))
            assert sessions[-1].closed, "the loop's shutdown left a session open"
    sessions.clear()  # they hold their loops
    gc.collect()
    assert len(loopstate._states) == 0, "per-loop state outlived its loop"
    print("done")
    """
)


def test_dev_mode_asyncio_run_three_times_leaves_no_unclosed_resource():
    out = run_dev_mode(DEV_MODE_SCRIPT, PYTHONASYNCIODEBUG="0")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
    assert "Unclosed" not in out.stderr and "ResourceWarning" not in out.stderr, out.stderr


SYNC_EXIT_SCRIPT = textwrap.dedent(
    """
    from async_hooks import AsyncHttpHook
    from async_hooks.testing import JobBoard, ThreadedServer, job_server_app

    board = JobBoard()
    server = ThreadedServer(job_server_app(board)).start()
    hook = AsyncHttpHook(server.url)
    assert hook.sync.get_json("/ping") == {"ok": True}
    print("done")  # the hook is never closed: interpreter exit drains the shared loop
    """
)


def test_interpreter_exit_closes_the_shared_loops_clients():
    out = run_dev_mode(SYNC_EXIT_SCRIPT)
    assert out.returncode == 0, out.stderr
    assert "Unclosed" not in out.stderr and "Warning" not in out.stderr, out.stderr
