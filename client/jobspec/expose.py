"""`container/run` `args.expose`: the ports a service serves through the node's front door,
with their health checks, read in every form Nosana's schema allows and bounded.

Nosana's forms (nosana-sdk `types/job.ts`, `ExposedPort`, `UniqueExposedPorts`):
  expose: 8080                         one port
  expose: "8000-8010"                  a range, start < end (Nosana's check is `^\\d+-\\d+$`,
                                       although its message says 'start:end')
  expose: "%%ops.a.results.ports%%"    a literal, filled in at run time
  expose: {"__spread__": "%%...%%"}    the same, as a spread marker
  expose: [8080, "9000-9001", {"port": 80, "type": "web", "health_checks": [...]},
           "%%...%%", {"__spread__": "%%...%%"}]

Here every port stands alone: a range becomes its ports, each with the range's type and
health checks (Nosana runs no health check on a range; we check each port). Literals and
spread markers are kept aside (`RunArgs.expose_literals`) and read by the same rules when
they are filled in (`fill`), so a value produced at run time meets the bounds a value
written in the file meets. Every string a poster writes here is hostile: ports 1..65535,
at most MAX_PORTS ports per op, at most MAX_CHECKS_PER_PORT checks per port and
MAX_CHECKS per op, headers that cannot split a request, bodies of at most MAX_BODY bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from .literal_syntax import LITERAL, is_one_literal
from .model import SPREAD, ExposedPort, HealthCheck
from .problems import UNKNOWN, Problems, join, type_name

MAX_PORTS = 32  # per op, ranges counted port by port
MAX_CHECKS_PER_PORT = 8
MAX_CHECKS = 64  # per op, after ranges are expanded: each one is a request the node makes
MAX_HEADERS = 32
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 4096
MAX_BODY = 64 * 1024  # bytes (UTF-8)
MAX_PATH = 2048
MAX_RESPONSE = 4096  # websocket expected_response
SERVICE_TYPES = ("web", "api", "webapi", "websocket", "none")
DEFAULT_TYPE = "none"  # Nosana's getExposePorts gives a bare port type "none"
CHECK_TYPES = ("http", "websocket")
METHODS = ("GET", "POST", "PUT", "DELETE")  # Nosana's HttpHealthCheck.method
BODY_METHODS = ("POST", "PUT")  # Nosana's node sends a body only with these
HTTP_KEYS = ("type", "path", "method", "expected_status", "headers", "body", "continuous")
WEBSOCKET_KEYS = ("type", "expected_response", "continuous")
PORT_KEYS = ("port", "type", "health_checks")
# Headers the node's checker sets itself: a poster's value could split or smuggle a request.
FRAMING_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive",
     "proxy-connection")
)
# "start-end" is what Nosana's check accepts; "start:end" is how its message (and the
# issue) writes one, so both are read the same.
RANGE_RE = re.compile(r"^([0-9]{1,5})[-:]([0-9]{1,5})$")
TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 field name
NOT_VALUE_RE = re.compile(r"[^\t\x20-\x7e]")  # a header value: printable ASCII, spaces and tabs
PATH_RE = re.compile(r"^/[\x21-\x7e]*$")  # printable ASCII, no spaces
NO_LITERALS = "literals are not filled in here (only a whole expose item may be one)"

# (path, literal as written) of each expose item that is a literal or a spread marker
Sites = list[tuple[str, str]]


class _Reader:
    """Reads expose items into ports, counting them across the whole op."""

    def __init__(self, problems: Problems, taken: tuple[ExposedPort, ...] = ()) -> None:
        self.problems = problems
        self.ports: list[ExposedPort] = list(taken)
        self.seen = {p.port for p in taken}
        self.checks = sum(len(p.health_checks) for p in taken)
        self.literals: Sites = []
        self.full = False  # MAX_PORTS reached and said

    # ---- items --------------------------------------------------------------------------
    def top(self, path: str, raw: Any) -> None:
        if isinstance(raw, list):
            for i, item in enumerate(raw):
                self.item(join(path, i), item, dynamic=True)
        elif isinstance(raw, dict) and SPREAD not in raw:
            self.problems.add(
                path,
                'expected a port, a range "a-b", a literal, {"__spread__": literal} or an array '
                "(a {port, type, health_checks} object goes inside an array)",
            )
        else:
            self.item(path, raw, dynamic=True)

    def item(self, path: str, raw: Any, *, dynamic: bool) -> None:
        if isinstance(raw, dict) and SPREAD in raw:
            self.spread(path, raw, dynamic)
        elif isinstance(raw, dict):
            self.port_object(path, raw)
        elif isinstance(raw, str) and LITERAL.search(raw):
            if not dynamic:
                self.problems.add(path, f"a value filled in at run time cannot hold another literal, got {raw!r}")
            elif is_one_literal(raw):
                self.literals.append((path, raw))
            else:
                self.problems.add(path, f"expected exactly one literal and nothing around it, got {raw!r}")
        else:
            ports = self.port_value(path, raw)
            for port in ports:
                self.add(path, ExposedPort(port, DEFAULT_TYPE))

    def spread(self, path: str, raw: dict, dynamic: bool) -> None:
        where = join(path, SPREAD)
        if len(raw) != 1:
            self.problems.add(path, f"a {SPREAD} marker has no other keys")
        elif not dynamic:
            self.problems.add(where, "a value filled in at run time cannot hold another literal")
        elif not is_one_literal(raw[SPREAD]):
            self.problems.add(where, f"expected exactly one literal, like %%ops.ID.results.KEY%%, got {raw[SPREAD]!r}")
        else:
            self.literals.append((where, raw[SPREAD]))

    def port_object(self, path: str, raw: dict) -> None:
        for key in raw:
            if key not in PORT_KEYS:
                self.problems.add(join(path, str(key)), UNKNOWN)
        if "port" not in raw:
            self.problems.add(join(path, "port"), "required")
            return
        before = len(self.problems.errors)
        ports = self.port_value(join(path, "port"), raw["port"])
        kind = DEFAULT_TYPE
        if "type" in raw:
            if raw["type"] in SERVICE_TYPES:
                kind = raw["type"]
            else:
                self.problems.add(
                    join(path, "type"), f"expected one of {', '.join(SERVICE_TYPES)}, got {_show(raw['type'])}"
                )
        checks = self.health_checks(join(path, "health_checks"), raw["health_checks"]) if "health_checks" in raw else ()
        if len(self.problems.errors) > before:
            return
        for port in ports:
            self.add(join(path, "port"), ExposedPort(port, kind, checks))

    def port_value(self, path: str, raw: Any) -> list[int]:
        """A port or a range as a list of ports; [] with a problem recorded."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            if 1 <= raw <= 65535:
                return [raw]
            self.problems.add(path, f"expected a port from 1 to 65535, got {raw}")
            return []
        if isinstance(raw, str):
            m = RANGE_RE.match(raw)
            if m:
                start, end = int(m.group(1)), int(m.group(2))
                if not (1 <= start < end <= 65535):
                    self.problems.add(path, f"expected a range start-end with 1 <= start < end <= 65535, got {raw!r}")
                    return []
                if end - start + 1 > MAX_PORTS:
                    self.problems.add(path, f"a range of at most {MAX_PORTS} ports, got {raw!r} ({end - start + 1})")
                    return []
                return list(range(start, end + 1))
            if raw.isdigit():
                hint = f"write a port as a number ({raw}), not a string"
            else:
                hint = 'expected a port or a range "start-end"'
            self.problems.add(path, f"{hint}, got {raw!r}")
            return []
        self.problems.add(path, f'expected a port (a whole number) or a range "start-end", got {type_name(raw)}')
        return []

    def add(self, path: str, port: ExposedPort) -> None:
        if port.port in self.seen:
            self.problems.add(path, f"port {port.port} is exposed twice (Nosana: ports and ranges must not overlap)")
            return
        if len(self.ports) >= MAX_PORTS:
            if not self.full:  # say it once
                self.problems.add(path, f"at most {MAX_PORTS} exposed ports per op (a range counts each of its ports)")
                self.full = True
            return
        self.checks += len(port.health_checks)
        if self.checks > MAX_CHECKS and self.checks - len(port.health_checks) <= MAX_CHECKS:
            self.problems.add(path, f"at most {MAX_CHECKS} health checks per op (a range repeats its checks for each port)")
        self.seen.add(port.port)
        self.ports.append(port)

    # ---- health checks ----------------------------------------------------------------------
    def health_checks(self, path: str, raw: Any) -> tuple[HealthCheck, ...]:
        if not isinstance(raw, list):
            self.problems.add(path, f"expected an array of health checks, got {type_name(raw)}")
            return ()
        if len(raw) > MAX_CHECKS_PER_PORT:
            self.problems.add(path, f"at most {MAX_CHECKS_PER_PORT} health checks per port, got {len(raw)}")
            return ()
        out = [self.health_check(join(path, i), item) for i, item in enumerate(raw)]
        return tuple(c for c in out if c is not None)

    def health_check(self, path: str, raw: Any) -> HealthCheck | None:
        if not isinstance(raw, dict):
            self.problems.add(path, f"expected a health check (an object), got {type_name(raw)}")
            return None
        kind = raw.get("type")
        if "type" not in raw:
            self.problems.add(join(path, "type"), f"required ({' or '.join(CHECK_TYPES)})")
            return None
        if kind not in CHECK_TYPES:
            self.problems.add(join(path, "type"), f"expected {' or '.join(CHECK_TYPES)}, got {_show(kind)}")
            return None
        keys = HTTP_KEYS if kind == "http" else WEBSOCKET_KEYS
        for key in raw:
            if key not in keys:
                self.problems.add(join(path, str(key)), f"{UNKNOWN}; a {kind} check has {', '.join(keys)}")
        before = len(self.problems.errors)
        continuous = False
        if "continuous" in raw:  # Nosana's type requires it; its examples and node treat absent as false
            if isinstance(raw["continuous"], bool):
                continuous = raw["continuous"]
            else:
                self.problems.add(join(path, "continuous"), f"expected a boolean, got {type_name(raw['continuous'])}")
        if kind == "websocket":
            response = self.text(path, raw, "expected_response", MAX_RESPONSE)
            if len(self.problems.errors) > before or response is None:
                return None
            return HealthCheck("websocket", expected_response=response, continuous=continuous)
        check_path = self.path(path, raw)
        method = raw.get("method")
        if "method" not in raw:
            self.problems.add(join(path, "method"), f"required ({', '.join(METHODS)})")
        elif method not in METHODS:
            self.problems.add(join(path, "method"), f"expected one of {', '.join(METHODS)}, got {_show(method)}")
        status = raw.get("expected_status")
        if "expected_status" not in raw:
            self.problems.add(join(path, "expected_status"), "required (an HTTP status, 100 to 599)")
        elif not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            self.problems.add(join(path, "expected_status"), f"expected an HTTP status from 100 to 599, got {_show(status)}")
        headers = self.headers(join(path, "headers"), raw["headers"]) if "headers" in raw else ()
        body = self.body(join(path, "body"), raw["body"], method) if "body" in raw else None
        if len(self.problems.errors) > before or check_path is None:
            return None
        return HealthCheck("http", path=check_path, method=method, expected_status=status, headers=headers,
                           body=body, continuous=continuous)

    def text(self, path: str, raw: dict, key: str, cap: int) -> str | None:
        path = join(path, key)
        if key not in raw:
            self.problems.add(path, "required")
            return None
        value = raw[key]
        if not isinstance(value, str) or not value:
            self.problems.add(path, f"expected a non-empty string, got {_show(value)}")
            return None
        if len(value) > cap:
            self.problems.add(path, f"at most {cap} characters, got {len(value)}")
            return None
        return self.plain(path, value)

    def path(self, path: str, raw: dict) -> str | None:
        value = self.text(path, raw, "path", MAX_PATH)
        if value is None:
            return None
        path = join(path, "path")
        if not PATH_RE.match(value) or value.startswith("//"):
            self.problems.add(
                path, f"expected a path starting with one '/', printable ASCII without spaces, got {value!r}"
            )
            return None
        return value

    def headers(self, path: str, raw: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, dict):
            self.problems.add(path, f"expected an object of header names and values, got {type_name(raw)}")
            return ()
        if len(raw) > MAX_HEADERS:
            self.problems.add(path, f"at most {MAX_HEADERS} headers, got {len(raw)}")
            return ()
        out: list[tuple[str, str]] = []
        for name, value in raw.items():
            where = join(path, str(name))
            if not isinstance(name, str) or not TOKEN_RE.match(name) or len(name) > MAX_HEADER_NAME:
                self.problems.add(where, f"expected a header name (letters, digits, !#$%&'*+.^_`|~-; at most {MAX_HEADER_NAME}), got {name!r}")
            elif name.lower() in FRAMING_HEADERS:
                self.problems.add(where, f"{name!r} is set by the node's checker itself (it frames the request)")
            elif not isinstance(value, str):
                self.problems.add(where, f"expected a string, got {type_name(value)}")
            elif len(value) > MAX_HEADER_VALUE or NOT_VALUE_RE.search(value):
                self.problems.add(where, f"expected at most {MAX_HEADER_VALUE} printable ASCII characters (spaces and tabs too)")
            elif self.plain(where, value) is not None:
                out.append((name, value))
        return tuple(out)

    def body(self, path: str, raw: Any, method: Any) -> str | None:
        if raw is None:
            return None
        try:  # Nosana's node sends a string as is, anything else as JSON.stringify gives it
            text = raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):  # a YAML date, a NaN
            self.problems.add(path, f"expected a string or a JSON value, got {type_name(raw)}")
            return None
        if len(text.encode()) > MAX_BODY:
            self.problems.add(path, f"at most {MAX_BODY} bytes, got {len(text.encode())}")
            return None
        if self.plain(path, text) is None:
            return None
        if method not in BODY_METHODS:
            self.problems.note(path, f"ignored: a body is sent only with {' or '.join(BODY_METHODS)} (as Nosana's node does)")
            return None
        return text

    def plain(self, path: str, value: str) -> str | None:
        if LITERAL.search(value):
            self.problems.add(path, NO_LITERALS)
            return None
        return value


def read(problems: Problems, path: str, raw: Any) -> tuple[tuple[ExposedPort, ...], Sites]:
    """`args.expose` as written: its ports, and (path, literal) of each item filled in at
    run time. Problems go to `problems`, with the item's path."""
    reader = _Reader(problems)
    reader.top(path, raw)
    return tuple(reader.ports), reader.literals


def fill(
    ports: tuple[ExposedPort, ...], literals: tuple[str, ...], values_of: Callable[[str], list[str]]
) -> tuple[ExposedPort, ...]:
    """`ports` and the items the literals stand for (each literal's values by `values_of`),
    read and bounded as if written in the file. A value that looks like JSON (`[`, `{`) is
    decoded, an array giving its items (as Nosana's `__spread__`); `"8080"` is a port and
    `"8000-8010"` a range. ValueError names what is wrong."""
    problems = Problems()
    reader = _Reader(problems, ports)
    for literal in literals:
        items: list[Any] = []
        for value in values_of(literal):
            items.extend(_items(literal, value))
            if len(items) > 4 * MAX_PORTS:
                raise ValueError(f"expose {literal}: more than {4 * MAX_PORTS} items")
        for i, item in enumerate(items):
            reader.item(f"expose {literal}[{i}]", item, dynamic=False)
    if problems.errors:
        raise ValueError("; ".join(str(p) for p in problems.errors))
    return tuple(reader.ports)


def _items(literal: str, value: str) -> list[Any]:
    text = value.strip()
    if text[:1] in ("[", "{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            raise ValueError(f"expose {literal}: {text[:80]!r} is not JSON") from None
        return _flat(decoded)
    if text.isdigit():
        return [int(text)]
    return [text]


def _flat(value: Any, depth: int = 0) -> list[Any]:
    if isinstance(value, list) and depth < 4:
        return [item for element in value for item in _flat(element, depth + 1)]
    return [value]


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else type_name(value)
