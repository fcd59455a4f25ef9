// The Go runner of the conformance check: every case of tests/vectors/verify_*.json through the
// Go module's public Verifier, writing one JSON file of outcomes (format: conformance/README.md).
//
//	go build -overlay <overlay.json> -o <bin> . && <bin> <out.json>   (conformance/run.sh does this)
//
// The module has no public way to fix a verifier's clock, nor to pass max_token_bytes 0 (a zero
// MaxTokenBytes means the default), so two functions are injected into the package by the build
// overlay (_bridge/conformance_bridge.go): ConformanceFixedNow and ConformanceRawOption. Every
// other option goes through the public VerifierConfig fields.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
)

// capiLib names the static library linked in (set by conformance/run.sh: -X main.capiLib=sha256:...),
// which also makes go build relink when the library changes (the build cache does not hash it).
var capiLib = "unknown"

type options struct {
	Issuer            *string  `json:"issuer"`
	Audience          []string `json:"audience"`
	SkipIssuerCheck   bool     `json:"skip_issuer_check"`
	SkipAudienceCheck bool     `json:"skip_audience_check"`
	Algorithms        []string `json:"algorithms"`
	Leeway            *int64   `json:"leeway"`
	Typ               string   `json:"typ"`
	MaxTokenBytes     *int     `json:"max_token_bytes"`
	RequiredClaims    []string `json:"required_claims"`
	Now               *int64   `json:"now"`
}

type vectorCase struct {
	Name           string          `json:"name"`
	Token          string          `json:"token"`
	JWKS           json.RawMessage `json:"jwks"`
	Options        options         `json:"options"`
	RequiredScopes *struct {
		AllOf []string `json:"all_of"`
		AnyOf []string `json:"any_of"`
	} `json:"required_scopes"`
}

type vectorFile struct {
	JWKS  map[string]json.RawMessage `json:"jwks"`
	Cases []vectorCase               `json:"cases"`
}

// outcome is {"claims": {...}} or {"error": code, "missing_scopes": [...]}.
type outcome struct {
	Claims        map[string]any `json:"claims,omitempty"`
	Error         string         `json:"error,omitempty"`
	MissingScopes []string       `json:"missing_scopes,omitempty"`
}

func (o outcome) MarshalJSON() ([]byte, error) {
	if o.Error == "" {
		return json.Marshal(map[string]any{"claims": o.Claims})
	}
	missing := o.MissingScopes
	if missing == nil {
		missing = []string{}
	}
	return json.Marshal(map[string]any{"error": o.Error, "missing_scopes": missing})
}

func run(f *vectorFile, c *vectorCase, notes *[]string, id string) (outcome, error) {
	jwks := c.JWKS
	var set string
	if json.Unmarshal(c.JWKS, &set) == nil {
		var ok bool
		if jwks, ok = f.JWKS[set]; !ok {
			return outcome{}, fmt.Errorf("unknown key set %q", set)
		}
	}
	o := c.Options
	if o.Now == nil {
		return outcome{}, errors.New("the case has no options.now")
	}
	cfg := authsec.VerifierConfig{
		Audience: o.Audience, JWKS: string(jwks), Algorithms: o.Algorithms, Typ: o.Typ,
		RequiredClaims: o.RequiredClaims, SkipIssuerCheck: o.SkipIssuerCheck, SkipAudienceCheck: o.SkipAudienceCheck,
	}
	if o.Issuer != nil {
		cfg.Issuer = *o.Issuer
	}
	if o.Leeway != nil {
		cfg.Leeway = time.Duration(*o.Leeway) * time.Second
		if *o.Leeway == 0 {
			cfg.Leeway = authsec.NoLeeway
		}
	}
	if o.MaxTokenBytes != nil {
		if *o.MaxTokenBytes != 0 {
			cfg.MaxTokenBytes = *o.MaxTokenBytes
		} else {
			// Not expressible through VerifierConfig (0 = the default).
			cfg = authsec.ConformanceRawOption(cfg, "max_token_bytes", 0)
			*notes = append(*notes, id+": max_token_bytes 0 passed as a raw option (a zero MaxTokenBytes means the default)")
		}
	}
	cfg = authsec.ConformanceFixedNow(cfg, *o.Now)
	var opts []authsec.VerifyOption
	if r := c.RequiredScopes; r != nil {
		opts = append(opts, authsec.RequireScopes(r.AllOf...), authsec.RequireAnyScope(r.AnyOf...))
	}
	v, err := authsec.NewVerifier(cfg)
	var claims *authsec.Claims
	if err == nil {
		claims, err = v.Verify(context.Background(), c.Token, opts...)
		v.Close()
	}
	if err != nil {
		var ae *authsec.Error
		if !errors.As(err, &ae) {
			return outcome{}, fmt.Errorf("not an *authsec.Error: %v", err)
		}
		return outcome{Error: ae.Code.String(), MissingScopes: ae.MissingScopes}, nil
	}
	return outcome{Claims: claims.Map()}, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: conformance-go <out.json> [<vectors dir>]")
		os.Exit(2)
	}
	dir := "../../tests/vectors"
	if len(os.Args) > 2 {
		dir = os.Args[2]
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "verify_*.json"))
	sort.Strings(paths)
	if len(paths) == 0 {
		fmt.Fprintf(os.Stderr, "conformance (go): no verify_*.json in %s\n", dir)
		os.Exit(1)
	}
	outcomes := map[string]outcome{}
	notes := []string{}
	problems := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var f vectorFile
		if err := json.Unmarshal(b, &f); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p, err)
			os.Exit(1)
		}
		for i := range f.Cases {
			id := filepath.Base(p) + "#" + f.Cases[i].Name
			o, err := run(&f, &f.Cases[i], &notes, id)
			if err != nil {
				// Left out of the file, so the comparator reports the case.
				fmt.Fprintf(os.Stderr, "conformance (go): %s: %v\n", id, err)
				problems++
				continue
			}
			outcomes[id] = o
		}
	}
	doc := map[string]any{
		"runtime":  "go",
		"version":  "bindings-go (" + runtime.Version() + ", libauthsec_capi.a " + capiLib + ")",
		"outcomes": outcomes,
		"notes":    notes,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("go: %d outcomes -> %s\n", len(outcomes), os.Args[1])
	if problems > 0 {
		os.Exit(1)
	}
}
