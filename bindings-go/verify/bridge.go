package verify

/*
#include "authsec.h"
*/
import "C"

import (
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
)

var errClosed = &Error{Code: CodeConfigError, Message: "the object was closed"}

// What package authsec and the testing library need of this package's internals (package
// bridge says what each is).
func init() {
	bridge.ClockState = clockState
	bridge.WithClock = func(clock any, f func(unsafe.Pointer)) {
		c, _ := clock.(*ManualClock)
		c.with(func(p *C.AuthsecClock) { f(unsafe.Pointer(p)) })
	}
	bridge.ErrorFromJSON = func(code uint32, text []byte) error { return errorFromJSON(Code(code), text) }
	bridge.AcquireVerifier = func(v any) (unsafe.Pointer, func()) {
		vv := v.(*Verifier)
		if p := vv.h.Acquire(); p != nil {
			return p, vv.h.Release
		}
		return nil, func() {}
	}
	bridge.NewVerifier = func(options []byte, clock any, allowActor any) (any, error) {
		c, _ := clock.(*ManualClock)
		a, _ := allowActor.(func(Actor) bool)
		return newVerifier(options, c, a)
	}
	bridge.VerifierOptions = func(cfg any) map[string]any { return cfg.(Config).options() }
	bridge.ScopesJSON = func(opts any, b []byte) []byte { return appendOptionsJSON(b, opts.([]Option)) }
	bridge.CheckActor = func(v any, claims any) error { return v.(*Verifier).checkActor(claims.(*Claims)) }
	bridge.DecodeClaims = func(text []byte) (any, error) { return decodeClaims(text) }
	bridge.WithRawOption = func(cfg any, name string, value any) any { return cfg.(Config).withOption(name, value) }
	bridge.PinnedCount = func(v any) (uint64, int) { return v.(*Verifier).pinnedCount() }
}
