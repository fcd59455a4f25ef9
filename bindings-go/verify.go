package authsec

import (
	"time"

	"github.com/authsec/authsec/bindings-go/verify"
)

// Token verification, the error taxonomy and the test clock live in package verify, which
// imports neither net/http nor crypto/tls: a program that only verifies tokens imports that
// package and links less (bindings-go/README.md). These are the same types and functions under
// their names in package authsec; the codes, sentinels and categories are in codes.go.

// Verifier verifies JWT access tokens (verify.Verifier).
type Verifier = verify.Verifier

// VerifierConfig configures a Verifier (verify.Config).
type VerifierConfig = verify.Config

// NewVerifier creates a verifier (verify.New).
func NewVerifier(cfg VerifierConfig) (*Verifier, error) { return verify.New(cfg) }

// Claims are a verified token's claims (verify.Claims).
type Claims = verify.Claims

// Actor is one link of a token's delegation chain (verify.Actor).
type Actor = verify.Actor

// VerifyOption adds a requirement to Verifier.Verify (verify.Option).
type VerifyOption = verify.Option

// RequireScopes requires every one of scopes (verify.RequireScopes).
func RequireScopes(scopes ...string) VerifyOption { return verify.RequireScopes(scopes...) }

// RequireAnyScope requires at least one of scopes (verify.RequireAnyScope).
func RequireAnyScope(scopes ...string) VerifyOption { return verify.RequireAnyScope(scopes...) }

// NoLeeway, NoVerifiedCache and NoActors are VerifierConfig values (see package verify).
const (
	NoLeeway        time.Duration = verify.NoLeeway
	NoVerifiedCache               = verify.NoVerifiedCache
	NoActors                      = verify.NoActors
)

// VerifierConfig.AudienceMatch values (see package verify).
const (
	AudienceExact         = verify.AudienceExact
	AudienceTrailingSlash = verify.AudienceTrailingSlash
	AudiencePathPrefix    = verify.AudiencePathPrefix
)

// ManualClock is a clock that moves only when told to, for tests (verify.ManualClock).
type ManualClock = verify.ManualClock

// NewManualClock returns a clock at start (verify.NewManualClock).
func NewManualClock(start time.Time) *ManualClock { return verify.NewManualClock(start) }

// Code is a stable authsec error code (verify.Code).
type Code = verify.Code

// Error is every error this package returns other than ctx.Err() (verify.Error). Compare with
// errors.Is against the Err* sentinels or use errors.As and Code.
type Error = verify.Error

// Category groups error codes: what failed (verify.Category).
type Category = verify.Category

// Codes lists every error code in the core's order (verify.Codes).
func Codes() []Code { return verify.Codes() }
