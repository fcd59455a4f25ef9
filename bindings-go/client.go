package authsec

/*
#include <stdlib.h>
#include "authsec.h"
// The C side neither keeps the out-pointers nor calls back into Go: the results stay on the stack.
#cgo noescape authsec_client_token_now
#cgo nocallback authsec_client_token_now
#cgo noescape authsec_client_token
#cgo nocallback authsec_client_token
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// ClientConfig configures a client-credentials client. Empty fields keep the core's defaults.
// ClientSecret and PrivateKey never appear in fmt output.
type ClientConfig struct {
	TokenURL string
	// Issuer, for RFC 8414 discovery of the token endpoint when TokenURL is empty.
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Audience     string
	Resource     []string
	// "client_secret_basic" (default), "client_secret_post" or "private_key_jwt".
	AuthMethod string
	// PEM private key for private_key_jwt.
	PrivateKey string
	// The kid of PrivateKey's registered public key (empty = the key's RFC 7638 thumbprint).
	PrivateKeyID string
	// The client assertion's algorithm (empty = inferred from PrivateKey).
	PrivateKeyAlg string
	// Refresh this long before expiry (0 = the core's default, 5 minutes; always at most half
	// the token's lifetime). Whole seconds.
	RefreshBuffer time.Duration
	// Allow plain http:// to a non-loopback host.
	AllowInsecureHTTP bool
}

// Format hides the secrets from every fmt verb.
func (c ClientConfig) Format(f fmt.State, verb rune) {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "[REDACTED]"
	}
	fmt.Fprintf(f, "{TokenURL:%s Issuer:%s ClientID:%s ClientSecret:%s Scopes:%v Audience:%s Resource:%v AuthMethod:%s PrivateKey:%s PrivateKeyID:%s PrivateKeyAlg:%s RefreshBuffer:%s}",
		c.TokenURL, c.Issuer, c.ClientID, redact(c.ClientSecret), c.Scopes, c.Audience, c.Resource, c.AuthMethod, redact(c.PrivateKey), c.PrivateKeyID, c.PrivateKeyAlg, c.RefreshBuffer)
}

func (c ClientConfig) toJSON() ([]byte, error) {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("token_url", c.TokenURL)
	put("issuer", c.Issuer)
	put("client_id", c.ClientID)
	put("client_secret", c.ClientSecret)
	put("audience", c.Audience)
	put("auth_method", c.AuthMethod)
	put("private_key", c.PrivateKey)
	put("private_key_id", c.PrivateKeyID)
	put("private_key_alg", c.PrivateKeyAlg)
	if c.RefreshBuffer < 0 {
		return nil, fmt.Errorf("RefreshBuffer must not be negative")
	}
	if c.RefreshBuffer > 0 {
		m["refresh_buffer"] = fmt.Sprintf("%d", int64((c.RefreshBuffer+time.Second-1)/time.Second))
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
	return json.Marshal(m)
}

// Token is an access token. The token itself never appears in fmt output.
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time
	Scopes      []string
	// The Authorization header value ("Bearer ...").
	Authorization string
}

// Format hides the access token from every fmt verb.
func (t Token) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{AccessToken:[REDACTED] TokenType:%s Expiry:%s Scopes:%v}", t.TokenType, t.Expiry.Format(time.RFC3339), t.Scopes)
}

// ClientCredentials gets and caches tokens (the core's cache: refresh before expiry, one request
// in flight per cache key, retries). Safe for concurrent use.
type ClientCredentials struct {
	h handle
	// The token the core last handed out, decoded once: while the core's cache keeps handing
	// out that same token, the core answers with its sequence number only.
	last atomic.Pointer[seqToken]
}

type seqToken struct {
	seq uint64
	tok *Token
}

func newClient(h *C.AuthsecClient) *ClientCredentials {
	c := &ClientCredentials{h: handle{ptr: unsafe.Pointer(h), free: func(p unsafe.Pointer) { C.authsec_client_free((*C.AuthsecClient)(p)) }}}
	runtime.SetFinalizer(c, (*ClientCredentials).Close)
	return c
}

// NewClientCredentials creates a client.
func NewClientCredentials(cfg ClientConfig) (*ClientCredentials, error) {
	b, err := cfg.toJSON()
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	cs := cString(string(b))
	defer free(cs)
	var h *C.AuthsecClient
	var e *C.char
	if code := C.authsec_client_new(cs, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	return newClient(h), nil
}

// NewClientCredentialsFromEnv creates a client from the AUTHSEC_* environment variables.
func NewClientCredentialsFromEnv() (*ClientCredentials, error) {
	var h *C.AuthsecClient
	var e *C.char
	if code := C.authsec_client_new_from_env(&h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	return newClient(h), nil
}

// NewClientCredentialsFromConfigFile creates a client from a YAML config file (the core's reader:
// `${VAR}` and `${VAR:-default}` interpolation, after parsing, so a value cannot change the
// file's structure; unknown settings and unset variables are errors that name them). The same
// file works with the Python and Node packages.
func NewClientCredentialsFromConfigFile(path string) (*ClientCredentials, error) {
	cs := cString(path)
	defer free(cs)
	var h *C.AuthsecClient
	var e *C.char
	if code := C.authsec_client_new_from_config_file(cs, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	return newClient(h), nil
}

var errClosed = &Error{Code: CodeConfigError, Message: "the object was closed"}

// Close frees the native client (once calls in flight return). Calls after Close fail with
// ErrConfigError; closing twice is fine.
func (c *ClientCredentials) Close() error {
	c.h.close()
	runtime.SetFinalizer(c, nil)
	return nil
}

// token calls the core: wait=false never blocks and returns (nil, nil) when a request is needed.
func (c *ClientCredentials) token(wait bool, ms C.uint64_t) (*Token, error) {
	h := c.h.acquire()
	if h == nil {
		return nil, errClosed
	}
	defer c.h.release()
	known := c.last.Load()
	var knownSeq C.uint64_t
	if known != nil {
		knownSeq = C.uint64_t(known.seq)
	}
	var seq C.uint64_t
	var out, e *C.char
	var code C.AuthsecCode
	if wait {
		code = C.authsec_client_token((*C.AuthsecClient)(h), ms, knownSeq, &seq, &out, &e)
	} else {
		code = C.authsec_client_token_now((*C.AuthsecClient)(h), knownSeq, &seq, &out, &e)
	}
	runtime.KeepAlive(c)
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	if seq == 0 {
		return nil, nil
	}
	if out == nil {
		if known != nil && C.uint64_t(known.seq) == seq {
			return known.tok, nil
		}
		return nil, &Error{Code: CodeInternalError, Message: "the core referred to a token this client does not hold"}
	}
	var w struct {
		AccessToken   string   `json:"access_token"`
		TokenType     string   `json:"token_type"`
		ExpiresAtMs   int64    `json:"expires_at_ms"`
		Scopes        []string `json:"scopes"`
		Authorization string   `json:"authorization"`
	}
	if err := json.Unmarshal([]byte(goString(out)), &w); err != nil {
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the token from the core"}
	}
	t := &Token{
		AccessToken:   w.AccessToken,
		TokenType:     w.TokenType,
		Expiry:        time.UnixMilli(w.ExpiresAtMs),
		Scopes:        w.Scopes,
		Authorization: w.Authorization,
	}
	// Keep the newest sequence number (concurrent callers may decode different tokens).
	for {
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

// Token returns a token from the cache or the token endpoint. ctx's deadline bounds the request
// and cancelling ctx returns ctx.Err() at once. While the cache hands out the same token, every
// caller gets the same *Token: treat it as read-only (as with oauth2.ReuseTokenSource).
func (c *ClientCredentials) Token(ctx context.Context) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t, err := c.token(false, 0); t != nil || err != nil {
		return t, err
	}
	ms := timeoutMs(ctx)
	if ctx.Done() == nil {
		return c.token(true, ms)
	}
	return blocking(ctx, func() (*Token, error) { return c.token(true, ms) })
}

// InvalidateToken drops the cached token if it is accessToken (after a 401 for it).
func (c *ClientCredentials) InvalidateToken(accessToken string) {
	h := c.h.acquire()
	if h == nil {
		return
	}
	defer c.h.release()
	cs := cString(accessToken)
	defer free(cs)
	C.authsec_client_invalidate_token((*C.AuthsecClient)(h), cs)
	runtime.KeepAlive(c)
}

// requestCount is the number of token requests sent (for tests).
func (c *ClientCredentials) requestCount() uint64 {
	h := c.h.acquire()
	if h == nil {
		return 0
	}
	defer c.h.release()
	return uint64(C.authsec_client_request_count((*C.AuthsecClient)(h)))
}
