"""The generated dashboards: reproducible, and every one follows the house rules."""

from __future__ import annotations

import json

import pytest

from cnop_dashboards.catalogue import query_link
from cnop_dashboards.generate import CATALOGUE, GENERATED, render, render_catalogue

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, object]]:
    return {name: json.loads(text) for name, text in render().items()}


def test_generated_files_match_the_code():
    rendered = render()
    on_disk = {path.name for path in GENERATED.glob("*.json")}
    assert on_disk == set(rendered), "dashboards/generated has extra or missing files"
    for name, text in rendered.items():
        assert (GENERATED / name).read_text(encoding="utf-8") == text, (
            f"dashboards/generated/{name} is stale: run `make generate`"
        )


def test_the_required_dashboards_exist(dashboards):
    uids = {board["uid"] for board in dashboards.values()}
    assert {
        "cnop-auth-overview",
        "cnop-gateway-auth-flow",
        "cnop-security",
        "cnop-slo-capacity",
    } <= uids
    assert {f"cnop-red-{s}" for s in ("gateway", "auth", "user", "inventory", "order")} <= uids


def test_uids_are_unique_and_stable(dashboards):
    uids = [board["uid"] for board in dashboards.values()]
    assert len(uids) == len(set(uids))
    assert all(uid.startswith("cnop-") and len(uid) <= 40 for uid in uids)


def test_every_dashboard_has_tag_and_datasource_variable(dashboards):
    for name, board in dashboards.items():
        assert "generated" in board["tags"], name
        variables = board["templating"]["list"]
        assert any(
            v["type"] == "datasource" and v["name"] == "datasource" and v["query"] == "prometheus"
            for v in variables
        ), name


def test_every_panel_has_unit_description_and_our_datasource(dashboards):
    for name, board in dashboards.items():
        assert board["panels"], name
        for panel in board["panels"]:
            where = f"{name}: {panel['title']}"
            assert panel["fieldConfig"]["defaults"].get("unit"), where
            assert panel.get("description"), where
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}", where
                assert target["expr"].strip(), where


def test_panel_ids_are_unique_per_dashboard(dashboards):
    for name, board in dashboards.items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), name


def test_the_catalogue_page_matches_the_code():
    assert CATALOGUE.read_text(encoding="utf-8") == render_catalogue(), (
        "docs/dashboards.md is stale: run `make generate`"
    )


def test_the_catalogue_names_every_panel_with_its_unit_and_a_local_query(dashboards):
    page = render_catalogue()
    for board in dashboards.values():
        assert f"## {board['title']}" in page
        for panel in board["panels"]:
            assert f"### {panel['title']}" in page
            for target in panel["targets"]:
                assert target["expr"] in page
                assert query_link(target["expr"]) in page
    # The local Prometheus cannot read Grafana's variables: the links carry none.
    links = [line for line in page.splitlines() if "run locally" in line]
    assert links
    assert not any("__rate_interval" in line for line in links)
    assert "Unit: requests per second." in page
