"""Vertex's list filter syntax: parsing, error positions, and the SQL it compiles to, against a real store."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from trackbook import filters
from trackbook.filters import And, Bare, Cmp, Comparison, FilterError, Not, Or, Prop

# -- syntax -------------------------------------------------------------------------------------------------


def test_comparisons_and_values() -> None:
    node = filters.parse('display_name = "a b" ')
    assert node == Comparison(("display_name",), "=", "a b", 0, 15)
    assert filters.parse("metadata.n.number_value>=-1.5e2").value == -150.0
    assert filters.parse("metadata.n.number_value<3").value == 3
    assert filters.parse("metadata.b.bool_value=true").value is True
    assert filters.parse("state=LIVE").value == Bare("LIVE")
    assert filters.parse("display_name='single quoted \\' ok'").value == "single quoted ' ok"
    assert filters.parse('metadata."my key.x".string_value="v"').field == ("metadata", "my key.x", "string_value")
    assert filters.parse('parent_contexts:"a","b"').value == ("a", "b")


def test_or_binds_tighter_than_and_as_in_aip_160() -> None:
    node = filters.parse('a="x" AND b="x" OR c="x"')
    assert isinstance(node, And) and isinstance(node.items[1], Or)
    node = filters.parse('(a="x" AND b="x") OR c="x"')
    assert isinstance(node, Or) and isinstance(node.items[0], And)
    node = filters.parse('a="x" b="x"')  # side by side: AND
    assert isinstance(node, And) and len(node.items) == 2
    assert isinstance(filters.parse('NOT a="x"'), Not)
    assert isinstance(filters.parse('-a="x"'), Not)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('display_name="abc', 13, "never closed"),
        ("display_name=", 13, "value was expected"),
        ('display_name "x"', 13, "comparison operator"),
        ('display_name="x" AND', 20, "comparison such as"),
        ('(display_name="x"', 17, "expected ')'"),
        ('display_name="x")', 16, "no matching '('"),
        ('display_name="x" ; DROP TABLE artifact', 17, "unexpected character ';'"),
        ('schema_title=system.Dataset', 13, "double quotes"),
        ("  ", 0, "empty"),
        ('((((((a="x"))))))', 5, "deeper than 5"),
        ('display_name="x" AND AND b="y"', 21, "comparison before AND"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        filters.parse(text)
    assert info.value.position == position, str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert f"at position {position}" in str(info.value) and "^" in str(info.value)


@pytest.mark.parametrize(
    ("text", "kind", "position", "message"),
    [
        ('colour="red"', "artifact", 0, "no field 'colour'"),
        ('display_name="x" AND uri="u"', "execution", 21, "no field 'uri'"),
        ("display_name=3", "artifact", 13, "double quotes"),
        ('create_time>"yesterday"', "artifact", 12, "RFC-3339"),
        ("state=DONE", "artifact", 6, "PENDING, LIVE"),
        ("state=LIVE", "execution", 6, "RUNNING"),
        ('metadata.x.number_value="1"', "artifact", 24, "with a number"),
        ("metadata.x.bool_value>true", "artifact", 0, "= or !="),
        ('metadata.x="1"', "artifact", 0, "number_value"),
        ('in_context("run")', "context", 0, "parent_contexts"),
        ('parent_contexts:"e"', "artifact", 0, "in_context"),
        ('lineage("x")', "artifact", 0, "unknown function"),
        ('display_name:"x"', "artifact", 0, "parent_contexts"),
    ],
)
def test_fields_that_do_not_apply_are_refused_with_position(text: str, kind: str, position: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        filters.resolve(text, kind)
    assert info.value.position == position, str(info.value)
    assert message in str(info.value)


def test_resolve_converts_times_states_and_wildcards() -> None:
    node = filters.resolve('create_time>="2024-01-02T03:04:05Z" AND state=live', "artifact")
    assert node == And((
        Cmp("create_time", ">=", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp()),
        Cmp("state", "=", "LIVE"),
    ))
    assert filters.resolve('create_time<"2024-01-02"', "execution") == Cmp(
        "create_time", "<", dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc).timestamp()
    )
    assert filters.resolve('display_name="tr*n_%"', "artifact") == Cmp("display_name", "LIKE", "tr%n\\_\\%")
    assert filters.resolve('display_name!="a*"', "artifact") == Cmp("display_name", "NOTLIKE", "a%")
    assert filters.resolve("metadata.a.b.number_value>1", "artifact") == Prop("a.b", "number_value", ">", 1.0)
    assert filters.resolve('in_context("projects/p/locations/l/metadataStores/default/contexts/e-r")',
                           "artifact") == filters.InContext("e-r")


@settings(max_examples=300, deadline=None)
@given(hs.text(alphabet=hs.sampled_from(list('ab=!<>:"\'()., -*_0123456789 ANDORNOTmetadatastr\\')), max_size=40))
def test_any_text_parses_or_raises_filter_error(text: str) -> None:
    for kind in ("artifact", "execution", "context"):
        try:
            filters.resolve(text, kind)
        except FilterError as exc:
            assert 0 <= exc.position <= len(text)


# -- against a store ------------------------------------------------------------------------------------------


@pytest.fixture
def artifacts(tb):
    made = {}
    specs = [
        ("a1", "system.Dataset", "train-data", "LIVE", {"rows": 100, "split": "train", "clean": True}),
        ("a2", "system.Dataset", "test-data", "LIVE", {"rows": 20, "split": "test", "clean": False}),
        ("a3", "system.Model", "model", "PENDING", {"rows": 100.5, "nested": {"depth": 3}}),
        ("a4", "system.Metrics", "metrics_100%", "LIVE", {"split": "te*t"}),
    ]
    for rid, title, name, state, meta in specs:
        made[rid] = tb.Artifact.create(title, resource_id=f"{rid}-id", display_name=name, state=state, metadata=meta,
                                       uri=f"gs://b/{rid}")
        time.sleep(0.002)
    return made


def names(items) -> list[str]:
    return [a.name.split("-")[0] for a in items]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('schema_title="system.Dataset"', ["a1", "a2"]),
        ('display_name="*-data"', ["a1", "a2"]),
        ('display_name="metrics_100%"', ["a4"]),
        ('display_name="metrics_1*"', ["a4"]),
        ('display_name="metrics*"', ["a4"]),
        ('display_name!="*data"', ["a3", "a4"]),
        ('uri="gs://b/a2"', ["a2"]),
        ("state=PENDING", ["a3"]),
        ('state="LIVE" AND NOT schema_title="system.Metrics"', ["a1", "a2"]),
        ("metadata.rows.number_value=100", ["a1"]),
        ("metadata.rows.number_value>=100", ["a1", "a3"]),
        ("metadata.rows.number_value<50 OR metadata.nested.depth.number_value=3", ["a2", "a3"]),
        ('metadata.split.string_value="te*t"', ["a2", "a4"]),
        ("metadata.clean.bool_value=true", ["a1"]),
        ("metadata.clean.bool_value!=true", ["a2"]),
        # OR binds tighter than AND (AIP-160): (Metrics OR Dataset) AND clean
        ('schema_title="system.Metrics" OR schema_title="system.Dataset" AND metadata.clean.bool_value=true',
         ["a1"]),
        ('schema_title="system.Metrics" OR (schema_title="system.Dataset" AND metadata.clean.bool_value=true)',
         ["a1", "a4"]),
        ('schema_title="system.Dataset" metadata.clean.bool_value=false', ["a2"]),
        ('-schema_title="system.Dataset"', ["a3", "a4"]),
        ('name="a2-id"', ["a2"]),
    ],
)
def test_artifact_filters_select_what_vertex_would(artifacts, tb, text: str, expected: list[str]) -> None:
    assert names(tb.Artifact.list(filter=text)) == expected


def test_time_filters_and_order_by(artifacts, tb) -> None:
    first, second = artifacts["a1"].create_time, artifacts["a2"].create_time
    between = (first + (second - first) / 2).isoformat()
    assert names(tb.Artifact.list(filter=f'create_time>="{between}"')) == ["a2", "a3", "a4"]
    assert names(tb.Artifact.list(filter=f'create_time<"{between}"')) == ["a1"]
    assert names(tb.Artifact.list(order_by="create_time desc")) == ["a4", "a3", "a2", "a1"]
    with pytest.raises(ValueError, match="order_by"):
        tb.Artifact.list(order_by="colour")


def test_values_are_bound_never_formatted(artifacts, tb, store_path) -> None:
    hostile = "x\" OR 1=1 --'; DROP TABLE artifact; --"
    assert tb.Artifact.list(filter=f"display_name={_quote(hostile)}") == []
    made = tb.Artifact.create("system.Dataset", display_name=hostile)
    assert tb.Artifact.list(filter=f"display_name={_quote(hostile)}") == [made]
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT COUNT(*) FROM artifact").fetchone()[0] == 5


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_execution_and_context_filters(tb) -> None:
    tb.init(experiment="exp")
    with tb.start_run("run-1"), tb.start_execution(
        schema_title="system.ContainerExecution", display_name="train", metadata={"lr": 0.1}
    ) as ex:
        ex.assign_output_artifacts([tb.Artifact.create("system.Model", display_name="m")])
    failed = tb.Execution.create("system.ContainerExecution", display_name="eval", state="FAILED")
    assert tb.Execution.list(filter="state=COMPLETE") == [ex]
    assert tb.Execution.list(filter='state!=COMPLETE') == [failed]
    assert tb.Execution.list(filter="metadata.lr.number_value<1") == [ex]
    assert tb.Execution.list(filter='in_context("exp-run-1")') == [ex]
    assert [a.display_name for a in tb.Artifact.list(filter='in_context("exp-run-1")')] == ["m"]
    assert tb.Artifact.list(filter='in_context("no-such-context")') == []
    assert [c.name for c in tb.Context.list(filter='parent_contexts:"exp"')] == ["exp-run-1"]
    assert [c.name for c in tb.Context.list(filter='name="exp-run-1"')] == ["exp-run-1"]
    assert [c.name for c in tb.Context.list(filter='schema_title="system.Experiment"')] == ["exp"]
    assert [c.name for c in tb.Context.list(filter="state=COMPLETE")] == ["exp-run-1"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hs.data())
def test_random_filters_match_a_python_evaluation(artifacts, tb, data) -> None:
    rows = {k: (a.display_name, a.schema_title, a.state.name, a.metadata) for k, a in artifacts.items()}
    text, predicate = data.draw(_expressions(3))
    expected = sorted(k for k, row in rows.items() if predicate(row))
    assert sorted(names(tb.Artifact.list(filter=text))) == expected, text


_ATOMS = [
    ('display_name="*data"', lambda r: r[0].endswith("data")),
    ('schema_title="system.Dataset"', lambda r: r[1] == "system.Dataset"),
    ("state=LIVE", lambda r: r[2] == "LIVE"),
    ("metadata.rows.number_value>50", lambda r: isinstance(r[3].get("rows"), (int, float)) and r[3]["rows"] > 50),
    ('metadata.split.string_value="train"', lambda r: r[3].get("split") == "train"),
    ("metadata.clean.bool_value=true", lambda r: r[3].get("clean") is True),
]


@hs.composite
def _expressions(draw, depth: int):
    if depth == 0 or draw(hs.booleans()):
        return draw(hs.sampled_from(_ATOMS))
    op = draw(hs.sampled_from(["AND", "OR", "NOT"]))
    left_text, left = draw(_expressions(depth - 1))
    if op == "NOT":
        return f"NOT ({left_text})", lambda r: not left(r)
    right_text, right = draw(_expressions(depth - 1))
    if op == "AND":
        return f"({left_text}) AND ({right_text})", lambda r: left(r) and right(r)
    return f"({left_text}) OR ({right_text})", lambda r: left(r) or right(r)


def test_experiment_list_takes_a_filter(tb) -> None:
    for name in ("alpha", "beta", "alps"):
        tb.init(experiment=name)
    tb.Context.create("system.Pipeline", resource_id="alpine")  # not an experiment: never listed
    assert [e.name for e in tb.Experiment.list(filter='display_name="al*"')] == ["alpha", "alps"]
    assert [e.name for e in tb.Experiment.list(filter='NOT name="beta"')] == ["alpha", "alps"]
    with pytest.raises(FilterError, match="position 0"):
        tb.Experiment.list(filter="uri=1")


def test_wildcards_match_case_like_equality(tb) -> None:
    for name in ("train-set", "Train-set"):
        tb.Artifact.create("system.Dataset", display_name=name)
    assert [a.display_name for a in tb.Artifact.list(filter='display_name="Train*"')] == ["Train-set"]
    assert [a.display_name for a in tb.Artifact.list(filter='display_name="Train-set"')] == ["Train-set"]
    assert [a.display_name for a in tb.Artifact.list(filter='display_name="train*"')] == ["train-set"]


def test_metadata_written_by_every_path_is_filterable(tb) -> None:
    tb.init(experiment="e", experiment_tensorboard=tb.Tensorboard.create())
    found = tb.Context.list(filter='schema_title="system.Experiment" AND metadata.experiment_deleted.bool_value=false')
    assert [c.name for c in found] == ["e"]
    tb_name = tb.Experiment("e").backing_tensorboard_resource_name
    found = tb.Context.list(filter=f'metadata.backing_tensorboard_resource.string_value="{tb_name}"')
    assert [c.name for c in found] == ["e"]
