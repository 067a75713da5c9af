package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/earshot-dev/earshot/store"
)

// Sessions live in the database (table web_sessions): replicas behind a
// load balancer share them and a restart keeps managers signed in. The
// cookie carries a random token; the table keeps only its SHA-256, so a
// copy of the database signs nobody in.

// sessionCookie names the session cookie.
const sessionCookie = "earshot_session"

// Session origins.
const (
	viaPassword = "password"
	viaHeader   = "header"
)

// viewer is the signed-in user of a request.
type viewer struct {
	Name string
	// CSRF is the session's token that every form posts back.
	CSRF string
	// tokenHash identifies the session in the store.
	tokenHash string
}

// identify returns the request's user, or nil when nobody is signed in.
// A trusted SSO proxy's header wins over the cookie; its user gets a
// session too, for the CSRF token.
func (d *Dashboard) identify(w http.ResponseWriter, r *http.Request) (*viewer, error) {
	sess, err := d.cookieSession(r)
	if err != nil {
		return nil, err
	}
	if name := d.headerUser(r); name != "" {
		if sess != nil && sess.Via == viaHeader && sess.Username == name {
			return sessionViewer(sess), nil
		}
		return d.startSession(r.Context(), w, r, name, viaHeader)
	}
	if sess == nil || sess.Via != viaPassword {
		// A header session is void without its header.
		return nil, nil
	}
	if _, ok := d.users[sess.Username]; !ok {
		// The user was removed from the configuration.
		return nil, nil
	}
	return sessionViewer(sess), nil
}

func sessionViewer(s *store.WebSession) *viewer {
	return &viewer{Name: s.Username, CSRF: s.CSRFToken, tokenHash: s.TokenHash}
}

// cookieSession returns the session named by the request's cookie, or nil.
func (d *Dashboard) cookieSession(r *http.Request) (*store.WebSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	s, err := d.store.Session(r.Context(), hashToken(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// startSession signs name in: a new session row and its cookie.
func (d *Dashboard) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, name, via string) (*viewer, error) {
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	csrf, err := randomToken()
	if err != nil {
		return nil, err
	}
	s := store.WebSession{TokenHash: hashToken(token), Username: name, CSRFToken: csrf, Via: via,
		ExpiresAt: d.now().Add(d.ttl)}
	if err := d.store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	http.SetCookie(w, d.cookie(r, sessionCookie, token, "/", int(d.ttl/time.Second)))
	return sessionViewer(&s), nil
}

// endSession deletes the session and its cookie.
func (d *Dashboard) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request, v *viewer) error {
	http.SetCookie(w, d.cookie(r, sessionCookie, "", "/", -1))
	return d.store.DeleteSession(ctx, v.tokenHash)
}

// cookie builds a dashboard cookie: HttpOnly, SameSite=Lax, Secure under
// TLS or when the public URL is https. A negative maxAge deletes it.
func (d *Dashboard) cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: d.secureCookies || r.TLS != nil}
}

// randomToken returns 32 random bytes, URL-safe base64.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashToken is how a session token is stored.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
