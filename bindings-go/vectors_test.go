package authsec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The shared test vectors (tests/vectors/verify_*.json, dpop_requests.json and jwt_svid.json,
// format in tests/vectors/README.md): every case through the public Verifier (RequestVerifier,
// JWTSVIDVerifier), the
// clock fixed with the public ManualClock. With AUTHSEC_CONFORMANCE_OUT=<dir>
// the outcomes also go to <dir>/go.json for the cross-language comparison
// (tests/conformance/README.md).

type vectorFile struct {
	JWKS  map[string]json.RawMessage `json:"jwks"`
	Cases []struct {
		Name    string          `json:"name"`
		Token   string          `json:"token"`
		JWKS    json.RawMessage `json:"jwks"`
		Options struct {
			Issuer             string   `json:"issuer"`
			Audience           []string `json:"audience"`
			AudienceMatch      string   `json:"audience_match"`
			SkipIssuerCheck    bool     `json:"skip_issuer_check"`
			SkipAudienceCheck  bool     `json:"skip_audience_check"`
			Algorithms         []string `json:"algorithms"`
			Leeway             *int64   `json:"leeway"`
			Typ                string   `json:"typ"`
			MaxTokenBytes      *int     `json:"max_token_bytes"`
			RequiredClaims     []string `json:"required_claims"`
			ForbidDelegation   bool     `json:"forbid_delegation"`
			MaxDelegationDepth *int     `json:"max_delegation_depth"`
			AllowedActors      []string `json:"allowed_actors"`
			Now                int64    `json:"now"`
		} `json:"options"`
		RequiredScopes *struct {
			AllOf []string `json:"all_of"`
			AnyOf []string `json:"any_of"`
		} `json:"required_scopes"`
		Expect struct {
			Claims        map[string]any `json:"claims"`
			Delegation    []any          `json:"delegation"`
			Error         string         `json:"error"`
			MissingScopes []string       `json:"missing_scopes"`
		} `json:"expect"`
	} `json:"cases"`
}

func TestSharedVectors(t *testing.T) {
	files, _ := filepath.Glob("../tests/vectors/verify_*.json")
	if len(files) == 0 {
		t.Fatal("no vectors found in ../tests/vectors")
	}
	passed, failed := 0, 0
	// "<file>#<case>" -> {"claims": ..., "delegation": [...]} or {"error": ..., "missing_scopes": [...]}
	outcomes := map[string]any{}
	notes := []string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(b, &vf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range vf.Cases {
			id := filepath.Base(f) + "#" + c.Name
			jwks := c.JWKS
			var name string
			if json.Unmarshal(c.JWKS, &name) == nil {
				jwks = vf.JWKS[name]
			}
			o := c.Options
			cfg := VerifierConfig{
				Issuer: o.Issuer, Audience: o.Audience, AudienceMatch: o.AudienceMatch,
				JWKS: string(jwks), Algorithms: o.Algorithms,
				Typ: o.Typ, RequiredClaims: o.RequiredClaims,
				SkipIssuerCheck: o.SkipIssuerCheck, SkipAudienceCheck: o.SkipAudienceCheck,
				ForbidDelegation: o.ForbidDelegation, AllowedActors: o.AllowedActors,
			}
			if d := o.MaxDelegationDepth; d != nil {
				cfg.MaxDelegationDepth = *d
				if *d == 0 {
					cfg.MaxDelegationDepth = NoActors
				}
			}
			if o.Leeway != nil {
				cfg.Leeway = time.Duration(*o.Leeway) * time.Second
				if *o.Leeway == 0 {
					cfg.Leeway = NoLeeway
				}
			}
			if o.MaxTokenBytes != nil {
				if *o.MaxTokenBytes != 0 {
					cfg.MaxTokenBytes = *o.MaxTokenBytes
				} else {
					// Not expressible through VerifierConfig: a zero MaxTokenBytes means the default.
					cfg = withExtra(cfg, "max_token_bytes", 0)
					notes = append(notes, id+": max_token_bytes 0 passed as a raw option (a zero MaxTokenBytes means the default)")
				}
			}
			var opts []VerifyOption
			if r := c.RequiredScopes; r != nil {
				opts = append(opts, RequireScopes(r.AllOf...), RequireAnyScope(r.AnyOf...))
			}
			var claims *Claims
			cfg.Clock = NewManualClock(time.Unix(o.Now, 0))
			v, err := NewVerifier(cfg)
			if err == nil {
				claims, err = v.Verify(context.Background(), c.Token, opts...)
				v.Close()
			}
			var ae *Error
			var chain []any // Claims.Delegation() as JSON: {sub, client_id, iss}, absent members left out
			switch {
			case err == nil:
				chain = delegationJSON(t, claims.Delegation())
				outcomes[id] = map[string]any{"claims": claims.Map(), "delegation": chain}
			case errors.As(err, &ae):
				missing := ae.MissingScopes
				if missing == nil {
					missing = []string{}
				}
				outcomes[id] = map[string]any{"error": ae.Code.String(), "missing_scopes": missing}
			}
			ok := true
			if c.Expect.Error != "" {
				ok = ae != nil && ae.Code.String() == c.Expect.Error
				if ok && c.Expect.MissingScopes != nil {
					ok = reflect.DeepEqual(ae.MissingScopes, c.Expect.MissingScopes)
				}
			} else {
				ok = err == nil && reflect.DeepEqual(claims.Map(), c.Expect.Claims)
				if ok && c.Expect.Delegation != nil {
					ok = reflect.DeepEqual(chain, c.Expect.Delegation)
				}
			}
			if ok {
				passed++
			} else {
				failed++
				t.Errorf("%s: expected %+v, got claims=%v delegation=%v err=%v", c.Name, c.Expect, claims != nil, chain, err)
			}
		}
	}
	p, f := requestVectors(t, outcomes)
	passed, failed = passed+p, failed+f
	p, f = svidVectors(t, outcomes)
	passed, failed = passed+p, failed+f
	t.Logf("vectors: %d passed, %d failed", passed, failed)
	writeOutcomes(t, outcomes, notes)
}

// requestVectors runs tests/vectors/dpop_requests.json: each case's requests in order through one
// public RequestVerifier (its replay cache lives for the case), the verifier's ManualClock at each
// request's now. The outcome of a case is {"requests": [each request's outcome, shaped as its expect]}.
func requestVectors(t *testing.T, outcomes map[string]any) (passed, failed int) {
	b, err := os.ReadFile("../tests/vectors/dpop_requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf struct {
		JWKS  map[string]json.RawMessage `json:"jwks"`
		Cases []struct {
			Name     string `json:"name"`
			JWKS     string `json:"jwks"`
			Verifier struct {
				Issuer   string   `json:"issuer"`
				Audience []string `json:"audience"`
			} `json:"verifier"`
			Policy struct {
				DPoP              string   `json:"dpop"`
				DPoPAlgorithms    []string `json:"dpop_algorithms"`
				DPoPNonce         bool     `json:"dpop_nonce"`
				DPoPNonceKey      string   `json:"dpop_nonce_key"`
				DPoPNonceLifetime float64  `json:"dpop_nonce_lifetime"`
				PublicURL         string   `json:"public_url"`
				TrustForwarded    bool     `json:"trust_forwarded"`
				TrustedProxies    []string `json:"trusted_proxies"`
				ClientCertHeader  string   `json:"client_cert_header"`
			} `json:"policy"`
			RequiredScopes struct {
				AllOf []string `json:"all_of"`
				AnyOf []string `json:"any_of"`
			} `json:"required_scopes"`
			Requests []struct {
				Now               int64       `json:"now"`
				Method            string      `json:"method"`
				Scheme            string      `json:"scheme"`
				Target            string      `json:"target"`
				Headers           [][2]string `json:"headers"`
				Peer              string      `json:"peer"`
				ClientCertificate []byte      `json:"client_certificate"` // standard base64
				Expect            any         `json:"expect"`
			} `json:"requests"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatalf("dpop_requests.json: %v", err)
	}
	schemeOf := func(c string) string { s, _, _ := strings.Cut(c, " "); return s }
	for _, c := range vf.Cases {
		clk := NewManualClock(time.Unix(0, 0))
		v, err := NewVerifier(VerifierConfig{Issuer: c.Verifier.Issuer, Audience: c.Verifier.Audience,
			JWKS: string(vf.JWKS[c.JWKS]), Clock: clk})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		p := c.Policy
		rv, err := NewRequestVerifier(v, RequestOptions{DPoP: p.DPoP, DPoPAlgorithms: p.DPoPAlgorithms, DPoPNonce: p.DPoPNonce,
			DPoPNonceKey: p.DPoPNonceKey, DPoPNonceLifetime: time.Duration(p.DPoPNonceLifetime * float64(time.Second)),
			PublicURL: p.PublicURL, TrustForwarded: p.TrustForwarded, TrustedProxies: p.TrustedProxies,
			ClientCertHeader: p.ClientCertHeader})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var opts []VerifyOption
		if c.RequiredScopes.AllOf != nil || c.RequiredScopes.AnyOf != nil {
			opts = append(opts, RequireScopes(c.RequiredScopes.AllOf...), RequireAnyScope(c.RequiredScopes.AnyOf...))
		}
		var got, want []any
		for _, r := range c.Requests {
			clk.Set(time.Unix(r.Now, 0))
			h := http.Header{}
			for _, kv := range r.Headers {
				h.Add(kv[0], kv[1])
			}
			a, err := rv.Verify(context.Background(), RequestParts{Method: r.Method, Target: r.Target, Scheme: r.Scheme,
				Header: h, Peer: r.Peer, ClientCertificate: r.ClientCertificate}, opts...)
			var out map[string]any
			var refusal *Refusal
			switch {
			case err == nil:
				out = map[string]any{"accepted": true, "scheme": a.Scheme, "jkt": nilIfEmpty(a.DPoPThumbprint),
					"certificate": nilIfEmpty(a.CertificateThumbprint), "dpop_nonce": a.Header.Get("DPoP-Nonce") != ""}
			case errors.As(err, &refusal):
				var code any
				if refusal.Err != nil {
					code = refusal.Err.Code.String()
				}
				challenges, errorScheme := []any{}, any(nil)
				for _, ch := range refusal.Header.Values("WWW-Authenticate") {
					challenges = append(challenges, schemeOf(ch))
					if errorScheme == nil && strings.Contains(ch, `error="`) {
						errorScheme = schemeOf(ch)
					}
				}
				out = map[string]any{"accepted": false, "status": refusal.Status, "error": code, "challenges": challenges,
					"error_scheme": errorScheme, "dpop_nonce": refusal.Header.Get("DPoP-Nonce") != ""}
			default:
				t.Fatalf("%s: %v", c.Name, err)
			}
			// As JSON values, to compare with the file's.
			var o any
			ob, _ := json.Marshal(out)
			json.Unmarshal(ob, &o)
			got, want = append(got, o), append(want, r.Expect)
		}
		rv.Close()
		v.Close()
		clk.Close()
		outcomes["dpop_requests.json#"+c.Name] = map[string]any{"requests": got}
		if reflect.DeepEqual(got, want) {
			passed++
		} else {
			failed++
			t.Errorf("%s: got %v, expected %v", c.Name, got, want)
		}
	}
	return passed, failed
}

// svidVectors runs tests/vectors/jwt_svid.json through the public JWTSVIDVerifier: the case's
// options, its bundle set as TrustDomains ({td: {Bundle: doc}}), the ManualClock at now. The
// outcome is {"svid": {spiffe_id, audience, expires_at}} or {"error": code}.
func svidVectors(t *testing.T, outcomes map[string]any) (passed, failed int) {
	b, err := os.ReadFile("../tests/vectors/jwt_svid.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf struct {
		Bundles map[string]map[string]json.RawMessage `json:"bundles"`
		Cases   []struct {
			Name    string `json:"name"`
			Token   string `json:"token"`
			Bundles string `json:"bundles"`
			Options struct {
				Audience      []string `json:"audience"`
				SoleAudience  bool     `json:"sole_audience"`
				AllowedIDs    []string `json:"allowed_ids"`
				Algorithms    []string `json:"algorithms"`
				Leeway        *int64   `json:"leeway"`
				MaxTokenBytes int      `json:"max_token_bytes"`
				Now           int64    `json:"now"`
			} `json:"options"`
			Expect map[string]any `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatalf("jwt_svid.json: %v", err)
	}
	for _, c := range vf.Cases {
		o := c.Options
		tds := map[string]TrustDomainBundle{}
		for td, doc := range vf.Bundles[c.Bundles] {
			tds[td] = TrustDomainBundle{Bundle: doc}
		}
		clk := NewManualClock(time.Unix(o.Now, 0))
		opts := JWTSVIDOptions{Audience: o.Audience, SoleAudience: o.SoleAudience, AllowedIDs: o.AllowedIDs,
			Algorithms: o.Algorithms, MaxTokenBytes: o.MaxTokenBytes, TrustDomains: tds, Clock: clk}
		if o.Leeway != nil {
			opts.Leeway = time.Duration(*o.Leeway) * time.Second
			if *o.Leeway == 0 {
				opts.Leeway = NoLeeway
			}
		}
		var out map[string]any
		v, err := NewJWTSVIDVerifier(context.Background(), opts)
		var s *JWTSVID
		if err == nil {
			s, err = v.Verify(context.Background(), c.Token)
			v.Close()
		}
		clk.Close()
		var ae *Error
		switch {
		case err == nil:
			out = map[string]any{"svid": map[string]any{"spiffe_id": s.SPIFFEID, "audience": s.Audience, "expires_at": s.ExpiresAt.Unix()}}
		case errors.As(err, &ae):
			out = map[string]any{"error": ae.Code.String()}
		default:
			t.Fatalf("%s: %v", c.Name, err)
		}
		var got any
		ob, _ := json.Marshal(out)
		json.Unmarshal(ob, &got)
		outcomes["jwt_svid.json#"+c.Name] = got
		if reflect.DeepEqual(got, any(c.Expect)) {
			passed++
		} else {
			failed++
			t.Errorf("%s: got %v, expected %v", c.Name, got, c.Expect)
		}
	}
	return passed, failed
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// delegationJSON is a chain as the vectors and the outcome files give it (always a list).
func delegationJSON(t *testing.T, chain []Actor) []any {
	out := []any{}
	if len(chain) == 0 {
		return out
	}
	b, err := json.Marshal(chain)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeOutcomes writes go.json to $AUTHSEC_CONFORMANCE_OUT (a relative dir is taken from the
// repository root) when it is set. The version names the static library by its hash.
func writeOutcomes(t *testing.T, outcomes map[string]any, notes []string) {
	out := os.Getenv("AUTHSEC_CONFORMANCE_OUT")
	if out == "" {
		return
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join("..", out)
	}
	lib, err := os.ReadFile(filepath.Join("lib", runtime.GOOS+"_"+runtime.GOARCH, "libauthsec_capi.a"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lib)
	doc := map[string]any{
		"runtime":  "go",
		"version":  "bindings-go (" + runtime.Version() + ", libauthsec_capi.a sha256:" + hex.EncodeToString(sum[:])[:16] + ")",
		"outcomes": outcomes,
		"notes":    notes,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "go.json")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("go: %d outcomes -> %s", len(outcomes), path)
}
