package imap

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// tokenSource obtains XOAUTH2 access tokens from a refresh token. It keeps
// the current access token between connections and the newest refresh
// token the endpoint handed out (some providers rotate them).
type tokenSource struct {
	cfg    oauth2.Config
	client *http.Client

	mu      sync.Mutex
	refresh string
	current *oauth2.Token
}

func newTokenSource(o OAuth2Config, client *http.Client) *tokenSource {
	return &tokenSource{
		cfg: oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: o.TokenURL},
			Scopes:       o.Scopes,
		},
		client:  client,
		refresh: o.RefreshToken,
	}
}

// token returns a valid access token, refreshing it when it expired or
// when fresh is set (the server rejected the previous one). It reports
// whether the token was refreshed by this call.
func (t *tokenSource) token(ctx context.Context, fresh bool) (string, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fresh && t.current.Valid() {
		return t.current.AccessToken, false, nil
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.client)
	tok, err := t.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh}).Token()
	if err != nil {
		t.current = nil
		return "", false, classifyToken(fmt.Errorf("refresh oauth2 token: %w", err))
	}
	if tok.RefreshToken != "" {
		t.refresh = tok.RefreshToken
	}
	t.current = tok
	return tok.AccessToken, true, nil
}

// xoauth2 is the SASL XOAUTH2 client of Gmail and Microsoft 365.
type xoauth2 struct {
	user, token string
}

// Start sends the user and bearer token as the initial response.
func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's JSON error challenge with an empty response,
// after which the server ends the exchange with NO.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
