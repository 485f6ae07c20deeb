"""The OpenAPI document is complete: every operation has a summary and declares its errors,
every successful JSON answer has an example, every error answer is ``ErrorOut``.

These checks read the whole document of ``create_app``, so routes added later are held to the
same bar without changing this file.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from noiselab.api.app import create_app
from noiselab.api.schemas import annotations as annotation_schemas
from noiselab.api.schemas import (
    calibrations,
    citizen_reports,
    corrections,
    errors,
    events,
    health,
    indicators,
    keys,
    push,
    sensors,
)
from noiselab.api.settings import ApiSettings

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(ApiSettings(store_url="sqlite:///unused.db", meta_url="sqlite://"))
    return app.openapi()


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a top-level ``$ref`` followed."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the media type, on the schema, or (arrays) on the items' schema."""
    if "example" in media or "examples" in media:
        return True
    schema = resolve(spec, media.get("schema", {}))
    if "example" in schema or "examples" in schema:
        return True
    if schema.get("type") == "array":
        items = resolve(spec, schema.get("items", {}))
        return "example" in items or "examples" in items
    return False


def test_every_operation_has_a_summary(spec) -> None:
    missing = [f"{m} {p}" for m, p, op in operations(spec) if not op.get("summary")]
    assert missing == []


def test_every_successful_json_answer_has_an_example(spec) -> None:
    missing = [
        f"{method} {path} {status}"
        for method, path, operation in operations(spec)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media_type, media in response.get("content", {}).items()
        if media_type == "application/json" and not has_example(spec, media)
    ]
    assert missing == []


def test_every_error_answer_is_error_out(spec) -> None:
    """4xx/5xx JSON bodies are ``{"detail": ...}`` as ErrorOut says, FastAPI's own 422 schema
    included (rewritten by ``install_error_handlers``)."""
    wrong = [
        f"{method} {path} {status}"
        for method, path, operation in operations(spec)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        for media_type, media in response.get("content", {}).items()
        if media_type == "application/json"
        and media.get("schema") != {"$ref": "#/components/schemas/ErrorOut"}
    ]
    assert wrong == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_operation_declares_its_errors(spec) -> None:
    """A key may be presented (bearer security): 401 declared. A path parameter names a
    resource that may not exist: 404 declared. Query or path parameters or a body: 422."""
    missing = []
    for method, path, operation in operations(spec):
        declared = set(operation["responses"])
        needed = set()
        if operation.get("security"):
            needed.add("401")
        if re.search(r"\{[^}]+\}", path) and path.startswith("/api/"):
            needed.add("404")
        if operation.get("parameters") or operation.get("requestBody"):
            needed.add("422")
        if needed - declared:
            missing.append(f"{method} {path}: {sorted(needed - declared)}")
    assert missing == []


def _models() -> list[type[BaseModel]]:
    return [
        model
        for schemas in (
            annotation_schemas,
            calibrations,
            citizen_reports,
            corrections,
            errors,
            events,
            health,
            indicators,
            keys,
            push,
            sensors,
        )
        for _, model in inspect.getmembers(schemas, inspect.isclass)
        if issubclass(model, BaseModel)
        and model.__module__ == schemas.__name__
        and not model.__name__.startswith("_")
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_model_has_a_valid_example(model: type[BaseModel]) -> None:
    """Each response and request model of ``noiselab.api.schemas`` shows a whole example in
    OpenAPI, and the example is valid for the model."""
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} has no examples"
    for example in examples:
        model.model_validate(example)
