"""One base for bad input (vision.common.InputError): the CLI answers it with its message
and exit code, the API with its HTTP status; the domain's errors derive from it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import heyan.cli
from heyan.edge.config import ConfigError
from heyan.pipeline.geo.rivers import RiverNetworkError
from heyan.pipeline.tickets.rules import RulesError
from heyan.pipeline.zipsafe import UnsafeZipError
from heyan.serve.errors import install
from heyan.serve.storage import FileTooLarge
from heyan.vision.common import InputError


def test_domain_errors_are_bad_input() -> None:
    for cls in (RiverNetworkError, RulesError, UnsafeZipError, ConfigError, FileTooLarge):
        assert issubclass(cls, InputError) and issubclass(cls, ValueError), cls


def test_cli_prints_the_message_and_exits_with_the_code(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(args: list[str] | None = None) -> None:
        raise RulesError("rules.yaml", ["categories: missing"])

    monkeypatch.setattr(heyan.cli, "app", refuse)
    with pytest.raises(SystemExit) as exit_:
        heyan.cli.main([])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("error: rules.yaml: 1 problem(s) in the rules:")


def test_api_answers_with_the_status() -> None:
    app = FastAPI()
    install(app)

    @app.get("/network")
    def network() -> None:
        raise RiverNetworkError("upload", ["features: expected a list of features"])

    @app.get("/big")
    def big() -> None:
        raise FileTooLarge(10, 5)

    client = TestClient(app)
    r = client.get("/network")
    assert r.status_code == 422 and r.json()["errors"] == ["features: expected a list of features"]
    assert client.get("/big").status_code == 413
