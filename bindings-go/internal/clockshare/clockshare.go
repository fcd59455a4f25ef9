// Package clockshare hands a test clock's native state from package authsec to the testing
// library behind package authsectest, without a public API for it in package authsec.
package clockshare

import "unsafe"

// State is set by package authsec: for an *authsec.ManualClock it returns the clock's shared
// state and the C function that gives the reference back (see authsec_clock_share in authsec.h;
// the receiver owns the reference and must give it back exactly once), or nils for anything else.
var State func(clock any) (state, release unsafe.Pointer)
