package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
)

// SMS sends SMS outbox messages with Twilio's Messages API from the
// configured phone number.
type SMS struct {
	accountSID string
	authToken  string
	from       string
	// base replaces https://api.twilio.com when set (a proxy, Prism).
	base *url.URL
	// Timeout bounds one request (default 15 s).
	Timeout time.Duration
}

// NewSMS builds the SMS sender from the twilio configuration.
func NewSMS(t config.Twilio) (*SMS, error) {
	if t.AccountSID == "" || t.AuthToken.Value() == "" || t.PhoneNumber == "" {
		return nil, errors.New("sms: twilio.account_sid, auth_token and phone_number are required")
	}
	s := &SMS{accountSID: t.AccountSID, authToken: t.AuthToken.Value(), from: t.PhoneNumber, Timeout: 15 * time.Second}
	if t.APIURL != "" {
		u, err := url.Parse(t.APIURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("sms: twilio.api_url %q is not a URL", t.APIURL)
		}
		s.base = u
	}
	return s, nil
}

// Send creates one message and returns its SID. Twilio's 4xx answers
// (other than 429, too many requests) are permanent: a bad number, an
// unsubscribed recipient.
func (s *SMS) Send(ctx context.Context, m model.OutboxMessage) (string, error) {
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(s.accountSID, s.authToken),
		HTTPClient: &http.Client{
			Timeout:   s.Timeout,
			Transport: bound{ctx: ctx, base: s.base},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	c.SetAccountSid(s.accountSID)
	params := (&api.CreateMessageParams{}).SetTo(m.Recipient).SetFrom(s.from).SetBody(string(m.Body))
	msg, err := api.NewApiServiceWithClient(c).CreateMessage(params)
	if err != nil {
		var te *twclient.TwilioRestError
		if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
			return "", &PermanentError{fmt.Errorf("twilio create message: %w", err)}
		}
		return "", fmt.Errorf("twilio create message: %w", err)
	}
	if msg.Sid == nil {
		return "", errors.New("twilio create message: no sid in the answer")
	}
	return *msg.Sid, nil
}

// bound is a transport that ties requests to a context (the Twilio client
// takes none) and optionally sends them to another base URL.
type bound struct {
	ctx  context.Context
	base *url.URL
}

// RoundTrip sends r with the bound context, rewritten to the base URL.
func (b bound) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(b.ctx)
	if b.base != nil {
		r.URL.Scheme, r.URL.Host, r.Host = b.base.Scheme, b.base.Host, b.base.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}
