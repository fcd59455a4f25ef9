// Command management registers an AI agent, rotates its secret and reads the audit log.
//
//	go run ./management
//
// manage is an operator's program against the management API (/admin) of an authsec server: the
// server's bootstrap admin token registers a management client once, and from then on the
// management client's own credentials are used (the admin token is refused once one exists).
// main starts the local authorization server with an admin token, so that there is something to
// manage.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

// code is an error's authsec code name ("" for another error).
func code(err error) string {
	var e *authsec.Error
	if errors.As(err, &e) {
		return e.Code.String()
	}
	return ""
}

func manage(ctx context.Context, baseURL, adminToken string) error {
	// Once per server: the bootstrap admin token registers a management client.
	bootstrap, err := authsec.NewManagement(authsec.ManagementConfig{BaseURL: baseURL, AdminToken: adminToken})
	if err != nil {
		return err
	}
	defer bootstrap.Close()
	ops, err := bootstrap.Clients.Create(ctx, authsec.ClientSpec{
		ClientID:      "ops-admin",
		AllowedScopes: []string{"clients:read", "clients:write", "logs:read"},
	})
	if err != nil {
		return err
	}
	fmt.Printf("bootstrap: management client %s created with the admin token\n", ops.ClientID)
	_, err = bootstrap.Clients.Get(ctx, "ops-admin")
	fmt.Printf("admin token after bootstrap: %s\n", code(err))

	// [START management]
	m, err := authsec.NewManagement(authsec.ManagementConfig{
		BaseURL:      baseURL, // or Domain: "auth.example.com"
		ClientID:     ops.ClientID,
		ClientSecret: ops.ClientSecret,
	})
	if err != nil {
		return err
	}
	defer m.Close()

	// Register an AI agent; the server generates its secret (shown only in this answer).
	agent, err := m.Clients.Create(ctx, authsec.ClientSpec{
		Name:          "Research agent",
		Type:          "ai_agent",
		AllowedScopes: []string{"read:data"},
		RateLimits:    &authsec.RateLimits{RequestsPerMinute: 60},
	})
	if err != nil {
		return err
	}
	fmt.Printf("registered %s %s (secret %s, %d requests per minute)\n", agent.Type, agent.ClientID, agent.SecretID, agent.RateLimits.RequestsPerMinute)

	// Rotate its secret: the old one keeps working for an hour, then revoke it.
	rotated, err := m.Clients.RotateSecret(ctx, agent.ClientID, authsec.RotateOptions{Overlap: time.Hour})
	if err != nil {
		return err
	}
	fmt.Printf("rotated: new secret %s, the old one works for %.0f s more\n", rotated.SecretID, time.Until(rotated.OldSecretsExpireAt).Seconds())
	// ... deploy rotated.ClientSecret to the agent, then:
	if _, err := m.Clients.RevokeSecret(ctx, agent.ClientID, agent.SecretID); err != nil {
		return err
	}

	// An agent still using the revoked secret is refused, and the audit log shows it.
	stale, err := authsec.NewClientCredentials(authsec.ClientConfig{TokenURL: baseURL + "/oauth/token", ClientID: agent.ClientID, ClientSecret: agent.ClientSecret})
	if err != nil {
		return err
	}
	defer stale.Close()
	_, err = stale.Token(ctx)
	fmt.Printf("old secret after revoking: %s\n", code(err))
	for event, err := range m.Logs.List(ctx, authsec.LogQuery{ClientID: agent.ClientID, Outcome: "failure"}) {
		if err != nil {
			return err
		}
		fmt.Printf("failed authentication: %s by %s at %s\n", event.Event, event.ClientID, event.Time.UTC().Format(time.RFC3339))
	}
	// [END management]

	fresh, err := authsec.NewClientCredentials(authsec.ClientConfig{TokenURL: baseURL + "/oauth/token", ClientID: agent.ClientID, ClientSecret: rotated.ClientSecret})
	if err != nil {
		return err
	}
	defer fresh.Close()
	token, err := fresh.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("new secret: token %s, scopes %s\n", token.TokenType, strings.Join(token.Scopes, " "))
	return nil
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	adminToken := base64.RawURLEncoding.EncodeToString(b)
	server, err := authsectest.Start(authsectest.Options{AdminToken: adminToken})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("authorization server: %s (local, in-process)\n", server.Issuer)
	err = manage(ctx, server.Issuer, adminToken)
	server.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("done: management")
}
