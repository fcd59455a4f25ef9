package authsec

import (
	"context"

	"golang.org/x/oauth2"
)

type tokenSource struct {
	c   *ClientCredentials
	ctx context.Context
}

func (s tokenSource) Token() (*oauth2.Token, error) {
	t, err := s.c.Token(s.ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
}

// TokenSource is an oauth2.TokenSource over the client's cache (so oauth2.NewClient works).
// ctx (optional, as in clientcredentials.Config.TokenSource(ctx)) bounds and cancels each token
// request; without it they use context.Background(). Do not wrap it in
// oauth2.ReuseTokenSource: the core already caches and refreshes.
//
// It serves Bearer tokens only in practice: an oauth2.TokenSource hands out tokens, it cannot sign
// a DPoP proof for each request, so a DPoP client's tokens sent by oauth2.Transport are refused by
// the resource (a DPoP-bound token without its proof). With ClientConfig.DPoP use the client's own
// RoundTripper (HTTPClient or Transport), which adds a fresh proof to every attempt and follows the
// resource's DPoP nonce; it also asks the core about a 401, which oauth2.Transport does not.
func (c *ClientCredentials) TokenSource(ctx ...context.Context) oauth2.TokenSource {
	s := tokenSource{c: c, ctx: context.Background()}
	if len(ctx) > 0 && ctx[0] != nil {
		s.ctx = ctx[0]
	}
	return s
}
