package authsec

/*
#include <stdlib.h>
#include "authsec.h"
// The C side neither keeps the pointers it is given nor calls back into Go: the parameters are
// read in place and the results stay on the stack.
#cgo noescape authsec_go_client_token
#cgo nocallback authsec_go_client_token

// authsec_client_token with no argument cgo checks for Go pointers: it checks every argument
// whose type may point to a pointer (the opaque handle's type included), and such checks were a
// sixth of a cached Token(ctx). So the handle comes in as a uintptr_t, and the results go to one
// struct whose C pointers are uintptr_t.
typedef struct {
	uint64_t seq;
	uintptr_t token_json;
	uintptr_t error_json;
} authsec_go_token_out;

static inline AuthsecCode authsec_go_client_token(uintptr_t client, const char *params,
		size_t params_len, bool block, uint64_t timeout_ms, uint64_t known_seq, authsec_go_token_out *out) {
	char *token_json = NULL, *error_json = NULL;
	AuthsecCode code = authsec_client_token((const AuthsecClient *)client, params, params_len, block, timeout_ms, known_seq,
		&out->seq, &token_json, &error_json);
	out->token_json = (uintptr_t)token_json;
	out->error_json = (uintptr_t)error_json;
	return code;
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

// ClientConfig configures a client-credentials client. Empty fields keep the core's defaults;
// the core reads and checks the settings (ClientConfig::from_value, as for the Python and Node
// packages and the YAML config file). ClientSecret and PrivateKey never appear in fmt output.
type ClientConfig struct {
	TokenURL string
	// Domain of the authorization server, for https://{Domain}/oauth/token when TokenURL is empty.
	Domain string
	// Issuer, for RFC 8414 discovery of the token endpoint when TokenURL and Domain are empty.
	Issuer       string
	ClientID     string
	ClientSecret string
	// ClientSecretFile reads the secret from a file instead; it is read again when the token
	// endpoint answers invalid_client, so a rotated secret written there is picked up.
	ClientSecretFile string
	Scopes           []string
	Audience         string
	Resource         []string
	// "client_secret_basic" (default), "client_secret_post", "private_key_jwt", "tls_client_auth"
	// or "self_signed_tls_client_auth" (RFC 8705: the client authenticates with TLSClientCert), or
	// "spiffe_jwt" (no secret: the workload's JWT-SVID from the SPIFFE Workload API; ClientID may
	// be empty, the SVID's SPIFFE ID is used) or "spiffe_x509" (its X.509-SVID as the TLS client
	// certificate, rotated without a restart).
	AuthMethod string
	// PEM private key for private_key_jwt (or PrivateKeyFile, read again like ClientSecretFile).
	PrivateKey     string
	PrivateKeyFile string
	// The kid of PrivateKey's registered public key (empty = the key's RFC 7638 thumbprint).
	PrivateKeyID string
	// The client assertion's algorithm (empty = inferred from PrivateKey).
	PrivateKeyAlg string
	// Refresh this long before expiry (0 = the core's default, 5 minutes; always at most half
	// the token's lifetime). Whole seconds, rounded up.
	RefreshBuffer time.Duration
	// Attempts of a token request that fails with a network error, 5xx or 429 (0 = the core's
	// default).
	MaxAttempts int
	// Allow plain http:// to a non-loopback host.
	AllowInsecureHTTP bool

	// DPoP (RFC 9449) asks for DPoP-bound tokens, proving a key with every token request and (with
	// Transport) every resource request; on by default when DPoPKey or DPoPKeyFile is set.
	DPoP bool
	// DPoPKey is the proof key as PEM or a private JWK (empty = a fresh key per client);
	// DPoPKeyFile reads it from a file. Never in fmt output.
	DPoPKey     string
	DPoPKeyFile string
	// DPoPAlg is the proof algorithm (empty = the key's, ES256 for a fresh key).
	DPoPAlg string
	// TLSClientCert (PEM, or TLSClientCertFile) and TLSClientKey (PEM, or TLSClientKeyFile) are
	// presented to the token endpoint (RFC 8705: tls_client_auth and certificate-bound tokens);
	// TLSCACert (PEM, or TLSCAFile) adds trusted CA certificates. TLSClientKey is never in fmt
	// output.
	TLSClientCert     string
	TLSClientCertFile string
	TLSClientKey      string
	TLSClientKeyFile  string
	TLSCACert         string
	TLSCAFile         string

	// SPIFFE (AuthMethod "spiffe_jwt"). SPIFFEEndpointSocket is the Workload API ("" =
	// SPIFFE_ENDPOINT_SOCKET); SPIFFEID picks one of the workload's identities ("" = the default);
	// SPIFFEAudience is the SVID's audience ("" = Issuer, else TokenURL); SPIFFEReuseSVID (nil =
	// true) reuses an SVID until close to its expiry; SPIFFEGrant is "client_assertion" (default:
	// RFC 7523 client authentication with the SVID) or "jwt_bearer" (the SVID as the grant).
	SPIFFEEndpointSocket string
	SPIFFEID             string
	SPIFFEAudience       string
	SPIFFEReuseSVID      *bool
	SPIFFEGrant          string

	// Clock is a test clock (authsectest.NewClock); nil is the system clock.
	Clock *ManualClock
}

// Format hides the secrets from every fmt verb.
func (c ClientConfig) Format(f fmt.State, verb rune) {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "[REDACTED]"
	}
	fmt.Fprintf(f, "{TokenURL:%s Domain:%s Issuer:%s ClientID:%s ClientSecret:%s ClientSecretFile:%s Scopes:%v Audience:%s Resource:%v AuthMethod:%s PrivateKey:%s PrivateKeyFile:%s PrivateKeyID:%s PrivateKeyAlg:%s RefreshBuffer:%s MaxAttempts:%d DPoP:%t DPoPKey:%s DPoPKeyFile:%s DPoPAlg:%s TLSClientCertFile:%s TLSClientKey:%s TLSClientKeyFile:%s TLSCAFile:%s SPIFFEEndpointSocket:%s SPIFFEID:%s SPIFFEAudience:%s SPIFFEGrant:%s}",
		c.TokenURL, c.Domain, c.Issuer, c.ClientID, redact(c.ClientSecret), c.ClientSecretFile, c.Scopes, c.Audience, c.Resource, c.AuthMethod, redact(c.PrivateKey), c.PrivateKeyFile, c.PrivateKeyID, c.PrivateKeyAlg, c.RefreshBuffer, c.MaxAttempts,
		c.DPoP, redact(c.DPoPKey), c.DPoPKeyFile, c.DPoPAlg, c.TLSClientCertFile, redact(c.TLSClientKey), c.TLSClientKeyFile, c.TLSCAFile,
		c.SPIFFEEndpointSocket, c.SPIFFEID, c.SPIFFEAudience, c.SPIFFEGrant)
}

// settings is the config as the core's settings map (set fields only).
func (c ClientConfig) settings() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{
		"token_url": c.TokenURL, "domain": c.Domain, "issuer": c.Issuer, "client_id": c.ClientID,
		"client_secret": c.ClientSecret, "client_secret_file": c.ClientSecretFile, "private_key_file": c.PrivateKeyFile, "audience": c.Audience, "auth_method": c.AuthMethod,
		"private_key": c.PrivateKey, "private_key_id": c.PrivateKeyID, "private_key_alg": c.PrivateKeyAlg,
		"dpop_key": c.DPoPKey, "dpop_key_file": c.DPoPKeyFile, "dpop_alg": c.DPoPAlg,
		"tls_client_cert": c.TLSClientCert, "tls_client_cert_file": c.TLSClientCertFile,
		"tls_client_key": c.TLSClientKey, "tls_client_key_file": c.TLSClientKeyFile,
		"tls_ca_cert": c.TLSCACert, "tls_ca_file": c.TLSCAFile,
		"spiffe_endpoint_socket": c.SPIFFEEndpointSocket, "spiffe_id": c.SPIFFEID,
		"spiffe_audience": c.SPIFFEAudience, "spiffe_grant": c.SPIFFEGrant,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if c.RefreshBuffer != 0 {
		// Whole seconds, rounded away from zero (a negative value stays negative: the core refuses it).
		secs := c.RefreshBuffer / time.Second
		if rem := c.RefreshBuffer % time.Second; rem > 0 {
			secs++
		} else if rem < 0 {
			secs--
		}
		m["refresh_buffer"] = fmt.Sprint(int64(secs))
	}
	if c.MaxAttempts != 0 {
		m["max_attempts"] = c.MaxAttempts
	}
	if c.Scopes != nil {
		m["scopes"] = c.Scopes
	}
	if c.Resource != nil {
		m["resource"] = c.Resource
	}
	if c.AllowInsecureHTTP {
		m["allow_insecure_http"] = true
	}
	if c.DPoP {
		m["dpop"] = true
	}
	if c.SPIFFEReuseSVID != nil {
		m["spiffe_reuse_svid"] = *c.SPIFFEReuseSVID
	}
	return m
}

// TokenParams asks for a token other than the configured one (ClientCredentials.TokenFor): each
// set field replaces the configuration's, and each combination is cached on its own.
type TokenParams struct {
	Scopes   []string `json:"scopes,omitempty"`
	Audience string   `json:"audience,omitempty"`
	Resource []string `json:"resource,omitempty"`
}

// Token is an access token. The token itself never appears in fmt output.
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time
	Scopes      []string
	// The Authorization header value ("Bearer ..." or "DPoP ..."). A DPoP token also needs a
	// proof with every request: use ClientCredentials.Authorize (Transport does).
	Authorization string
	// The response's issued_token_type (RFC 8693 §2.2.1): for a token exchange the requested
	// type's URN (the core checks it), "" when the response has none.
	IssuedTokenType string
}

// Format hides the access token from every fmt verb.
func (t Token) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{AccessToken:[REDACTED] TokenType:%s Expiry:%s Scopes:%v IssuedTokenType:%s}", t.TokenType, t.Expiry.Format(time.RFC3339), t.Scopes, t.IssuedTokenType)
}

// decodeToken reads a token handed out by the C library as JSON (and frees it).
func decodeToken(out *C.char) (*Token, error) {
	var w struct {
		AccessToken     string   `json:"access_token"`
		TokenType       string   `json:"token_type"`
		ExpiresAtMs     int64    `json:"expires_at_ms"`
		Scopes          []string `json:"scopes"`
		Authorization   string   `json:"authorization"`
		IssuedTokenType string   `json:"issued_token_type"`
	}
	if err := json.Unmarshal([]byte(goString(out)), &w); err != nil {
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the token from the core"}
	}
	return &Token{
		AccessToken:     w.AccessToken,
		TokenType:       w.TokenType,
		Expiry:          time.UnixMilli(w.ExpiresAtMs),
		Scopes:          w.Scopes,
		Authorization:   w.Authorization,
		IssuedTokenType: w.IssuedTokenType,
	}, nil
}

// ClientCredentials gets and caches tokens (the core's cache: refresh before expiry, one request
// in flight per cache key, retries). Safe for concurrent use.
type ClientCredentials struct {
	h native.Handle
	// The token the core last handed out, decoded once: while the core's cache keeps handing
	// out that same token, the core answers with its sequence number only.
	last atomic.Pointer[seqToken]
}

type seqToken struct {
	seq uint64
	tok *Token
}

func newClient(h *C.AuthsecClient) *ClientCredentials {
	c := &ClientCredentials{h: native.Handle{Ptr: unsafe.Pointer(h), Free: func(p unsafe.Pointer) { C.authsec_client_free((*C.AuthsecClient)(p)) }}}
	runtime.SetFinalizer(c, (*ClientCredentials).Close)
	return c
}

// NewClientCredentials creates a client.
func NewClientCredentials(cfg ClientConfig) (*ClientCredentials, error) {
	b, err := json.Marshal(cfg.settings())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	if strings.HasPrefix(cfg.AuthMethod, "spiffe_") {
		handleSIGPIPE()
	}
	cs := cString(string(b))
	defer free(cs)
	return createClient(cs, nil, cfg.Clock)
}

// createClient calls the C constructor: settings, else a config file, else the environment.
func createClient(settings, file *C.char, clock *ManualClock) (*ClientCredentials, error) {
	var h *C.AuthsecClient
	var e *C.char
	var code C.AuthsecCode
	withClock(clock, func(clk *C.AuthsecClock) { code = C.authsec_client_new(settings, file, clk, &h, &e) })
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	return newClient(h), nil
}

// NewClientCredentialsFromEnv creates a client from the AUTHSEC_* environment variables.
func NewClientCredentialsFromEnv() (*ClientCredentials, error) {
	if strings.HasPrefix(os.Getenv("AUTHSEC_AUTH_METHOD"), "spiffe_") {
		handleSIGPIPE()
	}
	return createClient(nil, nil, nil)
}

// NewClientCredentialsFromConfigFile creates a client from a YAML config file (the core's reader:
// `${VAR}` and `${VAR:-default}` interpolation, after parsing, so a value cannot change the
// file's structure; unknown settings and unset variables are errors that name them). The same
// file works with the Python and Node packages.
func NewClientCredentialsFromConfigFile(path string) (*ClientCredentials, error) {
	handleSIGPIPE() // the file may say spiffe_jwt
	cs := cString(path)
	defer free(cs)
	return createClient(nil, cs, nil)
}

// Close frees the native client (once calls in flight return). Calls after Close fail with
// ErrConfigError; closing twice is fine.
func (c *ClientCredentials) Close() error {
	c.h.Close()
	runtime.SetFinalizer(c, nil)
	return nil
}

// token calls the core: wait=false never blocks and returns (nil, nil) when a request is needed.
// params (JSON, nil for the configured token) asks for another token, which is not memoized here.
func (c *ClientCredentials) token(params []byte, wait bool, ms C.uint64_t) (*Token, error) {
	h := c.h.Acquire()
	if h == nil {
		return nil, errClosed
	}
	defer c.h.Release()
	known := c.last.Load()
	var knownSeq C.uint64_t
	if known != nil && params == nil {
		knownSeq = C.uint64_t(known.seq)
	}
	pp, pn := bytesArg(params)
	var r C.authsec_go_token_out
	code := C.authsec_go_client_token(C.uintptr_t(uintptr(h)), pp, pn, C.bool(wait), ms, knownSeq, &r)
	runtime.KeepAlive(params)
	runtime.KeepAlive(c)
	seq, out, e := r.seq, native.CPointer[C.char](uintptr(r.token_json)), native.CPointer[C.char](uintptr(r.error_json))
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	if out == nil {
		if seq == 0 {
			return nil, nil
		}
		if known != nil && C.uint64_t(known.seq) == seq {
			return known.tok, nil
		}
		return nil, &Error{Code: CodeInternalError, Message: "the core referred to a token this client does not hold"}
	}
	t, err := decodeToken(out)
	if err != nil {
		return nil, err
	}
	// Keep the newest sequence number (concurrent callers may decode different tokens).
	for seq != 0 {
		cur := c.last.Load()
		if cur != nil && cur.seq >= uint64(seq) {
			break
		}
		if c.last.CompareAndSwap(cur, &seqToken{seq: uint64(seq), tok: t}) {
			break
		}
	}
	return t, nil
}

// get is Token/TokenFor: the cache without blocking first, then a request bounded by ctx.
func (c *ClientCredentials) get(ctx context.Context, params []byte) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t, err := c.token(params, false, 0); t != nil || err != nil {
		return t, err
	}
	ms := timeoutMs(ctx)
	if ctx.Done() == nil {
		return c.token(params, true, ms)
	}
	return native.Blocking(ctx, func() (*Token, error) { return c.token(params, true, ms) })
}

// Token returns a token from the cache or the token endpoint. ctx's deadline bounds the request
// and cancelling ctx returns ctx.Err() at once. While the cache hands out the same token, every
// caller gets the same *Token: treat it as read-only (as with oauth2.ReuseTokenSource).
func (c *ClientCredentials) Token(ctx context.Context) (*Token, error) {
	return c.get(ctx, nil)
}

// TokenFor returns a token for other scopes, audience or resource than the configured ones
// (x/oauth2's Scopes/EndpointParams, Python's get_token(scopes=...)), from its own cache entry.
func (c *ClientCredentials) TokenFor(ctx context.Context, p TokenParams) (*Token, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	return c.get(ctx, b)
}

// onUnauthorized asks the core about a 401 answered to a request that carried accessToken, after
// retries retries: true means the core dropped that token and the request may be sent again.
func (c *ClientCredentials) onUnauthorized(accessToken, wwwAuthenticate string, retries int) bool {
	h := c.h.Acquire()
	if h == nil {
		return false
	}
	defer c.h.Release()
	ct, cw := cString(accessToken), cString(wwwAuthenticate)
	defer free(ct)
	defer free(cw)
	if wwwAuthenticate == "" {
		cw = nil
	}
	retry := C.authsec_client_on_unauthorized((*C.AuthsecClient)(h), ct, cw, C.uint32_t(retries))
	runtime.KeepAlive(c)
	return bool(retry)
}

// InvalidateToken drops the cached token if it is accessToken (after a 401 for it): what the
// core does for a plain 401 (on_unauthorized without a challenge, before any retry).
func (c *ClientCredentials) InvalidateToken(accessToken string) {
	c.onUnauthorized(accessToken, "", 0)
}

// requestCount is the number of token requests sent (for tests).
func (c *ClientCredentials) requestCount() uint64 {
	h := c.h.Acquire()
	if h == nil {
		return 0
	}
	defer c.h.Release()
	return uint64(C.authsec_client_request_count((*C.AuthsecClient)(h)))
}

// DPoPThumbprint is the RFC 7638 thumbprint of the client's DPoP key (the cnf.jkt its tokens are
// bound to), "" when the client does not use DPoP.
func (c *ClientCredentials) DPoPThumbprint() string {
	h := c.h.Acquire()
	if h == nil {
		return ""
	}
	defer c.h.Release()
	s := goString(C.authsec_client_dpop_thumbprint((*C.AuthsecClient)(h)))
	runtime.KeepAlive(c)
	return s
}

// Authorize returns the headers that authorize one request with t (a token of this client) to
// url: Authorization with the token's scheme and, for a DPoP token, a fresh DPoP proof for method
// and url (the core's authorize). Call it for every attempt, a retry included: a proof is good
// for one request.
func (c *ClientCredentials) Authorize(t *Token, method, url string) (http.Header, error) {
	h := c.h.Acquire()
	if h == nil {
		return nil, errClosed
	}
	defer c.h.Release()
	ct, ca, cm, cu := cString(t.TokenType), cString(t.AccessToken), cString(method), cString(url)
	defer free(ct)
	defer free(ca)
	defer free(cm)
	defer free(cu)
	var out, e *C.char
	code := C.authsec_client_authorize((*C.AuthsecClient)(h), ct, ca, cm, cu, &out, &e)
	runtime.KeepAlive(c)
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	var pairs [][2]string
	if json.Unmarshal([]byte(goString(out)), &pairs) != nil {
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the headers from the core"}
	}
	return headerOf(pairs), nil
}

// OnResourceResponse tells the core how the resource at url answered a request that carried
// accessToken, after retries retries of that request (the core's on_resource_response). Call it
// for every answer: it keeps the origin's DPoP-Nonce. True means send the request once more,
// with fresh Authorize headers for the token Token now returns (the same one after a DPoP nonce
// challenge; a new one when the core dropped a refused token); false means hand the answer over.
func (c *ClientCredentials) OnResourceResponse(url, accessToken string, status int, header http.Header, retries int) bool {
	h := c.h.Acquire()
	if h == nil {
		return false
	}
	defer c.h.Release()
	var pairs [][2]string
	for k, vs := range header {
		for _, v := range vs {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	b, _ := json.Marshal(pairs)
	cu, ct := cString(url), cString(accessToken)
	defer free(cu)
	defer free(ct)
	bp, bn := bytesArg(b)
	retry := C.authsec_client_on_resource_response((*C.AuthsecClient)(h), cu, ct, C.uint16_t(status), bp, bn, C.uint32_t(retries))
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	return bool(retry)
}
