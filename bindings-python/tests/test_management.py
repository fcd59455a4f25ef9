"""authsec.Management against the real local server (authsec.testing.LocalAuthServer with an
admin_token; the audit log is kept in its in-memory database): bootstrap, every client type,
rotation under load, rate limits, the audit log, pagination, scopes, roles, the *_FILE reread,
and secrets kept out of repr and errors."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import authsec
from authsec.testing import LocalAuthServer

ADMIN_TOKEN = "bootstrap-admin-token-for-tests"
MANAGEMENT_SCOPES = ["clients:read", "clients:write", "scopes:read", "scopes:write", "roles:read",
                     "roles:write", "logs:read"]


@pytest.fixture
def server() -> Iterator[LocalAuthServer]:
    with LocalAuthServer(config={"admin_token": ADMIN_TOKEN}) as s:
        yield s


def bootstrap(server: LocalAuthServer) -> Tuple[authsec.Management, authsec.Management]:
    """The admin-token management client, and one for the management client it creates."""
    admin = authsec.Management(base_url=server.issuer, admin_token=ADMIN_TOKEN)
    ops = admin.clients.create(client_id="ops", name="Operations", allowed_scopes=MANAGEMENT_SCOPES)
    assert ops.client_secret
    return admin, authsec.Management(base_url=server.issuer, client_id="ops", client_secret=ops.client_secret)


@pytest.fixture
def m(server: LocalAuthServer) -> authsec.Management:
    return bootstrap(server)[1]


def credentials(server: LocalAuthServer, client_id: str, secret: str, **kw: Any) -> authsec.ClientCredentials:
    return authsec.ClientCredentials(client_id=client_id, client_secret=secret, token_url=server.token_endpoint, **kw)


def test_bootstrap_then_the_admin_token_is_refused(server: LocalAuthServer) -> None:
    admin, m = bootstrap(server)
    ops = m.clients.get("ops")
    assert set(MANAGEMENT_SCOPES) <= set(ops.effective_scopes)
    assert ops.client_secret is None and len(ops.secrets) == 1
    with pytest.raises(authsec.ManagementError) as e:
        admin.clients.get("ops")
    assert (e.value.code, e.value.status, e.value.oauth_error) == ("access_denied", 401, "invalid_token")
    assert "bootstrap" in e.value.message
    assert ADMIN_TOKEN not in str(e.value)


def test_a_management_client_without_the_scope_is_refused(server: LocalAuthServer, m: authsec.Management) -> None:
    reader = m.clients.create(client_id="reader", allowed_scopes=["clients:read"])
    r = authsec.Management(base_url=server.issuer, client_id="reader", client_secret=reader.client_secret)
    assert r.clients.get("reader").client_id == "reader"
    with pytest.raises(authsec.InsufficientScopeError) as e:
        r.clients.create(client_id="nope")
    assert e.value.missing_scopes == ("clients:write",) and e.value.status == 403


def test_every_client_type(server: LocalAuthServer, m: authsec.Management) -> None:
    verifier = server.verifier()
    m2m = m.clients.create(client_id="svc", name="Service", allowed_scopes=["read:data"])
    agent = m.clients.create(client_id="agent", type="ai_agent", allowed_scopes=["read:data"],
                             rate_limits={"requests_per_minute": 60, "tokens_per_day": 1000})
    mcp = m.clients.create(client_id="files-mcp", type="mcp_server", allowed_scopes=["read:data"],
                           resource="https://mcp.example.test/mcp")
    web = m.clients.create(client_id="web-app", type="web", callbacks=["https://app.example.test/callback"])
    mobile = m.clients.create(client_id="phone", type="mobile", callbacks=["com.example.app:/callback"])

    assert (m2m.type, m2m.name, m2m.grant_types) == ("m2m", "Service", ("client_credentials",))
    assert (agent.type, agent.rate_limits) == ("ai_agent", {"requests_per_minute": 60, "tokens_per_day": 1000})
    assert (mcp.type, mcp.resource) == ("mcp_server", "https://mcp.example.test/mcp")
    assert web.type == "web" and web.callbacks == ("https://app.example.test/callback",) and not web.is_public
    assert set(web.grant_types) == {"authorization_code", "refresh_token"} and web.client_secret
    assert mobile.is_public and mobile.client_secret is None and not mobile.secrets
    assert set(mobile.grant_types) == {"authorization_code", "refresh_token"}
    for c in (m2m, agent, mcp):
        assert c.client_secret and c.secret_id and [s.id for s in c.secrets] == [c.secret_id]
        assert c.secret_id.startswith("sid_")
        token = credentials(server, c.client_id, c.client_secret, scopes=["read:data"]).get_token()
        claims = verifier.verify(token.access_token, ["read:data"])
        assert claims.client_id == c.client_id
        assert m.clients.get(c.client_id).secrets[0].last_used_at is not None
    assert {c.client_id for c in m.clients.list(type="ai_agent")} == {"agent"}

    with pytest.raises(authsec.ManagementError) as e:
        m.clients.create(client_id="bad-phone", type="mobile", client_secret="a-secret-in-an-app",
                         callbacks=["com.example.app:/callback"])
    assert e.value.code == "invalid_client_metadata" and "client_secret" in e.value.message
    assert "a-secret-in-an-app" not in str(e.value)


def test_unknown_fields_are_refused_before_sending(m: authsec.Management) -> None:
    with pytest.raises(authsec.ConfigError, match="allowed_scope"):
        m.clients.create(client_id="typo", allowed_scope=["x"])
    with pytest.raises(authsec.ManagementError) as e:
        m.clients.update("ops", client_secret="new-one")  # cannot change: the server names the field
    assert e.value.code == "invalid_client_metadata" and "client_secret" in e.value.message


def test_update_delete_and_not_found(m: authsec.Management) -> None:
    m.clients.create(client_id="svc", allowed_scopes=["read:data"])
    updated = m.clients.update("svc", name="Renamed", allowed_scopes=["read:data", "write:data"])
    assert updated.name == "Renamed" and updated.allowed_scopes == ("read:data", "write:data")
    assert m.clients.get("svc").name == "Renamed"
    assert m.clients.delete("svc") is None
    for call in (lambda: m.clients.get("svc"), lambda: m.clients.delete("svc"), lambda: m.clients.get("a/b?c")):
        with pytest.raises(authsec.ManagementError) as e:
            call()
        assert (e.value.code, e.value.status) == ("not_found", 404)


def test_rotation_under_load_loses_no_request(server: LocalAuthServer, m: authsec.Management) -> None:
    created = m.clients.create(client_id="busy", allowed_scopes=["read:data"], rate_limit=100_000)
    assert created.client_secret and created.secret_id
    old_secret, old_id = created.client_secret, created.secret_id
    current = [old_secret]
    total, rate, workers = 300, 100.0, 4
    lock = threading.Lock()
    next_index = [0]
    results: List[Tuple[int, str, Optional[str]]] = []  # (index, which secret, error code or None)
    start = time.monotonic() + 0.2
    deadline = start + 30

    def work() -> None:
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total or time.monotonic() > deadline:
                return
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            secret = current[0]
            which = "old" if secret == old_secret else "new"
            try:
                credentials(server, "busy", secret, max_attempts=1).get_token()
                err = None
            except authsec.AuthsecError as e:
                err = e.code
            with lock:
                results.append((i, which, err))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    time.sleep(1.2)  # about a third of the requests with the old secret
    new = m.clients.rotate_secret("busy")  # the default overlap: the old secret keeps working
    assert new.old_secrets_expire_at is not None and new.old_secrets_expire_at > time.time() + 3600
    time.sleep(0.5)  # some requests with the old secret after the rotation too
    current[0] = new.client_secret
    for t in threads:
        t.join(timeout=40)
    assert not any(t.is_alive() for t in threads)
    assert len(results) == total
    failures = [r for r in results if r[2] is not None]
    assert failures == []
    used = {which for _, which, _ in results}
    assert used == {"old", "new"}
    assert {s.id for s in new.secrets} == {old_id, new.secret_id}

    left = m.clients.revoke_secret("busy", old_id)
    assert [s.id for s in left] == [new.secret_id]
    with pytest.raises(authsec.InvalidClientError) as e:
        credentials(server, "busy", old_secret, max_attempts=1).get_token()
    assert e.value.code == "invalid_client"
    assert credentials(server, "busy", new.client_secret).get_token().access_token
    with pytest.raises(authsec.ManagementError) as e:
        m.clients.revoke_secret("busy", new.secret_id)  # the last one: rotate first
    assert e.value.code == "conflict"


def test_ai_agent_requests_per_minute(server: LocalAuthServer, m: authsec.Management) -> None:
    agent = m.clients.create(client_id="slow-agent", type="ai_agent", allowed_scopes=["read:data"],
                             rate_limits={"requests_per_minute": 3})
    assert agent.client_secret
    client = credentials(server, "slow-agent", agent.client_secret, max_attempts=1)
    for _ in range(3):
        client.invalidate()
        client.get_token()
    client.invalidate()
    with pytest.raises(authsec.RateLimitedError) as e:
        client.get_token()
    assert e.value.code == "rate_limited" and e.value.status == 429
    assert e.value.retry_after is not None and 0 < e.value.retry_after <= 60


def test_audit_log_failures_and_paging(server: LocalAuthServer, m: authsec.Management) -> None:
    created = m.clients.create(client_id="audited", allowed_scopes=["read:data"])
    assert created.client_secret
    for _ in range(3):
        client = credentials(server, "audited", created.client_secret)
        client.get_token()
    for _ in range(2):
        with pytest.raises(authsec.InvalidClientError):
            credentials(server, "audited", "wrong-secret", max_attempts=1).get_token()

    failures = list(m.logs.list(client_id="audited", outcome="failure"))
    assert len(failures) == 2
    assert {(e.event, e.outcome, e.client_id) for e in failures} == {("token", "failure", "audited")}
    assert all("wrong-secret" not in repr(e) for e in failures)
    tokens = list(m.logs.list(client_id="audited", event="token", outcome="success"))
    assert len(tokens) == 3
    assert {e.extra.get("secret_id") for e in tokens} == {created.secret_id}
    assert all(e.extra.get("auth_method") for e in tokens)

    whole = [e.id for e in m.logs.list(client_id="audited", page_size=200)]
    paged = [e.id for e in m.logs.list(client_id="audited", page_size=2)]
    assert len(whole) >= 5 and paged == whole
    assert whole == sorted(set(whole), reverse=True)  # newest first, no repeats
    since = min(e.ts for e in tokens)
    assert {e.id for e in m.logs.list(client_id="audited", since=since)} >= {e.id for e in tokens}
    assert list(m.logs.list(client_id="audited", until=since - 3600)) == []


def test_clients_list_pages(m: authsec.Management) -> None:
    ids = [f"page-{i}" for i in range(7)]
    for i in ids:
        m.clients.create(client_id=i)
    whole = [c.client_id for c in m.clients.list(page_size=200)]
    paged = [c.client_id for c in m.clients.list(page_size=2)]
    assert paged == whole == sorted(whole)
    assert set(ids) <= set(whole) and len(set(whole)) == len(whole)


def test_scopes(m: authsec.Management) -> None:
    scope = m.scopes.create("reports:read", "Read reports")
    assert (scope.name, scope.description) == ("reports:read", "Read reports")
    with pytest.raises(authsec.ManagementError) as e:
        m.scopes.create("reports:read")
    assert (e.value.code, e.value.status) == ("conflict", 409)
    m.clients.create(client_id="reporter", allowed_scopes=["reports:read"])
    listed = {s.name: s for s in m.scopes.list()}
    assert listed["reports:read"].clients == ("reporter",)
    with pytest.raises(authsec.ManagementError) as e:
        m.scopes.delete("reports:read")
    assert e.value.code == "conflict" and "reporter" in e.value.message
    m.clients.delete("reporter")
    assert m.scopes.delete("reports:read") is None
    assert "reports:read" not in {s.name for s in m.scopes.list(page_size=1)}


def test_roles_round_trip(m: authsec.Management) -> None:
    role = m.roles.create("auditor", scopes=["reports:read"], audiences=["https://reports.example.test"])
    assert (role.name, role.scopes, role.audiences) == ("auditor", ("reports:read",), ("https://reports.example.test",))
    assert m.roles.get("auditor") == role
    assert "auditor" in {r.name for r in m.roles.list()}
    updated = m.roles.update("auditor", scopes=["reports:read", "reports:export"])
    assert updated.scopes == ("reports:read", "reports:export")
    assert updated.audiences == ("https://reports.example.test",)  # not given: kept
    assert m.roles.delete("auditor") is None
    with pytest.raises(authsec.ManagementError) as e:
        m.roles.get("auditor")
    assert e.value.code == "not_found"


def test_secret_file_is_read_again_after_rotation(server: LocalAuthServer, m: authsec.Management, tmp_path: Any) -> None:
    created = m.clients.create(client_id="from-file", allowed_scopes=["read:data"])
    assert created.client_secret
    path = tmp_path / "secret"
    path.write_text(created.client_secret + "\n")
    client = authsec.ClientCredentials(client_id="from-file", client_secret_file=str(path),
                                       token_url=server.token_endpoint)
    client.get_token()
    new = m.clients.rotate_secret("from-file", overlap=0)  # the old secret stops now
    path.write_text(new.client_secret + "\n")
    client.invalidate()
    token = client.get_token()  # invalid_client, the file read again, the request sent once more
    assert server.verifier().verify(token.access_token).client_id == "from-file"


def test_secrets_stay_out_of_repr_and_errors(server: LocalAuthServer, m: authsec.Management) -> None:
    created = m.clients.create(client_id="quiet")
    new = m.clients.rotate_secret("quiet")
    for secret in (created.client_secret, new.client_secret):
        assert secret
        for shown in (repr(created), str(created), repr(new), str(new), repr(m), repr(m.clients.get("quiet"))):
            assert secret not in shown
    wrong = authsec.Management(base_url=server.issuer, client_id="quiet", client_secret="not-its-secret")
    with pytest.raises(authsec.AuthsecError) as e:
        wrong.clients.get("quiet")
    assert "not-its-secret" not in str(e.value) and "not-its-secret" not in repr(e.value)


def test_async_management(server: LocalAuthServer) -> None:
    _, sync = bootstrap(server)
    ops_secret = sync.clients.rotate_secret("ops", overlap=60).client_secret

    async def main() -> Dict[str, Any]:
        m = authsec.AsyncManagement(base_url=server.issuer, client_id="ops", client_secret=ops_secret)
        created = await asyncio.gather(*(m.clients.create(client_id=f"async-{i}") for i in range(3)))
        listed = [c.client_id async for c in m.clients.list(page_size=2)]
        new = await m.clients.rotate_secret("async-0", overlap=0)
        events = [e async for e in m.logs.list(client_id="async-0")]
        with pytest.raises(authsec.ManagementError) as e:
            await m.clients.get("missing")
        return {"created": created, "listed": listed, "new": new, "events": events, "error": e.value}

    out = asyncio.run(main())
    assert {c.client_id for c in out["created"]} == {"async-0", "async-1", "async-2"}
    assert {"async-0", "async-1", "async-2"} <= set(out["listed"])
    assert out["new"].client_id == "async-0" and out["events"]
    assert out["error"].code == "not_found"


def test_signing_keys(server: LocalAuthServer, m: authsec.Management) -> None:
    keeper = m.clients.create(client_id="key-keeper", allowed_scopes=["keys:read", "keys:write"])
    k = authsec.Management(base_url=server.issuer, client_id="key-keeper", client_secret=keeper.client_secret)
    before = list(k.keys.list())
    assert before and all(key.kid and key.alg for key in before)
    rotated = k.keys.rotate(activate_in=0)
    assert rotated.kid not in {key.kid for key in before}
    assert rotated.kid in {key.kid for key in k.keys.list()}
    with pytest.raises(authsec.InsufficientScopeError) as e:
        list(m.keys.list())  # ops holds no keys:read
    assert e.value.missing_scopes == ("keys:read",)
