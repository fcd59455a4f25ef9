// Package authsec is the Go binding of authsec: OAuth 2.0 client credentials with a token cache,
// JWT access-token verification and scope checks. All logic lives in the Rust core; this package
// links it as a static library and fits it to Go. On linux/amd64 and linux/arm64 the library comes
// prebuilt in a module of its own per platform (lib/linux_amd64, imported by
// prebuilt_linux_amd64.go); elsewhere build.sh builds it from source into lib/<GOOS>_<GOARCH>/ in
// a checkout. The local authorization server and the test clock helpers for tests are in package
// authsectest.
package authsec

/*
#cgo CFLAGS: -I${SRCDIR}/capi/include
#cgo darwin,amd64 LDFLAGS: -L${SRCDIR}/lib/darwin_amd64
#cgo darwin,arm64 LDFLAGS: -L${SRCDIR}/lib/darwin_arm64
#cgo windows,amd64 LDFLAGS: -L${SRCDIR}/lib/windows_amd64
#cgo !linux LDFLAGS: -lauthsec_capi
#cgo darwin LDFLAGS: -framework Security -framework CoreFoundation -framework SystemConfiguration
#cgo windows LDFLAGS: -lws2_32 -luserenv -lntdll -lbcrypt -lcrypt32 -lsecur32 -lncrypt
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"time"
	"unsafe"
)

//go:generate ./build.sh

// goString copies and frees a string handed out by the C library.
func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.authsec_string_free(p)
	return s
}

// cString is freed by the caller with C.free.
func cString(s string) *C.char {
	return C.CString(s)
}

// bytesArg is s as a C byte range read in place (the C side does not keep it; KeepAlive s).
func bytesArg(s []byte) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&s[0])), C.size_t(len(s))
}

// cPointer reads a pointer to C memory that the C side handed back as a uintptr_t (see the
// out-structs of client.go and verifier.go). The garbage collector never looks at C memory, so
// holding it as an integer in between is fine.
func cPointer[T any](p C.uintptr_t) *T {
	return *(**T)(unsafe.Pointer(&p))
}

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// errorFrom turns a C error result into an *Error.
func errorFrom(code C.uint32_t, errJSON *C.char) error {
	return errorFromJSON(Code(code), []byte(goString(errJSON)))
}

// errorFromJSON reads the C library's JSON error (its code, when code is 0).
func errorFromJSON(code Code, text []byte) *Error {
	e := &Error{Code: code}
	if len(text) > 0 {
		var w struct {
			Code          Code     `json:"code"`
			Message       string   `json:"message"`
			Status        int      `json:"status"`
			RetryAfterMs  int64    `json:"retry_after_ms"`
			MissingScopes []string `json:"missing_scopes"`
			OAuthError    string   `json:"oauth_error"`
		}
		if json.Unmarshal(text, &w) == nil {
			e.Message, e.Status, e.MissingScopes, e.OAuthError = w.Message, w.Status, w.MissingScopes, w.OAuthError
			e.RetryAfter = time.Duration(w.RetryAfterMs) * time.Millisecond
			if e.Code == 0 {
				e.Code = w.Code
			}
		}
	}
	return e
}

// timeoutMs is what is left of ctx's deadline in milliseconds (0 = none).
func timeoutMs(ctx context.Context) C.uint64_t {
	if d, ok := ctx.Deadline(); ok {
		ms := time.Until(d).Milliseconds()
		if ms < 1 {
			ms = 1
		}
		return C.uint64_t(ms)
	}
	return 0
}

// blocking runs a blocking C call on its own goroutine so ctx cancellation returns at once (the
// call finishes in the background and its result is dropped).
func blocking[T any](ctx context.Context, f func() (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
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
		var zero T
		return zero, ctx.Err()
	}
}

type coreCode struct {
	Code        uint32 `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Class       string `json:"class"`
	Retryable   bool   `json:"retryable"`
}

// coreErrorCodes is the core's list of codes, from the library (for the drift test).
func coreErrorCodes() []coreCode {
	var out []coreCode
	_ = json.Unmarshal([]byte(goString(C.authsec_error_codes_json())), &out)
	return out
}

// cgoNoop is the cheapest call into the C library; benchmarks use it to measure the bare cgo
// crossing every other call pays.
func cgoNoop() { C.authsec_error_code_category(0) }
