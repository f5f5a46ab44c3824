"""Schemathesis over the app's own OpenAPI document: no 5xx, every response as documented."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cinegen.serve.api import create_app
from cinegen.serve.config import ServeConfig
from cinegen.pipeline.sampling_config import SamplingConfig
from cinegen.serve.jobspec import ModelInfo
from cinegen.serve.store import JobStore

TINY = ModelInfo("cinegen-tiny", SamplingConfig(width=32, height=32, fps=8.0, seconds=1.0, steps=4, guidance=3.0), 4)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def test_openapi_conformance(tmp_path):
    cfg = ServeConfig(data=tmp_path, workers=0, max_upload_bytes=256 * 1024)
    store = JobStore(cfg.db_url)
    app = create_app(cfg, TINY, store)  # no workers: requests are only checked and queued
    auth = {"Authorization": f"Bearer {store.create_key('schemathesis')[1]}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9  # the Videos API, provenance checks, health

    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)
        def conforms(case) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS)

        try:
            conforms()
        except Exception as e:  # name the operation that failed
            pytest.fail(f"{op.method.upper()} {op.path}: {e}")


def test_serve_config_crosses_to_a_worker_as_json_with_every_field(tmp_path):
    """The supervisor hands the config to worker processes as JSON; every setting must arrive as set."""
    import dataclasses
    import json

    from cinegen.serve.config import ServeConfig

    changed = {"model": tmp_path / "m", "offload": True, "port": 9001, "workers": 3, "retention_hours": 2.5,
               "max_queued_per_key": 7, "requests_per_minute": 11, "max_upload_bytes": 1234, "lease_seconds": 5.0,
               "max_attempts": 2, "threads_per_worker": 1, "host": "0.0.0.0"}
    cfg = ServeConfig(data=tmp_path / "d", database_url="sqlite:///x.db", **changed)
    back = ServeConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and {f.name for f in dataclasses.fields(ServeConfig)} == set(cfg.to_dict())
