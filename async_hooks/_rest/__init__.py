"""What every REST provider shares, on aiohttp: one exchange (request, read, map), the one
mapping of aiohttp's errors and of non-2xx answers, and ``HttpResponse``.

``AsyncHttpHook`` and ``AsyncGcpHook`` (Google's REST APIs) both build on it; neither imports
the other's private modules.
"""
