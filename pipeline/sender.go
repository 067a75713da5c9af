package pipeline

import (
	"context"
	"net"
	"strings"
	"sync"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake/auth"
)

// authCheck is the SenderCheck of a running daemon: intake/auth's DKIM and
// DMARC verification, one Verifier per mailbox policy, all sharing one
// cached resolver.
type authCheck struct {
	resolver auth.Resolver

	mu        sync.Mutex
	verifiers map[string]*auth.Verifier
}

// NewSenderCheck returns the sender verification of a validated
// configuration's dns settings: the system's resolver, or dns.resolver,
// each lookup bounded by dns.timeout, answers cached by their TTL.
func NewSenderCheck(c config.DNS) SenderCheck {
	r := auth.NetResolver{Timeout: c.Timeout}
	if c.Resolver != "" {
		server := c.Resolver
		r.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	return &authCheck{resolver: auth.NewCache(r, auth.CacheOptions{}), verifiers: map[string]*auth.Verifier{}}
}

// Check verifies raw's sender under p. The error is temporary: a lookup
// the verdict depends on got no answer.
func (a *authCheck) Check(ctx context.Context, raw []byte, p SenderPolicy) (SenderVerdict, error) {
	v, err := a.verifier(p)
	if err != nil {
		return SenderVerdict{}, err
	}
	res, err := v.Verify(ctx, raw)
	if err != nil {
		return SenderVerdict{}, err
	}
	out := SenderVerdict{Verified: res.Verified, Reason: res.Reason}
	if res.Spam {
		out.Spam = res.SpamReason
	}
	return out, nil
}

// verifier returns the Verifier of p, made once.
func (a *authCheck) verifier(p SenderPolicy) (*auth.Verifier, error) {
	key := p.Require + "\x00" + strings.Join(p.AuthservIDs, "\x00")
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, ok := a.verifiers[key]; ok {
		return v, nil
	}
	v, err := auth.New(auth.Options{Require: auth.Requirement(p.Require), TrustedAuthServIDs: p.AuthservIDs, Resolver: a.resolver})
	if err != nil {
		return nil, err
	}
	a.verifiers[key] = v
	return v, nil
}
