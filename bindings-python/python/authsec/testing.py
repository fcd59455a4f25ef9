"""Test your agents and services offline against the local authorization server.

::

    from authsec.testing import LocalAuthServer, ManualClock

    with LocalAuthServer(clients=[{"client_id": "agent", "client_secret": "s3cret",
                                   "allowed_scopes": ["read:data"]}]) as server:
        client = server.client("agent", scopes=["read:data"])   # an authsec.ClientCredentials
        verifier = server.verifier()                               # an authsec.Verifier
        claims = verifier.verify(client.get_token().access_token)

The server runs in-process (the Rust ``authsec-server``) on 127.0.0.1 with an ephemeral port and
stops when the ``with`` block ends. Under pytest the ``authsec_server`` fixture gives you one
(see ``authsec.pytest_plugin``). The server is not part of the ``authsec`` package: it comes with
the ``authsec-testing`` distribution (``pip install authsec-testing``; from a checkout,
``pip install ./bindings-python/testing``), which your tests need and your services do not.

``ManualClock`` is a clock that moves only when told to: give it as ``_clock=`` to
``LocalAuthServer``, ``ClientCredentials`` and ``Verifier`` (``server.client()`` and
``server.verifier()`` pass the server's on) to test expiry and refresh without sleeping::

    clock = ManualClock()
    with LocalAuthServer(token_lifetime=60, _clock=clock) as server:
        token = server.token()
        clock.advance(65)
        server.verifier().verify(token)   # raises authsec.TokenExpiredError

``FakeWorkloadApi`` is a SPIFFE Workload API (a SPIRE agent's socket) of its own, on a Unix socket
in a temporary directory, issuing JWT-SVIDs and X.509-SVIDs for one trust domain::

    with FakeWorkloadApi() as agent:
        svid = authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_svid("https://api.example.test")
        verifier = authsec.JwtSvidVerifier(audience="https://api.example.test", workload_api=agent.endpoint)
        agent.rotate_jwt_key()            # the verifier follows the new bundle
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Union

from ._native import ManualClock
from .client import ClientCredentials
from .verifier import Verifier

__all__ = ["LocalAuthServer", "FakeWorkloadApi", "ManualClock", "sign_token", "DEFAULT_AUDIENCE", "DEFAULT_CLIENT_ID", "DEFAULT_SCOPES"]

DEFAULT_AUDIENCE = "https://api.example.test"
DEFAULT_CLIENT_ID = "test-client"
DEFAULT_SCOPES = ("read:data", "write:data")

_INSTALL = (
    "authsec.testing.LocalAuthServer needs the authsec-testing package (the local authorization "
    "server, kept out of the authsec package): pip install authsec-testing, or from a checkout of "
    "authsec: pip install ./bindings-python/testing"
)


def _server_module() -> Any:
    """The native server module of the ``authsec-testing`` distribution."""
    try:
        import authsec_testing
    except ImportError as e:
        raise ImportError(_INSTALL, name="authsec_testing") from e
    return authsec_testing


def sign_token(claims: Dict[str, Any], private_key: str, *, alg: str = "ES256", kid: Optional[str] = None) -> str:
    """A JWT access token (``typ`` ``at+jwt``) with ``claims``, signed with ``private_key`` (PEM
    or JWK; ``alg`` must be its algorithm): for tokens the local server does not issue (a ``cnf``
    of your choosing, odd claims). Needs ``authsec-testing``."""
    header: Dict[str, Any] = {"alg": alg, "typ": "at+jwt"}
    if kid is not None:
        header["kid"] = kid
    segments = [base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode() for part in (header, claims)]
    return _server_module().sign_segments(private_key, *segments)


class LocalAuthServer:
    """The local OAuth 2.0 authorization server, as a context manager.

    Args:
        clients: client specs as in the server's config file (``client_id``, ``client_secret``,
            ``jwks`` for ``private_key_jwt``, ``allowed_scopes``, ``default_scopes``,
            ``audiences``, ``token_lifetime``, ``rate_limit``, ``roles``, ``grant_types``
            (e.g. ``urn:ietf:params:oauth:grant-type:token-exchange``), ``may_act``, ...).
            Without it there is one client, ``test-client``, with a random secret and the scopes
            ``read:data write:data``.
        signing_alg: ``ES256`` (default), ``RS256`` or ``EdDSA``.
        token_lifetime: default token lifetime in seconds.
        audience: ``aud`` for clients that name no audiences.
        rate_limit: token requests per minute per client (0, the default here, is unlimited).
        config: any other server settings (merged last): ``roles`` (name -> ``scopes``,
            ``audiences``), ``token_exchange`` (``max_delegation_depth``), ``admin_token`` (turns
            on the admin API under ``issuer + "/admin/"``), ...
        capture_audit: keep the audit log for ``audit_events()`` instead of printing it.
        host, port: where to listen (127.0.0.1 and an ephemeral port by default).
        _clock: a ``ManualClock`` for the server's time (the test hook); ``client()`` and
            ``verifier()`` pass it on.

    Needs the ``authsec-testing`` package (an ``ImportError`` says so when it is missing).
    """

    def __init__(
        self,
        *,
        clients: Optional[Sequence[Dict[str, Any]]] = None,
        signing_alg: str = "ES256",
        token_lifetime: int = 3600,
        audience: str = DEFAULT_AUDIENCE,
        rate_limit: int = 0,
        config: Optional[Dict[str, Any]] = None,
        capture_audit: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        _clock: Optional[ManualClock] = None,
    ) -> None:
        self._module = _server_module()
        if clients is None:
            clients = [
                {
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": secrets.token_urlsafe(24),
                    "allowed_scopes": list(DEFAULT_SCOPES),
                }
            ]
        self._clients: List[Dict[str, Any]] = [dict(c) for c in clients]
        settings: Dict[str, Any] = {
            "signing_alg": signing_alg,
            "token_lifetime": token_lifetime,
            "default_audience": audience,
            "rate_limit": rate_limit,
            "audit_log": "off",
            "clients": self._clients,
        }
        settings.update(config or {})
        self.audience = settings["default_audience"]
        self._config_text = json.dumps(settings)  # JSON is YAML
        self._host, self._port, self._capture_audit = host, port, capture_audit
        self._clock = _clock
        self._server: Any = None

    # ----- lifecycle -----

    def start(self) -> "LocalAuthServer":
        """Start listening (``with`` does this for you)."""
        if self._server is None or not self._server.running:
            self._server = self._module.LocalServer(
                self._config_text,
                host=self._host,
                port=self._port,
                capture_audit=self._capture_audit,
                _clock=self._clock,
            )
        return self

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> "LocalAuthServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _running(self) -> Any:
        if self._server is None:
            raise RuntimeError("the server is not started; use `with LocalAuthServer() as server:`")
        return self._server

    # ----- where it is -----

    @property
    def issuer(self) -> str:
        return self._running().issuer

    @property
    def token_endpoint(self) -> str:
        """The token endpoint (``<issuer>/oauth/token``)."""
        return self._running().token_endpoint

    @property
    def jwks_uri(self) -> str:
        return self._running().jwks_uri

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    # ----- ready-made clients -----

    def client(
        self, client_id: Optional[str] = None, client_secret: Optional[str] = None, **kwargs: Any
    ) -> ClientCredentials:
        """An ``authsec.ClientCredentials`` for one of the configured clients (the first by
        default), pointed at this server; its secret is taken from the config when not given.
        Other keyword arguments go to ``ClientCredentials``."""
        spec = self._spec(client_id)
        if client_secret is None and "private_key" not in kwargs:
            client_secret = spec.get("client_secret")
        if self._clock is not None:
            kwargs.setdefault("_clock", self._clock)
        return ClientCredentials(
            client_id=spec["client_id"], client_secret=client_secret, token_url=self.token_endpoint, **kwargs
        )

    def verifier(self, audience: Optional[str] = None, **kwargs: Any) -> Verifier:
        """An ``authsec.Verifier`` for this server's tokens (its issuer and JWKS)."""
        if self._clock is not None:
            kwargs.setdefault("_clock", self._clock)
        return Verifier(
            issuer=self.issuer, audience=audience or self.audience, jwks_uri=self.jwks_uri, **kwargs
        )

    def token(self, client_id: Optional[str] = None, scopes: Optional[Sequence[str]] = None) -> str:
        """A fresh access token for a configured client (a new request every time)."""
        kwargs: Dict[str, Any] = {}
        if scopes is not None:
            kwargs["scopes"] = list(scopes)
        return self.client(client_id, **kwargs).get_token().access_token

    def audit_events(self) -> List[Dict[str, Any]]:
        """The audit events so far (token issued, failures, ...), as dicts."""
        return [json.loads(line) for line in self._running().audit_log().splitlines() if line.strip()]

    def _spec(self, client_id: Optional[str]) -> Dict[str, Any]:
        if client_id is None:
            if not self._clients:
                raise ValueError("the server has no configured clients")
            return self._clients[0]
        for c in self._clients:
            if c.get("client_id") == client_id:
                return c
        raise ValueError(f"no configured client {client_id!r}")

    def __repr__(self) -> str:
        where = self._server.issuer if self._server is not None else "not started"
        return f"LocalAuthServer({where}, clients={[c.get('client_id') for c in self._clients]})"


class FakeWorkloadApi:
    """A fake SPIFFE Workload API, as a context manager: a gRPC server on a Unix socket (in a
    temporary directory of its own) that is the authority of one trust domain. It issues
    JWT-SVIDs (ES256, ``exp`` 5 minutes ahead) for ``spiffe_id``, serves the JWT bundle (keys
    without ``use``, as a SPIRE agent sends them) and an X.509-SVID, streams every change, and,
    like SPIRE, refuses calls without the ``workload.spiffe.io`` header. Stopped (the socket
    removed) when the ``with`` block ends. Needs ``authsec-testing``.

    ``endpoint`` is what ``SPIFFE_ENDPOINT_SOCKET`` (or ``spiffe_endpoint_socket``,
    ``WorkloadApiClient(endpoint)``, ``JwtSvidVerifier(workload_api=endpoint)``) takes.
    """

    def __init__(self, trust_domain: str = "example.org", *, spiffe_id: Optional[str] = None) -> None:
        self._module = _server_module()
        self._trust_domain = trust_domain
        self._initial_id = spiffe_id
        self._dir: Optional[str] = None
        self._fake: Any = None

    def start(self) -> "FakeWorkloadApi":
        """Start serving (``with`` does this for you)."""
        if self._fake is None:
            # A short path: a Unix socket's path is limited to about 100 bytes.
            self._dir = tempfile.mkdtemp(prefix="authsec-wl-")
            self._fake = self._module.FakeWorkloadApi(self._dir, self._trust_domain)
            if self._initial_id is not None:
                self._fake.set_spiffe_id(self._initial_id)
        return self

    def stop(self) -> None:
        """Stop serving and remove the socket (idempotent)."""
        if self._fake is not None:
            self._fake.stop()
            self._fake = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "FakeWorkloadApi":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _running(self) -> Any:
        if self._fake is None:
            raise RuntimeError("the fake Workload API is not started; use `with FakeWorkloadApi() as agent:`")
        return self._fake

    @property
    def endpoint(self) -> str:
        """``unix:///.../agent.sock``."""
        return self._running().endpoint

    @property
    def trust_domain(self) -> str:
        return self._trust_domain

    @property
    def spiffe_id(self) -> str:
        """The SPIFFE ID the SVIDs are issued for now (``spiffe://<trust domain>/workload`` first)."""
        return self._running().spiffe_id

    def set_spiffe_id(self, spiffe_id: str) -> None:
        """Issue SVIDs for another SPIFFE ID from now on."""
        self._running().set_spiffe_id(spiffe_id)

    def rotate_jwt_key(self) -> None:
        """A new JWT signing key (and kid) signs from now on; the bundle holds the old and the new
        (the watching verifiers get it at once)."""
        self._running().rotate_jwt_key()

    @property
    def jwt_kid(self) -> str:
        """The kid of the key that signs now."""
        return self._running().jwt_kid

    def rotate_x509(self) -> None:
        """A new X.509-SVID (new key, same CA)."""
        self._running().rotate_x509()

    def jwt_bundle(self) -> Dict[str, Any]:
        """The JWT bundle served now (a JWKS document): for ``trust_domains={td: {"bundle": ...}}``."""
        return json.loads(self._running().jwt_bundle_json())

    def write_jwt_bundle(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Write the JWT bundle to ``path`` (for ``bundle_file`` settings); returns the path."""
        path = os.fspath(path)
        with open(path, "w") as f:
            f.write(self._running().jwt_bundle_json())
        return path

    def deny_next(self, n: int) -> None:
        """Answer the next ``n`` calls with PermissionDenied ("no identity issued"), as an agent
        does before the workload is attested."""
        self._running().deny_next(n)

    def refuse_next(self, n: int) -> None:
        """Answer the next ``n`` calls with InvalidArgument."""
        self._running().refuse_next(n)

    @property
    def calls(self) -> int:
        """How many calls were made (refused ones included)."""
        return self._running().calls

    def __repr__(self) -> str:
        where = self._fake.endpoint if self._fake is not None else "not started"
        return f"FakeWorkloadApi({where}, trust_domain={self._trust_domain!r})"
