package verify

/*
#cgo CFLAGS: -I${SRCDIR}/../capi/include
#cgo darwin,amd64 LDFLAGS: -L${SRCDIR}/../lib/darwin_amd64
#cgo darwin,arm64 LDFLAGS: -L${SRCDIR}/../lib/darwin_arm64
#cgo windows,amd64 LDFLAGS: -L${SRCDIR}/../lib/windows_amd64
#cgo !linux LDFLAGS: -lauthsec_capi
#cgo darwin LDFLAGS: -framework Security -framework CoreFoundation -framework SystemConfiguration
#cgo windows LDFLAGS: -lws2_32 -luserenv -lntdll -lbcrypt -lcrypt32 -lsecur32 -lncrypt
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"encoding/json"
	"time"
	"unsafe"
)

// goString copies and frees a string handed out by the C library.
func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.authsec_string_free(p)
	return s
}

// bytesArg is s as a C byte range read in place (the C side does not keep it; KeepAlive s).
func bytesArg(s []byte) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&s[0])), C.size_t(len(s))
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
