package verify

/*
#include "authsec.h"
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

// ManualClock is a clock that moves only when told to (the core's manual clock), for tests: give
// it as Config.Clock, authsec.ClientConfig.Clock (and to authsectest's server) to simulate
// expiry without sleeping. authsectest.NewClock makes one for a test. Safe for concurrent use;
// clients and verifiers made with it keep reading it after Close.
type ManualClock struct {
	h native.Handle
}

// NewManualClock returns a clock at start (millisecond precision).
func NewManualClock(start time.Time) *ManualClock {
	c := &ManualClock{h: native.Handle{Ptr: unsafe.Pointer(C.authsec_clock_new(C.int64_t(start.UnixMilli()))),
		Free: func(p unsafe.Pointer) { C.authsec_clock_free((*C.AuthsecClock)(p)) }}}
	runtime.SetFinalizer(c, (*ManualClock).Close)
	return c
}

// with runs f with the native clock (nil for a nil or closed clock: the system clock).
func (c *ManualClock) with(f func(*C.AuthsecClock)) {
	if c == nil {
		f(nil)
		return
	}
	p := c.h.Acquire()
	if p != nil {
		defer c.h.Release()
	}
	f((*C.AuthsecClock)(p))
	runtime.KeepAlive(c)
}

// Now is the clock's time.
func (c *ManualClock) Now() time.Time {
	var ms C.int64_t
	c.with(func(p *C.AuthsecClock) { ms = C.authsec_clock_now_ms(p) })
	return time.UnixMilli(int64(ms))
}

// Set moves the clock to t (it may go back).
func (c *ManualClock) Set(t time.Time) {
	c.with(func(p *C.AuthsecClock) { C.authsec_clock_set_ms(p, C.int64_t(t.UnixMilli())) })
}

// Advance moves the clock forward by d (a negative d does nothing; use Set to go back).
func (c *ManualClock) Advance(d time.Duration) {
	if d > 0 {
		c.with(func(p *C.AuthsecClock) { C.authsec_clock_advance_ms(p, C.uint64_t(d.Milliseconds())) })
	}
}

// Close frees the clock's handle; closing twice is fine.
func (c *ManualClock) Close() error {
	c.h.Close()
	runtime.SetFinalizer(c, nil)
	return nil
}

// clockState is bridge.ClockState: a *ManualClock's shared native state for the testing library.
func clockState(clock any) (state, release unsafe.Pointer) {
	if c, ok := clock.(*ManualClock); ok && c != nil {
		c.with(func(p *C.AuthsecClock) { state = unsafe.Pointer(C.authsec_clock_share(p)) })
	}
	if state == nil {
		return nil, nil
	}
	return state, unsafe.Pointer(C.authsec_clock_release)
}
