"""The query spec (AdSpark.queries.QUERY_SPEC) drives every place that takes a query."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest
from django.core.management import load_command_class

from AdSpark.queries import QUERY_FIELD_SPECS, QUERY_FIELDS, WATCH_QUERY_FIELDS, FetchQuery
from AdSpark.serializers import FetchRequestSerializer
from AdSpark.tasks import fetch_creatives_task
from AdSpark.watches.serializers import WatchSerializer
from core.serializers import FieldsBuiltOnceMixin
from search.serializers import SaveAsWatchRequestSerializer, SearchFetchRequestSerializer

TESLA = "AR17828074650563772417"


def test_the_spec_names_the_fields_of_fetch_query() -> None:
    assert tuple(f.name for f in fields(FetchQuery)) == QUERY_FIELDS


def test_the_task_takes_the_query_fields_as_keyword_arguments() -> None:
    parameters = list(inspect.signature(fetch_creatives_task.run).parameters)
    assert parameters == ["fetch_run_id", *QUERY_FIELDS]


@pytest.mark.parametrize(
    ("serializer", "names"),
    [
        (FetchRequestSerializer(), QUERY_FIELDS),
        (WatchSerializer(), WATCH_QUERY_FIELDS),
        (SearchFetchRequestSerializer(), ("region", "platform", "creative_format", "max_pages")),
        (SaveAsWatchRequestSerializer(), ("region", "platform", "creative_format")),
    ],
)
def test_every_serializer_takes_its_limits_and_help_from_the_spec(serializer, names) -> None:
    for name in names:
        spec, field = QUERY_FIELD_SPECS[name], serializer.fields[name]
        assert field.help_text == spec.help, name
        if spec.kind == "int":
            assert (field.min_value, field.max_value) == (spec.min_value, spec.max_value), name
        if spec.kind == "choice":
            assert tuple(field.choices) == spec.choices, name
        if spec.max_length is not None:
            assert field.max_length == spec.max_length, name


def test_a_changed_limit_changes_the_serializer(monkeypatch) -> None:
    from dataclasses import replace

    monkeypatch.setitem(QUERY_FIELD_SPECS, "max_pages", replace(QUERY_FIELD_SPECS["max_pages"], max_value=3))
    # serializers build their fields once per process (the spec is fixed at import): start over
    monkeypatch.setattr(FieldsBuiltOnceMixin, "_built_fields", {})
    body = FetchRequestSerializer(data={"advertiser_ids": TESLA, "max_pages": 4})
    assert not body.is_valid()
    assert body.errors["max_pages"] == ["Ensure this value is less than or equal to 3."]


def test_the_command_has_one_option_per_query_field() -> None:
    parser = load_command_class("AdSpark", "ads_fetch_creatives").create_parser(
        "manage.py", "ads_fetch_creatives"
    )
    options = {action.dest: action for action in parser._actions}
    for name in QUERY_FIELDS:
        spec = QUERY_FIELD_SPECS[name]
        assert options[name].option_strings == ["--" + name.replace("_", "-")]
        assert options[name].help == spec.help
        if spec.kind == "choice":
            assert tuple(options[name].choices) == spec.choices


@pytest.mark.parametrize(("flag", "value"), [("--num", "101"), ("--num", "ten"), ("--max-pages", "0")])
def test_the_command_checks_the_spec_limits_before_any_request(flag, value) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as caught:
        call_command("ads_fetch_creatives", "--advertiser-ids", TESLA, flag, value)
    assert f"{flag}: Must be" in str(caught.value)
