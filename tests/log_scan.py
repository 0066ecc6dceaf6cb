"""The full-run log scan: no unmasked phone or ID number in what a test run logged.

Issue 13's acceptance: "a full test run's log has no unmasked 11-digit phone number or
18-character ID number". ``tests/conftest.py`` makes every pytest run write its whole log,
at DEBUG, to ``var/test-run.log`` (unless ``--log-file`` names another file), and at the
end of the session scans it with :func:`scan`, together with the logs of the servers the
tests started as processes (``voicebot serve``, ``fake-pbx``, ``kb serve``… write theirs
to ``*.log`` files in their test's ``tmp_path``). Any finding fails the run, printed with
the number masked.

The patterns here are deliberately independent of :mod:`bot.privacy`'s: a number that the
masker misses by construction must still be caught. Test sources are never scanned (their
fixtures hold numbers like ``13800138000`` on purpose); only what was logged.

Run by hand: ``python -m tests.log_scan FILE...`` (exit status 1 on findings).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

# An 11-digit mobile, possibly written 3-4-4 with spaces or dashes, after nothing or a
# country/trunk prefix; an 11-digit fixed-line number (0 and its area code); an
# 18-character ID number. No digit or Latin letter may touch either end (hexadecimal keys
# are not numbers; Chinese around one is fine). Each line is searched as it is
# and URL-decoded (once, and until nothing changes), so that numbers in query strings,
# however often encoded (``%25E7%2594%25B513812345678``), are found.
UNMASKED = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+?86[ +-]?|0086[ +-]?|0)?1[3-9][0-9][ +-]?[0-9]{4}[ +-]?[0-9]{4}"
    r"|0[1-9][0-9]{9}|[0-9]{17}[0-9Xx])(?![0-9A-Za-z])"
)
MAX_DECODINGS = 4
MAX_REPORTED = 50


@dataclass(frozen=True)
class Finding:
    path: Path
    line_number: int
    line: str  # with the number starred

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number}: {self.line}"


def _starred(line: str) -> str:
    return UNMASKED.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 7) + m.group()[-4:], line)


def _unmasked_in(line: str) -> str | None:
    """The form of ``line`` (as it is, or URL-decoded) that shows an unmasked number."""
    for _ in range(MAX_DECODINGS):
        if UNMASKED.search(line):
            return line
        if "%" not in line:
            return None
        decoded = unquote(line)
        if decoded == line:
            return None
        line = decoded
    return line if UNMASKED.search(line) else None


def scan_file(path: Path) -> Iterator[Finding]:
    """The lines of ``path`` with an unmasked number (UTF-8, undecodable bytes replaced),
    shown in the form that has it, starred."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            found = _unmasked_in(line)
            if found is not None:
                yield Finding(path, number, _starred(found.rstrip("\n"))[:300])


def scan(paths: Iterable[Path]) -> list[Finding]:
    """Every finding in the files of ``paths`` that exist."""
    return [finding for path in paths if path.is_file() for finding in scan_file(path)]


def process_logs(basetemp: Path) -> list[Path]:
    """The ``*.log`` files that tests' processes wrote under the session's ``basetemp``."""
    return sorted(basetemp.rglob("*.log")) if basetemp.is_dir() else []


def report(findings: list[Finding]) -> str:
    shown = "\n".join(f"  {finding}" for finding in findings[:MAX_REPORTED])
    more = f"\n  … and {len(findings) - MAX_REPORTED} more" if len(findings) > MAX_REPORTED else ""
    return f"unmasked phone or ID numbers in the test run's logs ({len(findings)} lines):\n{shown}{more}"


def main(argv: list[str]) -> int:
    findings = scan(Path(arg) for arg in argv)
    if findings:
        print(report(findings))
        return 1
    print(f"log scan: no unmasked number in {len(argv)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
