"""``noiselab dashboards push``: the exact Grafana HTTP API requests grafana-client sends, against
a recording stand-in (Grafana cannot run here). Answers follow the Grafana HTTP API reference
(folders and dashboards pages); they were written to it, not recorded from a live server."""

from __future__ import annotations

import json
import socket

import pytest
from support.http_fake import Answer, RecordingServer

from noiselab.errors import ConfigError, NoiselabError
from noiselab.grafana_push import load_dashboards, push_dashboards

FOLDER_404 = json.dumps({"message": "folder not found", "status": "not-found"}).encode()
FOLDER_OK = json.dumps({"id": 7, "uid": "noiselab", "title": "noiselab"}).encode()


def _saved(uid: str, version: int) -> Answer:
    body = {"id": 1, "uid": uid, "url": f"/d/{uid}/x", "status": "success", "version": version}
    return Answer(200, json.dumps(body).encode())


@pytest.fixture
def grafana():
    server = RecordingServer()
    yield server
    server.close()


def _dashboards(tmp_path):
    for uid, title in (("nl-overview", "Living Lab overview"), ("nl-sensor", "Sensor detail")):
        (tmp_path / f"{uid}.json").write_text(
            json.dumps({"id": 12, "uid": uid, "title": title, "panels": []})
        )
    return load_dashboards(tmp_path)


def test_push_creates_the_folder_and_overwrites_by_uid(grafana, tmp_path):
    grafana.answer("/api/folders/noiselab", Answer(404, FOLDER_404))
    grafana.answer("/api/folders", Answer(200, FOLDER_OK))
    grafana.answer("/api/dashboards/db", _saved("nl-overview", 3), _saved("nl-sensor", 1))
    pushed = push_dashboards(_dashboards(tmp_path), grafana.url, "glsa_token")

    assert [(p.uid, p.version) for p in pushed] == [("nl-overview", 3), ("nl-sensor", 1)]
    calls = [(r.method, r.path) for r in grafana.requests]
    assert calls == [
        ("GET", "/api/folders/noiselab"),
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
    ]
    assert all(r.headers["authorization"] == "Bearer glsa_token" for r in grafana.requests)
    assert json.loads(grafana.requests[1].body) == {
        "title": "noiselab — Vallensbæk Living Lab",
        "uid": "noiselab",
    }
    body = json.loads(grafana.requests[2].body)
    assert body["folderUid"] == "noiselab"
    assert body["overwrite"] is True
    assert body["dashboard"] == {"uid": "nl-overview", "title": "Living Lab overview", "panels": []}


def test_existing_folder_is_reused(grafana, tmp_path):
    grafana.answer("/api/folders/noiselab", Answer(200, FOLDER_OK))
    grafana.answer("/api/dashboards/db", _saved("nl-overview", 2), _saved("nl-sensor", 2))
    push_dashboards(_dashboards(tmp_path), grafana.url, "t")
    assert [r.path for r in grafana.requests].count("/api/folders") == 0


def test_grafana_errors_are_readable(grafana, tmp_path):
    unauthorized = json.dumps({"message": "invalid API key"}).encode()
    grafana.answer("/api/folders/noiselab", Answer(401, unauthorized))
    with pytest.raises(NoiselabError, match="invalid API key"):
        push_dashboards(_dashboards(tmp_path), grafana.url, "bad")


def test_unreachable_grafana_is_readable(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NoiselabError, match="Grafana at"):
        push_dashboards(_dashboards(tmp_path), f"http://127.0.0.1:{port}", "t")


def test_bad_dashboard_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no dashboards"):
        load_dashboards(tmp_path)
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a readable JSON dashboard"):
        load_dashboards(tmp_path)
    (tmp_path / "a.json").write_text('{"title": "no uid"}')
    with pytest.raises(ConfigError, match="needs a uid"):
        load_dashboards(tmp_path)
