package verify

import (
	"fmt"
	"time"
)

// Code is a stable authsec error code (the core's list; see codes.go).
type Code uint32

// String is the stable snake_case name, e.g. "invalid_client".
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code(%d)", uint32(c))
}

// Description is the core's one-line description of the code.
func (c Code) Description() string { return codeDescriptions[c] }

// Codes lists every error code in the core's order.
func Codes() []Code { return append([]Code(nil), allCodes...) }

// Error is every error this package returns (other than ctx.Err()). Compare with errors.Is
// against the Err* sentinels (errors.Is(err, authsec.ErrInvalidClient)) or use errors.As and Code.
// Messages never contain a secret or a whole token.
type Error struct {
	Code    Code
	Message string
	// HTTP status of the server answer the error came from (0 = none).
	Status int
	// How long the server asked to wait (429/503 Retry-After).
	RetryAfter time.Duration
	// For insufficient_scope: the scopes the token lacks.
	MissingScopes []string
	// For OAuth errors: the server's "error" string.
	OAuthError string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "authsec: " + e.Code.String()
	}
	return "authsec: " + e.Code.String() + ": " + e.Message
}

// Category is the error's category (Code.Category).
func (e *Error) Category() Category { return e.Code.Category() }

// Retryable reports whether retrying the same request may succeed (Code.Retryable).
func (e *Error) Retryable() bool { return e.Code.Retryable() }

// Is reports whether target is an *Error with the same code (so the sentinels match).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}
