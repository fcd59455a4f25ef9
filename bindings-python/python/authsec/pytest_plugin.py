"""pytest fixtures for authsec (loaded automatically when authsec is installed).

``authsec_server``: a running ``authsec.testing.LocalAuthServer`` with one client,
``test-client``, allowed ``read:data write:data``::

    def test_agent(authsec_server):
        client = authsec_server.client(scopes=["read:data"])
        claims = authsec_server.verifier().verify(client.get_token().access_token)
        assert claims.client_id == "test-client"

Customize it with indirect parametrization, passing ``LocalAuthServer`` arguments::

    @pytest.mark.parametrize("authsec_server", [{"signing_alg": "EdDSA"}], indirect=True)
    def test_eddsa(authsec_server): ...

``fake_workload_api``: a running ``authsec.testing.FakeWorkloadApi`` (a SPIFFE Workload API for
``example.org``; indirect parametrization passes its arguments, e.g. ``{"trust_domain": "x.test"}``)::

    def test_agent_identity(fake_workload_api):
        svid = authsec.WorkloadApiClient(fake_workload_api.endpoint).fetch_jwt_svid("https://api.example.test")
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from .testing import FakeWorkloadApi, LocalAuthServer


@pytest.fixture
def authsec_server(request: Any) -> Iterator[LocalAuthServer]:
    """A local authorization server on 127.0.0.1, stopped after the test."""
    options = getattr(request, "param", None) or {}
    with LocalAuthServer(**options) as server:
        yield server


@pytest.fixture
def fake_workload_api(request: Any) -> Iterator[FakeWorkloadApi]:
    """A fake SPIFFE Workload API on a Unix socket in a temporary directory, stopped after the test."""
    options = getattr(request, "param", None) or {}
    with FakeWorkloadApi(**options) as agent:
        yield agent
