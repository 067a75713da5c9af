package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A browser that signed in to an account keeps a device cookie for it.
// The per-account limit on failed logins, which anyone who knows a user
// name can run up, does not apply to such a browser: an attacker who
// guesses without end slows every new browser down but never locks the
// user out of the browsers they already use.

// deviceCookie names the cookie of a browser that signed in before.
const deviceCookie = "earshot_device"

// deviceTTL is how long a browser stays known after its last login.
const deviceTTL = 90 * 24 * time.Hour

// deviceToken is the device cookie's value for name signed in at at:
// the name, the time and an HMAC of both keyed with the user's password
// hash. Only the configuration can make one, and a new password voids
// them all. It is "" for a user without a password.
func (d *Dashboard) deviceToken(name string, at time.Time) string {
	hash, ok := d.users[name]
	if !ok {
		return ""
	}
	issued := strconv.FormatInt(at.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + issued + "." +
		base64.RawURLEncoding.EncodeToString(deviceMAC(hash, name, issued))
}

// deviceMAC signs a device cookie's name and time.
func deviceMAC(hash []byte, name, issued string) []byte {
	m := hmac.New(sha256.New, hash)
	m.Write([]byte("earshot device\x00" + name + "\x00" + issued))
	return m.Sum(nil)
}

// knownBrowser reports whether the request carries a device cookie of
// name that is signed with name's current password hash and not older
// than deviceTTL.
func (d *Dashboard) knownBrowser(r *http.Request, name string) bool {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return false
	}
	user, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(user) != name {
		return false
	}
	hash, ok := d.users[name]
	if !ok {
		return false
	}
	issued, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false
	}
	age := d.now().Sub(time.Unix(issued, 0))
	if age < -time.Minute || age > deviceTTL {
		return false
	}
	sent, err := base64.RawURLEncoding.DecodeString(parts[2])
	return err == nil && hmac.Equal(sent, deviceMAC(hash, name, parts[1]))
}

// rememberBrowser marks the browser as one that signed in as name.
func (d *Dashboard) rememberBrowser(w http.ResponseWriter, r *http.Request, name string) {
	if token := d.deviceToken(name, d.now()); token != "" {
		http.SetCookie(w, d.cookie(r, deviceCookie, token, "/login", int(deviceTTL/time.Second)))
	}
}
