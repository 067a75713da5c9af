package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/earshot-dev/earshot/intake/corpus"
)

// TestCorpus verifies every real-world mail of the shared corpora against a
// DNS that knows no key and no DMARC record, and against a trusted server
// that none of them names: nothing may panic or fail with an error, and
// nothing may verify. It logs how many carry DKIM signatures and how many
// verify (none: the stub has no real keys).
func TestCorpus(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(corpus.IndexFile(shared)); err != nil {
		t.Skipf("shared corpora not found at %s (%v): the corpus test needs the shared folder beside the repository", shared, err)
	}
	files, err := corpus.Files(shared)
	if err != nil {
		t.Fatal(err)
	}
	own := newVerifier(t, Options{Resolver: newStubDNS()})
	server := newVerifier(t, Options{TrustedAuthServIDs: []string{"mx.earshot.test"}, Resolver: newStubDNS()})
	var signed, sigs, verified, spam, noFrom int
	reasons := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(shared, f)
		for _, v := range []*Verifier{own, server} {
			res, err := verifyNoPanic(t, v, rel, raw)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				continue
			}
			if res.Verified {
				verified++
				t.Errorf("%s: verified against a DNS without keys: %q", rel, res.Reason)
			}
			if v == own {
				if len(res.Signatures) > 0 {
					signed++
					sigs += len(res.Signatures)
				}
				if res.From == "" {
					noFrom++
				}
				if res.Spam {
					spam++
				}
				reasons[firstWords(res.Reason)]++
			}
		}
	}
	t.Logf("%d messages: %d carry DKIM signatures (%d signatures), %d verify against the stub DNS, %d without a single From address, %d marked spam", len(files), signed, sigs, verified, noFrom, spam)
	t.Logf("reasons: %v", reasons)
	if len(files) > 0 && signed == 0 {
		t.Error("no DKIM signature found in the whole corpus: signatures are not being read")
	}
}

// verifyNoPanic runs Verify, turning a panic into a test failure; an error
// other than a temporary verdict is returned as is.
func verifyNoPanic(t *testing.T, v *Verifier, name string, raw []byte) (res *Result, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s: panic: %v", name, p)
			res, err = &Result{}, nil
		}
	}()
	res, err = v.Verify(context.Background(), raw)
	if errors.Is(err, ErrTemporary) {
		return res, nil
	}
	return res, err
}

// firstWords returns the kind of a reason: its text up to the first colon
// or parenthesis.
func firstWords(reason string) string {
	for i, c := range reason {
		if c == ':' || c == '(' {
			return reason[:i]
		}
	}
	return reason
}
