package web

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// passwordCost is the bcrypt cost of new password hashes: about a quarter
// of a second per login on a small server.
const passwordCost = 12

// HashPassword returns the bcrypt hash of pw for web.users[].password_hash
// (the `earshot hash-password` command).
func HashPassword(pw string) (string, error) {
	return hashPassword(pw, passwordCost)
}

func hashPassword(pw string, cost int) (string, error) {
	switch {
	case pw == "":
		return "", errors.New("hash password: the password is empty")
	case len(pw) > 72:
		return "", errors.New("hash password: bcrypt uses at most 72 bytes of a password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// checkPassword reports whether pw is the password of the configured user.
// An unknown user costs as much time as a known one, so answers do not
// tell which names exist.
func (d *Dashboard) checkPassword(name, pw string) bool {
	hash, ok := d.users[name]
	if !ok {
		if d.anyHash != nil {
			_ = bcrypt.CompareHashAndPassword(d.anyHash, []byte(pw))
		}
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}
