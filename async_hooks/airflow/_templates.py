"""One Jinja environment per process for triggers' templates, compiling each source once.

Airflow's triggerer renders the templated fields of every trigger it starts from the scheduler
(``start_from_trigger``) with a new environment, compiling every string anew: thousands of
sensors of one DAG compile the same few strings (``{{ dag_run.conf['runs'][3][1] }}``) thousands
of times, on the loop every trigger shares (12 % of the runner's busy samples while 2,000
sensors started). A compiled template is immutable and renders any context, so it is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["TEMPLATES_KEPT", "shared_env"]

#: How many distinct template sources the shared environment keeps compiled.
TEMPLATES_KEPT = 1024
_template_env: Any = None


def shared_env(make: Callable[[], Any]) -> Any:
    """The process's environment, made by ``make()`` the first time (Airflow's own, for a
    trigger without a DAG), its ``from_string`` compiling each source once."""
    global _template_env
    if _template_env is None:
        _template_env = _compiling_once(make())
    return _template_env


def _compiling_once(env: Any) -> Any:
    """``env`` whose ``from_string`` keeps its last ``TEMPLATES_KEPT`` compiled templates (a
    compiled template is immutable and renders any context)."""
    original = env.from_string
    compiled = functools.lru_cache(maxsize=TEMPLATES_KEPT)(original)

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if isinstance(source, str) and globals is None and template_class is None:
            return compiled(source)
        return original(source, globals, template_class)

    from_string.cache_info = compiled.cache_info  # type: ignore[attr-defined]
    env.from_string = from_string
    return env
