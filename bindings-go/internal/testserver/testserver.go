// Package testserver links the testing library (lib/<GOOS>_<GOARCH>/libauthsec_capi_testing, a shared
// library with the local authorization server, built by build.sh) with an rpath, for package
// authsectest and the module's own tests. It does not import package authsec, so that both can
// use it; production binaries never link it.
package testserver

/*
#cgo CFLAGS: -I${SRCDIR}/../../capi-testing/include
#cgo linux,amd64 LDFLAGS: -L${SRCDIR}/../../lib/linux_amd64 -Wl,-rpath,${SRCDIR}/../../lib/linux_amd64
#cgo linux,arm64 LDFLAGS: -L${SRCDIR}/../../lib/linux_arm64 -Wl,-rpath,${SRCDIR}/../../lib/linux_arm64
#cgo darwin,amd64 LDFLAGS: -L${SRCDIR}/../../lib/darwin_amd64 -Wl,-rpath,${SRCDIR}/../../lib/darwin_amd64
#cgo darwin,arm64 LDFLAGS: -L${SRCDIR}/../../lib/darwin_arm64 -Wl,-rpath,${SRCDIR}/../../lib/darwin_arm64
#cgo LDFLAGS: -lauthsec_capi_testing
#include <stdlib.h>
#include "authsec_testing.h"
*/
import "C"

import (
	"encoding/json"
	"sync"
	"unsafe"
)

// Server is a running local authorization server.
type Server struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	JWKSURI       string `json:"jwks_uri"`
	Port          int    `json:"port"`

	mu sync.Mutex
	h  *C.AuthsecTestingServer
}

// Error is a failed start: the core's error code name and message.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return "authsec: " + e.Name + ": " + e.Message }

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.authsec_testing_string_free(p)
	return C.GoString(p)
}

// Start starts a server with the server's settings as JSON ("" = defaults). clockState and
// clockRelease are nil, or a shared test clock (package clockshare), whose reference Start
// takes over in every case.
func Start(configJSON string, clockState, clockRelease unsafe.Pointer) (*Server, error) {
	var cs *C.char
	if configJSON != "" {
		cs = C.CString(configJSON)
		defer C.free(unsafe.Pointer(cs))
	}
	var h *C.AuthsecTestingServer
	var info, e *C.char
	if C.authsec_testing_server_start(cs, clockState, (*[0]byte)(clockRelease), &h, &info, &e) != 0 {
		fail := &Error{Name: "internal_error", Message: "the local server did not start"}
		json.Unmarshal([]byte(goString(e)), fail)
		return nil, fail
	}
	s := &Server{h: h}
	if err := json.Unmarshal([]byte(goString(info)), s); err != nil {
		C.authsec_testing_server_free(h)
		return nil, &Error{Name: "internal_error", Message: "cannot read the server info"}
	}
	return s, nil
}

// Close stops the server; closing twice is fine.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		C.authsec_testing_server_free(s.h)
		s.h = nil
	}
	return nil
}
