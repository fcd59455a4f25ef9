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
// Do not wrap it in oauth2.ReuseTokenSource: the core already caches and refreshes.
func (c *ClientCredentials) TokenSource() oauth2.TokenSource {
	return tokenSource{c: c, ctx: context.Background()}
}
