package verify

import (
	"encoding/json"
	"slices"
)

// Option adds a requirement to Verify.
type Option func(*scopeReq)

type scopeReq struct {
	AllOf []string `json:"all_of,omitempty"`
	AnyOf []string `json:"any_of,omitempty"`
}

// RequireScopes requires every one of scopes.
func RequireScopes(scopes ...string) Option {
	return func(r *scopeReq) { r.AllOf = appendScopes(r.AllOf, scopes) }
}

// RequireAnyScope requires at least one of scopes.
func RequireAnyScope(scopes ...string) Option {
	return func(r *scopeReq) { r.AnyOf = appendScopes(r.AnyOf, scopes) }
}

// appendOptionsJSON applies opts and appends the requirement they make as the core's JSON
// (appendJSON) to b.
func appendOptionsJSON(b []byte, opts []Option) []byte {
	var r scopeReq
	for _, o := range opts {
		o(&r)
	}
	return r.appendJSON(b)
}

// appendScopes is append(to, scopes...) that takes scopes (clipped: never written to) as it is
// when to is empty.
func appendScopes(to, scopes []string) []string {
	if len(to) == 0 {
		return slices.Clip(scopes)
	}
	return append(to, scopes...)
}

// appendJSON appends r as JSON ({"all_of": [...], "any_of": [...]}, as json.Marshal writes it)
// to b, writing plain printable ASCII scopes itself.
func (r *scopeReq) appendJSON(b []byte) []byte {
	for _, list := range [][]string{r.AllOf, r.AnyOf} {
		for _, s := range list {
			for i := 0; i < len(s); i++ {
				if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
					j, _ := json.Marshal(r)
					return append(b, j...)
				}
			}
		}
	}
	b = append(b, '{')
	for k, list := range [][]string{r.AllOf, r.AnyOf} {
		if len(list) == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, [2]string{`"all_of":[`, `"any_of":[`}[k]...)
		for i, s := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, s...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
