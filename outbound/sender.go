// Package outbound delivers what Earshot sends: it composes acks and owner
// notices into outbox messages, decides at enqueue time which acks are
// suppressed (auto-replies, lists, our own addresses, no-reply senders, a
// daily cap), and runs the outbox worker that sends pending messages
// through an SMTP mailer, the Twilio SMS API or Slack.
package outbound

import (
	"context"
	"errors"

	"github.com/earshot-dev/earshot/model"
)

// Sender delivers one outbox message and returns the provider's id for it
// (an SMTP queue id or Message-ID, a Twilio Message SID). An error wrapped
// in a PermanentError will not go away by retrying.
type Sender interface {
	Send(ctx context.Context, m model.OutboxMessage) (providerID string, err error)
}

// PermanentError marks a failure that retrying cannot fix, such as an SMTP
// 5xx answer or a Twilio 4xx.
type PermanentError struct{ Err error }

// Error returns the underlying error's text.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is, or wraps, a PermanentError, or an
// error that says it is permanent (a Permanent() bool method, as the
// Slack client's errors have).
func IsPermanent(err error) bool {
	var p *PermanentError
	if errors.As(err, &p) {
		return true
	}
	var says interface{ Permanent() bool }
	return errors.As(err, &says) && says.Permanent()
}

// BatchSender is a Sender that delivers several messages at once, such as
// an SMTP mailer pipelining them on one connection.
type BatchSender interface {
	Sender
	// SendBatch returns one result per message, in order.
	SendBatch(ctx context.Context, msgs []model.OutboxMessage) []Result
}

// Result is what became of one message of a batch: its provider id, or
// the error that Send would have returned.
type Result struct {
	ProviderID string
	Err        error
}
