"""An in-memory stand-in for the two InfluxDB 2 endpoints the adapter uses, for protocol tests.

``FakeInflux.respond`` answers ``RecordingServer`` requests:

- ``POST /api/v2/write``: parses line protocol (measurement, tags and fields with their escapes;
  float, integer, unsigned, string and boolean fields; ``precision``) and stores the points as
  InfluxDB does: a point is identified by measurement, tag set and timestamp, and writing it
  again merges the field sets, the new values winning (so a field left out keeps its old
  value). A field whose type differs from the stored one is refused with 422 (partial write);
  unparsable lines with 400, nothing written; an unknown bucket with 404. 204 otherwise.
- ``POST /api/v2/query``: interprets the subset of Flux the adapter's ``_points`` queries use
  (``from``, ``range``, ``filter`` with ``==`` comparisons joined by ``or``/``and``, ``group``,
  ``pivot``, ``sort``, ``keep``; string literals with Flux's escapes, refusing what Flux cannot
  read) with Flux's table semantics (a table per series and field after
  ``range``; ``group`` merging tables, refusing mixed column types as Flux does; ``pivot``
  dropping columns outside its keys and the group key; a table only gets the field columns
  present in it), and answers annotated CSV as InfluxDB writes it (``\\r\\n`` line ends, a new
  annotation block when the schema changes, RFC 3339 times with trailing zeros trimmed, floats
  in their shortest exact positional form, empty cells for nulls, a bare ``\\r\\n`` for no
  tables). Anything else is answered 400 with a message naming what the fake does not
  interpret, so a test cannot pass on Flux the fake only pretends to run.

``hidden_writes`` makes the newest accepted writes invisible to queries (storage that has not
caught up yet). What this is not: the real server. Its Flux and line protocol are specified by
https://docs.influxdata.com/flux/v0/ and
https://docs.influxdata.com/influxdb/v2/reference/syntax/ (line protocol, annotated CSV); the
live suite (``tests/store/test_influx_live.py``) checks the adapter against a real InfluxDB.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from support.http_fake import Answer, Request

CSV_TYPE = "text/csv; charset=utf-8"
_PRECISION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_TRUE = {"t", "T", "true", "True", "TRUE"}
_FALSE = {"f", "F", "false", "False", "FALSE"}
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


class FluxUnsupportedError(ValueError):
    """Flux the fake does not interpret (or that real Flux refuses)."""


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: dict[str, str]
    ts_ns: int
    fields: dict[str, Any]

    @property
    def ts_ms(self) -> int:
        return self.ts_ns // 1_000_000


@dataclass
class FakeInflux:
    bucket: str = "noise"
    hidden_writes: int = 0
    log: list[list[Point]] = field(default_factory=list)
    _cache: tuple[list[list[Point]], int, dict[SeriesKey, Any]] | None = None

    # -- HTTP

    def respond(self, request: Request) -> Answer:
        if request.path == "/api/v2/write":
            return self._write(request)
        if request.path == "/api/v2/query":
            return self._query(request)
        return _error(404, "not found", f"path {request.path} not found")

    def _write(self, request: Request) -> Answer:
        if request.query.get("bucket") != self.bucket:
            return _error(404, "not found", f'bucket "{request.query.get("bucket")}" not found')
        scale = _PRECISION_NS[request.query.get("precision", "ns")]
        try:
            points = [
                _parse_line(line, scale)
                for line in request.body.decode().split("\n")
                if line.strip() and not line.lstrip().startswith("#")
            ]
        except ValueError as exc:
            return _error(400, "invalid", f"unable to parse points: {exc}")
        types = self._field_types()
        accepted, conflicts = [], []
        for point in points:
            clash = [
                name
                for name, value in point.fields.items()
                if types.setdefault((point.measurement, name), _type(value)) != _type(value)
            ]
            (conflicts if clash else accepted).append(point)
        self.log.append(accepted)
        if conflicts:
            message = (
                "failure writing points to database: partial write: field type conflict"
                f" dropped={len(conflicts)}"
            )
            return _error(422, "unprocessable entity", message)
        return Answer(204)

    def _query(self, request: Request) -> Answer:
        flux = json.loads(request.body)["query"]
        try:
            tables = self._run(flux)
        except FluxUnsupportedError as exc:
            return _error(400, "invalid", f"fake InfluxDB: {exc}")
        except LookupError as exc:
            return _error(404, "not found", str(exc))
        return Answer(200, _annotated_csv(tables), CSV_TYPE)

    # -- storage

    def _field_types(self) -> dict[tuple[str, str], str]:
        types: dict[tuple[str, str], str] = {}
        for batch in self.log:
            for point in batch:
                for name, value in point.fields.items():
                    types.setdefault((point.measurement, name), _type(value))
        return types

    def _state(self, count: int) -> dict[SeriesKey, dict[int, dict[str, Any]]]:
        """The stored series after the first ``count`` writes of ``log`` (kept between calls
        and brought up to date, since writes only append)."""
        cached = self._cache
        if cached is None or cached[0] is not self.log or cached[1] > count:
            cached = (self.log, 0, {})
        log, done, state = cached
        for batch in log[done:count]:
            for point in batch:
                key = (point.measurement, tuple(sorted(point.tags.items())))
                state.setdefault(key, {}).setdefault(point.ts_ns, {}).update(point.fields)
        self._cache = (log, count, state)
        return state

    def points(self, measurement: str) -> list[Point]:
        """Every stored point of ``measurement`` (all writes, hidden or not), by tags and time."""
        found = [
            Point(name, dict(tags), ts, dict(fields))
            for (name, tags), series in self._state(len(self.log)).items()
            if name == measurement
            for ts, fields in series.items()
        ]
        return sorted(found, key=lambda p: (sorted(p.tags.items()), p.ts_ns))

    # -- Flux

    def _run(self, flux: str) -> list[Table]:
        stages = _stages(flux)
        name, args = stages[0]
        if name != "from" or set(args) != {"bucket"}:
            raise FluxUnsupportedError("a query must start with from(bucket: ...)")
        if args["bucket"] != self.bucket:
            raise LookupError(
                f'failed to initialize execute state: could not find bucket "{args["bucket"]}"'
            )
        if len(stages) < 2 or stages[1][0] != "range":
            raise FluxUnsupportedError("from() must be followed by range()")
        visible = self._state(len(self.log) - self.hidden_writes)
        tables = _ranged(visible, **stages[1][1])
        for name, args in stages[2:]:
            operation = _OPERATIONS.get(name)
            if operation is None:
                raise FluxUnsupportedError(f"{name}() is not interpreted")
            try:
                tables = operation(tables, **args)
            except TypeError as exc:
                raise FluxUnsupportedError(f"{name}(): arguments not interpreted: {exc}") from None
        return tables


# --------------------------------------------------------------------------- line protocol


def _scan(text: str, stops: str, *, quotes: bool) -> tuple[str, str]:
    """``text`` up to the first unescaped character of ``stops`` (outside double quotes when
    ``quotes``), and the rest after it."""
    i, quoted = 0, False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            i += 2
            continue
        if quotes and char == '"':
            quoted = not quoted
        elif char in stops and not quoted:
            return text[:i], text[i + 1 :]
        i += 1
    if quoted:
        raise ValueError(f"unterminated string in {text!r}")
    return text, ""


def _split(text: str, sep: str, *, quotes: bool = False) -> list[str]:
    parts = []
    while True:
        part, rest = _scan(text, sep, quotes=quotes)
        parts.append(part)
        if len(part) == len(text):
            return parts
        text = rest


def _unescape(text: str, chars: str) -> str:
    for char in chars:
        text = text.replace("\\" + char, char)
    return text


def _parse_line(line: str, scale: int) -> Point:
    head, rest = _scan(line, " ", quotes=False)
    fields_text, stamp = _scan(rest, " ", quotes=True)
    measurement, *tag_texts = _split(head, ",")
    tags = {}
    for tag in tag_texts:
        key, value = _scan(tag, "=", quotes=False)
        if not key or not value:
            raise ValueError(f"bad tag {tag!r}")
        tags[_unescape(key, ",= ")] = _unescape(value, ",= ")
    fields = {}
    for item in _split(fields_text, ",", quotes=True):
        key, value = _scan(item, "=", quotes=False)
        if not key or not value:
            raise ValueError(f"bad field {item!r}")
        fields[_unescape(key, ",= ")] = _field_value(value)
    if not measurement or not fields:
        raise ValueError(f"no measurement or no fields in {line!r}")
    if not stamp.strip().lstrip("-").isdigit():
        raise ValueError(f"bad or missing timestamp in {line!r}")
    return Point(_unescape(measurement, ", "), tags, int(stamp.strip()) * scale, fields)


def _field_value(text: str) -> Any:
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise ValueError(f"bad string {text!r}")
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    if text.endswith("i") and re.fullmatch(r"[+-]?\d+", text[:-1]):
        return int(text[:-1])
    if text.endswith("u") and re.fullmatch(r"\d+", text[:-1]):
        return _Unsigned(int(text[:-1]))
    if _FLOAT.fullmatch(text):
        return float(text)
    raise ValueError(f"bad field value {text!r}")


class _Unsigned(int):
    pass


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _Unsigned):
        return "unsignedLong"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


# --------------------------------------------------------------------------- Flux subset


@dataclass
class Table:
    key: list[str]  # group key columns
    columns: list[str]
    types: dict[str, str]
    rows: list[dict[str, Any]]

    def key_values(self) -> tuple[str, ...]:
        return tuple(str(self.rows[0].get(c, "")) for c in self.key) if self.rows else ()


_TIME_TYPE = "dateTime:RFC3339"
_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:\\.|[^"\\])*")|(?P<arrow>=>)|(?P<eq>==)|(?P<pipe>\|>)'
    r"|(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)|(?P<number>-?\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?)|(?P<punct>[()\[\]:,]))"
)


def _tokens(flux: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(flux.rstrip()):
        match = _TOKEN.match(flux, at)
        if match is None:
            raise FluxUnsupportedError(f"cannot read {flux[at : at + 30]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _stages(flux: str) -> list[tuple[str, dict[str, Any]]]:
    tokens = _tokens(flux)
    stages, at = [], 0
    while at < len(tokens):
        if stages:
            if tokens[at] != ("pipe", "|>"):
                raise FluxUnsupportedError(f"expected |> at {tokens[at][1]!r}")
            at += 1
        if at + 1 >= len(tokens) or tokens[at][0] != "name" or tokens[at + 1][1] != "(":
            raise FluxUnsupportedError("expected a function call")
        name = tokens[at][1]
        args, at = _arguments(tokens, at + 2)
        stages.append((name, args))
    return stages


def _arguments(tokens: list[tuple[str, str]], at: int) -> tuple[dict[str, Any], int]:
    args: dict[str, Any] = {}
    while tokens[at][1] != ")":
        name = tokens[at][1]
        if tokens[at + 1][1] != ":":
            raise FluxUnsupportedError(f"expected named argument at {name!r}")
        value, at = _value(tokens, at + 2)
        args[re.sub("[A-Z]", lambda m: "_" + m.group(0).lower(), name)] = value  # rowKey: row_key
        if tokens[at][1] == ",":
            at += 1
    return args, at + 1


def _value(tokens: list[tuple[str, str]], at: int) -> tuple[Any, int]:
    kind, text = tokens[at]
    if kind == "string":
        return _flux_string(text), at + 1
    if kind == "time":
        return _parse_time(text), at + 1
    if kind == "number":
        return int(text) * 1_000_000_000, at + 1  # a number as a time: Unix seconds
    if text == "[":
        items, at = [], at + 1
        while tokens[at][1] != "]":
            item, at = _value(tokens, at)
            items.append(item)
            if tokens[at][1] == ",":
                at += 1
        return items, at + 1
    if text == "(":  # (r) => predicate
        if [t[1] for t in tokens[at : at + 4]] != ["(", "r", ")", "=>"]:
            raise FluxUnsupportedError("only (r) => ... functions are interpreted")
        return _predicate(tokens, at + 4)
    raise FluxUnsupportedError(f"unexpected {text!r}")


def _predicate(tokens: list[tuple[str, str]], at: int) -> tuple[Any, int]:
    """``r.col == "value"`` terms joined by ``or``/``and`` (``and`` binding tighter)."""
    alternatives: list[list[tuple[str, str]]] = [[]]
    while True:
        kind, text = tokens[at]
        if kind != "name" or not text.startswith("r.") or tokens[at + 1][0] != "eq":
            raise FluxUnsupportedError(f'only r.column == "string" comparisons, not {text!r}')
        value_kind, value = tokens[at + 2]
        if value_kind != "string":
            raise FluxUnsupportedError("only string comparisons are interpreted")
        alternatives[-1].append((text[2:], _flux_string(value)))
        at += 3
        if tokens[at] == ("name", "or"):
            alternatives.append([])
        elif tokens[at] != ("name", "and"):
            break
        at += 1

    def test(row: dict[str, Any]) -> bool:
        return any(all(row.get(c) == v for c, v in terms) for terms in alternatives)

    return test, at


_STRING_PART = re.compile(
    r'\\x(?P<byte>[0-9a-fA-F]{2})|\\(?P<escape>\$\{|[nrt"\\])|(?P<dollar>\$[{\\])'
    r"|(?P<bad>\\.?)|(?P<plain>[^\\$]+|\$)",
    re.DOTALL,
)
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "${": "${"}


def _flux_string(text: str) -> str:
    """The value of a Flux string literal (with its quotes): the escapes ``\\n``, ``\\r``,
    ``\\t``, ``\\"``, ``\\\\`` and ``\\${``, and byte escapes ``\\xNN`` (UTF-8). Refused as
    Flux refuses or misreads them: other escapes (``\\$`` among them), an interpolation
    ``${...}``, and a ``$`` before a backslash (Flux's lexer takes the character after a ``$``
    as it stands, so the escape that follows breaks)."""
    value = bytearray()
    for part in _STRING_PART.finditer(text[1:-1]):
        if part["byte"] is not None:
            value.append(int(part["byte"], 16))
        elif part["escape"] is not None:
            value += _ESCAPED[part["escape"]].encode()
        elif part["plain"] is not None:
            value += part["plain"].encode()
        else:
            found = part["dollar"] or part["bad"]
            raise FluxUnsupportedError(f"string {text}: Flux cannot read {found!r} in it")
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise FluxUnsupportedError(f"string {text}: its bytes are not UTF-8") from None


def _parse_time(text: str) -> int:
    whole, _, frac = text.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp()
    return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9])


def _ranged(
    state: dict[SeriesKey, dict[int, dict[str, Any]]], *, start: int, stop: int | None = None
) -> list[Table]:
    stop_ns = stop if stop is not None else 2**62
    tables = []
    for (measurement, tags), series in state.items():
        names = sorted({name for fields in series.values() for name in fields})
        for name in names:
            rows = [
                {
                    "_start": start,
                    "_stop": stop_ns,
                    "_time": ts,
                    "_value": fields[name],
                    "_field": name,
                    "_measurement": measurement,
                    **dict(tags),
                }
                for ts, fields in sorted(series.items())
                if start <= ts < stop_ns and name in fields
            ]
            if not rows:
                continue
            tag_names = [t for t, _ in tags]
            types = dict.fromkeys(["_field", "_measurement", *tag_names], "string")
            types.update(_start=_TIME_TYPE, _stop=_TIME_TYPE, _time=_TIME_TYPE)
            types["_value"] = _type(rows[0]["_value"])
            tables.append(
                Table(
                    key=["_start", "_stop", "_field", "_measurement", *tag_names],
                    columns=[
                        "_start",
                        "_stop",
                        "_time",
                        "_value",
                        "_field",
                        "_measurement",
                        *tag_names,
                    ],
                    types=types,
                    rows=rows,
                )
            )
    return tables


def _filter(tables: list[Table], *, fn: Any) -> list[Table]:
    kept = [Table(t.key, t.columns, t.types, [r for r in t.rows if fn(r)]) for t in tables]
    return [t for t in kept if t.rows]


def _group(tables: list[Table], *, columns: list[str]) -> list[Table]:
    groups: dict[tuple[Any, ...], Table] = {}
    for table in tables:
        for row in table.rows:
            key = tuple(row.get(c) for c in columns)
            target = groups.setdefault(key, Table(list(columns), [], {}, []))
            for column in table.columns:
                kind = table.types[column]
                if column not in target.types:
                    target.columns.append(column)
                    target.types[column] = kind
                elif target.types[column] != kind:
                    raise FluxUnsupportedError(
                        f"schema collision: cannot group {kind} and {target.types[column]}"
                        f" types together (column {column})"
                    )
            target.rows.append(row)
    for target in groups.values():
        target.key = [c for c in columns if c in target.types]
    return list(groups.values())


def _pivot(
    tables: list[Table], *, row_key: list[str], column_key: list[str], value_column: str
) -> list[Table]:
    """Flux's pivot: the input tables whose group keys agree once the ``column_key`` columns
    are left out feed one output table (so the tables of the fields of a series become one),
    with a row per ``row_key`` value and a column per ``column_key`` value; other columns not in
    the group key are dropped."""
    key_of: dict[tuple[Any, ...], list[str]] = {}
    types_of: dict[tuple[Any, ...], dict[str, str]] = {}
    rows_of: dict[tuple[Any, ...], dict[tuple[Any, ...], dict[str, Any]]] = {}
    for table in tables:
        key = [c for c in table.key if c not in column_key]
        ident = tuple((c, table.rows[0].get(c)) for c in key)
        key_of[ident] = key
        types = types_of.setdefault(ident, {c: table.types[c] for c in key + row_key})
        rows = rows_of.setdefault(ident, {})
        for row in table.rows:
            name = "_".join(str(row[c]) for c in column_key)
            types.setdefault(name, table.types[value_column])
            target = rows.setdefault(
                tuple(row[c] for c in row_key), {c: row.get(c) for c in key + row_key}
            )
            target[name] = row[value_column]
    out = []
    for ident, key in key_of.items():
        new = sorted(c for c in types_of[ident] if c not in key and c not in row_key)
        rows = rows_of[ident]
        ordered = [rows[k] for k in sorted(rows)]
        out.append(Table(key, [*key, *row_key, *new], types_of[ident], ordered))
    return out


def _sort(tables: list[Table], *, columns: list[str], desc: bool = False) -> list[Table]:
    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((row.get(c) is not None, row.get(c)) for c in columns)

    return [
        Table(t.key, t.columns, t.types, sorted(t.rows, key=order, reverse=desc)) for t in tables
    ]


def _keep(tables: list[Table], *, columns: list[str]) -> list[Table]:
    out = []
    for table in tables:
        kept = [c for c in table.columns if c in columns]
        out.append(
            Table(
                [c for c in table.key if c in kept],
                kept,
                {c: table.types[c] for c in kept},
                [{c: r.get(c) for c in kept} for r in table.rows],
            )
        )
    return out


_OPERATIONS: dict[str, Any] = {
    "filter": _filter,
    "group": _group,
    "pivot": _pivot,
    "sort": _sort,
    "keep": _keep,
}


# --------------------------------------------------------------------------- annotated CSV


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == _TIME_TYPE:
        seconds, ns = divmod(int(value), 1_000_000_000)
        stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        fraction = f"{ns:09d}".rstrip("0")
        return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"
    if kind == "double":
        return np.format_float_positional(value, unique=True, trim="-")
    if kind == "boolean":
        return "true" if value else "false"
    return str(value)


def _annotated_csv(tables: list[Table]) -> bytes:
    tables = sorted((t for t in tables if t.rows), key=Table.key_values)
    if not tables:
        return b"\r\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    schema: tuple[Any, ...] | None = None
    for number, table in enumerate(tables):
        this = (table.columns, [table.types[c] for c in table.columns], table.key)
        if this != schema:
            if schema is not None:
                out.write("\r\n")
            writer.writerow(
                ["#group", "false", "false"] + [str(c in table.key).lower() for c in table.columns]
            )
            writer.writerow(["#datatype", "string", "long"] + this[1])
            writer.writerow(["#default", "_result", ""] + [""] * len(table.columns))
            writer.writerow(["", "result", "table", *table.columns])
            schema = this
        for row in table.rows:
            cells = [_cell(row.get(c), table.types[c]) for c in table.columns]
            writer.writerow(["", "", str(number), *cells])
    out.write("\r\n")
    return out.getvalue().encode()


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, json.dumps({"code": code, "message": message}).encode())
