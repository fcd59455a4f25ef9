package authsec

import (
	"sync/atomic"
	"unsafe"
)

// handle guards a native handle: calls hold a reference while they use it, Close marks it
// closed without waiting for calls in flight (a call abandoned after ctx cancellation may still
// be running in C), and whoever drops the last reference frees it. Lock-free: state is the
// reference count plus the closed and freed bits.
type handle struct {
	state atomic.Uint64
	ptr   unsafe.Pointer
	free  func(unsafe.Pointer)
}

const (
	handleClosed = uint64(1) << 63
	handleFreed  = uint64(1) << 62
	handleRefs   = handleFreed - 1
)

// acquire returns the pointer (nil once closed); call release when done with it.
func (h *handle) acquire() unsafe.Pointer {
	for {
		s := h.state.Load()
		if s&(handleClosed|handleFreed) != 0 || h.ptr == nil {
			return nil
		}
		if h.state.CompareAndSwap(s, s+1) {
			return h.ptr
		}
	}
}

func (h *handle) release() {
	if h.state.Add(^uint64(0)) == handleClosed {
		h.freeOnce()
	}
}

func (h *handle) close() {
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
func (h *handle) freeOnce() {
	if h.state.CompareAndSwap(handleClosed, handleClosed|handleFreed) && h.ptr != nil {
		h.free(h.ptr)
	}
}
