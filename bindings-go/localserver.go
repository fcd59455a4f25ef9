package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"encoding/json"
	"sync"
)

// LocalServer is the local OAuth authorization server (authsec-server) running in-process on
// 127.0.0.1, for tests and offline development.
type LocalServer struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	JWKSURI       string `json:"jwks_uri"`
	Port          int    `json:"port"`

	mu     sync.Mutex
	handle *C.AuthsecServer
}

// StartLocalServer starts the local server. configJSON uses the server's field names
// (`{"clients": [{"client_id", "client_secret", "allowed_scopes", ...}], "token_lifetime": ...}`);
// "" = defaults.
func StartLocalServer(configJSON string) (*LocalServer, error) {
	var cs *C.char
	if configJSON != "" {
		cs = cString(configJSON)
		defer free(cs)
	}
	var h *C.AuthsecServer
	var info, e *C.char
	if code := C.authsec_server_start(cs, &h, &info, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	s := &LocalServer{handle: h}
	if err := json.Unmarshal([]byte(goString(info)), s); err != nil {
		C.authsec_server_free(h)
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the server info"}
	}
	return s, nil
}

// Close stops the server; closing twice is fine.
func (s *LocalServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle != nil {
		C.authsec_server_free(s.handle)
		s.handle = nil
	}
	return nil
}
