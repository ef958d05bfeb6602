"""Which service a command line starts, and how: listen address, port, authentication.

Readers turn what they read (a shell script, a Dockerfile CMD, a compose `command:`, container
args, environment variables) into `Setting`s; this module recognises the service from the
program and judges the settings against its catalog entry. It never runs anything: shell text
goes through the core lexer, and `sh -c '...'` strings are parsed, not executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mlgate import shell
from mlgate.problem import Locate
from mlgate.services.catalog import SERVICES, Service

Spot = tuple[int, int]  # 1-based (line, column) in the file

MAX_NESTING = 3  # `sh -c "bash -c '...'"` is unwrapped this deep
_PYTHON = re.compile(r"(?:python|pypy)[0-9.]*")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "ksh"})
_LOOPBACK = re.compile(r"(?:127(?:\.\d{1,3}){3}|localhost|::1|0:0:0:0:0:0:0:1|ip6-localhost)", re.IGNORECASE)
_ALL_INTERFACES = frozenset({"0.0.0.0", "::", "*", "", "[::]", "::0"})
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:%-]*")
_EMPTY_VALUES = frozenset({"", "''", '""'})
_VERSION = re.compile(r"v?(\d+)\.(\d+)")
_DEFAULT_VALUE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}$]*)\}")


@dataclass(frozen=True)
class Setting:
    """An option or environment variable as written: `value` None for a bare flag."""

    name: str
    value: str | None
    spot: Spot
    dynamic: bool = False  # holds a variable or substitution we cannot see through
    written: str = ""  # how it appears in the file when that is not `name=value` (`server_name="0.0.0.0"`)


@dataclass
class Launch:
    """One start of a known service, with everything that configures it."""

    service: Service
    spot: Spot  # the program word
    settings: dict[str, Setting] = field(default_factory=dict)

    def binding(self) -> tuple[str, Setting | None]:
        """("all" | "network" | "loopback" | "unknown" | "default", the setting that decided)."""
        return binding(self.service, self.settings)

    def port(self) -> int | None:
        return port(self.service, self.settings)


def host_of(address: str) -> str:
    """The host part of `0.0.0.0`, `0.0.0.0:8080`, `http://[::]:8081`, `:9000`."""
    address = address.strip().strip("'\"")
    if "://" in address:
        address = address.split("://", 1)[1].split("/", 1)[0]
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def classify_address(address: str) -> str:
    """ "all" (every interface), "loopback", "network" (one routable address) or "unknown". A Unix
    domain socket (`unix:/tmp/management.sock`, TorchServe's and gunicorn's spelling) is reached
    only from the same machine, through the file's permissions: "loopback"."""
    if address.strip().strip("'\"").lower().startswith("unix:"):
        return "loopback"
    host = host_of(address)
    if host in _ALL_INTERFACES:
        return "all"
    if _LOOPBACK.fullmatch(host):
        return "loopback"
    return "network" if _HOST.fullmatch(host) else "unknown"


def binding(service: Service, settings: dict[str, Setting]) -> tuple[str, Setting | None]:
    for name in service.bind_all_flags:
        if name in settings:
            return "all", settings[name]
    for name in service.bind_by:
        setting = settings.get(name)
        if setting is None or setting.value is None:
            continue
        if setting.dynamic:
            return "unknown", setting
        if setting.name.isupper() and not setting.value.strip().strip("'\""):
            continue  # an environment variable set empty reads as unset (`os.getenv(name) or default`): `GRADIO_SERVER_NAME=`
        return classify_address(setting.value), setting
    return "default", None


def port(service: Service, settings: dict[str, Setting]) -> int | None:
    for name in service.port_by:
        setting = settings.get(name)
        if setting is not None and setting.value and setting.value.isdigit():
            return int(setting.value)
    return None


def _matches(setting: Setting | None, value: str | None) -> bool:
    if setting is None:
        return False
    if value is None:  # a flag given, or an option or variable set to anything
        return setting.value is None or setting.value.strip().strip("'\"") != ""
    if value == "":
        return setting.value is not None and setting.value.strip() in _EMPTY_VALUES and not setting.dynamic
    return setting.value is not None and setting.value.strip("'\"").lower() == value


def authenticated(service: Service, settings: dict[str, Setting]) -> bool:
    if any(_matches(settings.get(name), value) for name, value in service.auth_by):
        return True
    return service.authenticated_by_default and not disabled(service, settings)


def loads_code(service: Service, settings: dict[str, Setting]) -> Setting | None:
    """The setting that opens an API which loads models, and so runs code (`--model-control-mode=explicit`)."""
    return next((settings[name] for name, value in service.loads_code_by if _matches(settings.get(name), value)), None)


def disabled(service: Service, settings: dict[str, Setting]) -> list[Setting]:
    """Settings that turn authentication off (none when another one turns it on)."""
    if any(_matches(settings.get(name), value) for name, value in service.auth_by):
        return []
    return [settings[name] for name, value in service.disabled_by if _matches(settings.get(name), value)]


def mutually_authenticated(service: Service, settings: dict[str, Setting]) -> bool:
    """Whether the service's TLS is on, so that its `mutual_tls` ports require a client certificate."""
    return bool(service.tls_by) and all(any(_matches(settings.get(name), value) for name, value in group) for group in service.tls_by)


def default_credentials(settings: Iterable[Setting], services: Iterable[Service]) -> Iterator[tuple[Service, Setting]]:
    """Variables set to the credentials one of `services` ships with (`MINIO_ROOT_PASSWORD=minioadmin`)."""
    services = tuple(services)
    for setting in settings:
        written = (setting.value or "").strip("'\"")
        fallback = _DEFAULT_VALUE.fullmatch(written)  # `${MINIO_ROOT_PASSWORD:-minioadmin}`
        value = fallback.group(1) if fallback else written
        if setting.dynamic and not fallback:
            continue
        for service in services:
            if (setting.name, value) in service.default_credentials:
                yield service, setting


def _prefilter_words() -> set[str]:
    """Text without any of these words starts no known service, sets none of their variables
    and runs no container: shell and workflows without them are not parsed at all."""
    words = {command.split()[0] for service in SERVICES for command in service.commands} | {"docker", "podman", "nerdctl"}
    words |= {name for service in SERVICES for name, _ in (*service.disabled_by, *service.default_credentials)}
    words |= {name for service in SERVICES for name in (*service.bind_by, *service.origins_by) if not name.startswith("-")}
    return words


def _trie(words: set[str]) -> str:
    """An expression matching exactly `words`, as a trie (`d(?:ocker|ask)`): tried at a position,
    it follows one branch per character instead of trying every word."""
    children: dict[str, set[str]] = {}
    for word in words:
        if word:
            children.setdefault(word[0], set()).add(word[1:])
    branches = [re.escape(first) + _trie(rests) for first, rests in sorted(children.items())]
    if not branches:
        return ""
    if "" in words:
        return f"(?:{'|'.join(branches)})?"
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


# A word of `_prefilter_words` not followed by a word character; that it does not follow one
# either (`(?<![\w.-])`) is checked at each match by `mentions_service`: a look-behind in front
# of the expression would have it tried at every character of the text.
_PREFILTER = re.compile(rf"(?:{_trie(_prefilter_words())})(?![\w-])")
_WORD_BEFORE = re.compile(r"[\w.-]")


def mentions_service(text: str) -> bool:
    """Whether `text` names a word of `_prefilter_words` on its own (`docker run`, not `mydocker`)."""
    position = 0
    while (match := _PREFILTER.search(text, position)) is not None:
        start = match.start()
        if start == 0 or _WORD_BEFORE.match(text, start - 1) is None:
            return True
        position = start + 1
    return False


# --- recognising a service ----------------------------------------------------------------


def _program_and_rest(argv: list[str]) -> tuple[str, int]:
    """The program (`python -m x` counts as `x`) and the index of its first argument."""
    program = argv[0].rstrip("/").rsplit("/", 1)[-1]
    if _PYTHON.fullmatch(program) and len(argv) > 2 and argv[1] == "-m":
        return argv[2], 3
    return program, 1


def _commands_by_program() -> dict[str, list[tuple[Service, str]]]:
    """Each program name a service's commands start with -> (service, subcommand), in catalog order."""
    by_program: dict[str, list[tuple[Service, str]]] = {}
    for service in SERVICES:
        for command in service.commands:
            name, _, subcommand = command.partition(" ")
            by_program.setdefault(name, []).append((service, subcommand))
    return by_program


# looked up by program, not tried service by service: a CI script runs tens of thousands of commands
_BY_PROGRAM = _commands_by_program()


def recognise(argv: list[str]) -> tuple[Service, int] | None:
    """The service a command line starts and where its arguments begin, or None."""
    if not argv:
        return None
    program, start = _program_and_rest(argv)
    candidates = _BY_PROGRAM.get(program)
    if candidates is None:
        return None
    rest = argv[start:]
    operands = [word for word in rest if not word.startswith("-")]
    for service, subcommand in candidates:
        if subcommand and operands[:1] != [subcommand]:
            continue
        if all(any(word == flag or word.startswith(flag + "=") for word in rest) for flag in service.requires):
            return service, start
    return None


def service_of_image(image: str) -> Service | None:
    """The service a container image runs: registry host, tag and digest are ignored."""
    reference = image.strip().lower().split("@", 1)[0]
    parts = reference.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    repository = "/".join(parts).rsplit(":", 1)[0] if ":" in parts[-1] else "/".join(parts)
    repository = repository.removeprefix("library/")
    for service in SERVICES:
        for known in service.images:
            if repository == known or (known.endswith("/") and repository.startswith(known)):
                return service
    return None


def image_requires_token(service: Service, image: str) -> bool:
    """An image of a version that turns the service's token authentication on by default
    (TorchServe 0.11.0 and later, `latest` included); older or unreadable tags do not."""
    if not service.authenticated_since or service_of_image(image) is not service:
        return False
    tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2].lower()
    if tag in ("", "latest") or tag.startswith("latest-"):
        return True
    version = _VERSION.match(tag)
    return version is not None and tuple(int(part) for part in version.groups()) >= service.authenticated_since


def service_of_name(name: str) -> Service | None:
    """The service a Kubernetes object or chart folder is named after (`mlflow-tracking`)."""
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    lowered = name.lower()
    for service in SERVICES:
        for keyword in service.keywords:
            if keyword in words or ("-" in keyword and keyword in lowered):
                return service
    return None


def service_of_name_and_port(names: Iterable[str], ports: Iterable[int]) -> Service | None:
    """A custom image or a `build:` whose name says which service it is (`mlflow-server`,
    `acme/ray-head`) and that listens on one of that service's own ports."""
    service = service_of_name(" ".join(names))
    if service is None or not {port.number for port in service.ports} & set(ports):
        return None
    return service


# --- command lines --------------------------------------------------------------------------


def _value_options(service: Service) -> frozenset[str]:
    names = [*service.bind_by, *service.port_by]
    names += [name for name, value in (*service.auth_by, *service.disabled_by) if value is not None]
    return frozenset(name for name in names if name.startswith("-"))


def options(service: Service, words: list[shell.Word], locate: Locate) -> dict[str, Setting]:
    """`--name=value`, `--name value` and bare flags of a command line, by name."""
    takes_value = _value_options(service)
    found: dict[str, Setting] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.text.startswith("-") or word.text == "-":
            continue
        name, equals, value = word.text.partition("=")
        if equals:
            found[name] = Setting(name, value, locate(word.offset_at(len(name) + 1)), word.dynamic)
        elif name in takes_value and index < len(words) and not words[index].text.startswith("-"):
            following = words[index]
            found[name] = Setting(name, following.text, locate(following.offset_at(0)), following.dynamic)
            index += 1
        else:
            found[name] = Setting(name, None, locate(word.offset_at(0)))
    return found


def assignments(words: Iterable[shell.Word], locate: Locate) -> dict[str, Setting]:
    """`NAME=value` words (leading assignments, `export`, `env`) as settings."""
    found = {}
    for word in words:
        name, equals, value = word.text.partition("=")
        if equals and name.isidentifier():
            found[name] = Setting(name, value, locate(word.offset_at(len(name) + 1)), word.dynamic)
    return found


def launch_of(command: shell.Command, locate: Locate, env: dict[str, Setting] | None = None) -> Launch | None:
    """The service `command` starts (with its options and environment), or None."""
    argv = command.argv
    recognised = recognise([word.text for word in argv])
    if recognised is None:
        return None
    service, start = recognised
    settings = dict(env or {})
    settings.update(assignments(command.assignments, locate))
    settings.update(options(service, argv[start:], locate))
    return Launch(service, locate(argv[0].offset_at(0)), settings)


def commands_in(text: str, locate: Locate, depth: int = 0) -> Iterator[tuple[shell.Command, Locate]]:
    """Every command of shell `text` with its locate function, `sh -c '...'` strings included."""
    yield from commands_of(shell.parse(text), locate, depth)


def commands_of(commands: list[shell.Command], locate: Locate, depth: int = 0) -> Iterator[tuple[shell.Command, Locate]]:
    for command in shell.walk(commands):
        yield command, locate
        argv = command.argv
        if command.program in _SHELLS and depth < MAX_NESTING:
            for index, word in enumerate(argv[1:-1], start=1):
                if word.text.startswith("-") and "c" in word.text[1:] and not word.text.startswith("--"):
                    script = argv[index + 1]
                    yield from commands_in(script.text, _inside_word(locate, script), depth + 1)
                    break


def _inside_word(locate: Locate, word: shell.Word) -> Locate:
    """`locate` for offsets into a word's text (an `sh -c` script)."""
    return lambda offset: locate(word.offset_at(offset))


def words_command(words: list[tuple[str, Spot]]) -> tuple[shell.Command, Locate]:
    """A command from separately written words (a YAML list, a Python list of strings).

    The words are laid out one after another in a virtual line; the locate function maps an
    offset in it back to the word's own position in the file (same line, shifted column).
    """
    laid: list[tuple[str, int]] = []
    starts: list[tuple[int, Spot]] = []
    offset = 0
    for text, spot in words:
        laid.append((text, offset))
        starts.append((offset, spot))
        offset += len(text) + 1

    def locate(position: int) -> Spot:
        start, (line, column) = next((item for item in reversed(starts) if item[0] <= position), starts[0])
        return line, column + position - start

    return shell.command_from_words(laid), locate
