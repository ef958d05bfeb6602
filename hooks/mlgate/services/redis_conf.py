"""`redis.conf`, read as redis-server reads it: one directive a line (`bind 0.0.0.0`), names
case-insensitive, arguments split with double- and single-quote quoting, the last directive of a
name wins.

- `bind` with an address beyond loopback (`0.0.0.0`, `*`, a routable address; `-` before an
  address only makes it optional) and no password: SVC001 at the `bind` line. Redis before 7.0
  turns protected mode off whenever `bind` is given, so the server answers anyone.
- `protected-mode no` and no password: SVC002 at that line (no `bind` means every interface).
- No `bind` and protected mode on: Redis accepts only loopback clients, nothing is reported.
- A password is `requirepass` with a value, or an ACL `user default` that is `off` or has a
  password (`>secret`, `#<sha256>`) and no `nopass`; an `aclfile` may hold one. An `include`d
  file is not read, and may set the password: a file with an `include` is not reported.
"""

from __future__ import annotations

import re
import shlex

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import Setting, classify_address
from mlgate.services.report import Exposure

_DIRECTIVE = re.compile(r"^[ \t]*([A-Za-z][\w-]*)(?:[ \t]+(.*?))?[ \t]*$", re.MULTILINE)
_PREFILTER = re.compile(r"^[ \t]*(?:bind|protected-mode)[ \t]", re.MULTILINE | re.IGNORECASE)


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "redis.conf" or (name.startswith("redis") and name.endswith(".conf"))


def directives(source: SourceFile) -> dict[str, tuple[list[str], Setting]]:
    """Each directive's arguments and a `Setting` at its first argument, the last of each name."""
    found: dict[str, tuple[list[str], Setting]] = {}
    users: list[list[str]] = []
    for match in _DIRECTIVE.finditer(source.text):
        name, rest = match.group(1).lower(), match.group(2) or ""
        try:
            arguments = shlex.split(rest, posix=True)  # sdssplitargs: "..." with escapes, '...'
        except ValueError:
            continue  # an unbalanced quote: redis-server refuses the file
        spot = source.position(match.start(2) if match.group(2) else match.start(1))
        if name == "user":
            users.append(arguments)
        found[name] = (arguments, Setting(f"--{name}", " ".join(arguments), spot, written=f"{name} {rest}".strip()))
    if _default_user_locked(users):
        found["user default"] = ([], Setting("--requirepass", "acl", (1, 1)))
    return found


def _default_user_locked(users: list[list[str]]) -> bool:
    """Whether the ACL `user default` rules leave it needing a password (or disabled)."""
    rules = [rule for arguments in users if arguments[:1] == ["default"] for rule in arguments[1:]]
    locked = False
    for rule in rules:  # applied left to right, as ACL SETUSER does
        if rule == "off" or rule.startswith((">", "#")):
            locked = True
        elif rule in ("nopass", "resetpass", "reset"):
            locked = False
    return locked


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not _PREFILTER.search(source.text):
        return []
    found = directives(source)
    if "include" in found or "aclfile" in found:
        return []  # the password may be set where we do not read
    settings = {setting.name: setting for _, setting in found.values()}
    redis = BY_KEY["redis"]
    port = found["port"][0] if "port" in found else []
    number = int(port[0]) if port and port[0].isdigit() else None
    protected = found["protected-mode"][0] if "protected-mode" in found else []
    exposures = []
    if "bind" in found:
        addresses, bind = found["bind"]
        classes = [classify_address(address.removeprefix("-")) for address in addresses]
        reach = "all" if "all" in classes else "network" if "network" in classes else None
        if reach is not None:
            where = "on every interface" if reach == "all" else "on a network address"
            exposures.append(Exposure(bind.spot, number, f"{where} ({bind.written})"))
    elif [word.lower() for word in protected] == ["no"]:
        exposures.append(Exposure(found["protected-mode"][1].spot, number, "on every interface (no bind directive: Redis's default)"))
    return report.judge(source.path, redis, exposures, settings, configured_port=number)


SCANNER = Scanner("redis_conf", matches=matches, scan=scan)
