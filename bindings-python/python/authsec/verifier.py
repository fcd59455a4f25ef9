"""``Verifier``: JWT access-token (RFC 9068) verification by the Rust core
(``authsec._native.Verifier``) against a JWKS, with the verified-token cache. This module is its
Python face: the signature, ``discover()``, properties and ``repr()``; every rule is the core's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Union

from . import _native

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._native import ManualClock
    from .options import VerifierOptions

__all__ = ["Verifier"]


class Verifier(_native.Verifier):
    """Verifies JWT access tokens (RFC 9068) against a JWKS: a ``jwks_uri`` (cached, refreshed), a
    static ``jwks`` document, or the one the issuer's metadata names (``discover=True``, or
    ``Verifier.discover(issuer, audience)``). Verified tokens are cached until they expire. Safe
    to share across threads.

    The keyword options are read by the core (see ``authsec.options.VerifierOptions``):
    ``algorithms``, ``leeway``, ``typ``, ``required_claims``, ``max_token_bytes``,
    ``skip_issuer_check``, ``skip_audience_check``, ``verified_cache_size``,
    ``allow_insecure_http``, and for delegated tokens (RFC 8693 ``act``; ``claims.delegation``)
    ``forbid_delegation``, ``max_delegation_depth`` and ``allowed_actors`` (a list of actor ids,
    or a callable that takes the current ``authsec.Actor`` and returns whether it may act; it is
    yours, the only check not made by the core). An unknown or ill-typed one raises
    ``ConfigError`` naming it.
    ``_clock`` takes an ``authsec.testing.ManualClock`` (tests).
    """

    __slots__ = ()

    def __new__(
        cls,
        issuer: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        *,
        _clock: Optional[ManualClock] = None,
        **options: Unpack[VerifierOptions],
    ) -> Verifier:
        return super().__new__(cls, _clock=_clock, issuer=issuer, audience=audience, **options)

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
