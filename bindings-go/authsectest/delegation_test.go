package authsectest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

// Delegation end to end against the local server (RFC 8693): orchestrator -> sub-agent -> tool,
// each hop a token exchange through the Go client, each token verified by the Go verifier; then
// every widening the server refuses, the verifier's delegation policy, and a role removed through
// the admin API. The rules are the server's and the core's; this checks that the binding carries
// them through (options in, tokens, chains and error codes out).

const (
	subAgentAPI  = "https://sub-agent.example.test"
	toolAPI      = "https://tool.example.test"
	exchangeType = "urn:ietf:params:oauth:grant-type:token-exchange"
	accessType   = "urn:ietf:params:oauth:token-type:access_token"
	adminToken   = "admin-test-token"
)

func delegationServer(t *testing.T) *authsectest.Server {
	both := []string{"client_credentials", exchangeType}
	return authsectest.New(t, authsectest.Options{
		Clients: []map[string]any{
			{"client_id": "orchestrator", "client_secret": "orchestrator-secret", "roles": []string{"orchestration"},
				"may_act": []string{"sub-agent"}},
			{"client_id": "sub-agent", "client_secret": "sub-agent-secret", "allowed_scopes": []string{"a", "b", "c"},
				"audiences": []string{subAgentAPI, toolAPI}, "roles": []string{"reporting"}, "grant_types": both,
				"may_act": []string{"tool", "auditor"}},
			{"client_id": "tool", "client_secret": "tool-secret", "allowed_scopes": []string{"a", "b"},
				"audiences": []string{toolAPI}, "grant_types": both},
			{"client_id": "auditor", "client_secret": "auditor-secret", "allowed_scopes": []string{"a"},
				"audiences": []string{toolAPI}, "grant_types": []string{exchangeType}},
			{"client_id": "plain", "client_secret": "plain-secret", "allowed_scopes": []string{"a"},
				"audiences": []string{toolAPI}},
		},
		Config: map[string]any{
			"admin_token": adminToken,
			"roles": map[string]any{
				"orchestration": map[string]any{"scopes": []string{"a", "b", "c"}, "audiences": []string{subAgentAPI, toolAPI}},
				"reporting":     map[string]any{"scopes": []string{"report"}},
			},
			"token_exchange": map[string]any{"max_delegation_depth": 2},
		},
	})
}

func client(t *testing.T, srv *authsectest.Server, cfg authsec.ClientConfig) *authsec.ClientCredentials {
	t.Helper()
	c, err := srv.Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func verifier(t *testing.T, srv *authsectest.Server, cfg authsec.VerifierConfig) *authsec.Verifier {
	t.Helper()
	v, err := srv.Verifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func actorIDs(c *authsec.Claims) []string {
	ids := []string{}
	for _, a := range c.Delegation() {
		ids = append(ids, a.ID())
	}
	return ids
}

// wantCode fails unless err is the *authsec.Error with code want.
func wantCode(t *testing.T, what string, err error, want authsec.Code) {
	t.Helper()
	var ae *authsec.Error
	if !errors.As(err, &ae) || ae.Code != want {
		t.Errorf("%s: got %v, want %s", what, err, want)
	}
}

func TestDelegationChainAgainstTheLocalServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := delegationServer(t)
	orchestrator := client(t, srv, authsec.ClientConfig{ClientID: "orchestrator", Scopes: []string{"a", "b", "c"},
		Resource: []string{subAgentAPI, toolAPI}})
	subAgent := client(t, srv, authsec.ClientConfig{ClientID: "sub-agent"})
	tool := client(t, srv, authsec.ClientConfig{ClientID: "tool"})

	// The orchestrator's own token: for both APIs, scopes a b c, no actor.
	orch, err := orchestrator.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifier(t, srv, authsec.VerifierConfig{Audience: []string{subAgentAPI}}).Verify(ctx, orch.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Actor(); ok || c.Delegation() != nil || !reflect.DeepEqual(c.Scopes(), []string{"a", "b", "c"}) {
		t.Fatalf("orchestrator token: actor chain %v, scopes %v", c.Delegation(), c.Scopes())
	}

	// Sub-agent: fewer scopes, one audience, acting for the orchestrator.
	sub, err := subAgent.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: orch.AccessToken,
		Scopes: []string{"a", "b"}, Audience: toolAPI})
	if err != nil {
		t.Fatal(err)
	}
	if sub.IssuedTokenType != accessType || !reflect.DeepEqual(sub.Scopes, []string{"a", "b"}) {
		t.Fatalf("exchanged token: issued_token_type %q, scopes %v", sub.IssuedTokenType, sub.Scopes)
	}
	if again, err := subAgent.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: orch.AccessToken,
		Scopes: []string{"a", "b"}, Audience: toolAPI}); err != nil || again.AccessToken != sub.AccessToken {
		t.Fatalf("the same exchange is not served from the cache: %v", err)
	}
	toolVerifier := verifier(t, srv, authsec.VerifierConfig{Audience: []string{toolAPI}})
	c, err = toolVerifier.Verify(ctx, sub.AccessToken, authsec.RequireScopes("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.Actor(); !ok || a.ID() != "sub-agent" || c.Subject() != "orchestrator" || !reflect.DeepEqual(actorIDs(c), []string{"sub-agent"}) {
		t.Fatalf("sub-agent token: sub %q, chain %v", c.Subject(), c.Delegation())
	}

	// Tool: the downstream helper, which needs a target.
	_, err = tool.DownstreamToken(ctx, sub.AccessToken, authsec.Downstream{Scopes: []string{"a"}})
	wantCode(t, "downstream token without a target", err, authsec.CodeConfigError)
	toolTok, err := tool.DownstreamToken(ctx, sub.AccessToken, authsec.Downstream{Audience: toolAPI, Scopes: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	// The chain is kept when a delegated token is exchanged again: the tool acts for the
	// orchestrator through the sub-agent.
	c, err = toolVerifier.Verify(ctx, toolTok.AccessToken, authsec.RequireScopes("a"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Actor(); a.ID() != "tool" || c.Subject() != "orchestrator" || c.ClientID() != "tool" ||
		!reflect.DeepEqual(actorIDs(c), []string{"tool", "sub-agent"}) || !reflect.DeepEqual(c.Scopes(), []string{"a"}) {
		t.Fatalf("tool token: sub %q, chain %v, scopes %v", c.Subject(), actorIDs(c), c.Scopes())
	}

	// Every widening is refused, with the server's code.
	_, err = subAgent.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: orch.AccessToken, Scopes: []string{"a", "z"}, Audience: toolAPI})
	wantCode(t, "a scope outside the subject's", err, authsec.CodeInvalidScope)
	if !errors.Is(err, authsec.ErrInvalidScope) || authsec.CodeInvalidScope.Category() != authsec.CategoryTokenRequest {
		t.Errorf("invalid_scope: %v", err)
	}
	_, err = subAgent.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: orch.AccessToken, Audience: "https://elsewhere.example.test"})
	wantCode(t, "an audience outside the subject's", err, authsec.CodeInvalidTarget)
	_, err = tool.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: orch.AccessToken, Audience: toolAPI})
	wantCode(t, "an actor may_act does not name", err, authsec.CodeInvalidGrant)
	auditor := client(t, srv, authsec.ClientConfig{ClientID: "auditor"})
	_, err = auditor.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: toolTok.AccessToken, Audience: toolAPI})
	wantCode(t, "beyond the server's depth limit", err, authsec.CodeInvalidGrant)
	if err != nil && !strings.Contains(err.Error(), "max_delegation_depth") {
		t.Errorf("the depth refusal does not say why: %v", err)
	}
	plain := client(t, srv, authsec.ClientConfig{ClientID: "plain"})
	_, err = plain.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: sub.AccessToken, Audience: toolAPI})
	wantCode(t, "a client without the grant", err, authsec.CodeUnauthorizedClient)
	_, err = subAgent.ExchangeToken(ctx, authsec.ExchangeRequest{})
	wantCode(t, "no subject token", err, authsec.CodeConfigError)

	// The verifier's own policy refuses the tool's token.
	for name, cfg := range map[string]authsec.VerifierConfig{
		"MaxDelegationDepth 1":   {MaxDelegationDepth: 1},
		"AllowedActors":          {AllowedActors: []string{"sub-agent"}},
		"ForbidDelegation":       {ForbidDelegation: true},
		"AllowActor (not tools)": {AllowActor: func(a authsec.Actor) bool { return a.ID() != "tool" }},
	} {
		cfg.Audience = []string{toolAPI}
		_, err := verifier(t, srv, cfg).Verify(ctx, toolTok.AccessToken)
		wantCode(t, name, err, authsec.CodeDelegationNotAllowed)
	}
	if _, err := verifier(t, srv, authsec.VerifierConfig{Audience: []string{toolAPI}, MaxDelegationDepth: 2,
		AllowedActors: []string{"tool"}}).Verify(ctx, toolTok.AccessToken); err != nil {
		t.Errorf("a policy the tool's token meets: %v", err)
	}
}

// A role removed from a client through the admin API is missing from its next token.
func TestRoleRemovedThroughTheAdminAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := delegationServer(t)
	scopesOf := func() []string {
		tok, err := srv.Token(ctx, "sub-agent")
		if err != nil {
			t.Fatal(err)
		}
		c, err := verifier(t, srv, authsec.VerifierConfig{Audience: []string{subAgentAPI}}).Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return c.Scopes()
	}
	if s := scopesOf(); !slices.Contains(s, "report") {
		t.Fatalf("the role's scope is not in the token: %v", s)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, srv.Issuer+"/admin/clients/sub-agent", strings.NewReader(`{"roles": []}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH /admin/clients/sub-agent: %d %s", resp.StatusCode, body)
	}
	if s := scopesOf(); slices.Contains(s, "report") || !reflect.DeepEqual(s, []string{"a", "b", "c"}) {
		t.Fatalf("after the role was removed the token has %v", s)
	}
	_, err = srv.Token(ctx, "sub-agent", "report")
	wantCode(t, "asking for the removed role's scope", err, authsec.CodeInvalidScope)
}
