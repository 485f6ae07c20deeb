"""Property-based run of schemathesis over the whole OpenAPI document of the app.

For every operation schemathesis generates requests from the document (valid and invalid
values), sends them to the app in process (ASGI, lifespan included), once without a key and
once with a staff key, and checks that no answer is a 5xx, that every status code and content
type is one the operation declares, and that every body matches its declared schema.

Bounded so the run stays within a minute or two on two shared cores: a few examples per
operation (``MAX_EXAMPLES``), no deadline. The public rate limit is raised so that 429 does not
stand in for the answers being checked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks
from support.lab import ApiLab
from support.readings import sensor, steady

from noiselab.api.app import create_app

MAX_EXAMPLES = 20
NOW = datetime(2026, 3, 3, 12, tzinfo=UTC).timestamp()
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def build_app(root: Path) -> tuple[Any, str]:
    """An app over real SQLite files in ``root`` holding two sensors (one private) with an hour
    of data, and a staff key; public rate limit effectively off."""
    lab = ApiLab(root, now=NOW, public_rate_per_s=1e6, public_burst=1_000_000)
    lab.sensors(sensor("vb-road-1"), sensor("vb-private-1", public=False))
    lab.write(steady("vb-road-1", NOW - 3600, 3600, 62.0, lafmax=70.0), received_at=NOW)
    return create_app(lab.settings), lab.key("staff", "schemathesis").text


# Built when the module is collected: schemathesis needs the schema to parametrize the tests,
# and its fixture-based (lazy) loader does not work with pytest 9.
def homogeneous_tuples_as_arrays(node: Any) -> Any:
    """A copy of an OpenAPI document with each ``prefixItems`` whose items are all the same
    schema (what pydantic makes of ``tuple[int, int]``) written as ``items`` with
    ``minItems``/``maxItems``, which means the same. Schemathesis 4 mishandles ``prefixItems``
    in response schemas (it reports them as invalid; upstream issues #3842 and #4099 of
    schemathesis/schemathesis), so the document it checks against is rewritten this way."""
    if isinstance(node, list):
        return [homogeneous_tuples_as_arrays(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: homogeneous_tuples_as_arrays(value) for key, value in node.items()}
    tuple_items = out.get("prefixItems")
    homogeneous = (
        isinstance(tuple_items, list)
        and tuple_items
        and "items" not in out
        and all(item == tuple_items[0] for item in tuple_items)
    )
    if homogeneous:
        del out["prefixItems"]
        out["items"] = tuple_items[0]
        out.setdefault("minItems", len(tuple_items))
        out.setdefault("maxItems", len(tuple_items))
    return out


_ROOT = tempfile.TemporaryDirectory(prefix="noiselab-schemathesis-")
APP, STAFF_KEY = build_app(Path(_ROOT.name))
schema = schemathesis.openapi.from_dict(homogeneous_tuples_as_arrays(APP.openapi()))
schema.app = APP  # requests go to the app in process (ASGI), lifespan included


@pytest.fixture(scope="module", autouse=True)
def _remove_files() -> Iterator[None]:
    yield
    _ROOT.cleanup()


_BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@_BOUNDED
def test_without_a_key(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@_BOUNDED
def test_with_a_staff_key(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {STAFF_KEY}"}, checks=CHECKS)
