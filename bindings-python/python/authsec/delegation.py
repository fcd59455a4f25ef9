"""``Actor``: one party of a delegated token's chain (RFC 8693 ``act``), as the Rust core reads it
(``claims.delegation``, ``claims.actor``). This module is its Python face; the actor's ``id``
(``client_id``, else ``sub``) is the core's.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, final

from . import _native

__all__ = ["Actor"]


@final
class Actor:
    """One party of a delegation chain: who acted for the token's subject. ``id`` is how policies
    name it (``client_id``, else ``sub``); members the token does not carry are ``None``.
    Immutable; equal actors are equal and hash alike."""

    __slots__ = ("sub", "client_id", "iss", "id")

    sub: Optional[str]
    """``sub``."""
    client_id: Optional[str]
    """``client_id``."""
    iss: Optional[str]
    """``iss``: the issuer that named this actor, when the link says."""
    id: str
    """The actor's identifier as ``allowed_actors`` matches it: ``client_id``, else ``sub``."""

    def __init__(self, *, sub: Optional[str] = None, client_id: Optional[str] = None, iss: Optional[str] = None) -> None:
        """An actor as a token's ``act`` would name it (for tests of an ``allowed_actors`` callable)."""
        _init(self, sub, client_id, iss, _native.actor_id(sub, client_id, iss))

    def to_dict(self) -> Dict[str, str]:
        """``{"sub", "client_id", "iss"}``, absent members left out."""
        members = (("sub", self.sub), ("client_id", self.client_id), ("iss", self.iss))
        return {name: value for name, value in members if value is not None}

    def _key(self) -> Tuple[Optional[str], Optional[str], Optional[str]]:
        return (self.sub, self.client_id, self.iss)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Actor) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Actor(sub={self.sub!r}, client_id={self.client_id!r}, iss={self.iss!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("an Actor is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("an Actor is immutable")


def _init(actor: Actor, sub: Optional[str], client_id: Optional[str], iss: Optional[str], id: str) -> None:
    init = object.__setattr__
    init(actor, "sub", sub)
    init(actor, "client_id", client_id)
    init(actor, "iss", iss)
    init(actor, "id", id)


def _from_native(sub: Optional[str], client_id: Optional[str], iss: Optional[str], id: str) -> Actor:
    """An actor of a verified token's chain, with the core's ``id`` (called by the native module)."""
    actor = Actor.__new__(Actor)
    _init(actor, sub, client_id, iss, id)
    return actor
