package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/earshot-dev/earshot/store"
)

// access says what a route needs and how a missing login is answered.
type access int

const (
	// accessPage: a page; without a login, redirect to /login.
	accessPage access = iota
	// accessData: a download (CSV, audio, raw); without a login, 401.
	accessData
	// accessAction: a POST; without a login 401, without the session's
	// CSRF token 403.
	accessAction
)

// handler serves one request for a signed-in user. An error becomes the
// error page: 404 for store.ErrNotFound, the status of a *httpError, else 500.
type handler func(w http.ResponseWriter, r *http.Request, v *viewer) error

// httpError is an error with the status and the message the user sees.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// badRequest is a 400 with a message for the user.
func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }

// maxFormBytes bounds a posted form (a typed transcript is the largest).
const maxFormBytes = 1 << 20

// authorize runs h for a signed-in user and answers everyone else
// according to a.
func (d *Dashboard) authorize(a access, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := d.identify(w, r)
		if err != nil {
			d.fail(w, r, nil, err)
			return
		}
		if v == nil {
			switch a {
			case accessPage:
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			default:
				w.Header().Set("WWW-Authenticate", `Cookie realm="earshot"`)
				http.Error(w, "sign in first", http.StatusUnauthorized)
			}
			return
		}
		if a == accessAction {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), v.CSRF) {
				d.log.Warn("csrf token rejected", "path", r.URL.Path, "user", v.Name)
				http.Error(w, "the form expired or came from another site: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			d.fail(w, r, v, err)
		}
	})
}

// sameToken compares a sent token with the expected one in constant time.
func sameToken(sent, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

// fail answers a handler's error.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	code, msg := http.StatusInternalServerError, "Something went wrong. The error is logged."
	var he *httpError
	switch {
	case errors.As(err, &he):
		code, msg = he.code, he.msg
	case errors.Is(err, store.ErrNotFound):
		code, msg = http.StatusNotFound, "Not found."
	case errors.Is(err, r.Context().Err()):
		return
	default:
		d.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if v == nil || r.Method != http.MethodGet {
		http.Error(w, msg, code)
		return
	}
	d.render(w, r, code, "error.html", v, "", "Error", msg)
}
