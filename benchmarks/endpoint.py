"""A minimal AWS-JSON and HTTP endpoint, run in its own process (``python -m
benchmarks.endpoint --port P [--rate R]``), so that client overhead is measured against a server
that costs next to nothing and does not share the client's GIL.

``--rate`` makes it a token bucket of R requests/s (burst R) that answers the rest with AWS's
``ThrottlingException``. ``GET /stats`` and ``POST /reset`` read and clear its counters.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiohttp import web

CLUSTERS = json.dumps({"clusterArns": []}).encode()
THROTTLED = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


def app(rate: float | None) -> web.Application:
    state = {"requests": 0, "throttled": 0, "tokens": rate or 0.0, "at": 0.0}

    def admit() -> bool:
        if rate is None:
            return True
        now = asyncio.get_running_loop().time()
        if not state["at"]:
            state["at"] = now
        state["tokens"] = min(rate, state["tokens"] + (now - state["at"]) * rate)
        state["at"] = now
        if state["tokens"] >= 1:
            state["tokens"] -= 1
            return True
        return False

    async def aws(request: web.Request) -> web.Response:
        await request.read()
        state["requests"] += 1
        if not admit():
            state["throttled"] += 1
            return web.Response(
                body=THROTTLED, status=400, content_type="application/x-amz-json-1.1"
            )
        return web.Response(body=CLUSTERS, content_type="application/x-amz-json-1.1")

    async def ping(request: web.Request) -> web.Response:
        state["requests"] += 1
        return web.Response(body=b'{"ok": true}', content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": state["requests"], "throttled": state["throttled"]})

    async def reset(request: web.Request) -> web.Response:
        state.update(requests=0, throttled=0, tokens=rate or 0.0, at=0.0)
        return web.json_response({})

    application = web.Application()
    application.router.add_post("/", aws)
    application.router.add_get("/ping", ping)
    application.router.add_get("/stats", stats)
    application.router.add_post("/reset", reset)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    web.run_app(app(args.rate), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
