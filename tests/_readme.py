"""The README's runnable commands: fenced blocks whose info string is ``bash runnable``.

A block's lines are joined where they end in a backslash, as a shell would; blank lines and whole-line comments
are dropped. Each command is returned as written, to be run by ``bash -c`` (globs, quotes and trailing comments
behave as in a terminal).

Examples
--------
>>> text = "```bash runnable\\nls \\\\\\n  -l   # long\\n# note\\n\\necho hi\\n```\\n```bash\\nskip me\\n```"
>>> runnable_commands(text)
['ls -l   # long', 'echo hi']
"""

from __future__ import annotations

import re

MARKER = "bash runnable"
_BLOCK = re.compile(r"^```" + MARKER + r"[ \t]*\n(.*?)^```", flags=re.S | re.M)


def runnable_commands(markdown: str) -> list[str]:
    """Every command of every ``bash runnable`` block of ``markdown``, in order."""
    commands = []
    for block in _BLOCK.findall(markdown):
        joined = re.sub(r"\\\n[ \t]*", "", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands
