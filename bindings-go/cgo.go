// Package authsec is the Go binding of authsec: OAuth 2.0 client credentials with a token cache,
// JWT access-token verification and scope checks, HTTP middleware, MCP authorization, SPIFFE and
// client management. All logic lives in the Rust core; the binding links it as a static library
// and fits it to Go. Verification itself is package verify, which this package re-exports under
// its old names (verify.go) and which links the library: on linux/amd64 and linux/arm64 it comes
// prebuilt in a module of its own per platform (lib/linux_amd64, imported by
// verify/prebuilt_linux_amd64.go); elsewhere build.sh builds it from source into
// lib/<GOOS>_<GOARCH>/ in a checkout. The local authorization server and the test clock helpers
// for tests are in package authsectest.
package authsec

/*
#cgo CFLAGS: -I${SRCDIR}/capi/include
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
	"github.com/authsec/authsec/bindings-go/internal/native"
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

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// errorFrom turns a C error result into an *Error.
func errorFrom(code C.uint32_t, errJSON *C.char) error {
	return errorFromJSON(Code(code), []byte(goString(errJSON)))
}

// errorFromJSON reads the C library's JSON error (its code, when code is 0): package verify's
// reading, through the bridge.
func errorFromJSON(code Code, text []byte) *Error {
	return bridge.ErrorFromJSON(uint32(code), text).(*Error)
}

var errClosed = &Error{Code: CodeConfigError, Message: "the object was closed"}

// timeoutMs is what is left of ctx's deadline in milliseconds (0 = none).
func timeoutMs(ctx context.Context) C.uint64_t { return C.uint64_t(native.TimeoutMs(ctx)) }

// withClock runs f with clock's native clock (nil for a nil or closed clock: the system clock).
func withClock(clock *ManualClock, f func(*C.AuthsecClock)) {
	bridge.WithClock(clock, func(p unsafe.Pointer) { f((*C.AuthsecClock)(p)) })
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
