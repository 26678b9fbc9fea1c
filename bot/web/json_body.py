"""A JSON request body validated by a pydantic model, or a 4xx whose reason names what is wrong."""
from __future__ import annotations

from typing import TypeVar

from flask import abort, request
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def json_body(model: type[Model]) -> Model:
    """415 without a JSON content type; 400 for invalid JSON, a non-object, or the first bad field."""
    if not request.is_json:
        abort(415, description="send Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        abort(400, description="body is not valid JSON")
    if not isinstance(data, dict):
        abort(400, description="body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        abort(400, description=f"{field}: {first['msg']}")
