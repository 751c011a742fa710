"""``python -m async_hooks``: the ``async-hooks`` command."""

from async_hooks.cli import main

raise SystemExit(main())
