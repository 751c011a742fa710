"""moto's server with a count of the requests it answers per AWS operation, so a benchmark
counts the API calls every approach makes the same way, outside the measured process: the test
kit's counting moto (``async_hooks.testing._moto_process``), run from here.

``python -m benchmarks.counting_moto --port P``; ``GET /__counts`` returns the counts as JSON,
``POST /__counts`` returns them and starts again from zero.
"""

from __future__ import annotations

from async_hooks.testing._moto_process import counting, main

__all__ = ["counting", "main"]

if __name__ == "__main__":
    main()
