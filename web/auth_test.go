package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/earshot-dev/earshot/config"
)

// TestNoSessionSeesNoData: pages send strangers to the login, downloads
// and actions answer 401, and nothing of the data shows.
func TestNoSessionSeesNoData(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	sc := seedScenario(t, e.st)
	c := e.client(t)
	cases := []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/", 303, "/login?next=%2F"},
		{"GET", "/leaderboard?month=2026-03", 303, "/login?next=%2Fleaderboard%3Fmonth%3D2026-03"},
		{"GET", fmt.Sprintf("/reps/%d", sc.reps["Ana Lima"]), 303, ""},
		{"GET", "/items", 303, ""},
		{"GET", fmt.Sprintf("/items/%d", sc.acme), 303, ""},
		{"GET", "/outbox", 303, ""},
		{"GET", "/quarantine", 303, ""},
		{"GET", "/sources", 303, ""},
		{"GET", "/leaderboard.csv?month=2026-03", 401, ""},
		{"GET", "/items.csv", 401, ""},
		{"GET", fmt.Sprintf("/items/%d/audio", sc.voicemail), 401, ""},
		{"GET", fmt.Sprintf("/items/%d/raw", sc.acme), 401, ""},
		{"POST", fmt.Sprintf("/items/%d/tags", sc.acme), 401, ""},
		{"POST", "/quarantine/retry", 401, ""},
		{"POST", "/logout", 401, ""},
	}
	for _, tc := range cases {
		var resp *http.Response
		var body string
		if tc.method == "POST" {
			resp, body = post(t, c, e.srv.URL+tc.path, url.Values{"kind": {"competitor"}, "value": {"Globex"}})
		} else {
			resp, body = get(t, c, e.srv.URL+tc.path)
		}
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
		}
		if tc.location != "" && resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s redirects to %q, want %q", tc.method, tc.path, resp.Header.Get("Location"), tc.location)
		}
		for _, secret := range []string{"Ana Lima", "Acme", "RIFF", "Billing"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s %s shows %q without a session", tc.method, tc.path, secret)
			}
		}
	}
	tags, _ := e.st.Tags(t.Context(), sc.acme)
	if len(tags) != 2 {
		t.Errorf("a POST without a session changed the tags: %v", tags)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *config.Config) { c.HTTP.PublicURL = "https://earshot.example.com" })
	cases := []struct {
		name, user, password, next string
		code                       int
		location                   string
	}{
		{"wrong password", "maria", "wrong", "/", 401, ""},
		{"unknown user", "mallory", testPassword, "/", 401, ""},
		{"empty password", "maria", "", "/", 401, ""},
		{"right password goes to the page asked for", "maria", testPassword, "/items?state=quarantined", 303, "/items?state=quarantined"},
		{"never to another site", "maria", testPassword, "//evil.example/x", 303, "/"},
		{"nor to an absolute URL", "maria", testPassword, "https://evil.example/", 303, "/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t)
			_, page := get(t, c, e.srv.URL+"/login")
			resp, body := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {formToken(t, page)}, "name": {tc.user},
				"password": {tc.password}, "next": {tc.next}})
			if resp.StatusCode != tc.code {
				t.Fatalf("login = %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.code == 401 {
				if !strings.Contains(body, "Wrong user name or password.") {
					t.Errorf("no error message on the form")
				}
				if resp.Header.Get("Set-Cookie") != "" && strings.Contains(resp.Header.Get("Set-Cookie"), sessionCookie) {
					t.Errorf("a failed login set a session cookie")
				}
				return
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("redirect to %q, want %q", got, tc.location)
			}
			var sess *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					sess = ck
				}
			}
			if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
				t.Errorf("session cookie = %+v; want HttpOnly, Secure (https public URL), SameSite=Lax", sess)
			}
		})
	}
}

// TestLoginFormToken: the login form's own CSRF token is required.
func TestLoginFormToken(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	for _, tc := range []struct {
		name   string
		cookie bool
		token  string
	}{
		{"no token", true, ""},
		{"a wrong token", true, "forged"},
		{"no login cookie", false, "anything"},
	} {
		c := e.client(t)
		if tc.cookie {
			get(t, c, e.srv.URL+"/login")
		}
		resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {tc.token}, "name": {"maria"}, "password": {testPassword}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: login = %d, want 403", tc.name, resp.StatusCode)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	c := e.client(t)
	var codes []int
	for range 7 {
		_, page := get(t, c, e.srv.URL+"/login")
		resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {formToken(t, page)}, "name": {"maria"}, "password": {"guess"}})
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(codes) != "[401 401 401 401 401 429 429]" {
		t.Errorf("attempts answered %v; want five tries, then 429", codes)
	}
	// Even the right password waits; a minute later it works.
	_, page := get(t, c, e.srv.URL+"/login")
	if resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {formToken(t, page)}, "name": {"maria"}, "password": {testPassword}}); resp.StatusCode != 429 {
		t.Errorf("right password while limited = %d, want 429", resp.StatusCode)
	}
	e.clock.Add(61 * time.Second)
	_, page = get(t, c, e.srv.URL+"/login")
	if resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {formToken(t, page)}, "name": {"maria"}, "password": {testPassword}}); resp.StatusCode != 303 {
		t.Errorf("right password a minute later = %d, want 303", resp.StatusCode)
	}
}

// TestTrustedHeader calls the handler directly to set the peer address.
func TestTrustedHeader(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	mux := http.NewServeMux()
	e.dash.Register(mux)
	cases := []struct {
		name, remote, user string
		code               int
	}{
		{"from a trusted network", "10.1.2.3:5555", "sso-lee", 200},
		{"from a trusted address", "192.0.2.7:5555", "sso-lee", 200},
		{"from an IPv4-mapped trusted address", "[::ffff:10.0.0.9]:5555", "sso-lee", 200},
		{"from anyone else the header is ignored", "192.0.2.8:5555", "sso-lee", 303},
		{"from localhost, which is not listed", "127.0.0.1:5555", "maria", 303},
		{"an empty header is nobody", "10.1.2.3:5555", "", 303},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/items", nil)
			r.RemoteAddr = tc.remote
			r.Header.Set("X-Remote-User", tc.user)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("GET /items = %d, want %d", w.Code, tc.code)
			}
			if tc.code == 200 && !strings.Contains(w.Body.String(), `<span class="user">`+tc.user+`</span>`) {
				t.Errorf("the page does not name %s", tc.user)
			}
		})
	}

	// A header user's form token works with the session it was given, and
	// the session is void once the header is gone.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("X-Remote-User", "sso-lee")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	token := formToken(t, w.Body.String())
	cookies := w.Result().Cookies()
	for _, withHeader := range []bool{true, false} {
		pr := httptest.NewRequest("POST", "/quarantine/retry", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		pr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		pr.RemoteAddr = "10.1.2.3:5555"
		if withHeader {
			pr.Header.Set("X-Remote-User", "sso-lee")
		}
		for _, ck := range cookies {
			pr.AddCookie(ck)
		}
		pw := httptest.NewRecorder()
		mux.ServeHTTP(pw, pr)
		want := map[bool]int{true: 303, false: 401}[withHeader]
		if pw.Code != want {
			t.Errorf("POST with header %v = %d, want %d", withHeader, pw.Code, want)
		}
	}
}

// TestCSRF: every action needs the session's token.
func TestCSRF(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		c, token := e.signIn(t)
		// A second session's token is no good for the first.
		_, other := e.signIn(t)
		path := fmt.Sprintf("/items/%d/tags", sc.acme)
		for _, tc := range []struct {
			name, token string
			code        int
		}{
			{"missing token", "", 403},
			{"wrong token", "forged", 403},
			{"another session's token", other, 403},
			{"the session's token", token, 303},
		} {
			resp, _ := post(t, c, e.srv.URL+path, url.Values{"csrf": {tc.token}, "kind": {"competitor"}, "value": {"Globex"}})
			if resp.StatusCode != tc.code {
				t.Errorf("%s: POST = %d, want %d", tc.name, resp.StatusCode, tc.code)
			}
			tags, err := e.st.Tags(t.Context(), sc.acme)
			if err != nil {
				t.Fatal(err)
			}
			if added := len(tags) == 3; added != (tc.code == 303) {
				t.Errorf("%s: tags = %v", tc.name, tags)
			}
		}
	})
}

func TestLogoutAndRemovedUser(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	c, token := e.signIn(t)
	if resp, _ := post(t, c, e.srv.URL+"/logout", url.Values{"csrf": {token}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Errorf("logout = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, e.srv.URL+"/"); resp.StatusCode != 303 {
		t.Errorf("after logout / = %d, want 303 to the login", resp.StatusCode)
	}

	// A replica whose configuration no longer lists maria lets her
	// session open nothing.
	c, _ = e.signIn(t)
	cfg := *e.cfg
	cfg.Web.Users = []config.User{{Name: "lee", PasswordHash: e.cfg.Web.Users[0].PasswordHash}}
	d2, err := NewDashboard(DashboardOptions{Store: e.st, Config: &cfg, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d2.Register(mux)
	u, _ := url.Parse(e.srv.URL)
	r := httptest.NewRequest("GET", "/", nil)
	for _, ck := range c.Jar.Cookies(u) {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 303 {
		t.Errorf("removed user / = %d, want 303 to the login", w.Code)
	}
}

func TestHashPassword(t *testing.T) {
	// One hash at the real cost (a cost-12 hash takes seconds under the
	// race detector); the round trip and the refusals at bcrypt's least.
	h, err := HashPassword("s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != passwordCost {
		t.Errorf("cost %d (%v), want %d", cost, err, passwordCost)
	}
	h, err = hashPassword("s3cret pass", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret pass")) != nil {
		t.Error("the hash does not verify its password")
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret pasS")) == nil {
		t.Error("the hash verifies another password")
	}
	for _, bad := range []string{"", strings.Repeat("x", 73)} {
		if _, err := HashPassword(bad); err == nil {
			t.Errorf("HashPassword(%d bytes) accepted", len(bad))
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/items?q=a": "/items?q=a", "": "/", "items": "/", "//evil.example": "/", `/\evil.example`: "/",
		"https://evil.example/": "/", "javascript:alert(1)": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestClientIP: login attempts count against the browser's address, which
// only a trusted proxy may name in X-Forwarded-For.
func TestClientIP(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	cases := []struct {
		name, remote, forwarded, want string
	}{
		{"a direct client", "198.51.100.4:4000", "", "198.51.100.4"},
		{"a direct client cannot pick its address", "198.51.100.4:4000", "203.0.113.9", "198.51.100.4"},
		{"behind a trusted proxy, the address it saw", "10.0.0.2:4000", "203.0.113.9, 198.51.100.77", "198.51.100.77"},
		{"a trusted proxy without the header", "10.0.0.2:4000", "", "10.0.0.2"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = tc.remote
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		if got := e.dash.clientIP(r); got != tc.want {
			t.Errorf("%s: clientIP = %q, want %q", tc.name, got, tc.want)
		}
	}
}
