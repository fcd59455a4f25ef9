package verify

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"sync"
	"unsafe"
)

// Claims are a verified token's claims.
type Claims struct {
	iss, sub, clientID string
	scopes             []string
	delegation         []Actor
	// text is the claims object's JSON text until the first Map or Get decodes it into raw.
	text   string
	decode sync.Once
	raw    map[string]any
	// The core's pin of the claims object this decoding is of (the verifier's memo).
	pinID, pinSeq uint64
}

// Actor is one link of a token's delegation chain (RFC 8693 act): who acted. A member the token
// leaves out is "".
type Actor struct {
	Sub      string `json:"sub,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Iss      string `json:"iss,omitempty"`
}

// ID is the actor's identifier as the verifier's AllowedActors matches it: ClientID, else Sub
// (a verified chain never has an empty client_id).
func (a Actor) ID() string {
	if a.ClientID != "" {
		return a.ClientID
	}
	return a.Sub
}

// Map returns every claim (JSON numbers are float64). Do not modify it. The first call (of Map
// or Get) decodes the claims' JSON; the other accessors never need it.
func (c *Claims) Map() map[string]any {
	c.decode.Do(func() {
		if c.text == "" {
			return
		}
		var m map[string]any
		// The core's JSON serialization of an object: Go reads every such text.
		_ = json.Unmarshal(unsafe.Slice(unsafe.StringData(c.text), len(c.text)), &m)
		c.raw, c.text = m, ""
	})
	return c.raw
}

// Get returns one claim.
func (c *Claims) Get(name string) (any, bool) { v, ok := c.Map()[name]; return v, ok }

// Issuer, Subject and ClientID are the iss, sub and client_id claims ("" when absent or not a
// string).
func (c *Claims) Issuer() string   { return c.iss }
func (c *Claims) Subject() string  { return c.sub }
func (c *Claims) ClientID() string { return c.clientID }

// Scopes are the granted scopes (the core's reading of scope/scp).
func (c *Claims) Scopes() []string { return c.scopes }

// Delegation is the token's delegation chain (the core's reading of act), current actor first;
// nil when nobody acts for the subject. Decide access on the top-level claims and the current
// actor (Actor) only: the earlier actors are for audit (RFC 8693 §4.1).
func (c *Claims) Delegation() []Actor { return slices.Clone(c.delegation) }

// Actor is the party acting for the subject now (the outermost act); false when the token is not
// delegated.
func (c *Claims) Actor() (Actor, bool) {
	if len(c.delegation) == 0 {
		return Actor{}, false
	}
	return c.delegation[0], true
}

var errClaimsFromCore = &Error{Code: CodeInternalError, Message: "cannot read the claims from the core"}

// claimsFromWire reads the claims as the core hands them out (the C API's claims_wire: items that
// are a little-endian u32 length then that many bytes, counts that are a little-endian u32): the
// claims JSON, iss, sub, client_id, the scopes, the delegation chain. The strings are slices of
// data.
func claimsFromWire(data string) (*Claims, error) {
	bad := false
	u32 := func() int {
		if len(data) < 4 {
			bad = true
			return 0
		}
		n := binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(data), 4))
		data = data[4:]
		return int(n)
	}
	item := func() string {
		n := u32()
		if n > len(data) {
			bad = true
			return ""
		}
		s := data[:n]
		data = data[n:]
		return s
	}
	// count is a count of items of at least 4 bytes each.
	count := func(per int) int {
		n := u32()
		if n > len(data)/(4*per) {
			bad = true
			return 0
		}
		return n
	}
	c := &Claims{text: item()}
	c.iss, c.sub, c.clientID = item(), item(), item()
	c.scopes = make([]string, count(1))
	for i := range c.scopes {
		c.scopes[i] = item()
	}
	if n := count(3); n > 0 {
		c.delegation = make([]Actor, n)
		for i := range c.delegation {
			c.delegation[i] = Actor{Sub: item(), ClientID: item(), Iss: item()}
		}
	}
	if bad || data != "" {
		return nil, errClaimsFromCore
	}
	return c, nil
}

// decodeClaims reads the core's claims JSON ({"claims", "scopes", "delegation"}: the request
// verifier's answer).
func decodeClaims(text []byte) (*Claims, error) {
	var w struct {
		Claims     map[string]any `json:"claims"`
		Scopes     []string       `json:"scopes"`
		Delegation []Actor        `json:"delegation"`
	}
	if err := json.Unmarshal(text, &w); err != nil {
		return nil, errClaimsFromCore
	}
	if len(w.Delegation) == 0 {
		w.Delegation = nil
	}
	str := func(name string) string { s, _ := w.Claims[name].(string); return s }
	c := &Claims{iss: str("iss"), sub: str("sub"), clientID: str("client_id"), scopes: w.Scopes, delegation: w.Delegation}
	c.decode.Do(func() { c.raw = w.Claims })
	return c, nil
}
