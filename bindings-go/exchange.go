package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

// ExchangeRequest is an RFC 8693 token exchange (ClientCredentials.ExchangeToken): trade
// SubjectToken, typically the access token a service received from its caller, for a token the
// token endpoint issues for another audience, resource or scopes. Empty fields are left out; the
// core reads and checks the request (ExchangeRequest::from_value, as for the Python and Node
// packages). Scopes, Audience and Resource do not default to the client's configuration: what the
// request leaves out, the server decides from the subject token. The tokens never appear in fmt
// output.
type ExchangeRequest struct {
	SubjectToken string
	// "access_token" (default), "jwt", "id_token", "refresh_token" or a
	// urn:ietf:params:oauth:token-type:* URN.
	SubjectTokenType string
	// The token of the party acting for the subject (optional; the server may name the actor by
	// the authenticated client instead).
	ActorToken     string
	ActorTokenType string
	// The type of token wanted (default access_token); the response must say it issued it.
	RequestedTokenType string
	Scopes             []string
	Audience           string
	Resource           []string
}

// Format hides the tokens from every fmt verb.
func (r ExchangeRequest) Format(f fmt.State, verb rune) {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "[REDACTED]"
	}
	fmt.Fprintf(f, "{SubjectToken:%s SubjectTokenType:%s ActorToken:%s ActorTokenType:%s RequestedTokenType:%s Scopes:%v Audience:%s Resource:%v}",
		redact(r.SubjectToken), r.SubjectTokenType, redact(r.ActorToken), r.ActorTokenType, r.RequestedTokenType, r.Scopes, r.Audience, r.Resource)
}

func (r ExchangeRequest) options() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"subject_token": r.SubjectToken, "subject_token_type": r.SubjectTokenType,
		"actor_token": r.ActorToken, "actor_token_type": r.ActorTokenType, "requested_token_type": r.RequestedTokenType,
		"audience": r.Audience} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string][]string{"scopes": r.Scopes, "resource": r.Resource} {
		if v != nil {
			m[k] = v
		}
	}
	return m
}

// Downstream names the API a downstream token is for (ClientCredentials.DownstreamToken): its
// Audience and/or Resource (at least one; the core refuses neither with ErrConfigError), and the
// Scopes wanted there (none: what the server grants for that API).
type Downstream struct {
	Audience string
	Resource []string
	Scopes   []string
}

// ExchangeToken runs an RFC 8693 token exchange through the client's token cache (the core's:
// one entry per subject, actor, token types, scopes, audience and resource, one request at a
// time, retries; the token is never handed out past the subject token's expiry, and an expired
// subject is ErrInvalidGrant before anything is sent). The client authenticates as configured and
// is the actor. The returned Token's IssuedTokenType is the requested type. ctx's deadline bounds
// the request and cancelling ctx returns ctx.Err() at once.
func (c *ClientCredentials) ExchangeToken(ctx context.Context, r ExchangeRequest) (*Token, error) {
	return c.exchange(ctx, r.options(), false)
}

// DownstreamToken is "I received inboundToken; get me one for the downstream API": the exchange
// of the inbound access token for a token for target (never forward the inbound token itself).
// A target naming neither an audience nor a resource is ErrConfigError.
func (c *ClientCredentials) DownstreamToken(ctx context.Context, inboundToken string, target Downstream) (*Token, error) {
	m := map[string]any{"inbound_token": inboundToken}
	if target.Audience != "" {
		m["audience"] = target.Audience
	}
	if target.Resource != nil {
		m["resource"] = target.Resource
	}
	if target.Scopes != nil {
		m["scopes"] = target.Scopes
	}
	return c.exchange(ctx, m, true)
}

// exchange passes the options to the core's reader and blocks on its exchange on a goroutine, so
// that ctx is honoured.
func (c *ClientCredentials) exchange(ctx context.Context, options map[string]any, downstream bool) (*Token, error) {
	b, err := json.Marshal(options)
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	ms := timeoutMs(ctx)
	call := func() (*Token, error) {
		h := c.h.Acquire()
		if h == nil {
			return nil, errClosed
		}
		defer c.h.Release()
		cs := cString(string(b))
		defer free(cs)
		var out, e *C.char
		var code C.AuthsecCode
		if downstream {
			code = C.authsec_client_downstream_token((*C.AuthsecClient)(h), cs, ms, &out, &e)
		} else {
			code = C.authsec_client_exchange_token((*C.AuthsecClient)(h), cs, ms, &out, &e)
		}
		runtime.KeepAlive(c)
		if code != 0 {
			return nil, errorFrom(code, e)
		}
		return decodeToken(out)
	}
	if ctx.Done() == nil {
		return call()
	}
	return native.Blocking(ctx, call)
}
