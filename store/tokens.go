package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// APIToken is a bearer token of the JSON API, without its secret.
type APIToken struct {
	ID         int64        `db:"id"`
	Name       string       `db:"name"`
	Scope      string       `db:"scope"`
	CreatedAt  time.Time    `db:"created_at"`
	LastUsedAt sql.NullTime `db:"last_used_at"`
	RevokedAt  sql.NullTime `db:"revoked_at"`
}

// HashToken is how a token is kept: hex SHA-256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateAPIToken stores the hash of token under a unique name.
func (s *Store) CreateAPIToken(ctx context.Context, name, scope, token string) error {
	if scope != "read" && scope != "write" {
		return fmt.Errorf("scope must be read or write, got %q", scope)
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`insert into api_tokens (name, token_hash, scope, created_at) values (?, ?, ?, ?)`),
		name, HashToken(token), scope, ts(s.now()))
	if err := conflict(err); errors.Is(err, ErrConflict) {
		return fmt.Errorf("a token named %q exists already: %w", name, ErrConflict)
	} else if err != nil {
		return fmt.Errorf("create token %s: %w", name, err)
	}
	return nil
}

// APITokenBySecret returns the live token whose secret is token and
// records its use; ErrNotFound for an unknown or revoked one.
func (s *Store) APITokenBySecret(ctx context.Context, token string) (APIToken, error) {
	var t APIToken
	err := s.db.GetContext(ctx, &t, s.rebind(`select id, name, scope, created_at, last_used_at, revoked_at from api_tokens
		where token_hash = ? and revoked_at is null`), HashToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return t, model.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("api token: %w", err)
	}
	now := ts(s.now())
	if !t.LastUsedAt.Valid || now.Sub(t.LastUsedAt.Time) > time.Minute {
		s.db.ExecContext(ctx, s.rebind(`update api_tokens set last_used_at = ? where id = ?`), now, t.ID)
	}
	return t, nil
}

// APITokens lists every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var out []APIToken
	if err := s.db.SelectContext(ctx, &out, `select id, name, scope, created_at, last_used_at, revoked_at from api_tokens order by id desc`); err != nil {
		return nil, fmt.Errorf("api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes the token named name.
func (s *Store) RevokeAPIToken(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`update api_tokens set revoked_at = ? where name = ? and revoked_at is null`), ts(s.now()), name)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("token %s: %w", name, ErrNotFound)
	}
	return nil
}

// ItemIDs pages processed items by id for the API: after afterID, with a
// status (empty for any), an owner (empty for any), at most limit.
func (s *Store) ItemIDs(ctx context.Context, afterID int64, status model.Status, owner string, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`select i.id from items i
		left join item_status st on st.item_id = i.id
		where i.state = 'processed' and i.id > ?
		and (? = '' or coalesce(st.status, case when exists (select 1 from assignments a where a.item_id = i.id
			and a.triaged_at is not null) then 'triaged' else 'new' end) = ?)
		and (? = '' or exists (select 1 from assignments a where a.item_id = i.id and a.owner = ?))
		order by i.id limit ?`), afterID, string(status), string(status), owner, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("item ids: %w", err)
	}
	return ids, nil
}
