package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
)

func newClock() *testenv.Clock { return testenv.NewClock(time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)) }

func TestCacheHitAndTTL(t *testing.T) {
	clock := newClock()
	dns := newStubDNS().set("sel._domainkey.example.com", "v=DKIM1; p=abc")
	c := NewCache(dns, CacheOptions{TTL: time.Minute, Now: clock.Now})
	ctx := context.Background()
	for i := range 3 {
		txts, err := c.LookupTXT(ctx, "sel._domainkey.example.com")
		if err != nil || len(txts) != 1 || txts[0] != "v=DKIM1; p=abc" {
			t.Fatalf("lookup %d: %q, %v", i, txts, err)
		}
		txts[0] = "changed by the caller"
	}
	if _, err := c.LookupTXT(ctx, "SEL._domainkey.Example.COM."); err != nil {
		t.Fatal(err)
	}
	if n := dns.count("sel._domainkey.example.com"); n != 1 {
		t.Errorf("%d lookups within the TTL, want 1", n)
	}
	clock.Add(time.Minute)
	if txts, _ := c.LookupTXT(ctx, "sel._domainkey.example.com"); len(txts) != 1 || txts[0] != "v=DKIM1; p=abc" {
		t.Errorf("after the TTL: %q", txts)
	}
	if n := dns.count("sel._domainkey.example.com"); n != 2 {
		t.Errorf("%d lookups after the TTL ran out, want 2", n)
	}
}

func TestCacheNotFoundAndFailures(t *testing.T) {
	clock := newClock()
	dns := newStubDNS().failWith("_dmarc.slow.example", timeoutErr)
	c := NewCache(dns, CacheOptions{NegativeTTL: 30 * time.Second, Now: clock.Now})
	ctx := context.Background()
	for range 2 {
		if _, err := c.LookupTXT(ctx, "_dmarc.none.example"); !isNotFound(err) {
			t.Fatalf("want not found, got %v", err)
		}
		if _, err := c.LookupTXT(ctx, "_dmarc.slow.example"); err == nil || isNotFound(err) {
			t.Fatalf("want the timeout, got %v", err)
		}
	}
	if n := dns.count("_dmarc.none.example"); n != 1 {
		t.Errorf("not found asked %d times, want 1 (kept)", n)
	}
	if n := dns.count("_dmarc.slow.example"); n != 2 {
		t.Errorf("timeout asked %d times, want 2 (never kept)", n)
	}
	clock.Add(30 * time.Second)
	c.LookupTXT(ctx, "_dmarc.none.example")
	if n := dns.count("_dmarc.none.example"); n != 2 {
		t.Errorf("not found asked %d times after its TTL, want 2", n)
	}
}

func TestCacheSizeBound(t *testing.T) {
	dns := newStubDNS()
	c := NewCache(dns, CacheOptions{Size: 2})
	ctx := context.Background()
	for _, name := range []string{"a", "b", "a", "c"} { // b is then the least recently used
		c.LookupTXT(ctx, name)
	}
	if n := c.Len(); n != 2 {
		t.Errorf("Len %d, want 2", n)
	}
	c.LookupTXT(ctx, "a")
	c.LookupTXT(ctx, "b")
	if got := [3]int{dns.count("a"), dns.count("b"), dns.count("c")}; got != [3]int{1, 2, 1} {
		t.Errorf("lookups of a, b, c: %v; want [1 2 1] (b pushed out)", got)
	}
}

func TestCacheConcurrent(t *testing.T) {
	dns := newStubDNS()
	for i := range 10 {
		dns.set(fmt.Sprintf("n%d.example", i), fmt.Sprintf("v%d", i))
	}
	c := NewCache(dns, CacheOptions{Size: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := (g + i) % 10
				txts, err := c.LookupTXT(context.Background(), fmt.Sprintf("n%d.example", n))
				if err != nil || len(txts) != 1 || txts[0] != fmt.Sprintf("v%d", n) {
					errs <- fmt.Errorf("n%d: %q, %v", n, txts, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.Len(); n > 5 {
		t.Errorf("Len %d beyond the bound 5", n)
	}
}

func TestVerifyCachesLookups(t *testing.T) {
	dns := newStubDNS()
	with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject"))(dns)
	v := newVerifier(t, Options{Resolver: NewCache(dns, CacheOptions{})})
	m := signedBy("rep@example.com", "example.com", rsaKey)(t)
	for range 3 {
		res, err := v.Verify(context.Background(), m)
		if err != nil || !res.Verified {
			t.Fatalf("Verify: %+v, %v", res, err)
		}
	}
	if a, b := dns.count("rsa2048._domainkey.example.com"), dns.count("_dmarc.example.com"); a != 1 || b != 0 {
		t.Errorf("key looked up %d times, DMARC record %d times; want once and never (signed by the From domain itself)", a, b)
	}
	// A subdomain's signature depends on the record's alignment mode: it is
	// looked up, once.
	with(publishAll("mail.example.com"))(dns)
	sub := signedBy("rep@example.com", "mail.example.com", rsaKey)(t)
	for range 3 {
		res, err := v.Verify(context.Background(), sub)
		if err != nil || !res.Verified {
			t.Fatalf("Verify: %+v, %v", res, err)
		}
	}
	if n := dns.count("_dmarc.example.com"); n != 1 {
		t.Errorf("DMARC record looked up %d times for a subdomain's signatures, want once", n)
	}
}
