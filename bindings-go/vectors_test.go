package authsec

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

type vectorFile struct {
	JWKS  map[string]json.RawMessage `json:"jwks"`
	Cases []struct {
		Name    string          `json:"name"`
		Token   string          `json:"token"`
		JWKS    json.RawMessage `json:"jwks"`
		Options struct {
			Issuer            string   `json:"issuer"`
			Audience          []string `json:"audience"`
			SkipIssuerCheck   bool     `json:"skip_issuer_check"`
			SkipAudienceCheck bool     `json:"skip_audience_check"`
			Algorithms        []string `json:"algorithms"`
			Leeway            *int64   `json:"leeway"`
			Typ               string   `json:"typ"`
			MaxTokenBytes     *int     `json:"max_token_bytes"`
			RequiredClaims    []string `json:"required_claims"`
			Now               int64    `json:"now"`
		} `json:"options"`
		RequiredScopes *struct {
			AllOf []string `json:"all_of"`
			AnyOf []string `json:"any_of"`
		} `json:"required_scopes"`
		Expect struct {
			Claims        map[string]any `json:"claims"`
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
			jwks := c.JWKS
			var name string
			if json.Unmarshal(c.JWKS, &name) == nil {
				jwks = vf.JWKS[name]
			}
			o := c.Options
			cfg := VerifierConfig{
				Issuer: o.Issuer, Audience: o.Audience, JWKS: string(jwks), Algorithms: o.Algorithms,
				Typ: o.Typ, RequiredClaims: o.RequiredClaims,
				SkipIssuerCheck: o.SkipIssuerCheck, SkipAudienceCheck: o.SkipAudienceCheck,
			}
			if o.Leeway != nil {
				cfg.Leeway = time.Duration(*o.Leeway) * time.Second
				if *o.Leeway == 0 {
					cfg.Leeway = NoLeeway
				}
			}
			if o.MaxTokenBytes != nil {
				// Passed as is: in the Go API a zero MaxTokenBytes means "the default".
				cfg = withExtra(cfg, "max_token_bytes", *o.MaxTokenBytes)
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
			ok := true
			if c.Expect.Error != "" {
				var ae *Error
				ok = errors.As(err, &ae) && ae.Code.String() == c.Expect.Error
				if ok && c.Expect.MissingScopes != nil {
					ok = reflect.DeepEqual(ae.MissingScopes, c.Expect.MissingScopes)
				}
			} else {
				ok = err == nil && reflect.DeepEqual(claims.Map(), c.Expect.Claims)
			}
			if ok {
				passed++
			} else {
				failed++
				t.Errorf("%s: expected %+v, got claims=%v err=%v", c.Name, c.Expect, claims != nil, err)
			}
		}
	}
	t.Logf("vectors: %d passed, %d failed", passed, failed)
}
