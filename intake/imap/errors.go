package imap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	goimap "github.com/emersion/go-imap/v2"
	"golang.org/x/oauth2"

	"github.com/earshot-dev/earshot/intake/source"
)

// PermanentError is a failure that retrying soon cannot fix: a rejected
// password or token, a missing folder, a certificate that does not verify.
// The source is disabled with Reason and retried only slowly.
type PermanentError = source.PermanentError

// IsPermanent reports whether err disables the source.
func IsPermanent(err error) bool { return source.IsPermanent(err) }

// permanent wraps err as a PermanentError with reason.
func permanent(reason string, err error) error { return source.Permanent(reason, err) }

// classifyLogin decides whether a failed LOGIN or AUTHENTICATE is
// permanent.
func classifyLogin(err error) error { return classifyNo(err, "authentication failed") }

// classifySelect decides whether a failed SELECT is permanent: the folder
// does not exist or may not be read.
func classifySelect(err error) error { return classifyNo(err, "folder cannot be selected") }

// classifyNo makes a NO answer permanent with reason, unless the server
// says it is temporarily unavailable; a broken connection is not.
func classifyNo(err error, reason string) error {
	var imapErr *goimap.Error
	if !errors.As(err, &imapErr) || imapErr.Type != goimap.StatusResponseTypeNo {
		return err
	}
	switch imapErr.Code {
	case goimap.ResponseCodeUnavailable, goimap.ResponseCodeServerBug, goimap.ResponseCodeInUse,
		goimap.ResponseCodeLimit:
		return err
	}
	return permanent(reason, err)
}

// classifyToken decides whether a failed token refresh is permanent: the
// token endpoint rejected the client or the refresh token.
func classifyToken(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return err
	}
	switch re.Response.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return permanent("oauth2 refresh token or client rejected", err)
	}
	return err
}

// classifyDial marks certificate failures as permanent; everything else on
// the network is worth retrying.
func classifyDial(err error) error {
	var (
		verify   *tls.CertificateVerificationError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
	)
	if errors.As(err, &verify) || errors.As(err, &hostname) || errors.As(err, &unknown) || errors.As(err, &invalid) {
		return permanent("tls certificate rejected", err)
	}
	return err
}

// shortReadError is a message the server announced at one size
// (RFC822.SIZE) and sent shorter, or without its body, on every attempt. It
// is neither stored nor flagged or moved, and the cursor stays before it,
// so the next sync reads it again.
type shortReadError struct {
	uid      uint32
	reason   string
	attempts int
}

func (e *shortReadError) Error() string {
	return fmt.Sprintf("uid %d: %s, %d times; not stored, left on the server, read again next sync", e.uid, e.reason, e.attempts)
}
