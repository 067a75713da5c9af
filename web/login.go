package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loginCookie carries the login form's CSRF token (double submit): there
// is no session yet to hold it.
const loginCookie = "earshot_login"

// loginPage is what the login template shows.
type loginPage struct {
	Next  string
	CSRF  string
	Name  string
	Error string
}

// loginForm shows the login form, or sends a signed-in user on.
func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	v, err := d.identify(w, r)
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	if v != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.showLogin(w, r, http.StatusOK, loginPage{Next: next})
}

// showLogin renders the form with a fresh login CSRF token.
func (d *Dashboard) showLogin(w http.ResponseWriter, r *http.Request, code int, p loginPage) {
	token, err := randomToken()
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, d.cookie(r, loginCookie, token, "/login", 3600))
	p.CSRF = token
	d.render(w, r, code, "login.html", nil, "", "Sign in", p)
}

// login checks a user name and password and starts a session.
//
// Two limits slow guessing. Each client address may try a few logins a
// minute. Each account takes a few failed logins per window from all
// addresses together, then refuses logins until the oldest failure leaves
// the window, except from a browser that signed in to it before (its
// device cookie): guessing slows down new browsers only, and the user
// keeps signing in from their own.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	ip := d.clientIP(r)
	if ok, wait := d.limiter.allow(ip); !ok {
		d.log.Warn("login rate limited", "client", ip)
		d.refuseLogin(w, r, wait, "", "Too many attempts from your address. Wait a minute and try again.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
		http.Error(w, "the login form expired: reload the page and try again", http.StatusForbidden)
		return
	}
	name := clip(strings.TrimSpace(r.PostForm.Get("name")), 200)
	next := localPath(r.PostForm.Get("next"))
	known := d.knownBrowser(r, name)
	if !known {
		if full, wait := d.accounts.full(name); full {
			d.log.Warn("login rate limited for the account", "user", name, "client", ip)
			d.refuseLogin(w, r, wait, name, fmt.Sprintf("Too many failed logins to this account. Try again in %s, "+
				"or from a browser you signed in with before.", minutes(wait)))
			return
		}
	}
	if !d.checkPassword(name, r.PostForm.Get("password")) {
		if !known {
			d.accounts.record(name)
		}
		d.log.Warn("login failed", "user", name, "client", ip, "known_browser", known)
		d.showLogin(w, r, http.StatusUnauthorized, loginPage{Next: next, Name: name,
			Error: "Wrong user name or password."})
		return
	}
	d.limiter.reset(ip)
	d.rememberBrowser(w, r, name)
	if _, err := d.startSession(r.Context(), w, r, name, viaPassword); err != nil {
		d.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, d.cookie(r, loginCookie, "", "/login", -1))
	d.log.Info("signed in", "user", name, "client", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// refuseLogin answers 429 with the form, saying when to try again.
func (d *Dashboard) refuseLogin(w http.ResponseWriter, r *http.Request, wait time.Duration, name, msg string) {
	w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
	d.showLogin(w, r, http.StatusTooManyRequests, loginPage{Next: "/", Name: name, Error: msg})
}

// minutes says a wait in whole minutes, at least one.
func minutes(wait time.Duration) string {
	n := int(math.Ceil(wait.Minutes()))
	if n <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

// logout ends the session.
func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := d.endSession(r.Context(), w, r, v); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// localPath returns p when it is a path on this site, else "/": a login
// never sends the user to another site.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(p, "/") ||
		strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		return "/"
	}
	return p
}
