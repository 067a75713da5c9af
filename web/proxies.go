package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// parseProxies reads web.trusted_proxies: IP addresses or CIDR prefixes.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// remoteAddr is the address the request came from (the TCP peer).
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// fromTrustedProxy reports whether the TCP peer is a configured proxy.
func (d *Dashboard) fromTrustedProxy(r *http.Request) bool {
	a, ok := remoteAddr(r)
	if !ok {
		return false
	}
	for _, p := range d.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// headerUser returns the user named by the SSO proxy's header, or "" when
// no header is configured or set, or the request did not come through a
// trusted proxy.
func (d *Dashboard) headerUser(r *http.Request) string {
	if d.trustedHeader == "" {
		return ""
	}
	name := strings.TrimSpace(r.Header.Get(d.trustedHeader))
	if name == "" {
		return ""
	}
	if !d.fromTrustedProxy(r) {
		d.log.Warn("ignored the trusted header from an address that is no trusted proxy",
			"header", d.trustedHeader, "remote", r.RemoteAddr)
		return ""
	}
	if len(name) > 200 {
		return ""
	}
	return name
}

// clientIP is the address login attempts are counted against: the peer,
// or behind a trusted proxy the last address it appended to
// X-Forwarded-For.
func (d *Dashboard) clientIP(r *http.Request) string {
	a, ok := remoteAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if d.fromTrustedProxy(r) {
		hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
		if last, err := netip.ParseAddr(strings.TrimSpace(hops[len(hops)-1])); err == nil {
			return last.Unmap().String()
		}
	}
	return a.String()
}
