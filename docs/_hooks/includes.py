"""mkdocs hook: fail the build on a snippet include that pymdownx.snippets will not read.

``check_paths: true`` fails the build when an include names a missing file, but a line that is
no longer an include at all (``ruff format`` rewrites ``--8<-- "x.py"`` inside a ```python
fence as the Python expression ``--8 < --"x.py"``) renders as literal text and the build
passes. This hook fails it instead.
"""

from __future__ import annotations

import re
from typing import Any

from mkdocs.exceptions import PluginError

#: Anything that looks like a snippet marker: dashes, 8, <, dashes, with or without spaces.
_LOOKS_LIKE = re.compile(r"^[ \t]*;?-+[ \t]*8[ \t]*<[ \t]*-+.*$", re.M)
#: What pymdownx.snippets reads: ``--8<-- "path"``, or a bare ``--8<--`` opening or closing a
#: block of paths; ``;--8<--`` is its escape for a literal marker.
_READS = re.compile(r"""^[ \t]*;?-+8<-+[ \t]*(?:(["']).+\1)?[ \t]*$""")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    for match in _LOOKS_LIKE.finditer(markdown):
        line = match.group(0)
        if not _READS.match(line):
            number = markdown.count("\n", 0, match.start()) + 1
            raise PluginError(
                f"{page.file.src_path}:{number}: {line.strip()!r} is not a snippet include "
                'pymdownx.snippets reads; write --8<-- "path" (in a fence, use ```{.python} '
                "rather than ```python, which ruff format rewrites)"
            )
    return markdown
