// Command delegation: an orchestrator agent hands a task to a sub-agent, which hands it on to a
// tool.
//
//	go run ./delegation
//
// No agent forwards the token it was given. Each one trades it for a token of its own (RFC 8693
// token exchange) that acts for the same subject with at most the same rights, so the last token
// says who is acting for whom: claims.Delegation(). The local authorization server (package
// authsectest, in-process on 127.0.0.1) knows the three clients: the role planner gives them their
// scopes, and each client's may_act names the only client that may exchange its tokens.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

const (
	subAgentAPI   = "https://sub-agent.example.test"
	toolAPI       = "https://tool.example.test"
	tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// agent is a client of the local server with a random secret and the role planner.
func agent(clientID string, settings map[string]any) map[string]any {
	c := map[string]any{"client_id": clientID, "client_secret": rand.Text(), "roles": []string{"planner"}}
	maps.Copy(c, settings)
	return c
}

var clients = []map[string]any{
	agent("orchestrator", map[string]any{"audiences": []string{subAgentAPI, toolAPI}, "may_act": []string{"sub-agent"}}),
	agent("sub-agent", map[string]any{"audiences": []string{toolAPI}, "grant_types": []string{tokenExchange}, "may_act": []string{"tool"}}),
	agent("tool", map[string]any{"audiences": []string{toolAPI}, "grant_types": []string{tokenExchange}}),
}

var roles = map[string]any{"planner": map[string]any{"scopes": []string{"tasks:read", "tasks:write", "reports:read"}}}

// show verifies token and prints who it is for and who acts in it.
func show(ctx context.Context, verifier *authsec.Verifier, who, token string) {
	claims, err := verifier.Verify(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	var aud []string
	switch a := claims.Map()["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, s := range a {
			aud = append(aud, fmt.Sprint(s))
		}
	}
	var chain []string
	for _, actor := range claims.Delegation() { // current actor first
		chain = append(chain, actor.ID())
	}
	if chain == nil {
		chain = []string{"none"}
	}
	scopes := slices.Sorted(slices.Values(claims.Scopes()))
	fmt.Printf("%s: token for %s, scopes %s, subject %s, acting %s\n",
		who, strings.Join(aud, " "), strings.Join(scopes, " "), claims.Subject(), strings.Join(chain, " <- "))
}

// [START delegation]
func delegate(ctx context.Context, orchestrator, subAgent, tool *authsec.ClientCredentials, verifier *authsec.Verifier) error {
	// The orchestrator calls the sub-agent with its own token.
	task, err := orchestrator.Token(ctx)
	if err != nil {
		return err
	}
	show(ctx, verifier, "orchestrator", task.AccessToken)

	// The sub-agent calls the tool: a token for the tool's API only, with fewer scopes.
	forTool, err := subAgent.DownstreamToken(ctx, task.AccessToken,
		authsec.Downstream{Audience: toolAPI, Scopes: []string{"tasks:read", "tasks:write"}})
	if err != nil {
		return err
	}
	show(ctx, verifier, "sub-agent", forTool.AccessToken)

	// The tool works on the task with a token of its own that needs only tasks:read.
	own, err := tool.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: forTool.AccessToken, Scopes: []string{"tasks:read"}})
	if err != nil {
		return err
	}
	show(ctx, verifier, "tool", own.AccessToken)

	// An exchange can only narrow: reports:read is not in the sub-agent's token.
	_, err = tool.ExchangeToken(ctx, authsec.ExchangeRequest{SubjectToken: forTool.AccessToken, Scopes: []string{"reports:read"}})
	var refused *authsec.Error
	if !errors.As(err, &refused) || refused.Code != authsec.CodeInvalidScope {
		return fmt.Errorf("expected invalid_scope, got %v", err)
	}
	fmt.Printf("refused: the tool asks for reports:read -> %s: %s\n", refused.Code, refused.Message)
	return nil
}

// [END delegation]

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server, err := authsectest.Start(authsectest.Options{Clients: clients, Audience: subAgentAPI, Config: map[string]any{"roles": roles}})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	fmt.Printf("authorization server: %s (local, in-process)\n", server.Issuer)
	client := func(cfg authsec.ClientConfig) *authsec.ClientCredentials {
		c, err := server.Client(cfg) // TokenURL and the client's secret filled in
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	orchestrator := client(authsec.ClientConfig{ClientID: "orchestrator", Audience: subAgentAPI, Resource: []string{toolAPI}})
	defer orchestrator.Close()
	subAgent := client(authsec.ClientConfig{ClientID: "sub-agent"})
	defer subAgent.Close()
	tool := client(authsec.ClientConfig{ClientID: "tool"})
	defer tool.Close()
	// One verifier for both APIs (each would verify its own audience).
	verifier, err := server.Verifier(authsec.VerifierConfig{Audience: []string{subAgentAPI, toolAPI}})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()
	if err := delegate(ctx, orchestrator, subAgent, tool, verifier); err != nil {
		log.Fatal(err)
	}
	fmt.Println("done: delegation")
}
