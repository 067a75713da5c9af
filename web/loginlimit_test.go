package web

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/earshot-dev/earshot/config"
)

// loginFrom submits the login form as a browser at addr would, through
// the local proxy, and returns the response.
func loginFrom(t *testing.T, e *env, c *http.Client, addr, name, password string) *http.Response {
	t.Helper()
	_, page := get(t, c, e.srv.URL+"/login", "X-Forwarded-For", addr)
	form := url.Values{"csrf": {formToken(t, page)}, "name": {name}, "password": {password}}
	req, err := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// browserWith is a fresh browser that holds only the given cookie for
// /login.
func browserWith(t *testing.T, e *env, ck *http.Cookie) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.srv.URL + "/login")
	jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/login"}})
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// deviceOf returns the device cookie a login response set.
func deviceOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, ck := range resp.Cookies() {
		if ck.Name == deviceCookie {
			return ck
		}
	}
	t.Fatalf("login %d set no device cookie", resp.StatusCode)
	return nil
}

// TestAccountLoginLimit: guesses at one account from many addresses are
// limited together, and the limit refuses new browsers only, so that
// guessing cannot lock the user out of the browsers they signed in with.
func TestAccountLoginLimit(t *testing.T) {
	opsHash, err := bcrypt.GenerateFromPassword([]byte("ops password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite", func(c *config.Config) {
		c.Web.Users = append(c.Web.Users, config.User{Name: "ops", PasswordHash: config.Secret(opsHash)})
		c.Web.TrustedProxies = append(c.Web.TrustedProxies, "127.0.0.1")
	})
	// Maria signs in at home before the guessing starts.
	first := loginFrom(t, e, e.client(t), "198.51.100.1", "maria", testPassword)
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("first login = %d", first.StatusCode)
	}
	maria := deviceOf(t, first)
	opsDevice := deviceOf(t, loginFrom(t, e, e.client(t), "198.51.100.50", "ops", "ops password"))

	// Three addresses, four guesses each: under the per-address limit,
	// over the account's ten.
	var codes []int
	for i := range 12 {
		addr := []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}[i%3]
		codes = append(codes, loginFrom(t, e, e.client(t), addr, "maria", "guess").StatusCode)
	}
	if got, want := fmt.Sprint(codes), "[401 401 401 401 401 401 401 401 401 401 429 429]"; got != want {
		t.Errorf("guesses from three addresses answered %s, want %s", got, want)
	}

	tampered := *maria
	tampered.Value = strings.Replace(maria.Value, ".", ".1", 1)
	steps := []struct {
		name          string
		browser       *http.Client
		addr          string
		user, passwd  string
		code          int
		wantRetryHint bool
	}{
		{"a new browser with the right password waits", e.client(t), "203.0.113.4", "maria", testPassword, 429, true},
		{"maria's browser signs in", browserWith(t, e, maria), "198.51.100.1", "maria", testPassword, 303, false},
		{"maria's browser on another network may mistype", browserWith(t, e, maria), "198.51.100.2", "maria", "typo", 401, false},
		{"and then signs in", browserWith(t, e, maria), "198.51.100.2", "maria", testPassword, 303, false},
		{"another account is not limited", e.client(t), "203.0.113.9", "ops", "ops password", 303, false},
		{"another account's device cookie does not count", browserWith(t, e, opsDevice), "203.0.113.10", "maria", testPassword, 429, true},
		{"nor does a forged one", browserWith(t, e, &tampered), "203.0.113.11", "maria", testPassword, 429, true},
	}
	for _, s := range steps {
		resp := loginFrom(t, e, s.browser, s.addr, s.user, s.passwd)
		if resp.StatusCode != s.code {
			t.Errorf("%s: login = %d, want %d", s.name, resp.StatusCode, s.code)
		}
		if s.wantRetryHint && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", s.name)
		}
	}

	// The window slides: a quarter of an hour after the guesses, a new
	// browser signs in again.
	e.clock.Add(15 * time.Minute)
	if resp := loginFrom(t, e, e.client(t), "203.0.113.12", "maria", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a new browser after the window = %d, want 303", resp.StatusCode)
	}
}

// TestKnownBrowser: a device cookie names one user, is signed with that
// user's current password hash, and lasts deviceTTL.
func TestKnownBrowser(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	now := e.clock.Now()
	good := e.dash.deviceToken("maria", now)
	newHash, err := bcrypt.GenerateFromPassword([]byte("a new password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cookie, user string
		edit               func()
		want               bool
	}{
		{"maria's cookie", good, "maria", nil, true},
		{"for another user", good, "mallory", nil, false},
		{"no cookie", "", "maria", nil, false},
		{"not three parts", "bWFyaWE.1", "maria", nil, false},
		{"a changed time", strings.Replace(good, ".", ".9", 1), "maria", nil, false},
		{"older than the TTL", e.dash.deviceToken("maria", now.Add(-deviceTTL-time.Hour)), "maria", nil, false},
		{"after a new password", good, "maria", func() { e.dash.users["maria"] = newHash }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.edit != nil {
				tc.edit()
			}
			r, _ := http.NewRequest("POST", "/login", nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: deviceCookie, Value: tc.cookie})
			}
			if got := e.dash.knownBrowser(r, tc.user); got != tc.want {
				t.Errorf("knownBrowser = %v, want %v", got, tc.want)
			}
		})
	}
}
