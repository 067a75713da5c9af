package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// WebSession is a signed-in dashboard user.
type WebSession struct {
	// TokenHash is the SHA-256 of the cookie's token, hex-encoded.
	TokenHash string `db:"token_hash"`
	Username  string `db:"username"`
	// CSRFToken is the session's form token.
	CSRFToken string `db:"csrf_token"`
	// Via is "password" or "header" (a trusted SSO proxy).
	Via       string    `db:"via"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateSession stores a session and deletes expired ones.
func (s *Store) CreateSession(ctx context.Context, w WebSession) error {
	now := ts(s.now())
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rebind(`delete from web_sessions where expires_at < ?`), now); err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`insert into web_sessions
			(token_hash, username, csrf_token, via, created_at, expires_at) values (?, ?, ?, ?, ?, ?)`),
			w.TokenHash, w.Username, w.CSRFToken, w.Via, now, ts(w.ExpiresAt)); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return nil
	})
}

// Session returns the unexpired session with the token hash.
func (s *Store) Session(ctx context.Context, tokenHash string) (WebSession, error) {
	var w WebSession
	err := s.db.GetContext(ctx, &w, s.rebind(`select token_hash, username, csrf_token, via, created_at, expires_at
		from web_sessions where token_hash = ? and expires_at > ?`), tokenHash, ts(s.now()))
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("session: %w", err)
	}
	return w, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`delete from web_sessions where token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
