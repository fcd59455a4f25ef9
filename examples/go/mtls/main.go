// Command mtls: a certificate-bound token (RFC 8705) that is useless without the client's TLS
// certificate.
//
//	go run ./mtls
//
// The agent authenticates to the token endpoint with its TLS client certificate
// (tls_client_auth), and the token names that certificate (cnf.x5t#S256). The API terminates TLS
// itself and accepts the token only over a connection that presents the same certificate. The
// example makes its own CA, a server certificate for 127.0.0.1 and two client certificates; the
// local authorization server (package authsectest, in-process on 127.0.0.1) serves HTTPS with it.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

const apiAudience = "https://api.example.test"

// [START mtls]

// newAPI is the protected API behind its own TLS: a certificate-bound token must come over a
// connection with that certificate (the middleware reads r.TLS; behind a TLS-terminating proxy,
// RequestOptions.ClientCertHeader names the header the proxy forwards it in).
func newAPI(issuer, jwks string) (http.Handler, error) {
	verifier, err := authsec.NewVerifier(authsec.VerifierConfig{Issuer: issuer, Audience: []string{apiAudience}, JWKS: jwks})
	if err != nil {
		return nil, err
	}
	mw, err := authsec.NewMiddleware(verifier, authsec.MiddlewareOptions{
		RequiredScopes: []string{"read:data"},
		Request:        authsec.RequestOptions{RequireCertificateBinding: true},
	})
	if err != nil {
		return nil, err
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := authsec.AcceptedFromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]string{"client": a.Claims.ClientID(), "certificate": a.CertificateThumbprint})
	})), nil
}

// newAgent gets tokens with mutual TLS: the native transport presents the certificate to the token
// endpoint (and trusts the private CA), and the server binds the tokens to it.
func newAgent(tokenURL string, cert, key, ca []byte) (*authsec.ClientCredentials, error) {
	return authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:      tokenURL,
		ClientID:      "example-agent",
		AuthMethod:    "tls_client_auth",
		TLSClientCert: string(cert),
		TLSClientKey:  string(key),
		TLSCACert:     string(ca),
		Scopes:        []string{"read:data"},
	})
}

// [END mtls]

// pki is the example's own CA and the certificates it issues.
type pki struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64
}

func newPKI() *pki {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{caCert: cert, caKey: key, caPEM: pemOf("CERTIFICATE", der), serial: 1}
}

// issue returns a certificate (PEM), its key (PKCS#8 PEM) and the pair for crypto/tls.
func (p *pki) issue(cn string, usage x509.ExtKeyUsage, ip net.IP) (certPEM, keyPEM []byte, pair tls.Certificate) {
	p.serial++
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		log.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM, keyPEM = pemOf("CERTIFICATE", der), pemOf("PRIVATE KEY", pkcs8)
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	return certPEM, keyPEM, pair
}

func pemOf(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// cnf is the token's cnf claim (read without verifying: for the printout only).
func cnf(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	json.Unmarshal(payload, &claims)
	b, _ := json.Marshal(claims.Cnf)
	return string(b)
}

func get(client *http.Client, url, token string) string {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

func main() {
	_, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := newPKI()
	dir, err := os.MkdirTemp("", "authsec-mtls-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	serverCert, serverKey, serverPair := p.issue("127.0.0.1", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	agentCert, agentKey, agentPair := p.issue("example-agent", x509.ExtKeyUsageClientAuth, nil)
	_, _, thiefPair := p.issue("someone-else", x509.ExtKeyUsageClientAuth, nil)
	for name, data := range map[string][]byte{"server.pem": serverCert, "server.key": serverKey, "ca.pem": p.caPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			log.Fatal(err)
		}
	}

	server, err := authsectest.Start(authsectest.Options{
		Clients: []map[string]any{{
			"client_id": "example-agent", "allowed_scopes": []string{"read:data"}, "audiences": []string{apiAudience},
			"token_endpoint_auth_method":                 "tls_client_auth",
			"tls_client_auth_subject_dn":                 "CN=example-agent",
			"tls_client_certificate_bound_access_tokens": true,
		}},
		Audience: apiAudience,
		Config: map[string]any{"tls": map[string]any{
			"cert_file": filepath.Join(dir, "server.pem"), "key_file": filepath.Join(dir, "server.key"),
			"client_ca_file": filepath.Join(dir, "ca.pem"),
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	fmt.Printf("authorization server: %s (local, in-process)\n", server.Issuer)

	roots := x509.NewCertPool()
	roots.AddCert(p.caCert)
	// The API's key set, read over HTTPS from the issuer (its CA is the example's).
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := https.Get(server.JWKSURI)
	if err != nil {
		log.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	handler, err := newAPI(server.Issuer, string(jwks))
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewUnstartedServer(handler)
	api.TLS = &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientCAs: roots, ClientAuth: tls.VerifyClientCertIfGiven}
	api.StartTLS()
	defer api.Close()

	agent, err := newAgent(server.TokenEndpoint, agentCert, agentKey, p.caPEM)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	token, err := agent.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token: %s, bound to %s\n", token.TokenType, cnf(token.AccessToken))
	with := func(pair *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: roots}
		if pair != nil {
			cfg.Certificates = []tls.Certificate{*pair}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	url := api.URL + "/data"
	fmt.Printf("agent, its certificate: %s\n", get(with(&agentPair), url, token.AccessToken))
	fmt.Printf("stolen token, another certificate: %s\n", get(with(&thiefPair), url, token.AccessToken))
	fmt.Printf("stolen token, no certificate: %s\n", get(with(nil), url, token.AccessToken))
	fmt.Println("done: mtls")
}
