"""mkdocs hook: pages read whole on GitHub as on the site.

GitHub shows a pymdownx.snippets include line (``--8<-- "path"``) as text, so no page has one:
a file a page shows is inlined between ``<!-- inlined from PATH ... -->`` and
``<!-- end of PATH -->``, and ``tests/test_docs_inlined.py`` keeps the copy equal to the file.
This hook fails the build on any line that looks like an include (a formatter-mangled one too,
``--8 < --"x.py"``), with that advice.

One page is the exception: ``changelog.md`` says ``<!-- the site shows CHANGELOG.md here ... -->``
and links to the file; the site shows the file itself in its place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

#: Anything that looks like a snippet marker: dashes, 8, <, dashes, with or without spaces.
_LOOKS_LIKE = re.compile(r"^[ \t]*;?-+[ \t]*8[ \t]*<[ \t]*-+.*$", re.M)
#: A page that the site replaces by a file of the repository (relative to mkdocs.yml).
_SHOWS = re.compile(r"^<!-- the site shows (\S+) here\b.*?-->$", re.M)


def on_page_markdown(markdown: str, page: Any, config: Any, **_: Any) -> str:
    for match in _LOOKS_LIKE.finditer(markdown):
        number = markdown.count("\n", 0, match.start()) + 1
        raise PluginError(
            f"{page.file.src_path}:{number}: {match.group(0).strip()!r} is an include line, which"
            " GitHub shows as text: inline the file between '<!-- inlined from PATH: ... -->'"
            " and '<!-- end of PATH -->' (tests/test_docs_inlined.py keeps the copy equal)"
        )
    shown = _SHOWS.search(markdown)
    if shown is None:
        return markdown
    path = Path(config["config_file_path"]).parent / shown[1]
    if not path.is_file():
        raise PluginError(f"{page.file.src_path}: {shown[1]} does not exist")
    return path.read_text(encoding="utf-8")
