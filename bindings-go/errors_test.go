package authsec

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodesMatchTheCore(t *testing.T) {
	core := CoreErrorCodes()
	if len(core) != len(AllCodes) {
		t.Fatalf("the core has %d error codes, the Go list %d: regenerate codes.go", len(core), len(AllCodes))
	}
	for i, c := range core {
		if uint32(AllCodes[i]) != c.Code || AllCodes[i].String() != c.Name {
			t.Errorf("code %d: core %d %q, Go %d %q", i, c.Code, c.Name, AllCodes[i], AllCodes[i].String())
		}
		if AllCodes[i].Description() != c.Description || c.Description == "" {
			t.Errorf("%s: description %q", c.Name, AllCodes[i].Description())
		}
	}
}

func TestSentinels(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &Error{Code: CodeTokenExpired, Message: "exp is past"})
	if !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrInvalidSignature) {
		t.Fatal("errors.Is does not match by code")
	}
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != CodeTokenExpired || ae.Code.String() != "token_expired" {
		t.Fatal("errors.As")
	}
}
