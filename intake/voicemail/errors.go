package voicemail

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/earshot-dev/earshot/intake/source"
)

// ErrNotFound means Twilio has no such recording or call (deleted, or
// never there).
var ErrNotFound = errors.New("not found at twilio")

// PermanentError is a failure that retrying soon cannot fix, such as
// rejected credentials. The source is disabled with Reason and retried
// only slowly.
type PermanentError = source.PermanentError

// IsPermanent reports whether err disables the source.
func IsPermanent(err error) bool { return source.IsPermanent(err) }

// Twilio error codes that decide how a failure is handled.
const (
	codeAuthentication = 20003
	codeNotFound       = 20404
	codeBadUsername    = 21222
	codeBadPassword    = 21224
)

// classify sorts a twilio-go error: the end of ctx, bad credentials
// (permanent), a missing resource (ErrNotFound), or anything else.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	var te *twclient.TwilioRestError
	if !errors.As(err, &te) {
		return err
	}
	desc := fmt.Errorf("twilio error %d (http %d): %s", te.Code, te.Status, te.Message)
	switch {
	case te.Code == codeAuthentication || te.Status == http.StatusUnauthorized:
		return &PermanentError{Reason: "twilio authentication failed", Err: desc}
	case te.Code == codeBadUsername || te.Code == codeBadPassword:
		return &PermanentError{Reason: "twilio credentials must be letters and digits", Err: desc}
	case te.Code == codeNotFound || te.Status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, desc)
	}
	return desc
}
