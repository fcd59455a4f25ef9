// Package authsectest tests code that uses package authsec offline: it starts the local OAuth 2.0
// authorization server (the Rust authsec-server, in-process on 127.0.0.1 and a free port) and
// gives ready-made clients, verifiers and tokens for it, and a test clock, as Python's
// authsec.testing.LocalAuthServer does.
//
//	srv := authsectest.New(t, authsectest.Options{})         // stopped when the test ends
//	client, _ := srv.Client(authsec.ClientConfig{Scopes: []string{"read:data"}})
//	verifier, _ := srv.Verifier(authsec.VerifierConfig{})
//
// The server lives in a separate shared library (libauthsec_capi_testing, found through an rpath; on
// linux in its own per-platform module lib/linux_<GOARCH>_testing, elsewhere built by
// bindings-go/build.sh), never in the static library that package authsec links, so production
// binaries carry no server and production builds do not even download it.
package authsectest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/internal/bridge"
	"github.com/authsec/authsec/bindings-go/internal/testserver"
)

// Defaults of a server started with zero Options.
const (
	DefaultAudience = "https://api.example.test"
	DefaultClientID = "test-client"
)

// DefaultScopes are the scopes DefaultClientID may ask for.
var DefaultScopes = []string{"read:data", "write:data"}

// Options configures a server. The zero value has one client, DefaultClientID, with a random
// secret and DefaultScopes.
type Options struct {
	// Client specs as in the server's config (client_id, client_secret, jwks for
	// private_key_jwt, allowed_scopes, default_scopes, audiences, token_lifetime, rate_limit, ...).
	Clients []map[string]any
	// "ES256" (default), "RS256" or "EdDSA".
	SigningAlg string
	// Default token lifetime in seconds (0 = 3600).
	TokenLifetime int
	// aud of the tokens of clients that name no audiences ("" = DefaultAudience).
	Audience string
	// AdminToken is the server's bootstrap token for its management API (accepted only while no
	// management client exists); Server.Management uses it when given no credentials.
	AdminToken string
	// Any other server settings, merged last.
	Config map[string]any
	// A test clock (NewClock) the server issues tokens by; Client and Verifier use it too.
	Clock *authsec.ManualClock
}

// Server is a running local authorization server.
type Server struct {
	Issuer        string
	TokenEndpoint string
	JWKSURI       string
	Port          int
	// The aud of tokens for clients that name no audiences.
	Audience string

	clients    []map[string]any
	adminToken string
	clock      *authsec.ManualClock
	s          *testserver.Server
}

// Start starts a server; Close stops it.
func Start(opts Options) (*Server, error) {
	clients := opts.Clients
	if clients == nil {
		b := make([]byte, 24)
		rand.Read(b)
		clients = []map[string]any{{"client_id": DefaultClientID, "client_secret": base64.RawURLEncoding.EncodeToString(b),
			"allowed_scopes": DefaultScopes}}
	}
	settings := map[string]any{"signing_alg": "ES256", "token_lifetime": 3600, "default_audience": DefaultAudience,
		"rate_limit": 0, "audit_log": "off", "clients": clients}
	for k, v := range map[string]any{"signing_alg": opts.SigningAlg, "token_lifetime": opts.TokenLifetime, "default_audience": opts.Audience} {
		if v != "" && v != 0 {
			settings[k] = v
		}
	}
	if opts.AdminToken != "" {
		settings["admin_token"] = opts.AdminToken
	}
	for k, v := range opts.Config {
		settings[k] = v
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return nil, &authsec.Error{Code: authsec.CodeConfigError, Message: err.Error()}
	}
	return start(string(b), opts.Clock)
}

// New starts a server for the test t (failing it when the server cannot start) and stops it when
// the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// StartLocalServer starts a server from the server's settings as JSON (`{"clients":
// [{"client_id", "client_secret", "allowed_scopes", ...}], "token_lifetime": ...}`; "" =
// defaults), as authsec.StartLocalServer did.
func StartLocalServer(configJSON string) (*Server, error) {
	return start(configJSON, nil)
}

func start(configJSON string, clock *authsec.ManualClock) (*Server, error) {
	var cfg struct {
		Clients    []map[string]any `json:"clients"`
		Audience   string           `json:"default_audience"`
		AdminToken string           `json:"admin_token"`
	}
	if configJSON != "" {
		if err := json.Unmarshal([]byte(configJSON), &cfg); err != nil {
			return nil, &authsec.Error{Code: authsec.CodeConfigError, Message: "local server config: " + err.Error()}
		}
	}
	state, release := bridge.ClockState(clock)
	s, err := testserver.Start(configJSON, state, release)
	if err != nil {
		var e *testserver.Error
		errors.As(err, &e)
		code := authsec.CodeInternalError
		for _, c := range authsec.Codes() {
			if c.String() == e.Name {
				code = c
			}
		}
		return nil, &authsec.Error{Code: code, Message: e.Message}
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	return &Server{Issuer: s.Issuer, TokenEndpoint: s.TokenEndpoint, JWKSURI: s.JWKSURI, Port: s.Port,
		Audience: cfg.Audience, clients: cfg.Clients, adminToken: cfg.AdminToken, clock: clock, s: s}, nil
}

// Close stops the server; closing twice is fine.
func (s *Server) Close() error { return s.s.Close() }

// Client is an authsec.ClientCredentials for this server: cfg with TokenURL set to this server,
// ClientID to the first configured client when empty, ClientSecret to that client's configured
// secret when empty (and no ClientSecretFile, PrivateKey or PrivateKeyFile is given), and Clock to the server's when nil.
func (s *Server) Client(cfg authsec.ClientConfig) (*authsec.ClientCredentials, error) {
	cfg.TokenURL = s.TokenEndpoint
	for _, c := range s.clients {
		if id, _ := c["client_id"].(string); cfg.ClientID == "" || cfg.ClientID == id {
			cfg.ClientID = id
			if secret, _ := c["client_secret"].(string); cfg.ClientSecret == "" && cfg.ClientSecretFile == "" && cfg.PrivateKey == "" && cfg.PrivateKeyFile == "" {
				cfg.ClientSecret = secret
			}
			break
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = s.clock
	}
	return authsec.NewClientCredentials(cfg)
}

// Management is an authsec.Management for this server's management API: cfg with BaseURL set
// to the server's when cfg names neither BaseURL nor Domain, and AdminToken to the server's
// (Options.AdminToken) when cfg gives no credentials, for bootstrapping the first management
// client.
func (s *Server) Management(cfg authsec.ManagementConfig) (*authsec.Management, error) {
	if cfg.BaseURL == "" && cfg.Domain == "" {
		cfg.BaseURL = s.Issuer
	}
	if cfg.ClientID == "" && cfg.AdminToken == "" && cfg.AdminTokenFile == "" {
		cfg.AdminToken = s.adminToken
	}
	return authsec.NewManagement(cfg)
}

// Verifier is an authsec.Verifier for this server's tokens: cfg with Issuer and JWKSURI set to
// this server's (unless cfg gives JWKS or Discover), Audience to the server's when nil, and Clock
// to the server's when nil.
func (s *Server) Verifier(cfg authsec.VerifierConfig) (*authsec.Verifier, error) {
	cfg.Issuer = s.Issuer
	if cfg.JWKS == "" && !cfg.Discover {
		cfg.JWKSURI = s.JWKSURI
	}
	if cfg.Audience == nil {
		cfg.Audience = []string{s.Audience}
	}
	if cfg.Clock == nil {
		cfg.Clock = s.clock
	}
	return authsec.NewVerifier(cfg)
}

// Token is a fresh access token (a new request every time) for a configured client ("" = the
// first) and scopes (none = the client's defaults).
func (s *Server) Token(ctx context.Context, clientID string, scopes ...string) (string, error) {
	c, err := s.Client(authsec.ClientConfig{ClientID: clientID, Scopes: scopes})
	if err != nil {
		return "", err
	}
	defer c.Close()
	t, err := c.Token(ctx)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// NewClock is a test clock at the current time (to the millisecond), for Options.Clock,
// authsec.ClientConfig.Clock and authsec.VerifierConfig.Clock; it is closed when the test ends.
func NewClock(t testing.TB) *authsec.ManualClock {
	c := authsec.NewManualClock(time.Now().Truncate(time.Millisecond))
	t.Cleanup(func() { c.Close() })
	return c
}
