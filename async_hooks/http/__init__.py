"""The HTTP provider: ``AsyncHttpHook`` for any REST job API, on aiohttp."""

from async_hooks._rest.errors import HttpError
from async_hooks.http.hook import AsyncHttpHook, HttpResponse, HttpSync

__all__ = ["AsyncHttpHook", "HttpError", "HttpResponse", "HttpSync"]
