"""The ``async-hooks`` command, in small parts: the kinds it knows (``catalog``), its arguments
(``parser``), the progress display (``display``), the results (``report``), the waits
(``waits``) and the entry point with its exit codes (``main``). ``async_hooks.cli:main`` is the
installed script; rich is imported here only, never by ``import async_hooks``."""
