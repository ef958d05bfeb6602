"""Configuration: `[tool.mlgate]` in pyproject.toml or a `.mlgate.yaml`.

Every key is checked; an unknown key or a bad value is a `ConfigError` naming the file
and the key, which the CLI turns into exit status 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import UsageError
from mlgate.excludes import Exclude
from mlgate.files import ScanError, SourceFile, display_path
from mlgate.findings import Severity
from mlgate.hook import Hook

if TYPE_CHECKING:
    from mlgate import yamlfile

CONFIG_NAMES = (".mlgate.yaml", ".mlgate.yml", "pyproject.toml")
ONLINE_DEADLINE = 30.0  # seconds: a few hundred lookups; a commit hook that waits longer gets skipped
COOLDOWN_DAYS = 3.0  # days a release must have been public before a pin to it passes (docs/rules/PIN032.md says why 3)


class ConfigError(UsageError):
    pass


@dataclass
class Config:
    path: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.LOW
    baseline: str | None = None
    exclude: list[Exclude] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    hook_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    strict_errors: bool = False
    report_unused_ignores: bool = False
    online_deadline: float = ONLINE_DEADLINE  # seconds for all the lookups of an --online run; 0: no deadline
    cooldown: float = COOLDOWN_DAYS  # days: with --online, a pinned release younger than this is a finding; 0: none


CORE_KEYS = {
    "select": "list of hook names or rule codes to run (default: all)",
    "ignore": "list of hook names or rule codes to skip",
    "fail-on": "lowest severity that makes the run fail: low, medium, high or critical",
    "baseline": "path of a baseline file written by `mlgate baseline`",
    "exclude": "list of .gitignore-style patterns of paths not to scan, relative to the configuration file's folder",
    "severity": "mapping of rule code to the severity to report it with",
    "strict-errors": "true: files that are not valid in their own language (or cannot be read) fail the run too (default: false)",
    "report-unused-ignores": "true: list the `mlgate: ignore[...]` comments that hid nothing (default: false)",
    "online-deadline": "seconds an --online or --fix run waits for all its lookups; those unanswered then are errors (default: 30; 0: no limit)",
    "cooldown": "days a pinned release (PyPI version, action commit, hub commit) must have been public; with --online, a younger one is a finding (PIN032, HUB011; default: 3; 0: off)",
}


def _plain(node: yamlfile.Node) -> Any:
    """YAML nodes to plain data, with no object construction at all."""
    from mlgate import yamlfile

    if yamlfile.is_mapping(node):
        return {key: _plain(value) for key, _k, value in yamlfile.items(node)}
    if yamlfile.is_sequence(node):
        return [_plain(item) for item in yamlfile.elements(node)]
    tag = (node.tag or "").rsplit(":", 1)[-1]  # composed nodes always have a tag
    if tag == "null":
        return None
    if tag == "bool":
        return node.value.lower() in ("true", "yes", "on")
    if tag == "int":
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
    return node.value


def _read(path: Path) -> object:
    """The mlgate table of a config file, or None when a pyproject has none; not checked yet
    (a YAML file or a TOML `mlgate` key may hold anything)."""
    shown = display_path(path)
    if path.suffix == ".toml":
        if sys.version_info >= (3, 11):  # imported here: most runs read no TOML at all
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{shown}: cannot read configuration: {exc}") from None
        if path.name == "pyproject.toml" or "tool" in data:
            tool = data.get("tool", {})
            if not isinstance(tool, dict):
                raise ConfigError(f"{shown}: 'tool' must be a table, not {type(tool).__name__}")
            return tool.get("mlgate")
        return data
    from mlgate import yamlfile

    try:
        documents = yamlfile.load_documents(SourceFile(path=shown, abspath=path))
    except ScanError as exc:
        raise ConfigError(f"{shown}: cannot read configuration: {exc}") from None
    return _plain(documents[0]) if documents else {}


def top_level_keys(path: Path) -> set[str]:
    """The keys a configuration file sets (raises ConfigError when it cannot be read)."""
    data = _read(path)
    return set(data) if isinstance(data, dict) else set()


def find_config_file(start: Path) -> Path | None:
    """The nearest config file from `start` upwards, stopping at the repository root."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                if name != "pyproject.toml":
                    return candidate
                try:
                    if "[tool.mlgate" in candidate.read_text(encoding="utf-8", errors="replace"):
                        return candidate
                except OSError:
                    pass
        if (folder / ".git").exists():
            break
    return None


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return value


def check_selectors(values: list[str], hooks: list[Hook], where: str) -> list[str]:
    """Hook names, rule codes or code prefixes (`PIN0`); anything else is an error."""
    names = {hook.name for hook in hooks}
    codes = {rule.code for hook in hooks for rule in hook.rules}
    checked = []
    for value in values:
        if value in names:
            checked.append(value)
        elif any(code.startswith(value.upper()) for code in codes):
            checked.append(value.upper())
        else:
            raise ConfigError(f"{where}: unknown hook or rule code {value!r}")
    return checked


def config_for_paths(paths: Sequence[str]) -> Path | None:
    """The configuration file of a run over `paths`: the nearest one from each path upwards (a
    file's from its folder), stopping at the root of its repository, so that scanning another
    repository reads that repository's configuration. A path under none takes the one the
    others are under; paths under two different ones are a ConfigError (one run has one
    configuration: scan each project in its own run, or name one with --config)."""
    found: dict[Path, tuple[Path, str]] = {}  # the file, resolved -> (the file, the first path under it)
    for named in paths or ["."]:  # no path: the current directory's, for a run that scans nothing
        absolute = Path(os.path.abspath(named))
        config_path = find_config_file(absolute if absolute.is_dir() else absolute.parent)
        if config_path is not None:
            found.setdefault(config_path.resolve(), (config_path, named))
    if len(found) > 1:
        (first, first_path), (second, second_path) = list(found.values())[:2]
        raise ConfigError(
            f"{first_path} and {second_path} are under different configuration files ({display_path(first)}, "
            f"{display_path(second)}): scan each project in its own run, or name one with --config"
        )
    return next((config_path for config_path, _ in found.values()), None)


def load_config(path: str | None, hooks: list[Hook], start: Path | None = None, paths: Sequence[str] | None = None) -> Config:
    """Read and validate the configuration: an explicit `path`, else the one of the scanned
    `paths` (`config_for_paths`), else the nearest from `start` (default: the current directory)."""
    config_path = _config_path(path, start) if path is not None or paths is None else config_for_paths(paths)
    if config_path is None:
        return Config()
    data = _read(config_path)
    shown = display_path(config_path)
    config = Config(path=shown)
    if data is None:
        return config
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the mlgate configuration must be a table/mapping")
    hooks_by_name = {hook.name: hook for hook in hooks}
    for key, value in data.items():
        if key in CORE_KEYS:
            _set_core_key(config, key, value, hooks, config_path)
        elif key in hooks_by_name:
            config.hook_options[key] = _hook_options(hooks_by_name[key], value, shown)
        else:
            allowed = ", ".join([*CORE_KEYS, *hooks_by_name])
            raise ConfigError(f"{shown}: key '{key}': unknown key (allowed: {allowed})")
    return config


def _config_path(path: str | None, start: Path | None) -> Path | None:
    """The file to read: `path` (which must exist), else the nearest one from `start` (None: none)."""
    if path is None:
        return find_config_file((start or Path.cwd()).resolve())
    config_path = Path(path)
    if not config_path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    return config_path


# The CORE_KEYS that are true or false, and the Config attribute each sets.
_SWITCHES = {"strict-errors": "strict_errors", "report-unused-ignores": "report_unused_ignores"}


def _excludes(patterns: list[str], config_path: Path) -> list[Exclude]:
    """The `exclude` setting: relative to the configuration file's folder, as in a .gitignore there."""
    base = Path(os.path.abspath(config_path.parent))
    return [Exclude(pattern, base, display_path(config_path)) for pattern in patterns]


def _set_core_key(config: Config, key: str, value: Any, hooks: list[Hook], config_path: Path) -> None:
    """Check one of the CORE_KEYS and set it on `config` (whose `path` is the file shown)."""
    shown = config.path
    where = f"{shown}: key '{key}'"
    if key == "select":
        config.select = check_selectors(_str_list(value, where), hooks, where)
    elif key == "ignore":
        config.ignore = check_selectors(_str_list(value, where), hooks, where)
    elif key == "fail-on":
        try:
            config.fail_on = Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    elif key == "baseline":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path")
        config.baseline = str(config_path.parent / value)
    elif key == "exclude":
        config.exclude = _excludes(_str_list(value, where), config_path)
    elif key in _SWITCHES:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false")
        setattr(config, _SWITCHES[key], value)
    elif key == "online-deadline":
        config.online_deadline = online_deadline(value, where)
    elif key == "cooldown":
        config.cooldown = cooldown_days(value, where)
    elif key == "severity":
        config.severity.update(_severities(value, hooks, shown, where))


def _severities(value: Any, hooks: list[Hook], shown: str | None, where: str) -> dict[str, Severity]:
    """The `severity` mapping, rule code -> severity, checked."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of rule code to severity")
    codes = {rule.code for hook in hooks for rule in hook.rules}
    severities = {}
    for code, level in value.items():
        if code not in codes:
            raise ConfigError(f"{shown}: key 'severity.{code}': unknown rule code")
        try:
            severities[code] = Severity.parse(str(level))
        except ValueError as exc:
            raise ConfigError(f"{shown}: key 'severity.{code}': {exc}") from None
    return severities


def online_deadline(value: Any, where: str) -> float:
    """A deadline in seconds: a number, 0 or more (0: no deadline)."""
    return _amount(value, where, "seconds", "no deadline")


def cooldown_days(value: Any, where: str) -> float:
    """A cooldown in days: a number, 0 or more (0: no cooldown)."""
    return _amount(value, where, "days", "no cooldown")


def _amount(value: Any, where: str, unit: str, zero: str) -> float:
    """A number of `unit`, 0 or more (0 means `zero`); a number written as text (`0.5` in YAML) too."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number < float("inf"):
        raise ConfigError(f"{where}: expected a number of {unit}, 0 or more (0: {zero}), not {value!r}")
    return float(number)


def _hook_options(hook: Hook, value: Any, shown: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{shown}: key '{hook.name}': expected a table/mapping of options")
    options = {option.name: option for option in hook.options}
    result = {}
    for name, item in value.items():
        where = f"{shown}: key '{hook.name}.{name}'"
        if name not in options:
            allowed = ", ".join(options) or "none"
            raise ConfigError(f"{where}: unknown option (allowed: {allowed})")
        try:
            result[name] = options[name].validate(item)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return result


def options_for(hook: Hook, config: Config) -> dict[str, Any]:
    """The hook's options: defaults overlaid with what the configuration sets."""
    values = {option.name: option.default for option in hook.options}
    values.update(config.hook_options.get(hook.name, {}))
    return values
