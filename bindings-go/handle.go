package authsec

import (
	"sync"
	"unsafe"
)

// handle guards a native handle: calls hold a reference while they use it, Close marks it
// closed without waiting for calls in flight (a call abandoned after ctx cancellation may still
// be running in C), and whoever drops the last reference frees it.
type handle struct {
	mu     sync.Mutex
	ptr    unsafe.Pointer
	refs   int
	closed bool
	free   func(unsafe.Pointer)
}

// acquire returns the pointer (nil once closed); call release when done with it.
func (h *handle) acquire() unsafe.Pointer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.ptr == nil {
		return nil
	}
	h.refs++
	return h.ptr
}

func (h *handle) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	h.freeIfDone()
}

func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.freeIfDone()
}

func (h *handle) freeIfDone() {
	if h.closed && h.refs == 0 && h.ptr != nil {
		h.free(h.ptr)
		h.ptr = nil
	}
}
