package auth

import (
	"context"
	"errors"
	"net"
	"time"
)

// DefaultLookupTimeout bounds one TXT lookup of NetResolver.
const DefaultLookupTimeout = 3 * time.Second

// Resolver looks up the TXT records of a DNS name: DKIM keys and DMARC
// records. It must be safe for concurrent use.
//
// A name without TXT records is reported as (nil, nil) or as a
// *net.DNSError with IsNotFound set, as net.Resolver does. Any other error
// means no answer was had (timeout, SERVFAIL, unreachable server): Verify
// then reports a temporary verdict instead of a failure.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// NetResolver is the Resolver over the system's DNS, each lookup bounded by
// a timeout.
type NetResolver struct {
	// Resolver does the lookups; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Timeout bounds each lookup; zero means DefaultLookupTimeout.
	Timeout time.Duration
}

// LookupTXT looks up the TXT records of name within the timeout.
func (r NetResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	res := r.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return res.LookupTXT(ctx, name)
}

// DefaultResolver returns a NetResolver with the default timeout behind a
// Cache with the default TTLs and size. Share one among the Verifiers of a
// process so that they share its cache.
func DefaultResolver() *Cache {
	return NewCache(NetResolver{}, CacheOptions{})
}

// isNotFound reports whether err says that a name has no TXT records, as
// opposed to a failure to get an answer.
func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// notFound is the error for a name without TXT records.
func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
