package authsec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testKey struct {
	pem string         // PKCS#8 private key
	jwk map[string]any // public JWK with kid
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newTestKey(t *testing.T, kind, kid string) testKey {
	t.Helper()
	var priv crypto.Signer
	var jwk map[string]any
	switch kind {
	case "ec":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		x, y := make([]byte, 32), make([]byte, 32)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		priv, jwk = k, map[string]any{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv, jwk = k, map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case "ed25519":
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, jwk = k, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
	default:
		t.Fatalf("unknown key kind %s", kind)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	jwk["kid"] = kid
	return testKey{pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), jwk: jwk}
}

// startKeyedServer registers one private_key_jwt client per key ("keyed-<kind>").
func startKeyedServer(t *testing.T, keys map[string]testKey) *LocalServer {
	t.Helper()
	var clients []map[string]any
	for kind, k := range keys {
		clients = append(clients, map[string]any{
			"client_id": "keyed-" + kind, "jwks": map[string]any{"keys": []any{k.jwk}},
			"allowed_scopes": []string{"read:data"}, "audiences": []string{"https://api.example"},
		})
	}
	clients = append(clients, map[string]any{
		"client_id": "svc", "client_secret": testSecret,
		"allowed_scopes": []string{"read:data", "write:data"}, "audiences": []string{"https://api.example"},
	})
	cfg, _ := json.Marshal(map[string]any{"token_lifetime": 300, "clients": clients})
	s, err := StartLocalServer(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPrivateKeyJWT(t *testing.T) {
	keys := map[string]testKey{
		"ec": newTestKey(t, "ec", "ec-1"), "rsa": newTestKey(t, "rsa", "rsa-1"), "ed25519": newTestKey(t, "ed25519", "ed-1"),
	}
	s := startKeyedServer(t, keys)
	v := newTestVerifier(t, s)
	for kind, k := range keys {
		t.Run(kind, func(t *testing.T) {
			cfg := ClientConfig{
				TokenURL: s.TokenEndpoint, ClientID: "keyed-" + kind, AuthMethod: "private_key_jwt",
				PrivateKey: k.pem, PrivateKeyID: k.jwk["kid"].(string), Scopes: []string{"read:data"}, Audience: "https://api.example",
			}
			if out := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, &cfg); strings.Contains(out, "PRIVATE KEY") {
				t.Fatal("the private key was printed")
			}
			c, err := NewClientCredentials(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tok, err := c.Token(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			claims, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data"))
			if err != nil {
				t.Fatal(err)
			}
			if claims.ClientID() != "keyed-"+kind {
				t.Fatalf("client_id %q", claims.ClientID())
			}
			if again, _ := c.Token(ctx(t)); again.AccessToken != tok.AccessToken || c.RequestCount() != 1 {
				t.Fatal("the token was not cached")
			}
		})
	}

	t.Run("a key the server does not know is invalid_client", func(t *testing.T) {
		other := newTestKey(t, "ec", "ec-1")
		c, err := NewClientCredentials(ClientConfig{
			TokenURL: s.TokenEndpoint, ClientID: "keyed-ec", AuthMethod: "private_key_jwt", PrivateKey: other.pem, PrivateKeyID: "ec-1",
			Scopes: []string{"read:data"}, Audience: "https://api.example",
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Token(ctx(t)); !errors.Is(err, ErrInvalidClient) {
			t.Fatalf("want ErrInvalidClient, got %v", err)
		}
	})
}

func TestNewClientCredentialsFromEnv(t *testing.T) {
	key := newTestKey(t, "ec", "ec-1")
	s := startKeyedServer(t, map[string]testKey{"ec": key})
	v := newTestVerifier(t, s)
	unsetAll := func() {
		for _, k := range []string{"CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "TOKEN_URL", "ISSUER", "SCOPES",
			"AUDIENCE", "RESOURCE", "AUTH_METHOD", "PRIVATE_KEY", "PRIVATE_KEY_FILE", "PRIVATE_KEY_ALG", "PRIVATE_KEY_ID",
			"REFRESH_BUFFER", "ALLOW_INSECURE_HTTP", "JWKS_URI", "CONFIG"} {
			t.Setenv("AUTHSEC_"+k, "")
		}
	}
	check := func(t *testing.T, clientID string, scopes ...string) {
		t.Helper()
		c, err := NewClientCredentialsFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tok, err := c.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		claims, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes(scopes...))
		if err != nil {
			t.Fatal(err)
		}
		if claims.ClientID() != clientID || claims.Map()["aud"] != "https://api.example" {
			t.Fatalf("claims %v", claims.Map())
		}
	}

	t.Run("client secret", func(t *testing.T) {
		unsetAll()
		t.Setenv("AUTHSEC_CLIENT_ID", "svc")
		t.Setenv("AUTHSEC_CLIENT_SECRET", testSecret)
		t.Setenv("AUTHSEC_TOKEN_URL", s.TokenEndpoint)
		t.Setenv("AUTHSEC_SCOPES", "read:data  write:data")
		t.Setenv("AUTHSEC_AUDIENCE", "https://api.example")
		check(t, "svc", "read:data", "write:data")
	})

	t.Run("private key file implies private_key_jwt", func(t *testing.T) {
		unsetAll()
		path := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(path, []byte(key.pem), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AUTHSEC_CLIENT_ID", "keyed-ec")
		t.Setenv("AUTHSEC_PRIVATE_KEY_FILE", path)
		t.Setenv("AUTHSEC_PRIVATE_KEY_ID", "ec-1")
		t.Setenv("AUTHSEC_TOKEN_URL", s.TokenEndpoint)
		t.Setenv("AUTHSEC_SCOPES", "read:data")
		t.Setenv("AUTHSEC_AUDIENCE", "https://api.example")
		check(t, "keyed-ec", "read:data")
	})

	t.Run("missing client id is a config error", func(t *testing.T) {
		unsetAll()
		t.Setenv("AUTHSEC_TOKEN_URL", s.TokenEndpoint)
		_, err := NewClientCredentialsFromEnv()
		var e *Error
		if !errors.Is(err, ErrConfigError) || !errors.As(err, &e) || !strings.Contains(e.Message, "AUTHSEC_CLIENT_ID") {
			t.Fatalf("want a config error naming AUTHSEC_CLIENT_ID, got %v", err)
		}
	})

	t.Run("bad auth method is a config error", func(t *testing.T) {
		unsetAll()
		t.Setenv("AUTHSEC_CLIENT_ID", "svc")
		t.Setenv("AUTHSEC_CLIENT_SECRET", testSecret)
		t.Setenv("AUTHSEC_TOKEN_URL", s.TokenEndpoint)
		t.Setenv("AUTHSEC_AUTH_METHOD", "carrier_pigeon")
		if _, err := NewClientCredentialsFromEnv(); !errors.Is(err, ErrConfigError) {
			t.Fatalf("want ErrConfigError, got %v", err)
		}
	})
}
