package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
	"github.com/authsec/authsec/bindings-go/internal/native"
)

// ---------------------------------------------------------------------------------------------
// MCP server side: an MCP server as an OAuth protected resource (MCP authorization, 2025-06-18
// and later). The core decides; package mcpauth fits it to github.com/modelcontextprotocol/go-sdk.

// MCPServerOptions configures an MCP server's authorization; the core reads and checks them
// (McpServerAuth, as for the Python and Node packages).
type MCPServerOptions struct {
	// Resource is the server's URL as clients reach it ("https://mcp.example.com/mcp"): tokens must
	// be issued for it (their aud). Required.
	Resource string
	// AuthorizationServers are issuer URLs (at least one). Tokens from the sole one are accepted
	// unless Verifier.Issuer says otherwise.
	AuthorizationServers []string
	// Metadata holds more RFC 9728 fields for the metadata document ("scopes_supported",
	// "resource_name", ...).
	Metadata map[string]any
	// Verifier configures the token verifier beyond the defaults (issuer: the sole authorization
	// server; audience: Resource; keys: the issuer's discovered jwks_uri). Its Clock and
	// AllowActor apply as with NewVerifier. The audience check cannot be skipped.
	Verifier VerifierConfig
	// RequiredScopes are needed by every request.
	RequiredScopes []string
	// OperationScopes maps operations to the scopes they need on top of RequiredScopes: a method
	// ("tools/call": every tool) or a method and its target ("tools/call:write_file",
	// "resources/read:file:///private/*", "prompts/get:review"; a target may end in *).
	OperationScopes map[string][]string
	// KeepLists turns list filtering off: tools/list, prompts/list and resources/list then show
	// every item, also those the token may not use.
	KeepLists bool
	Realm     string
	// AllowInsecureHTTP allows plain http:// URLs to hosts other than this machine.
	AllowInsecureHTTP bool
}

func (o MCPServerOptions) options() map[string]any {
	m := map[string]any{"resource": o.Resource, "authorization_servers": o.AuthorizationServers}
	if o.Metadata != nil {
		m["metadata"] = o.Metadata
	}
	if v := bridge.VerifierOptions(o.Verifier); len(v) > 0 {
		m["verifier"] = v
	}
	if o.RequiredScopes != nil {
		m["required_scopes"] = o.RequiredScopes
	}
	if o.OperationScopes != nil {
		m["operation_scopes"] = o.OperationScopes
	}
	if o.KeepLists {
		m["filter_lists"] = false
	}
	if o.Realm != "" {
		m["realm"] = o.Realm
	}
	if o.AllowInsecureHTTP {
		m["allow_insecure_http"] = true
	}
	return m
}

// MCPServerAuth is an MCP server's authorization: its RFC 9728 metadata, its verifier and the
// core's decision for each request. Middleware is the whole HTTP step; Begin, Decide, FilterList
// and Allows are its parts, for other frameworks. Safe for concurrent use.
type MCPServerAuth struct {
	h        native.Handle
	verifier *Verifier
	info     struct {
		Resource        string          `json:"resource"`
		Metadata        json.RawMessage `json:"metadata"`
		MetadataURL     string          `json:"metadata_url"`
		WellKnownPaths  []string        `json:"well_known_paths"`
		VerifierOptions json.RawMessage `json:"verifier_options"`
		MaxBodyBytes    int64           `json:"max_body_bytes"`
		FilterLists     bool            `json:"filter_lists"`
	}
}

// MCPResponse is an answer the core decided (the metadata document, or a refusal with its
// WWW-Authenticate challenge): send it as it is.
type MCPResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Write sends the response.
func (r *MCPResponse) Write(w http.ResponseWriter) {
	for k, vs := range r.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.Status)
	w.Write(r.Body)
}

func decodeResponse(p *C.char) (*MCPResponse, error) {
	var w struct {
		Status  int         `json:"status"`
		Headers [][2]string `json:"headers"`
		Body    string      `json:"body"`
	}
	if err := json.Unmarshal([]byte(goString(p)), &w); err != nil {
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the response from the core"}
	}
	r := &MCPResponse{Status: w.Status, Header: http.Header{}, Body: []byte(w.Body)}
	for _, h := range w.Headers {
		r.Header.Add(h[0], h[1])
	}
	return r, nil
}

// NewMCPServerAuth creates an MCP server's authorization and its verifier.
func NewMCPServerAuth(o MCPServerOptions) (*MCPServerAuth, error) {
	b, err := json.Marshal(o.options())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	cs := cString(string(b))
	defer free(cs)
	var h *C.AuthsecMcpServer
	var e *C.char
	if code := C.authsec_mcp_server_new(cs, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	s := &MCPServerAuth{h: native.Handle{Ptr: unsafe.Pointer(h), Free: func(p unsafe.Pointer) { C.authsec_mcp_server_free((*C.AuthsecMcpServer)(p)) }}}
	runtime.SetFinalizer(s, (*MCPServerAuth).Close)
	if err := json.Unmarshal([]byte(goString(C.authsec_mcp_server_info(h))), &s.info); err != nil {
		s.Close()
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the MCP server's settings from the core"}
	}
	v, err := bridge.NewVerifier(s.info.VerifierOptions, o.Verifier.Clock, o.Verifier.AllowActor)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.verifier = v.(*Verifier)
	return s, nil
}

// Close frees the native objects (once calls in flight return); closing twice is fine.
func (s *MCPServerAuth) Close() error {
	s.h.Close()
	if s.verifier != nil {
		s.verifier.Close()
	}
	runtime.SetFinalizer(s, nil)
	return nil
}

// Verifier is the server's token verifier (built from the core's verifier options).
func (s *MCPServerAuth) Verifier() *Verifier { return s.verifier }

// Resource is the server's URL, canonical (the metadata's resource).
func (s *MCPServerAuth) Resource() string { return s.info.Resource }

// MetadataURL is the URL of the RFC 9728 metadata (the challenges' resource_metadata).
func (s *MCPServerAuth) MetadataURL() string { return s.info.MetadataURL }

// WellKnownPaths are the paths the metadata is served at (path-aware, then the root one).
func (s *MCPServerAuth) WellKnownPaths() []string {
	return append([]string(nil), s.info.WellKnownPaths...)
}

// MetadataJSON is the RFC 9728 metadata document.
func (s *MCPServerAuth) MetadataJSON() []byte { return append([]byte(nil), s.info.Metadata...) }

// FiltersLists reports whether list results are cut to what each token may use (so they differ
// from token to token and must not be cached for others).
func (s *MCPServerAuth) FiltersLists() bool { return s.info.FilterLists }

// optString is s as a C string, NULL for "" (free with free).
func optString(s string) *C.char {
	if s == "" {
		return nil
	}
	return cString(s)
}

// Begin is the first step for a request (method, path without query, Authorization header; ""
// if absent): either resp is the answer to send (the metadata document, or a refusal), or token
// is the bearer token to verify, then pass to Decide.
func (s *MCPServerAuth) Begin(method, path, authorization string) (token string, resp *MCPResponse, err error) {
	h := s.h.Acquire()
	if h == nil {
		return "", nil, errClosed
	}
	defer s.h.Release()
	cm, cp, ca := cString(method), cString(path), optString(authorization)
	defer free(cm)
	defer free(cp)
	defer free(ca)
	var t, r, e *C.char
	if code := C.authsec_mcp_server_begin((*C.AuthsecMcpServer)(h), cm, cp, ca, &t, &r, &e); code != 0 {
		return "", nil, errorFrom(code, e)
	}
	if r != nil {
		resp, err = decodeResponse(r)
		return "", resp, err
	}
	return goString(t), nil, nil
}

// Decide is the second step: the verifier's answer for the token (the scopes it grants, or
// verifyErr) and the request body (nil for none). nil means allowed; otherwise send the response
// (401/403/400 with the core's challenge, or 5xx).
func (s *MCPServerAuth) Decide(granted []string, verifyErr error, body []byte) (*MCPResponse, error) {
	h := s.h.Acquire()
	if h == nil {
		return nil, errClosed
	}
	defer s.h.Release()
	cg := cString(strings.Join(granted, " "))
	defer free(cg)
	var cr *C.char
	if verifyErr != nil {
		var ae *Error
		if !errors.As(verifyErr, &ae) {
			ae = &Error{Code: CodeInternalError, Message: verifyErr.Error()}
		}
		refusal := map[string]any{"code": ae.Code.String(), "message": ae.Message}
		if len(ae.MissingScopes) > 0 {
			refusal["missing_scopes"] = ae.MissingScopes
		}
		b, _ := json.Marshal(refusal)
		cr = cString(string(b))
		defer free(cr)
	}
	var bp *C.uint8_t
	if len(body) > 0 {
		bp = (*C.uint8_t)(unsafe.Pointer(&body[0]))
	}
	var r, e *C.char
	code := C.authsec_mcp_server_decide((*C.AuthsecMcpServer)(h), cg, cr, bp, C.size_t(len(body)), &r, &e)
	runtime.KeepAlive(body)
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	if r == nil {
		return nil, nil
	}
	return decodeResponse(r)
}

// FilterList cuts a list result (tools/list, prompts/list, resources/list; JSON) to what a token
// with the granted scopes may use: the result and how many items went (none when list filtering
// is off).
func (s *MCPServerAuth) FilterList(method string, result []byte, granted []string) ([]byte, int, error) {
	h := s.h.Acquire()
	if h == nil {
		return nil, 0, errClosed
	}
	defer s.h.Release()
	cm, cr, cg := cString(method), cString(string(result)), cString(strings.Join(granted, " "))
	defer free(cm)
	defer free(cr)
	defer free(cg)
	var out, e *C.char
	var removed C.uint64_t
	if code := C.authsec_mcp_server_filter_list((*C.AuthsecMcpServer)(h), cm, cr, cg, &out, &removed, &e); code != 0 {
		return nil, 0, errorFrom(code, e)
	}
	return []byte(goString(out)), int(removed), nil
}

// Allows reports whether a token with the granted scopes may do method on target ("" for a
// method without one), as list filtering decides.
func (s *MCPServerAuth) Allows(method, target string, granted []string) bool {
	h := s.h.Acquire()
	if h == nil {
		return false
	}
	defer s.h.Release()
	cm, ct, cg := cString(method), optString(target), cString(strings.Join(granted, " "))
	defer free(cm)
	defer free(ct)
	defer free(cg)
	return bool(C.authsec_mcp_server_allows((*C.AuthsecMcpServer)(h), cm, ct, cg))
}

// Middleware is the HTTP step of an MCP server's authorization, before the MCP SDK runs: it
// serves the RFC 9728 metadata at its well-known paths, answers 401/403/400 with the core's
// challenge (reading the JSON-RPC body to check each operation's scopes), and otherwise hands
// the request on with the body unchanged and the verified claims in its context
// (ClaimsFromContext). Mount it where both the MCP endpoint and the well-known paths reach it
// (for example as the server's root handler).
func (s *MCPServerAuth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(err error) { http.Error(w, err.Error(), HTTPStatus(err)) }
		token, resp, err := s.Begin(r.Method, r.URL.Path, r.Header.Get("Authorization"))
		if err != nil {
			fail(err)
			return
		}
		if resp != nil {
			resp.Write(w)
			return
		}
		claims, verr := s.verifier.Verify(r.Context(), token)
		var body []byte
		var granted []string
		if verr == nil {
			granted = claims.Scopes()
		}
		if verr == nil && r.Body != nil {
			// One byte over the core's limit is enough for it to refuse the body.
			if body, err = io.ReadAll(io.LimitReader(r.Body, s.info.MaxBodyBytes+1)); err != nil {
				http.Error(w, "cannot read the request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		if resp, err = s.Decide(granted, verr, body); err != nil {
			fail(err)
			return
		}
		if resp != nil {
			resp.Write(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// ---------------------------------------------------------------------------------------------
// MCP client side: an agent (machine to machine) calling an MCP server with client credentials.

// MCPAttempt is what one request has used of its retries (the core's Attempt; 0 for a new
// request).
type MCPAttempt uint8

// MCPClient is the agent side of MCP authorization for one MCP server: given only its URL, a 401
// leads to its RFC 9728 metadata, the authorization server (which must be ClientConfig.Issuer:
// credentials and tokens never go elsewhere) and a client-credentials token for its resource; a
// 403 insufficient_scope to one request for more scopes. MCPTransport drives it for HTTP. Safe
// for concurrent use; share one per MCP server.
type MCPClient struct {
	h native.Handle
}

// MCPClientOption changes how NewMCPClient builds a client.
type MCPClientOption func(settings map[string]any)

// TrustFirstIssuer lets a client without ClientConfig.Issuer use the first authorization server
// the MCP server's metadata names, pinned for the client's lifetime (trust on first use: the MCP
// server's URL must be trusted; the core's issuer_policy "first_in_metadata"). Without it, Issuer
// is required.
func TrustFirstIssuer() MCPClientOption {
	return func(s map[string]any) { s["issuer_policy"] = "first_in_metadata" }
}

// NewMCPClient creates the agent side for the MCP server at serverURL. cfg are client
// credentials as for NewClientCredentials; Issuer is required (unless TrustFirstIssuer), TokenURL
// optional (discovered).
func NewMCPClient(serverURL string, cfg ClientConfig, opts ...MCPClientOption) (*MCPClient, error) {
	settings := cfg.settings()
	for _, o := range opts {
		o(settings)
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	cu, cs := cString(serverURL), cString(string(b))
	defer free(cu)
	defer free(cs)
	var h *C.AuthsecMcpClient
	var e *C.char
	var code C.AuthsecCode
	withClock(cfg.Clock, func(clk *C.AuthsecClock) { code = C.authsec_mcp_client_new(cu, cs, clk, &h, &e) })
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	c := &MCPClient{h: native.Handle{Ptr: unsafe.Pointer(h), Free: func(p unsafe.Pointer) { C.authsec_mcp_client_free((*C.AuthsecMcpClient)(p)) }}}
	runtime.SetFinalizer(c, (*MCPClient).Close)
	return c, nil
}

// Close frees the native client (once calls in flight return); closing twice is fine.
func (c *MCPClient) Close() error {
	c.h.Close()
	runtime.SetFinalizer(c, nil)
	return nil
}

// mcpCall runs a blocking C call on c's handle, bounded by ctx (its deadline; cancelling it
// returns at once, and the call's result is dropped). f converts its outputs before returning.
func mcpCall[T any](ctx context.Context, c *MCPClient, f func(h *C.AuthsecMcpClient, ms C.uint64_t, e **C.char) (T, C.AuthsecCode)) (T, error) {
	ms := timeoutMs(ctx)
	run := func() (T, error) {
		var zero T
		h := c.h.Acquire()
		if h == nil {
			return zero, errClosed
		}
		defer c.h.Release()
		var e *C.char
		v, code := f((*C.AuthsecMcpClient)(h), ms, &e)
		if code != 0 {
			return zero, errorFrom(code, e)
		}
		return v, nil
	}
	if ctx.Done() == nil {
		return run()
	}
	return native.Blocking(ctx, run)
}

// Authorization is the Authorization header for the next request to the server, "" before
// discovery (send the first request without; its 401 starts discovery).
func (c *MCPClient) Authorization(ctx context.Context) (string, error) {
	return mcpCall(ctx, c, func(h *C.AuthsecMcpClient, ms C.uint64_t, e **C.char) (string, C.AuthsecCode) {
		var out *C.char
		code := C.authsec_mcp_client_authorization(h, ms, &out, e)
		return goString(out), code
	})
}

// OnResponse tells the core about a response: its status, WWW-Authenticate, the Authorization
// header the request carried ("" for none) and the request's attempt. retry: send the request
// again with a fresh Authorization, then pass next (the core bounds a request to three sends).
func (c *MCPClient) OnResponse(ctx context.Context, status int, wwwAuthenticate, sentAuthorization string, attempt MCPAttempt) (retry bool, next MCPAttempt, err error) {
	type out struct {
		retry bool
		next  MCPAttempt
	}
	o, err := mcpCall(ctx, c, func(h *C.AuthsecMcpClient, ms C.uint64_t, e **C.char) (out, C.AuthsecCode) {
		cw, ca := optString(wwwAuthenticate), optString(sentAuthorization)
		defer free(cw)
		defer free(ca)
		var r C.bool
		a := C.uint8_t(attempt)
		code := C.authsec_mcp_client_on_response(h, C.uint16_t(status), cw, ca, C.uint8_t(attempt), ms, &r, &a, e)
		return out{bool(r), MCPAttempt(a)}, code
	})
	return o.retry, o.next, err
}

// Discover finds the server's authorization server now, without waiting for a 401.
func (c *MCPClient) Discover(ctx context.Context) error {
	_, err := mcpCall(ctx, c, func(h *C.AuthsecMcpClient, ms C.uint64_t, e **C.char) (struct{}, C.AuthsecCode) {
		return struct{}{}, C.authsec_mcp_client_discover(h, ms, e)
	})
	return err
}

// MCPClientInfo is what an MCPClient knows about its server.
type MCPClientInfo struct {
	// ServerURL is the MCP server's URL, canonical.
	ServerURL string `json:"server_url"`
	// Resource is the resource tokens are asked for ("" before discovery).
	Resource string `json:"resource"`
	// Scopes are the scopes asked for (nil before discovery).
	Scopes []string `json:"scopes"`
}

// Info is what the client knows about its server now.
func (c *MCPClient) Info() MCPClientInfo {
	var i MCPClientInfo
	if h := c.h.Acquire(); h != nil {
		defer c.h.Release()
		json.Unmarshal([]byte(goString(C.authsec_mcp_client_info((*C.AuthsecMcpClient)(h)))), &i)
	}
	return i
}

// MCPTransport is an http.RoundTripper for an MCP client's HTTP transport: each request carries
// the MCPClient's Authorization, and after each response the core says whether to send it again
// (after discovery on a 401, with a fresh token after a refused one, with more scopes after a
// 403 insufficient_scope). Request bodies are buffered to be sent again.
type MCPTransport struct {
	Client *MCPClient
	// Base is the underlying transport (nil = http.DefaultTransport).
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *MCPTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx := req.Context()
	getBody := req.GetBody
	if req.Body != nil && req.Body != http.NoBody {
		if getBody == nil {
			b, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				return nil, err
			}
			getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		} else {
			req.Body.Close() // every send reads a copy from GetBody
		}
	}
	var attempt MCPAttempt
	for {
		authz, err := t.Client.Authorization(ctx)
		if err != nil {
			return nil, err
		}
		r := req.Clone(ctx)
		if getBody != nil {
			if r.Body, err = getBody(); err != nil {
				return nil, err
			}
			r.GetBody = getBody
		}
		r.Header.Del("Authorization")
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		var retry bool
		retry, attempt, err = t.Client.OnResponse(ctx, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), authz, attempt)
		if err != nil {
			resp.Body.Close()
			return nil, &mcpAuthError{status: resp.StatusCode, err: err}
		}
		if !retry {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

// mcpAuthError is an MCPTransport failure: the server answered status, and getting a token for
// it failed with err (an *Error: errors.As and errors.Is see it).
type mcpAuthError struct {
	status int
	err    error
}

func (e *mcpAuthError) Error() string {
	return "authsec: MCP server answered HTTP " + strconv.Itoa(e.status) + "; " + e.err.Error()
}

func (e *mcpAuthError) Unwrap() error { return e.err }
