package imap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"
)

// tokenEndpoint is an OAuth2 token endpoint that issues token-1, token-2, …
// for one refresh token, or rejects it with invalid_grant.
type tokenEndpoint struct {
	mu       sync.Mutex
	issued   int
	rejected bool
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if e.rejected || r.Form.Get("refresh_token") != "refresh-1" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
		return
	}
	e.issued++
	fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, e.issued)
}

// xoauth2Session adds SASL XOAUTH2 to an in-memory server session; the
// server accepts only the access token in valid.
type xoauth2Session struct {
	imapserver.SessionIMAP4rev2
	valid func() string
}

func (s *xoauth2Session) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *xoauth2Session) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, &goimap.Error{Type: goimap.StatusResponseTypeNo, Text: "unsupported mechanism"}
	}
	return &xoauth2Server{session: s}, nil
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01" and, like Gmail,
// answers a bad token with a JSON challenge before failing.
type xoauth2Server struct {
	session *xoauth2Session
	failed  bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, imapserver.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	parts := bytes.Split(resp, []byte{1})
	if len(parts) != 4 || !bytes.HasPrefix(parts[0], []byte("user=")) || !bytes.HasPrefix(parts[1], []byte("auth=Bearer ")) {
		return nil, true, errors.New("malformed xoauth2 response")
	}
	user := string(bytes.TrimPrefix(parts[0], []byte("user=")))
	token := string(bytes.TrimPrefix(parts[1], []byte("auth=Bearer ")))
	if token != x.session.valid() {
		x.failed = true
		return []byte(`{"status":"401","schemes":"bearer"}`), false, nil
	}
	return nil, true, x.session.Login(user, memPass)
}

func TestXOAUTH2(t *testing.T) {
	endpoint := &tokenEndpoint{}
	tokens := httptest.NewServer(endpoint)
	t.Cleanup(tokens.Close)
	var mu sync.Mutex
	valid := "token-1"
	srv := startMemIMAP(t, nil, func(sess imapserver.Session) imapserver.Session {
		return &xoauth2Session{SessionIMAP4rev2: sess.(imapserver.SessionIMAP4rev2), valid: func() string {
			mu.Lock()
			defer mu.Unlock()
			return valid
		}}
	})
	srv.add(t, "INBOX", message(1), time.Now())
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, "")
	cfg.OAuth2 = OAuth2Config{ClientID: "earshot", ClientSecret: "secret", RefreshToken: "refresh-1",
		TokenURL: tokens.URL + "/token", Scopes: []string{"https://mail.google.com/"}}
	s := newSource(t, st, cfg, nil)
	ctx := context.Background()

	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync with token-1: %+v, %v", res, err)
	}
	// The server revokes token-1: the next connection refreshes once and
	// logs in with token-2.
	mu.Lock()
	valid = "token-2"
	mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	srv.add(t, "INBOX", message(2), time.Now())
	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync after revocation: %+v, %v", res, err)
	}
	endpoint.mu.Lock()
	issued := endpoint.issued
	endpoint.mu.Unlock()
	if issued != 2 {
		t.Fatalf("%d tokens issued, want 2 (one refresh per rejection, none per connection)", issued)
	}
	// A rejected refresh token disables the source.
	endpoint.mu.Lock()
	endpoint.rejected = true
	endpoint.mu.Unlock()
	mu.Lock()
	valid = "token-3"
	mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.SyncOnce(ctx)
	if !IsPermanent(err) || s.Status().DisabledReason != "oauth2 refresh token or client rejected" {
		t.Fatalf("sync with a revoked refresh token: %v, status %+v; want disabled", err, s.Status())
	}
}

func TestXOAUTH2Start(t *testing.T) {
	mech, ir, err := (&xoauth2{user: "intel@example.com", token: "ya29.abc"}).Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=intel@example.com\x01auth=Bearer ya29.abc\x01\x01" {
		t.Fatalf("start: %q %q %v", mech, ir, err)
	}
	// The token endpoint's answer is parsed by golang.org/x/oauth2; check the
	// error classification on a real response.
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable"})
	}))
	t.Cleanup(endpoint.Close)
	ts := newTokenSource(OAuth2Config{ClientID: "c", RefreshToken: "r", TokenURL: endpoint.URL}, endpoint.Client())
	if _, _, err := ts.token(context.Background(), false); err == nil || IsPermanent(err) {
		t.Fatalf("503 from the token endpoint: %v, want a transient error", err)
	}
}
