// Package native is the Go side's plumbing around the C library's objects, shared by package
// verify and package authsec: Handle guards a native pointer, Blocking and TimeoutMs run a
// blocking C call under a context, CPointer reads a C pointer handed back as an integer. It has
// no cgo of its own.
package native

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"
)

// Handle guards a native handle: calls hold a reference while they use it, Close marks it
// closed without waiting for calls in flight (a call abandoned after ctx cancellation may still
// be running in C), and whoever drops the last reference frees it. Lock-free: state is the
// reference count plus the closed and freed bits. Set Ptr and Free when making it, then only
// call its methods.
type Handle struct {
	state atomic.Uint64
	Ptr   unsafe.Pointer
	Free  func(unsafe.Pointer)
}

const (
	handleClosed = uint64(1) << 63
	handleFreed  = uint64(1) << 62
	handleRefs   = handleFreed - 1
)

// Acquire returns the pointer (nil once closed); call Release when done with it.
func (h *Handle) Acquire() unsafe.Pointer {
	for {
		s := h.state.Load()
		if s&(handleClosed|handleFreed) != 0 || h.Ptr == nil {
			return nil
		}
		if h.state.CompareAndSwap(s, s+1) {
			return h.Ptr
		}
	}
}

// Release gives back a reference Acquire took.
func (h *Handle) Release() {
	if h.state.Add(^uint64(0)) == handleClosed {
		h.freeOnce()
	}
}

// Close marks the handle closed; the last reference frees the native object.
func (h *Handle) Close() {
	for {
		s := h.state.Load()
		if s&(handleClosed|handleFreed) != 0 {
			return
		}
		if h.state.CompareAndSwap(s, s|handleClosed) {
			if s&handleRefs == 0 {
				h.freeOnce()
			}
			return
		}
	}
}

// freeOnce frees the native object once: closed with no references left.
func (h *Handle) freeOnce() {
	if h.state.CompareAndSwap(handleClosed, handleClosed|handleFreed) && h.Ptr != nil {
		h.Free(h.Ptr)
	}
}

// CPointer reads a pointer to C memory that the C side handed back as a uintptr_t (the
// out-structs of client.go and verify/verifier.go). The garbage collector never looks at C
// memory, so holding it as an integer in between is fine.
func CPointer[T any](p uintptr) *T {
	return *(**T)(unsafe.Pointer(&p))
}

// TimeoutMs is what is left of ctx's deadline in milliseconds (0 = none).
func TimeoutMs(ctx context.Context) uint64 {
	if d, ok := ctx.Deadline(); ok {
		ms := time.Until(d).Milliseconds()
		if ms < 1 {
			ms = 1
		}
		return uint64(ms)
	}
	return 0
}

// Blocking runs a blocking C call on its own goroutine so ctx cancellation returns at once (the
// call finishes in the background and its result is dropped).
func Blocking[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return BlockingOrDrop(ctx, f, nil)
}

// BlockingOrDrop is Blocking that gives what f returns after ctx ended first to drop (a
// constructor's object, to close); drop may be nil.
func BlockingOrDrop[T any](ctx context.Context, f func() (T, error), drop func(T)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		if drop != nil {
			go func() {
				if r := <-ch; r.err == nil {
					drop(r.v)
				}
			}()
		}
		return zero, ctx.Err()
	}
}
