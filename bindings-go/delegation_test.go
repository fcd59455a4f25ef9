package authsec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Delegation (RFC 8693 act) through the public API, with the shared vectors' signed tokens
// (verify_delegation.json): the typed options, the AllowActor callback, the claims accessors and
// the two error codes. The rules are the core's; these tests check that the binding passes the
// options through, exposes the chain and asks the callback at the right time.

// delegationVectors are verify_delegation.json's tokens by case name, with its key set and clock.
type delegationVectors struct {
	jwks   string
	now    time.Time
	tokens map[string]string
}

func loadDelegationVectors(t *testing.T) delegationVectors {
	t.Helper()
	b, err := os.ReadFile("../tests/vectors/verify_delegation.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatal(err)
	}
	d := delegationVectors{jwks: string(vf.JWKS["main"]), tokens: map[string]string{}}
	for _, c := range vf.Cases {
		d.tokens[c.Name] = c.Token
		d.now = time.Unix(c.Options.Now, 0)
	}
	if d.jwks == "" || len(d.tokens) == 0 {
		t.Fatal("verify_delegation.json has no main key set or no cases")
	}
	return d
}

// verifier is a verifier of the vectors' tokens with cfg's delegation settings.
func (d delegationVectors) verifier(t *testing.T, cfg VerifierConfig) (*Verifier, error) {
	t.Helper()
	cfg.Issuer, cfg.Audience, cfg.JWKS = "https://issuer.example", []string{"https://api.example"}, d.jwks
	cfg.Clock = NewManualClock(d.now)
	t.Cleanup(func() { cfg.Clock.Close() })
	v, err := NewVerifier(cfg)
	if err == nil {
		t.Cleanup(func() { v.Close() })
	}
	return v, err
}

func (d delegationVectors) mustVerifier(t *testing.T, cfg VerifierConfig) *Verifier {
	t.Helper()
	v, err := d.verifier(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ids(chain []Actor) []string {
	out := []string{}
	for _, a := range chain {
		out = append(out, a.ID())
	}
	return out
}

func TestClaimsDelegationChain(t *testing.T) {
	d := loadDelegationVectors(t)
	v := d.mustVerifier(t, VerifierConfig{})
	c, err := v.Verify(context.Background(), d.tokens["act_chain_of_three"])
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(c.Delegation()); !reflect.DeepEqual(got, []string{"tool", "sub-agent", "orchestrator"}) {
		t.Fatalf("chain %v", got)
	}
	if a, ok := c.Actor(); !ok || a != (Actor{Sub: "tool", ClientID: "tool"}) {
		t.Fatalf("current actor %+v %v", a, ok)
	}
	if _, ok := c.Map()["act"].(map[string]any); !ok {
		t.Fatal("the raw claims lost act")
	}
	// Delegation hands out a copy: the verifier's cached claims stay as the core read them.
	c.Delegation()[0].ClientID = "mallory"
	again, _ := v.Verify(context.Background(), d.tokens["act_chain_of_three"])
	if a, _ := again.Actor(); a.ClientID != "tool" {
		t.Fatalf("the cached chain changed: %+v", a)
	}

	// A link without client_id is known by its sub; iss is kept.
	c, err = v.Verify(context.Background(), d.tokens["act_sub_and_iss_only"])
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Actor(); a != (Actor{Sub: "agent@example", Iss: "https://other-issuer.example"}) || a.ID() != "agent@example" {
		t.Fatalf("sub-only actor %+v (id %q)", a, a.ID())
	}

	// Not delegated: no chain, no actor.
	c, err = v.Verify(context.Background(), d.tokens["act_absent"])
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.Actor(); ok || c.Delegation() != nil || a != (Actor{}) {
		t.Fatalf("an undelegated token: %v %+v %v", c.Delegation(), a, ok)
	}
}

func TestDelegationOptions(t *testing.T) {
	d := loadDelegationVectors(t)
	three := d.tokens["act_chain_of_three"] // tool <- sub-agent <- orchestrator
	plain := d.tokens["act_absent"]
	for _, tc := range []struct {
		name    string
		cfg     VerifierConfig
		refused []string // tokens refused with delegation_not_allowed, saying this
		says    string
	}{
		{"ForbidDelegation", VerifierConfig{ForbidDelegation: true}, []string{"act_one_actor", "act_chain_of_three"}, "accepts no delegated tokens"},
		{"MaxDelegationDepth 2", VerifierConfig{MaxDelegationDepth: 2}, []string{"act_chain_of_three"}, "max_delegation_depth"},
		{"NoActors", VerifierConfig{MaxDelegationDepth: NoActors}, []string{"act_one_actor"}, "at most 0"},
		{"AllowedActors other", VerifierConfig{AllowedActors: []string{"sub-agent"}}, []string{"act_chain_of_three"}, `"tool" is not one of the allowed actors`},
		{"AllowedActors empty", VerifierConfig{AllowedActors: []string{}}, []string{"act_one_actor"}, "allowed actors"},
	} {
		v := d.mustVerifier(t, tc.cfg)
		for _, name := range tc.refused {
			_, err := v.Verify(context.Background(), d.tokens[name])
			var ae *Error
			if !errors.Is(err, ErrDelegationNotAllowed) || !errors.As(err, &ae) || !strings.Contains(ae.Message, tc.says) {
				t.Errorf("%s, %s: %v", tc.name, name, err)
			}
		}
		if _, err := v.Verify(context.Background(), plain); err != nil {
			t.Errorf("%s refused an undelegated token: %v", tc.name, err)
		}
	}
	// What the options accept.
	for _, cfg := range []VerifierConfig{{MaxDelegationDepth: 3}, {AllowedActors: []string{"other", "tool"}}, {MaxDelegationDepth: 16}} {
		if _, err := d.mustVerifier(t, cfg).Verify(context.Background(), three); err != nil {
			t.Errorf("%+v refused the chain of three: %v", cfg, err)
		}
	}
	// The core checks the values.
	for _, depth := range []int{17, -2} {
		if _, err := d.verifier(t, VerifierConfig{MaxDelegationDepth: depth}); !errors.Is(err, ErrConfigError) {
			t.Errorf("MaxDelegationDepth %d: %v", depth, err)
		}
	}
	// A malformed chain is refused whatever the options say.
	if _, err := d.mustVerifier(t, VerifierConfig{}).Verify(context.Background(), d.tokens["act_cycle"]); !errors.Is(err, ErrInvalidDelegation) {
		t.Errorf("a cycle: %v", err)
	}
}

func TestAllowActorCallback(t *testing.T) {
	d := loadDelegationVectors(t)
	var asked []Actor
	allow := map[string]bool{}
	v := d.mustVerifier(t, VerifierConfig{AllowActor: func(a Actor) bool {
		asked = append(asked, a)
		return allow[a.ID()]
	}})

	// Refused: the core's delegation_not_allowed, naming the current actor.
	_, err := v.Verify(context.Background(), d.tokens["act_chain_of_three"])
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != CodeDelegationNotAllowed || ae.Code.String() != "delegation_not_allowed" ||
		!errors.Is(err, ErrDelegationNotAllowed) || ae.Category() != CategoryInvalidToken || HTTPStatus(err) != 401 ||
		!strings.Contains(ae.Message, `"tool"`) {
		t.Fatalf("refused actor: %#v", err)
	}
	if len(asked) != 1 || asked[0] != (Actor{Sub: "tool", ClientID: "tool"}) {
		t.Fatalf("asked about %+v, want the current actor only", asked)
	}

	// Allowed: the claims come back; asked again on the verifier's cache hit.
	allow["tool"] = true
	for i := 0; i < 2; i++ {
		if c, err := v.Verify(context.Background(), d.tokens["act_chain_of_three"]); err != nil || len(c.Delegation()) != 3 {
			t.Fatalf("allowed actor: %v", err)
		}
	}
	if len(asked) != 3 {
		t.Fatalf("asked %d times, want 3", len(asked))
	}

	// Never asked about an undelegated token, nor about one the core already refused.
	asked = nil
	if _, err := v.Verify(context.Background(), d.tokens["act_absent"]); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), d.tokens["act_cycle"]); !errors.Is(err, ErrInvalidDelegation) {
		t.Fatal(err)
	}
	listed := d.mustVerifier(t, VerifierConfig{AllowedActors: []string{"sub-agent"}, AllowActor: func(a Actor) bool {
		asked = append(asked, a)
		return true
	}})
	if _, err := listed.Verify(context.Background(), d.tokens["act_chain_of_three"]); !errors.Is(err, ErrDelegationNotAllowed) {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Fatalf("asked about %+v", asked)
	}

	// The core's order: the delegation policy, the callback included, before the scopes.
	allow["tool"] = false
	if _, err := v.Verify(context.Background(), d.tokens["act_delegated_missing_scope"], RequireScopes("admin")); !errors.Is(err, ErrDelegationNotAllowed) {
		t.Fatalf("a refused actor without the scope: %v", err)
	}
	allow["sub-agent"], allow["tool"] = true, true
	if _, err := v.Verify(context.Background(), d.tokens["act_delegated_missing_scope"], RequireScopes("admin")); !errors.Is(err, ErrInsufficientScope) {
		t.Fatalf("an allowed actor without the scope: %v", err)
	}
	if _, err := v.Verify(context.Background(), d.tokens["act_delegated_missing_scope"], RequireScopes("read:data")); err != nil {
		t.Fatalf("an allowed actor with the scope: %v", err)
	}

	// The middleware verifies through Verify, callback included.
	h := Middleware(v, MiddlewareOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	allow["tool"] = false
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+d.tokens["act_chain_of_three"])
	h.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("middleware: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

func TestDelegationErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		code     Code
		name     string
		sentinel error
	}{
		{CodeInvalidDelegation, "invalid_delegation", ErrInvalidDelegation},
		{CodeDelegationNotAllowed, "delegation_not_allowed", ErrDelegationNotAllowed},
	} {
		err := error(&Error{Code: tc.code})
		if tc.code.String() != tc.name || tc.code.Category() != CategoryInvalidToken || tc.code.Retryable() ||
			!errors.Is(err, tc.sentinel) || errors.Is(err, ErrTokenExpired) || HTTPStatus(err) != 401 {
			t.Errorf("%s: name %q, category %q", tc.name, tc.code, tc.code.Category())
		}
	}
	var classes []string
	for _, c := range CoreErrorCodes() {
		if c.Name == "invalid_delegation" || c.Name == "delegation_not_allowed" {
			classes = append(classes, c.Class)
		}
	}
	if !reflect.DeepEqual(classes, []string{"DelegationError", "DelegationError"}) {
		t.Errorf("the core's classes: %v", classes)
	}
}

// ExchangeRequest goes to the core's reader as one options object: its errors name the option;
// the tokens never show in fmt output; ctx is honoured. (The exchanges themselves run against the
// local server in package authsectest.)
func TestExchangeRequestIsReadByTheCore(t *testing.T) {
	c, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:1/oauth/token", ClientID: "a", ClientSecret: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		r    ExchangeRequest
		says string
	}{
		{ExchangeRequest{SubjectToken: "subject", SubjectTokenType: "saml"}, "subject_token_type"},
		{ExchangeRequest{SubjectToken: "subject", ActorTokenType: "jwt"}, "actor_token_type"},
		{ExchangeRequest{SubjectToken: "subject", Audience: "x", Resource: []string{""}}, "must not be empty"},
		{ExchangeRequest{}, "subject_token"},
	} {
		if _, err := c.ExchangeToken(context.Background(), tc.r); !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%+v: %v", tc.r, err)
		}
	}
	if _, err := c.DownstreamToken(context.Background(), "inbound", Downstream{Scopes: []string{"a"}}); !errors.Is(err, ErrConfigError) {
		t.Errorf("downstream without a target: %v", err)
	}
	r := ExchangeRequest{SubjectToken: "subject-secret", ActorToken: "actor-secret", Audience: "https://api"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, r); strings.Contains(s, "secret") || !strings.Contains(s, "https://api") {
			t.Errorf("%s shows %q", verb, s)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ExchangeToken(cancelled, r); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	c.Close()
	if _, err := c.ExchangeToken(context.Background(), r); !errors.Is(err, ErrConfigError) {
		t.Errorf("closed client: %v", err)
	}
}
