package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// runTriage runs `earshot triage` in-process, as runCmd runs the CLI,
// and returns its exit code and output.
func runTriage(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := cmdTriage(context.Background(), e, args)
	code := 0
	var ue usageError
	var ce configError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue), errors.As(err, &ce):
		code = 2
	default:
		code = 1
	}
	if err != nil {
		fmt.Fprintf(&errb, "earshot triage: %v\n", err)
	}
	return code, out.String(), errb.String()
}

// triageStore is a migrated SQLite database with items routed to owners,
// and the config file naming it.
func triageStore(t *testing.T) (string, []int64) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "earshot.db")
	cfg := writeConfig(t, "database: sqlite:"+db+"\nowners: [{name: ci-lead, email: ci@example.test}, {name: product-ops, email: ops@example.test}]\nroute: {owner: product-ops}\n")
	s, err := store.Open(ctx, "sqlite:"+db, &store.Options{Now: func() time.Time { return time.Now().Add(-30 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureSource(ctx, "intel", "imap"); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, owners := range [][]string{{"ci-lead", "product-ops"}, {"ci-lead"}} {
		if _, err := s.Receive(ctx, model.Batch{Source: "intel", Items: []model.RawItem{{SourceKey: fmt.Sprint(i),
			Kind: "email", ContentHash: fmt.Sprint("h", i), Raw: []byte("x")}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Claim(ctx, "w", 1, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		p := model.Processed{Subject: fmt.Sprintf("Acme news %d", i)}
		for _, o := range owners {
			p.Assignments = append(p.Assignments, model.Assignment{Owner: o})
		}
		if err := s.Complete(ctx, got[0].ID, "w", p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got[0].ID)
	}
	return cfg, ids
}

func TestTriageCommand(t *testing.T) {
	cfg, ids := triageStore(t)
	a, b := fmt.Sprint(ids[0]), fmt.Sprint(ids[1])
	steps := []struct {
		name   string
		args   []string
		code   int
		out    []string // lines expected in stdout, in order
		stderr string
	}{
		{"list all", []string{"-c", cfg, "-list"}, 0, []string{
			"ITEM  OWNER        AGE  NOTIFIED  REMINDED  SUBJECT",
			a + "     ci-lead      30h  no        no        Acme news 0",
			a + "     product-ops  30h  no        no        Acme news 0",
			b + "     ci-lead      30h  no        no        Acme news 1",
			"3 untriaged"}, ""},
		{"list one owner", []string{"-c", cfg, "-list", "-owner", "product-ops"}, 0, []string{
			a + "     product-ops  30h", "1 untriaged"}, ""},
		{"no ids", []string{"-c", cfg}, 2, nil, "want: earshot triage"},
		{"not a number", []string{"-c", cfg, "-by", "kim", "x1"}, 2, nil, `item id "x1" is not a number`},
		{"without -by nor $USER", []string{"-c", cfg, a}, 2, nil, "-by is required"},
		{"one owner of an item, flags after the id", []string{"-c", cfg, a, "-owner", "ci-lead", "-by", "kim"}, 0,
			[]string{"item " + a + ": triaged for ci-lead by kim"}, ""},
		{"every owner of several items", []string{"-c", cfg, "-by", "lee", a, b, "999"}, 0, []string{
			"item " + a + ": triaged for product-ops by lee",
			"item " + b + ": triaged for ci-lead by lee"}, "item 999: nothing to triage"},
		{"nothing left", []string{"-c", cfg, "-by", "lee", a}, 1, nil, "nothing was triaged"},
		{"list empty", []string{"-c", cfg, "-list"}, 0, []string{"0 untriaged"}, ""},
	}
	for _, st := range steps {
		code, out, stderr := runTriage(t, st.args...)
		if code != st.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", st.name, code, st.code, stderr)
		}
		rest := out
		for _, w := range st.out {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: output lacks %q (in order):\n%s", st.name, w, out)
				break
			}
			rest = rest[i+len(w):]
		}
		if !strings.Contains(stderr, st.stderr) {
			t.Errorf("%s: stderr %q lacks %q", st.name, stderr, st.stderr)
		}
	}
}
