package auth

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// unansweringResolver is a net.Resolver whose DNS server never answers; it
// touches no network.
func unansweringResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
}

func TestNetResolverTimeout(t *testing.T) {
	r := NetResolver{Resolver: unansweringResolver(), Timeout: 20 * time.Millisecond}
	start := time.Now()
	_, err := r.LookupTXT(context.Background(), "sel._domainkey.example.com")
	// The resolver's own timeouts (resolv.conf) are seconds long: returning
	// well within one proves the per-lookup timeout ended the lookup.
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("lookup took %v with a 20ms timeout", elapsed)
	}
	if err == nil || isNotFound(err) {
		t.Fatalf("err %v, want a failure to get an answer", err)
	}
}

func TestVerifyDNSTimeoutIsTemporary(t *testing.T) {
	v := newVerifier(t, Options{Resolver: NetResolver{Resolver: unansweringResolver(), Timeout: 20 * time.Millisecond}})
	res, err := v.Verify(context.Background(), signedBy("rep@example.com", "example.com", rsaKey)(t))
	if !errors.Is(err, ErrTemporary) || !res.Temporary || res.Verified {
		t.Fatalf("Verify: %+v, %v; want a temporary verdict", res, err)
	}
	if got := res.Signatures; len(got) != 1 || got[0].Result != "temperror" {
		t.Errorf("signatures %+v, want one temperror", got)
	}
}
