package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// stubDNS is a Resolver that answers from a map and counts the lookups of
// each name. Names without records are not found; names in fail get their
// error.
type stubDNS struct {
	mu      sync.Mutex
	records map[string][]string
	fail    map[string]error
	lookups map[string]int
}

func newStubDNS() *stubDNS {
	return &stubDNS{records: map[string][]string{}, fail: map[string]error{}, lookups: map[string]int{}}
}

// set publishes the TXT records of name.
func (s *stubDNS) set(name string, txts ...string) *stubDNS {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = txts
	return s
}

// failWith makes the lookups of name fail with err.
func (s *stubDNS) failWith(name string, err error) *stubDNS {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[name] = err
	return s
}

// publish publishes key under its selector at domain.
func (s *stubDNS) publish(domain string, key testKey) *stubDNS {
	return s.set(key.selector+"._domainkey."+domain, key.record)
}

func (s *stubDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups[name]++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err, ok := s.fail[name]; ok {
		return nil, err
	}
	txts, ok := s.records[name]
	if !ok {
		return nil, notFound(name)
	}
	return append([]string(nil), txts...), nil
}

// count returns how many times name was looked up.
func (s *stubDNS) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[name]
}

// total returns how many lookups were made.
func (s *stubDNS) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.lookups {
		n += c
	}
	return n
}

// testKey is a DKIM key pair and the TXT record that publishes it.
type testKey struct {
	selector string
	signer   crypto.Signer
	record   string
}

// rsaKey is one 2048-bit RSA key for the whole test binary: generating it
// takes a moment.
var rsaKey = sync.OnceValue(func() testKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		panic(err)
	}
	return testKey{selector: "rsa2048", signer: priv, record: "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)}
})

// ed25519Key returns an Ed25519 key (RFC 8463) made from a fixed seed.
func ed25519Key() testKey {
	seed := sha256.Sum256([]byte("earshot test key"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	return testKey{selector: "ed", signer: priv, record: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

// signedHeaders are the header fields the test signatures cover.
var signedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID"}

// signOpts describes one DKIM signature to add.
type signOpts struct {
	domain  string
	key     testKey
	simple  bool      // simple/simple canonicalization instead of relaxed/relaxed
	expires time.Time // x=, zero for none
}

// sign returns msg with a DKIM-Signature field added on top.
func sign(tb testing.TB, msg []byte, o signOpts) []byte {
	tb.Helper()
	can := dkim.Canonicalization(dkim.CanonicalizationRelaxed)
	if o.simple {
		can = dkim.CanonicalizationSimple
	}
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 o.domain,
		Selector:               o.key.selector,
		Signer:                 o.key.signer,
		HeaderCanonicalization: can,
		BodyCanonicalization:   can,
		HeaderKeys:             signedHeaders,
		Expiration:             o.expires,
	})
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return out.Bytes()
}

// message returns a small plain text mail from from, with CRLF line endings.
func message(from, subject, body string) []byte {
	return crlf(fmt.Sprintf("From: %s\nTo: feedback@earshot.test\nSubject: %s\nDate: Mon, 3 Mar 2025 10:00:00 +0000\nMessage-ID: <1@earshot.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s", from, subject, body))
}

// crlf returns s with every LF turned into CRLF.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// lf returns b with every CRLF turned into LF.
func lf(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// prepend returns msg with header lines (LF-separated, turned into CRLF)
// added on top.
func prepend(lines string, msg []byte) []byte {
	return append(crlf(lines), msg...)
}

// newVerifier returns a Verifier over dns, failing the test on error.
func newVerifier(tb testing.TB, opts Options) *Verifier {
	tb.Helper()
	v, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
