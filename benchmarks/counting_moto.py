"""moto's server with a count of the requests it answers per AWS operation, so a benchmark
counts the API calls every approach makes the same way, outside the measured process.

``python -m benchmarks.counting_moto --port P``; ``GET /__counts`` returns the counts as JSON,
``POST /__counts`` returns them and starts again from zero.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple


def counting(app: Any) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/__counts":
            with lock:
                body = json.dumps(dict(counts)).encode()
                if environ.get("REQUEST_METHOD") == "POST":
                    counts.clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            with lock:
                counts[target.rsplit(".", 1)[-1]] += 1
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wsgi


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1", args.port, counting(app), threaded=True, request_handler=MotoRequestHandler
    )


if __name__ == "__main__":
    main()
