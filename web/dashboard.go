package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/decision"
	"github.com/earshot-dev/earshot/internal/sign"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
)

// DashboardOptions wires the managers' dashboard.
type DashboardOptions struct {
	// Store is the database the dashboard reads and edits.
	Store *store.Store
	// Config gives the users and the SSO proxy settings (web), the time
	// zone months are counted in, the public URL (https makes cookies
	// Secure), and the owners, competitors, products and topics offered
	// in the item forms.
	Config *config.Config
	// Logger; slog.Default() when nil. The dashboard adds the attribute
	// component=web itself.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SessionTTL is how long a login lasts; 12 h when zero.
	SessionTTL time.Duration
	// LoginAttempts is how many logins one address may try per minute; 5
	// when zero.
	LoginAttempts int
	// Decisions records status changes; nil leaves the status forms out.
	Decisions *decision.Service
	// Signer checks reps' page links; nil leaves the rep pages out.
	Signer *sign.Signer
	// AccountFailures is how many failed logins one account takes within
	// AccountWindow, from any addresses, before it refuses logins from
	// browsers that never signed in to it; 10 when zero.
	AccountFailures int
	// AccountWindow is the per-account limit's window; 15 minutes when
	// zero.
	AccountWindow time.Duration
}

// Dashboard serves the managers' web pages: leaderboard, reps, inbox,
// items and their actions, outbox, quarantine, sources, CSV exports and
// the login.
type Dashboard struct {
	store         *store.Store
	loc           *time.Location
	users         map[string][]byte
	anyHash       []byte
	trustedHeader string
	proxies       []netip.Prefix
	secureCookies bool
	owners        []string
	vocabulary    map[string][]string
	pages         map[string]*template.Template
	limiter       *limiter
	accounts      *limiter
	log           *slog.Logger
	now           func() time.Time
	ttl           time.Duration
	ownerCfg      []config.Owner
	decide        *decision.Service
	signer        *sign.Signer
	publicURL     string
	// partTimeout and downloadTimeout bound a download's parts and the
	// whole (http.write_timeout and http.download_timeout); zero leaves
	// the server's deadlines as they are.
	partTimeout, downloadTimeout time.Duration
}

// NewDashboard checks the options and parses the embedded templates.
func NewDashboard(o DashboardOptions) (*Dashboard, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("dashboard: store and config are required")
	}
	c := o.Config
	d := &Dashboard{
		store:           o.Store,
		loc:             c.Location,
		users:           map[string][]byte{},
		trustedHeader:   strings.TrimSpace(c.Web.TrustedHeader),
		secureCookies:   strings.HasPrefix(strings.ToLower(c.HTTP.PublicURL), "https://"),
		log:             o.Logger,
		now:             o.Now,
		ttl:             o.SessionTTL,
		partTimeout:     c.HTTP.WriteTimeout,
		downloadTimeout: c.HTTP.DownloadTimeout,
		decide:          o.Decisions,
		signer:          o.Signer,
		publicURL:       strings.TrimRight(c.HTTP.PublicURL, "/"),
	}
	if d.loc == nil {
		d.loc = time.UTC
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.log = d.log.With("component", "web")
	if d.now == nil {
		d.now = time.Now
	}
	if d.ttl <= 0 {
		d.ttl = 12 * time.Hour
	}
	attempts := o.LoginAttempts
	if attempts <= 0 {
		attempts = 5
	}
	d.limiter = newLimiter(attempts, time.Minute, d.now)
	failures, window := o.AccountFailures, o.AccountWindow
	if failures <= 0 {
		failures = 10
	}
	if window <= 0 {
		window = 15 * time.Minute
	}
	d.accounts = newLimiter(failures, window, d.now)
	for _, u := range c.Web.Users {
		if u.Name == "" || u.PasswordHash.Value() == "" {
			return nil, fmt.Errorf("dashboard: user %q needs a name and a password hash", u.Name)
		}
		d.users[u.Name] = []byte(u.PasswordHash.Value())
		if d.anyHash == nil {
			d.anyHash = []byte(u.PasswordHash.Value())
		}
	}
	var err error
	if d.proxies, err = parseProxies(c.Web.TrustedProxies); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	switch {
	case len(d.users) == 0 && d.trustedHeader == "":
		d.log.Warn("no dashboard users: add web.users (earshot hash-password) or web.trusted_header")
	case d.trustedHeader != "" && len(d.proxies) == 0:
		d.log.Warn("web.trusted_header is ignored until web.trusted_proxies lists the proxy", "header", d.trustedHeader)
	}
	for _, ow := range c.Owners {
		d.owners = append(d.owners, ow.Name)
	}
	d.ownerCfg = c.Owners
	d.vocabulary = vocabulary(c)
	if d.pages, err = d.parseTemplates(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return d, nil
}

// vocabulary lists the configured values of each tag kind.
func vocabulary(c *config.Config) map[string][]string {
	v := map[string][]string{routing.KindCategory: {routing.CategoryFeedback, routing.CategoryIntel}}
	for _, x := range c.Competitors {
		v[routing.KindCompetitor] = append(v[routing.KindCompetitor], x.Name)
	}
	for _, x := range c.Products {
		v[routing.KindProduct] = append(v[routing.KindProduct], x.Name)
	}
	topics := c.Topics
	if len(topics) == 0 {
		topics = routing.DefaultTopics()
	}
	for _, x := range topics {
		v[routing.KindTopic] = append(v[routing.KindTopic], x.Name)
	}
	return v
}

// tagKinds are the kinds of tag a manager may set, in display order.
func tagKinds() []string {
	return []string{routing.KindCategory, routing.KindCompetitor, routing.KindProduct, routing.KindTopic}
}

// merged returns the sorted union of the lists without duplicates.
func merged(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Register adds the dashboard's routes to mux. Every page sends the
// security headers; every page but the login and the static files needs
// a signed-in user.
func (d *Dashboard) Register(mux *http.ServeMux) {
	route := func(pattern string, a access, h handler) {
		mux.Handle(pattern, secureHeaders(d.authorize(a, h)))
	}
	route("GET /{$}", accessPage, d.leaderboard)
	route("GET /leaderboard", accessPage, d.leaderboard)
	route("GET /leaderboard.csv", accessData, d.download(d.leaderboardCSV))
	route("GET /reps/{id}", accessPage, d.rep)
	route("POST /reps/{id}/points", accessAction, d.adjustRep)
	route("GET /items", accessPage, d.inbox)
	route("GET /items.csv", accessData, d.download(d.inboxCSV))
	route("GET /items/{id}", accessPage, d.item)
	route("GET /items/{id}/audio", accessData, d.download(d.audio))
	route("GET /items/{id}/raw", accessData, d.download(d.raw))
	route("POST /items/{id}/tags", accessAction, d.retag)
	route("POST /items/{id}/owners", accessAction, d.reassign)
	route("POST /items/{id}/triage", accessAction, d.triage)
	route("POST /items/{id}/points", accessAction, d.adjustItem)
	route("POST /items/{id}/transcript", accessAction, d.transcript)
	route("POST /items/{id}/review", accessAction, d.review)
	route("POST /items/{id}/roster", accessAction, d.roster)
	route("POST /items/{id}/status", accessAction, d.setStatus)
	route("POST /items/status", accessAction, d.bulkStatus)
	route("POST /outbox/{id}/replay", accessAction, d.replay)
	route("POST /reps/{id}/links/revoke", accessAction, d.revokeLinks)
	route("GET /owners/{name}", accessPage, d.ownerQueue)
	route("GET /competitors/{name}", accessPage, d.tagView("competitor"))
	route("GET /competitors/{name}/csv", accessData, d.tagCSV("competitor"))
	route("GET /products/{name}", accessPage, d.tagView("product"))
	route("GET /products/{name}/csv", accessData, d.tagCSV("product"))
	route("GET /outbox", accessPage, d.outbox)
	route("GET /quarantine", accessPage, d.quarantine)
	route("POST /quarantine/retry", accessAction, d.retryAll)
	route("POST /quarantine/{id}/retry", accessAction, d.retry)
	route("GET /sources", accessPage, d.sources)
	route("POST /logout", accessAction, d.logout)
	d.registerAPI(mux)
	mux.Handle("GET /me/{token}", secureHeaders(http.HandlerFunc(d.me)))
	mux.Handle("GET /login", secureHeaders(http.HandlerFunc(d.loginForm)))
	mux.Handle("POST /login", secureHeaders(http.HandlerFunc(d.login)))
	mux.Handle("GET /static/", secureHeaders(staticHandler()))
}
