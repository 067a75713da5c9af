package source

import "errors"

// PermanentError is a failure that retrying soon cannot fix: a rejected
// password or token, a missing folder, a certificate that does not verify.
// The source is disabled with Reason and retried only slowly.
type PermanentError struct {
	// Reason says what an operator has to fix, e.g. "authentication failed".
	Reason string
	Err    error
}

// Error returns the reason and the underlying error.
func (e *PermanentError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError with reason.
func Permanent(reason string, err error) error {
	return &PermanentError{Reason: reason, Err: err}
}

// IsPermanent reports whether err disables the source.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// disabledReason returns the reason a permanent err gives, or "".
func disabledReason(err error) string {
	var p *PermanentError
	if errors.As(err, &p) {
		return p.Reason
	}
	return ""
}
