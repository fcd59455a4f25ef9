package authsectest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/authsec/authsec/bindings-go/internal/testserver"
)

// FakeWorkloadAPI is a fake SPIFFE Workload API for tests (in the testing library): gRPC on a
// Unix socket in a temporary directory, the authority of one trust domain. It issues JWT-SVIDs
// (ES256, 5 minutes) and X.509-SVIDs for SPIFFEID, serves its JWT bundle, and like the SPIRE
// agent refuses calls without the workload.spiffe.io metadata.
//
//	wl := authsectest.NewFakeWorkloadAPI(t)                 // stopped when the test ends
//	v, _ := authsec.NewJWTSVIDVerifier(ctx, authsec.JWTSVIDOptions{Audience: aud, WorkloadAPI: wl.Endpoint})
type FakeWorkloadAPI struct {
	// Endpoint is the value for SPIFFE_ENDPOINT_SOCKET (unix:///.../agent.sock).
	Endpoint    string
	TrustDomain string
	f           *testserver.FakeWorkloadAPI
	dir         string
}

// StartFakeWorkloadAPI starts a fake for trustDomain ("" = example.org); Close stops it.
func StartFakeWorkloadAPI(trustDomain string) (*FakeWorkloadAPI, error) {
	// A short path: a Unix socket's path is limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "authsec-wl")
	if err != nil {
		return nil, err
	}
	f, err := testserver.StartFakeWorkloadAPI(filepath.Join(dir, "agent.sock"), trustDomain)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	i := f.Info()
	return &FakeWorkloadAPI{Endpoint: i.Endpoint, TrustDomain: i.TrustDomain, f: f, dir: dir}, nil
}

// NewFakeWorkloadAPI starts a fake for example.org, stopped when the test ends.
func NewFakeWorkloadAPI(t testing.TB) *FakeWorkloadAPI {
	t.Helper()
	w, err := StartFakeWorkloadAPI("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// SPIFFEID is the identity the fake issues SVIDs for now (spiffe://<td>/workload at first).
func (w *FakeWorkloadAPI) SPIFFEID() string { return w.f.Info().SPIFFEID }

// SetSPIFFEID issues SVIDs for another identity from now on.
func (w *FakeWorkloadAPI) SetSPIFFEID(id string) error { return w.f.Control("set_spiffe_id", id) }

// RotateJWTKey signs with a new key (and kid) from now on; the bundle keeps the old one too.
func (w *FakeWorkloadAPI) RotateJWTKey() error { return w.f.Control("rotate_jwt_key", "") }

// JWTKeyID is the kid of the key that signs now.
func (w *FakeWorkloadAPI) JWTKeyID() string { return w.f.Info().JWTKeyID }

// RotateX509 issues a new X.509-SVID (new key, same CA).
func (w *FakeWorkloadAPI) RotateX509() error { return w.f.Control("rotate_x509", "") }

// DenyNext answers the next n calls with PermissionDenied, as an agent does before the workload
// is attested (ErrWorkloadAPIUnavailable).
func (w *FakeWorkloadAPI) DenyNext(n int) error { return w.f.Control("deny_next", fmt.Sprint(n)) }

// RefuseNext answers the next n calls with InvalidArgument.
func (w *FakeWorkloadAPI) RefuseNext(n int) error { return w.f.Control("refuse_next", fmt.Sprint(n)) }

// JWTBundle is the JWT bundle (a JWKS document) the fake serves now.
func (w *FakeWorkloadAPI) JWTBundle() json.RawMessage { return w.f.Info().JWTBundle }

// Calls is how many calls the fake answered (refused ones included).
func (w *FakeWorkloadAPI) Calls() uint64 { return w.f.Info().Calls }

// Stop stops serving (the socket goes away) but keeps the fake's state; Close frees it.
func (w *FakeWorkloadAPI) Stop() error { return w.f.Control("stop", "") }

// Close stops the fake and removes its directory; closing twice is fine.
func (w *FakeWorkloadAPI) Close() error {
	w.f.Close()
	return os.RemoveAll(w.dir)
}
