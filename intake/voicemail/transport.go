package voicemail

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// twilioHost is the host twilio-go and the media URLs use.
const twilioHost = "api.twilio.com"

// apiTransport sends twilio-go's requests with the caller's context (the
// SDK has none) and, when base is set, to another server: twilio-go has no
// base-URL option. Only requests for Twilio's hosts are redirected, so a
// media download that Twilio redirects to storage elsewhere still goes
// there.
type apiTransport struct {
	ctx  context.Context // nil keeps the request's own
	base *url.URL        // nil keeps Twilio's host
	next http.RoundTripper
}

// RoundTrip rewrites the request and passes it on.
func (t apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := t.ctx
	if ctx == nil {
		ctx = r.Context()
	}
	r = r.Clone(ctx)
	if t.base != nil && (r.URL.Host == twilioHost || strings.HasSuffix(r.URL.Host, ".twilio.com")) {
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
		if p := strings.TrimRight(t.base.Path, "/"); p != "" {
			r.URL.Path = p + r.URL.Path
			if r.URL.RawPath != "" {
				r.URL.RawPath = p + r.URL.RawPath
			}
		}
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
