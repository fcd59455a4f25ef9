// Package bridge hands what package verify keeps unexported to the rest of the binding: package
// authsec (whose client, middleware, request verifier and MCP code reach into verifiers, clocks
// and errors) and the testing library behind package authsectest. Package verify sets every
// variable in its init; no public API is needed for any of it. The values are *verify.Verifier,
// *verify.ManualClock and so on as any, since this package cannot import package verify.
package bridge

import "unsafe"

var (
	// ClockState returns a *verify.ManualClock's shared native state and the C function that
	// gives the reference back (see authsec_clock_share in authsec.h; the receiver owns the
	// reference and must give it back exactly once), or nils for anything else.
	ClockState func(clock any) (state, release unsafe.Pointer)
	// WithClock runs f with a *verify.ManualClock's native clock (nil for a nil or closed clock:
	// the system clock).
	WithClock func(clock any, f func(clock unsafe.Pointer))

	// ErrorFromJSON is the *verify.Error for the C library's JSON error (its code when code is 0).
	ErrorFromJSON func(code uint32, text []byte) error

	// AcquireVerifier returns a *verify.Verifier's native verifier (nil once closed) and the
	// function that gives the reference back.
	AcquireVerifier func(v any) (ptr unsafe.Pointer, release func())
	// NewVerifier makes a *verify.Verifier from the core's verifier options as JSON, a
	// *verify.ManualClock and a func(verify.Actor) bool.
	NewVerifier func(options []byte, clock any, allowActor any) (any, error)
	// VerifierOptions is a verify.Config as the core's options map (set fields only).
	VerifierOptions func(cfg any) map[string]any
	// ScopesJSON appends the scope requirements of a []verify.Option to b as the core's JSON
	// ({"all_of": [...], "any_of": [...]}).
	ScopesJSON func(opts any, b []byte) []byte
	// CheckActor asks a *verify.Verifier's AllowActor about the current actor of a delegated
	// token's *verify.Claims: the core's delegation_not_allowed error when it refuses, else nil.
	CheckActor func(v any, claims any) error
	// DecodeClaims is the *verify.Claims of the core's claims JSON ({"claims", "scopes",
	// "delegation"}: the request verifier's answer).
	DecodeClaims func(text []byte) (any, error)

	// For package authsec's tests: WithRawOption is a verify.Config with a raw core option
	// added, PinnedCount how many claims objects a *verify.Verifier's memo holds in the core
	// and in Go.
	WithRawOption func(cfg any, name string, value any) any
	PinnedCount   func(v any) (core uint64, memo int)
)
