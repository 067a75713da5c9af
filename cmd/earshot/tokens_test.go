package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/store"
)

// earshot tokens create prints a token once and stores only its hash;
// list shows it, revoke ends it.
func TestTokensCommand(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "earshot.db")
	cfg := writeConfig(t, "database: sqlite:"+db+"\n")
	s, err := store.Open(ctx, "sqlite:"+db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdTokens(ctx, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
		return out.String(), err
	}
	tok, err := run("create", "jira", "-scope", "write", "-c", cfg)
	tok = strings.TrimSpace(tok)
	if err != nil || !strings.HasPrefix(tok, "est_") {
		t.Fatalf("create = %q, %v", tok, err)
	}
	got, err := s.APITokenBySecret(ctx, tok)
	if err != nil || got.Name != "jira" || got.Scope != "write" {
		t.Fatalf("stored token = %+v, %v", got, err)
	}
	var hashes []string
	s.DB().Select(&hashes, `select token_hash from api_tokens`)
	if len(hashes) != 1 || strings.Contains(hashes[0], tok) || hashes[0] != store.HashToken(tok) {
		t.Errorf("stored %v; want only the token's hash", hashes)
	}
	if _, err := run("-c", cfg, "create", "jira"); err == nil {
		t.Error("a second token named jira")
	}
	if _, err := run("-c", cfg, "create", "x", "-scope", "admin"); err == nil {
		t.Error("scope admin accepted")
	}
	if out, err := run("-c", cfg, "list"); err != nil || !strings.Contains(out, "jira  write") {
		t.Errorf("list = %q, %v", out, err)
	}
	if _, err := run("-c", cfg, "revoke", "jira"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APITokenBySecret(ctx, tok); err == nil {
		t.Error("a revoked token still works")
	}
}
