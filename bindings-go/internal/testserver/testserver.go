// Package testserver links the testing library (libauthsec_capi_testing, a shared library with the
// local authorization server: on linux from its per-platform module lib/linux_<GOARCH>_testing, elsewhere
// from lib/<GOOS>_<GOARCH>_testing in a checkout, built by build.sh) with an rpath, for package
// authsectest and the module's own tests. It does not import package authsec, so that both can
// use it; production binaries never link it.
package testserver

/*
#cgo CFLAGS: -I${SRCDIR}/../../capi-testing/include
#cgo darwin,amd64 LDFLAGS: -L${SRCDIR}/../../lib/darwin_amd64_testing -Wl,-rpath,${SRCDIR}/../../lib/darwin_amd64_testing
#cgo darwin,arm64 LDFLAGS: -L${SRCDIR}/../../lib/darwin_arm64_testing -Wl,-rpath,${SRCDIR}/../../lib/darwin_arm64_testing
#cgo !linux LDFLAGS: -lauthsec_capi_testing
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
// clockRelease are nil, or a shared test clock (package bridge), whose reference Start
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

// FakeWorkloadAPI is the testing library's fake SPIFFE Workload API: gRPC on a Unix socket, the
// authority of one trust domain (JWT-SVIDs signed with ES256, X.509-SVIDs from its own CA).
type FakeWorkloadAPI struct {
	mu sync.Mutex
	h  *C.AuthsecTestingFakeWorkloadApi
}

// FakeInfo is a fake Workload API's state.
type FakeInfo struct {
	Endpoint    string          `json:"endpoint"`
	TrustDomain string          `json:"trust_domain"`
	SPIFFEID    string          `json:"spiffe_id"`
	JWTKeyID    string          `json:"jwt_kid"`
	JWTBundle   json.RawMessage `json:"jwt_bundle"`
	Calls       uint64          `json:"calls"`
	DenialsLeft uint32          `json:"denials_left"`
}

// StartFakeWorkloadAPI serves a fake Workload API on path (a directory: the socket is
// agent.sock in it) for trustDomain ("" = example.org).
func StartFakeWorkloadAPI(path, trustDomain string) (*FakeWorkloadAPI, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var ct *C.char
	if trustDomain != "" {
		ct = C.CString(trustDomain)
		defer C.free(unsafe.Pointer(ct))
	}
	var h *C.AuthsecTestingFakeWorkloadApi
	var e *C.char
	if C.authsec_testing_fake_workload_api_start(cp, ct, &h, &e) != 0 {
		return nil, errorOf(e)
	}
	return &FakeWorkloadAPI{h: h}, nil
}

func errorOf(e *C.char) error {
	fail := &Error{Name: "internal_error", Message: "the fake Workload API failed"}
	json.Unmarshal([]byte(goString(e)), fail)
	return fail
}

// Info is the fake's state now.
func (f *FakeWorkloadAPI) Info() FakeInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var i FakeInfo
	if f.h != nil {
		json.Unmarshal([]byte(goString(C.authsec_testing_fake_workload_api_info(f.h))), &i)
	}
	return i
}

// Control changes the fake: "set_spiffe_id" (arg: the ID), "rotate_jwt_key", "rotate_x509",
// "deny_next" / "refuse_next" (arg: a count) or "stop".
func (f *FakeWorkloadAPI) Control(action, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.h == nil {
		return &Error{Name: "config_error", Message: "the fake Workload API was closed"}
	}
	ca, cg := C.CString(action), C.CString(arg)
	defer C.free(unsafe.Pointer(ca))
	defer C.free(unsafe.Pointer(cg))
	var e *C.char
	if C.authsec_testing_fake_workload_api_control(f.h, ca, cg, &e) != 0 {
		return errorOf(e)
	}
	return nil
}

// Close stops the fake and frees it; closing twice is fine.
func (f *FakeWorkloadAPI) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.h != nil {
		C.authsec_testing_fake_workload_api_free(f.h)
		f.h = nil
	}
	return nil
}
