"""Vertex's list filter syntax (AIP-160), parsed into a tree that the store compiles to parameterized SQL.

`parse(text)` checks the syntax and returns the tree; `resolve(text, kind)` also checks which fields apply
to artifacts, executions or contexts, converts values (timestamps, states) and returns the typed tree that
`Store.list_nodes` turns into a WHERE clause. Nothing from the text is ever formatted into SQL: fields map to a
fixed set of columns and every value becomes a bound parameter. Errors are `FilterError` (a ValueError) with
the position of the offending character.

Supported, as in Vertex ML Metadata:

    schema_title="system.Dataset" AND display_name="train*"
    uri="gs://bucket/data.csv" OR state=PENDING
    create_time>="2024-01-01T00:00:00Z" AND NOT metadata.rows.number_value<100
    metadata."my key".string_value="x"  metadata.deployed.bool_value=true
    in_context("my-experiment-run-1")   parent_contexts:"my-experiment"

As in AIP-160, OR binds tighter than AND (`a AND b OR c` is `a AND (b OR c)`), terms side by side are ANDed,
`-` negates like NOT, and `*` in a string value is a wildcard.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Union

from .states import ArtifactState, ExecutionState

__all__ = [
    "And",
    "Call",
    "Cmp",
    "Comparison",
    "FilterError",
    "InContext",
    "Not",
    "Or",
    "ParentContexts",
    "Prop",
    "parse",
    "resolve",
]

MAX_DEPTH = 5  # Vertex rejects AND/OR nesting deeper than this; so do we, with a clearer message
MAX_LENGTH = 10_000


class FilterError(ValueError):
    """A filter that cannot be parsed or does not apply; `position` is the 0-based offset of the problem."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.reason = message
        shown = text if len(text) <= 200 else text[:200] + "..."
        caret = " " * min(position, len(shown)) + "^"
        super().__init__(f"invalid filter at position {position}: {message}\n  {shown}\n  {caret}")


# -- the syntax tree -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bare:
    """An unquoted word used as a value (e.g. `state=LIVE`)."""

    word: str


Literal = Union[str, int, float, bool, Bare]


@dataclass(frozen=True)
class Comparison:
    """`field op value`; `field` is the dotted path, `value` a literal or, for `:`, a tuple of literals."""

    field: tuple[str, ...]
    op: str
    value: Literal | tuple[Literal, ...]
    pos: int
    value_pos: int


@dataclass(frozen=True)
class Call:
    """A function term such as `in_context("name")`."""

    name: str
    args: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Comparison, Call, And, Or, Not]

# -- the typed tree the store compiles ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cmp:
    """A column compared with a value. `op` is one of = != < <= > >= LIKE NOTLIKE (patterns use \\ escapes)."""

    column: str
    op: str
    value: str | float | int


@dataclass(frozen=True)
class Prop:
    """A metadata value: `kind` is number_value, string_value or bool_value."""

    key: str
    kind: str
    op: str
    value: str | float | int


@dataclass(frozen=True)
class InContext:
    """Nodes attributed (artifacts) or associated (executions) to the context with this resource id."""

    context: str


@dataclass(frozen=True)
class ParentContexts:
    """Contexts that are children of any of these contexts (by resource id)."""

    contexts: tuple[str, ...]


Typed = Union[Cmp, Prop, InContext, ParentContexts, And, Or, Not]

# -- tokens ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|!=|=|<|>|:)
  | (?P<punct>[().,])
  | (?P<minus>-)
  | (?P<star>\*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_UNTERMINATED = re.compile(r"""["']""")
_KEYWORDS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # string number op punct minus star word keyword end
    text: str
    pos: int
    value: object = None


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if _UNTERMINATED.match(text, pos):
                raise FilterError(text, pos, "this string is never closed (add the matching quote)")
            raise FilterError(text, pos, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "string":
            out.append(_Tok("string", raw, pos, _unquote(raw)))
        elif kind == "number":
            number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
            out.append(_Tok("number", raw, pos, number))
        elif kind == "word" and raw in _KEYWORDS:
            out.append(_Tok("keyword", raw, pos))
        elif kind != "ws":
            out.append(_Tok(kind, raw, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


# -- the parser -----------------------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """Parse a filter into its syntax tree; FilterError (a ValueError) names the position of a mistake."""
    if not isinstance(text, str):
        raise TypeError(f"filter must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FilterError(text, MAX_LENGTH, f"filters are limited to {MAX_LENGTH:,} characters")
    if not text.strip():
        raise FilterError(text, 0, "the filter is empty (pass filter=None to list everything)")
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, tok: _Tok, message: str) -> FilterError:
        return FilterError(self.text, tok.pos, message)

    def run(self) -> Node:
        node = self.expression()
        tok = self.peek()
        if tok.kind != "end":
            if tok.text == ")":
                raise self.fail(tok, "this ')' has no matching '('")
            raise self.fail(tok, f"expected AND, OR or the end of the filter, got {tok.text!r}")
        return node

    def expression(self) -> Node:
        items = [self.sequence()]
        while self.peek().kind == "keyword" and self.peek().text == "AND":
            self.take()
            items.append(self.sequence())
        return items[0] if len(items) == 1 else And(tuple(items))

    def sequence(self) -> Node:
        items = [self.factor()]
        while self._starts_term(self.peek()):  # terms side by side are ANDed (AIP-160)
            items.append(self.factor())
        return items[0] if len(items) == 1 else And(tuple(items))

    def factor(self) -> Node:
        items = [self.term()]
        while self.peek().kind == "keyword" and self.peek().text == "OR":
            self.take()
            items.append(self.term())
        return items[0] if len(items) == 1 else Or(tuple(items))

    @staticmethod
    def _starts_term(tok: _Tok) -> bool:
        return tok.kind in ("word", "string", "minus") or (tok.kind == "punct" and tok.text == "(") or (
            tok.kind == "keyword" and tok.text == "NOT"
        )

    def term(self) -> Node:
        tok = self.peek()
        if (tok.kind == "keyword" and tok.text == "NOT") or tok.kind == "minus":
            self.take()
            return Not(self.term())
        return self.simple()

    def simple(self) -> Node:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(tok, f"parentheses nest deeper than {MAX_DEPTH} levels")
            node = self.expression()
            close = self.peek()
            if not (close.kind == "punct" and close.text == ")"):
                raise self.fail(close, f"expected ')' to close the '(' at position {tok.pos}, got {_show(close)}")
            self.take()
            self.depth -= 1
            return node
        if tok.kind == "word" and self.toks[self.i + 1].text == "(" and self.toks[self.i + 1].kind == "punct":
            return self.call()
        if tok.kind in ("word", "string"):
            return self.restriction()
        if tok.kind == "end":
            raise self.fail(tok, "the filter ends where a comparison such as display_name=\"x\" was expected")
        if tok.kind == "keyword":
            raise self.fail(tok, f"expected a comparison before {tok.text}")
        raise self.fail(tok, f"expected a field name such as schema_title, got {_show(tok)}")

    def call(self) -> Node:
        name = self.take()
        self.take()  # (
        args: list[Literal] = []
        if not (self.peek().kind == "punct" and self.peek().text == ")"):
            while True:
                args.append(self.literal())
                if self.peek().kind == "punct" and self.peek().text == ",":
                    self.take()
                    continue
                break
        close = self.peek()
        if not (close.kind == "punct" and close.text == ")"):
            raise self.fail(close, f"expected ')' to close {name.text}(, got {_show(close)}")
        self.take()
        return Call(name.text, tuple(args), name.pos)

    def restriction(self) -> Node:
        start = self.peek()
        path = [self.name()]
        while self.peek().kind == "punct" and self.peek().text == ".":
            self.take()
            nxt = self.peek()
            if nxt.kind not in ("word", "string", "number"):
                raise self.fail(nxt, f"expected a name after '.', got {_show(nxt)}")
            path.append(self.name())
        op = self.peek()
        if op.kind != "op":
            field = ".".join(path)
            if op.kind == "end":
                raise self.fail(op, f"{field} needs a comparison operator and a value, e.g. {field}=\"...\"")
            raise self.fail(op, f"expected a comparison operator (= != < <= > >= :) after {field}, got {_show(op)}")
        self.take()
        value_tok = self.peek()
        value: Literal | tuple[Literal, ...]
        if op.text == ":":
            values = [self.literal()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.take()
                values.append(self.literal())
            value = tuple(values)
        else:
            value = self.literal()
        return Comparison(tuple(path), op.text, value, start.pos, value_tok.pos)

    def name(self) -> str:
        tok = self.take()
        if tok.kind == "word":
            return tok.text
        if tok.kind == "string":
            return str(tok.value)
        if tok.kind == "number":  # e.g. metadata.2024.number_value
            return tok.text
        raise self.fail(tok, f"expected a name, got {_show(tok)}")

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind in ("string", "number"):
            return tok.value  # type: ignore[return-value]
        if tok.kind == "word":
            if tok.text in ("true", "false"):
                return tok.text == "true"
            nxt = self.peek()
            if nxt.kind == "punct" and nxt.text == ".":
                raise self.fail(tok, f"put the value in double quotes: \"{tok.text}.…\"")
            return Bare(tok.text)
        if tok.kind == "star":
            return "*"
        if tok.kind == "end":
            raise self.fail(tok, "the filter ends where a value was expected")
        raise self.fail(tok, f"expected a value (a \"string\", a number, true or false), got {_show(tok)}")


def _show(tok: _Tok) -> str:
    return "the end of the filter" if tok.kind == "end" else repr(tok.text)


# -- fields and values per kind of node ------------------------------------------------------------------------

_TEXT_FIELDS = {"name", "display_name", "schema_title", "schema_version", "description"}
_TIME_FIELDS = {"create_time", "update_time"}
_FIELDS = {
    "artifact": _TEXT_FIELDS | _TIME_FIELDS | {"uri", "state", "content_hash", "size"},
    "execution": _TEXT_FIELDS | _TIME_FIELDS | {"state"},
    "context": _TEXT_FIELDS | _TIME_FIELDS | {"state"},
}
_VALUE_KINDS = ("number_value", "string_value", "bool_value")


def resolve(text: str, kind: str) -> Typed:
    """Parse `text` and check it against the fields of `kind` (artifact, execution or context)."""
    if kind not in _FIELDS:
        raise ValueError(f"kind must be artifact, execution or context, got {kind!r}")
    return _Resolver(text, kind).node(parse(text))


class _Resolver:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind

    def fail(self, pos: int, message: str) -> FilterError:
        return FilterError(self.text, pos, message)

    def node(self, node: Node) -> Typed:
        if isinstance(node, And):
            return And(tuple(self.node(n) for n in node.items))  # type: ignore[arg-type]
        if isinstance(node, Or):
            return Or(tuple(self.node(n) for n in node.items))  # type: ignore[arg-type]
        if isinstance(node, Not):
            return Not(self.node(node.item))  # type: ignore[arg-type]
        if isinstance(node, Call):
            return self.call(node)
        return self.comparison(node)

    def call(self, node: Call) -> Typed:
        if node.name != "in_context":
            raise self.fail(node.pos, f"unknown function {node.name}(); the one supported is in_context(\"context\")")
        if self.kind == "context":
            raise self.fail(node.pos, "in_context() applies to artifacts and executions; for contexts use "
                            "parent_contexts:\"name\"")
        if len(node.args) != 1 or not isinstance(node.args[0], str):
            raise self.fail(node.pos, "in_context takes one quoted context name: in_context(\"my-run\")")
        return InContext(context_id(node.args[0]))

    def comparison(self, node: Comparison) -> Typed:
        head = node.field[0]
        if head == "metadata":
            return self.metadata(node)
        if head == "parent_contexts":
            if self.kind != "context":
                raise self.fail(node.pos, "parent_contexts applies to contexts; for artifacts and executions use "
                                "in_context(\"name\")")
            if node.op != ":" or len(node.field) != 1:
                raise self.fail(node.pos, "use parent_contexts:\"context-name\"")
            names = []
            for v in node.value:  # type: ignore[union-attr]
                if not isinstance(v, str):
                    raise self.fail(node.value_pos, "parent_contexts takes quoted context names")
                names.append(context_id(v))
            return ParentContexts(tuple(names))
        allowed = _FIELDS[self.kind]
        if len(node.field) != 1 or head not in allowed:
            field = ".".join(node.field)
            names = ", ".join(sorted(allowed | {"metadata.KEY.number_value"}))
            raise self.fail(node.pos, f"{self.kind}s have no field {field!r}; filter on {names}")
        if node.op == ":":
            raise self.fail(node.pos, f"':' applies to parent_contexts; compare {head} with = or !=")
        value = node.value
        assert not isinstance(value, tuple)
        if head in _TIME_FIELDS:
            return Cmp(head, node.op, self.timestamp(value, node.value_pos))
        if head == "state":
            return Cmp(head, self.equality(node), self.state(value, node.value_pos))
        if head == "size":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(node.value_pos, "size is compared with a number of bytes")
            return Cmp(head, node.op, value)
        if not isinstance(value, str):
            raise self.fail(node.value_pos, f"{head} is text: put the value in double quotes, e.g. {head}=\"...\"")
        return _text_cmp(head, node.op, value)

    def equality(self, node: Comparison) -> str:
        if node.op not in ("=", "!="):
            raise self.fail(node.pos, f"{'.'.join(node.field)} is compared with = or !=, not {node.op}")
        return node.op

    def metadata(self, node: Comparison) -> Typed:
        path = node.field[1:]
        if len(path) < 2 or path[-1] not in _VALUE_KINDS:
            raise self.fail(node.pos, "metadata is filtered as metadata.KEY.number_value, metadata.KEY.string_value "
                            "or metadata.KEY.bool_value")
        key, vkind = ".".join(path[:-1]), path[-1]
        if node.op == ":":
            raise self.fail(node.pos, "compare metadata values with = != < <= > >=")
        value = node.value
        assert not isinstance(value, tuple)
        if vkind == "number_value":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(node.value_pos, f"metadata.{key}.number_value is compared with a number")
            return Prop(key, vkind, node.op, float(value))
        if vkind == "bool_value":
            if not isinstance(value, bool):
                raise self.fail(node.value_pos, f"metadata.{key}.bool_value is compared with true or false")
            return Prop(key, vkind, self.equality(node), int(value))
        if not isinstance(value, str):
            raise self.fail(node.value_pos, f"metadata.{key}.string_value is compared with a \"quoted string\"")
        cmp = _text_cmp("", node.op, value)
        return Prop(key, vkind, cmp.op, cmp.value)

    def timestamp(self, value: Literal, pos: int) -> float:
        if not isinstance(value, str):
            raise self.fail(pos, "times are RFC-3339 strings in double quotes, e.g. \"2024-05-01T12:00:00Z\"")
        try:
            return parse_time(value)
        except ValueError:
            raise self.fail(pos, f"{value!r} is not an RFC-3339 time such as \"2024-05-01T12:00:00Z\"") from None

    def state(self, value: Literal, pos: int) -> str:
        word = value.word if isinstance(value, Bare) else value
        enum = ArtifactState if self.kind == "artifact" else ExecutionState
        if isinstance(word, str) and word.upper() in enum.__members__:
            return word.upper()
        allowed = ", ".join(s for s in enum.__members__ if s != "STATE_UNSPECIFIED")
        raise self.fail(pos, f"{self.kind} state must be one of {allowed}")


def _text_cmp(column: str, op: str, value: str) -> Cmp:
    if "*" in value and op in ("=", "!="):
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
        return Cmp(column, "LIKE" if op == "=" else "NOTLIKE", escaped)
    return Cmp(column, op, value)


def parse_time(text: str) -> float:
    """Seconds since the epoch for an RFC-3339 time ("Z" or an offset; a bare date is midnight UTC)."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    when = _dt.datetime.fromisoformat(s)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


def context_id(name: str) -> str:
    """The resource id in a context name: `projects/.../contexts/ID`, `store.db#contexts/ID` or the id itself."""
    marker = "contexts/"
    at = name.rfind(marker)
    return name[at + len(marker):] if at >= 0 else name
