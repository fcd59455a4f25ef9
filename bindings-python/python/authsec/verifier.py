"""``Verifier``: JWT access-token (RFC 9068) verification by the Rust core
(``authsec._native.Verifier``) against a JWKS, with the verified-token cache. This module is its
Python face: the signature, ``discover()``, properties and ``repr()``, and asking an
``allowed_actors`` callable (the caller's own check); every rule is the core's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Union

from . import _native

if TYPE_CHECKING:
    import asyncio

    from typing_extensions import Unpack

    from ._native import Claims, ManualClock
    from .delegation import Actor
    from .options import VerifierOptions

    _Scopes = Union[str, Sequence[str], None]

__all__ = ["Verifier"]


class Verifier(_native.Verifier):
    """Verifies JWT access tokens (RFC 9068) against a JWKS: a ``jwks_uri`` (cached, refreshed), a
    static ``jwks`` document, or the one the issuer's metadata names (``discover=True``, or
    ``Verifier.discover(issuer, audience)``). Verified tokens are cached until they expire. Safe
    to share across threads.

    The keyword options are read by the core (see ``authsec.options.VerifierOptions``):
    ``algorithms``, ``leeway``, ``typ``, ``required_claims``, ``max_token_bytes``,
    ``skip_issuer_check``, ``skip_audience_check``, ``verified_cache_size``,
    ``allow_insecure_http``, ``audience_match`` (how ``aud`` must match ``audience``: ``"exact"``,
    the default, ``"trailing_slash"`` or ``"path_prefix"``), and for delegated tokens (RFC 8693
    ``act``; ``claims.delegation``) ``forbid_delegation``, ``max_delegation_depth`` and
    ``allowed_actors`` (a list of actor ids, or a callable that takes the current
    ``authsec.Actor`` and returns whether it may act; it is yours, the only check not made by
    the core). An unknown or ill-typed one raises
    ``ConfigError`` naming it.
    ``_clock`` takes an ``authsec.testing.ManualClock`` (tests).
    """

    __slots__ = ("_allowed_actors",)

    _allowed_actors: Optional[Callable[[Actor], Any]]
    """``allowed_actors`` when it is a callable (the core reads a list of ids)."""

    def __new__(
        cls,
        issuer: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        *,
        _clock: Optional[ManualClock] = None,
        **options: Unpack[VerifierOptions],
    ) -> Verifier:
        check = options.get("allowed_actors")
        if callable(check):
            del options["allowed_actors"]  # yours to ask: see _ActorCheck.verify()
            cls = _with_actor_check(cls)
        else:
            check = None  # a list of ids (or nothing) for the core
        verifier = super().__new__(cls, _clock=_clock, issuer=issuer, audience=audience, **options)
        verifier._allowed_actors = check
        return verifier

    # verify() and verify_async() are the native methods, unless an allowed_actors callable was
    # given: then the instance is of a subclass with _ActorCheck's (the common path stays native).
    @classmethod
    def discover(
        cls,
        issuer: str,
        audience: Union[str, Sequence[str], None] = None,
        *,
        _clock: Optional[ManualClock] = None,
        **options: Unpack[VerifierOptions],
    ) -> Verifier:
        """A verifier whose JWKS URL comes from the issuer's metadata (RFC 8414, then OpenID
        Connect discovery), fetched on first use: ``Verifier(issuer, audience, discover=True)``."""
        options["discover"] = True
        return cls(issuer, audience, _clock=_clock, **options)

    @property
    def issuer(self) -> Optional[str]:
        """The expected issuer."""
        return self._settings["issuer"]

    @property
    def audience(self) -> List[str]:
        """The accepted audiences."""
        return self._settings["audience"]

    @property
    def algorithms(self) -> List[str]:
        """The allowed algorithms (empty: every supported asymmetric algorithm)."""
        return self._settings["algorithms"]

    def __repr__(self) -> str:
        s = self._settings
        kind, value = s["keys"]
        keys = {"jwks": f"jwks=<{value} keys>", "jwks_uri": f"jwks_uri={value!r}"}.get(
            kind, f"discovered from {value!r}"
        )
        return f"Verifier(issuer={s['issuer']!r}, audience={s['audience']!r}, {keys})"


_verify = _native.Verifier.verify
_verify_async = _native.Verifier.verify_async


class _ActorCheck:
    """``verify()`` and ``verify_async()`` for a verifier given an ``allowed_actors`` callable:
    the core verifies the token without the scopes, the callable is asked about a delegated
    token's current actor (also for a token from the verified-token cache), and then the core
    checks the scopes: a refused actor is reported before a missing scope, as the core orders its
    own delegation policy and the scopes."""

    __slots__ = ()
    _allowed_actors: Callable[[Actor], Any]

    def verify(self, token: str, required_scopes: _Scopes = None, *, any_scopes: _Scopes = None) -> Claims:
        return _admitted(self._allowed_actors, _verify(self, token), required_scopes, any_scopes)  # type: ignore[arg-type]

    def verify_async(
        self, token: str, required_scopes: _Scopes = None, *, any_scopes: _Scopes = None
    ) -> asyncio.Future[Claims]:
        check = self._allowed_actors
        verified = _verify_async(self, token)  # type: ignore[arg-type]
        if verified.done():  # from the verified-token cache
            return _then(verified, verified.get_loop().create_future(), check, required_scopes, any_scopes)
        result = verified.get_loop().create_future()
        # On the event loop's thread, in the caller's context (add_done_callback copies it).
        verified.add_done_callback(lambda v: _then(v, result, check, required_scopes, any_scopes))
        return result


_ACTOR_CHECKING: "dict[type, type]" = {}


def _with_actor_check(cls: type) -> type:
    """``cls`` with ``_ActorCheck``'s methods first (one subclass per class, made once)."""
    sub = _ACTOR_CHECKING.get(cls)
    if sub is None:
        sub = _ACTOR_CHECKING.setdefault(
            cls, type(cls.__name__, (_ActorCheck, cls), {"__slots__": (), "__module__": cls.__module__})
        )
    return sub


def _admitted(check: Callable[[Actor], Any], claims: Claims, required_scopes: _Scopes, any_scopes: _Scopes) -> Claims:
    """``claims``, verified without the scopes, once ``check`` (the ``allowed_actors`` callable)
    admits the current actor (never asked for an undelegated token; a falsy answer is the core's
    ``delegation_not_allowed``, its exceptions propagate) and the core finds the scopes: a
    refused actor is reported before a missing scope, the core's own order."""
    actor = claims.actor
    if actor is not None and not check(actor):
        raise _native.actor_refused(actor.id)
    _native.check_scopes(claims, required_scopes, any_scopes)
    return claims


def _then(
    verified: asyncio.Future[Claims],
    result: asyncio.Future[Claims],
    check: Callable[[Actor], Any],
    required_scopes: _Scopes,
    any_scopes: _Scopes,
) -> asyncio.Future[Claims]:
    """Settle ``result`` with ``verified``'s claims once admitted, or with the exception; unless
    it is already done (cancelled)."""
    if not result.done():
        try:
            claims = _admitted(check, verified.result(), required_scopes, any_scopes)
        except BaseException as e:  # as the native futures: every exception goes to the awaiter
            result.set_exception(e)
        else:
            result.set_result(claims)
    return result
