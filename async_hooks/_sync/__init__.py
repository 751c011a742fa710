"""Sync bridge: the shared loop thread, ``run_sync``, blocking facades, ``AsyncExecutor``."""
