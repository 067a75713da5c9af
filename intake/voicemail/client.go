package voicemail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// Client calls the Twilio REST API of one account: twilio-go for the
// resources, its own HTTP requests for the media the SDK cannot download.
// Every call takes a context and has a timeout. It is safe for concurrent
// use.
type Client struct {
	sid, token string
	from       string
	base       *url.URL // nil: Twilio itself
	transport  http.RoundTripper
	apiTimeout time.Duration
	media      mediaPolicy
}

// ClientOptions tune NewClient. Zero fields mean the defaults.
type ClientOptions struct {
	// Transport carries every request; a clone of http.DefaultTransport
	// by default.
	Transport http.RoundTripper
	// APITimeout bounds one REST call (10 s by default).
	APITimeout time.Duration
	// MediaTimeout bounds one media download attempt (2 min by default).
	MediaTimeout time.Duration
	// MediaTries is how often a download is tried (3 by default), with
	// MediaRetryWait (1 s by default) doubling between tries.
	MediaTries     int
	MediaRetryWait time.Duration
	// MaxMediaBytes caps a recording's size (100 MiB by default).
	MaxMediaBytes int64
}

// NewClient returns a client for the account in cfg. It does no I/O.
func NewClient(cfg Config, opts *ClientOptions) (*Client, error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if !accountSID.MatchString(cfg.AccountSID) {
		return nil, errors.New("twilio client: account sid: want AC followed by 32 hex digits")
	}
	if !alphanumeric.MatchString(cfg.AuthToken) {
		return nil, errors.New("twilio client: auth token: required, letters and digits only")
	}
	c := &Client{sid: cfg.AccountSID, token: cfg.AuthToken, from: cfg.PhoneNumber, transport: o.Transport,
		apiTimeout: o.APITimeout, media: mediaPolicy{timeout: o.MediaTimeout, tries: o.MediaTries,
			wait: o.MediaRetryWait, maxBytes: o.MaxMediaBytes}}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("twilio client: api url %q: want an absolute URL", cfg.APIURL)
		}
		c.base = u
	}
	if c.transport == nil {
		c.transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.apiTimeout == 0 {
		c.apiTimeout = 10 * time.Second
	}
	c.media.defaults()
	return c, nil
}

// AccountSID returns the account the client calls.
func (c *Client) AccountSID() string { return c.sid }

// service returns twilio-go's API bound to ctx and to the configured base
// URL. twilio-go reads neither a context nor a base URL, so both travel in
// the transport of a client made for this call.
func (c *Client) service(ctx context.Context) *api.ApiService {
	base := &twclient.Client{
		Credentials: twclient.NewCredentials(c.sid, c.token),
		HTTPClient: &http.Client{
			Timeout:   c.apiTimeout,
			Transport: apiTransport{ctx: ctx, base: c.base, next: c.transport},
			// twilio-go's own default: a redirect is an answer, not a hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	// With our own client twilio-go ignores the credentials' account.
	base.SetAccountSid(c.sid)
	return api.NewApiServiceWithClient(base)
}

// Recording is the part of a Twilio recording the source uses.
type Recording struct {
	SID         string
	CallSID     string
	Status      string // in-progress, paused, stopped, processing, completed, absent, deleted
	Source      string // RecordVerb, DialVerb, …
	DateCreated time.Time
	Duration    int // seconds; -1 while unknown
	Channels    int
}

func recordingOf(r api.ApiV2010Recording) (Recording, error) {
	out := Recording{SID: deref(r.Sid), CallSID: deref(r.CallSid), Status: deref(r.Status), Source: deref(r.Source), Duration: -1}
	if r.Channels != nil {
		out.Channels = *r.Channels
	}
	if d, err := strconv.Atoi(deref(r.Duration)); err == nil {
		out.Duration = d
	}
	t, err := time.Parse(time.RFC1123Z, deref(r.DateCreated))
	if err != nil {
		return out, fmt.Errorf("recording %s: date_created %q: %w", out.SID, deref(r.DateCreated), err)
	}
	out.DateCreated = t.UTC()
	return out, nil
}

// Recording fetches one recording.
func (c *Client) Recording(ctx context.Context, sid string) (Recording, error) {
	r, err := c.service(ctx).FetchRecording(sid, nil)
	if err != nil {
		return Recording{}, fmt.Errorf("fetch recording %s: %w", sid, classify(ctx, err))
	}
	return recordingOf(*r)
}

// Recordings lists the recordings created on or after the day of since
// (Twilio filters by whole days in GMT), page by page, calling fn with
// each page.
func (c *Client) Recordings(ctx context.Context, since time.Time, pageSize int, fn func([]Recording) error) error {
	svc := c.service(ctx)
	params := &api.ListRecordingParams{}
	params.SetDateCreatedAfter(since.UTC().Truncate(24 * time.Hour)).SetPageSize(pageSize)
	token, page := "", ""
	for n := 0; ; n++ {
		resp, err := svc.PageRecording(params, token, page)
		if err != nil {
			return fmt.Errorf("list recordings page %d: %w", n, classify(ctx, err))
		}
		recs := make([]Recording, 0, len(resp.Recordings))
		for _, r := range resp.Recordings {
			rec, err := recordingOf(r)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		if err := fn(recs); err != nil {
			return err
		}
		if resp.NextPageUri == nil || *resp.NextPageUri == "" {
			return nil
		}
		next, err := url.Parse(*resp.NextPageUri)
		if err != nil {
			return fmt.Errorf("list recordings: next page %q: %w", *resp.NextPageUri, err)
		}
		q := next.Query()
		token, page = q.Get("PageToken"), q.Get("Page")
		if token == "" && page == "" {
			return fmt.Errorf("list recordings: next page %q names no page", *resp.NextPageUri)
		}
	}
}

// Call is the part of a Twilio call the source uses.
type Call struct {
	SID           string
	From, To      string
	CallerName    string
	ForwardedFrom string
	Direction     string
}

// Call fetches one call.
func (c *Client) Call(ctx context.Context, sid string) (Call, error) {
	r, err := c.service(ctx).FetchCall(sid, nil)
	if err != nil {
		return Call{}, fmt.Errorf("fetch call %s: %w", sid, classify(ctx, err))
	}
	return Call{SID: deref(r.Sid), From: deref(r.From), To: deref(r.To), CallerName: deref(r.CallerName),
		ForwardedFrom: deref(r.ForwardedFrom), Direction: deref(r.Direction)}, nil
}

// DeleteRecording deletes a recording and its media at Twilio. A recording
// that is gone already counts as deleted.
func (c *Client) DeleteRecording(ctx context.Context, sid string) error {
	err := c.service(ctx).DeleteRecording(sid, nil)
	if err != nil && !errors.Is(classify(ctx, err), ErrNotFound) {
		return fmt.Errorf("delete recording %s: %w", sid, classify(ctx, err))
	}
	return nil
}

// RecordingTranscription returns the status and text of the newest
// transcription Twilio made of a recording; status is empty when there is
// none. It lets the transcribe package's twilio engine use this client.
func (c *Client) RecordingTranscription(ctx context.Context, recordingSID string) (status, text string, err error) {
	params := &api.ListRecordingTranscriptionParams{}
	params.SetPageSize(20).SetLimit(20)
	list, err := c.service(ctx).ListRecordingTranscription(recordingSID, params)
	if err != nil {
		return "", "", fmt.Errorf("list transcriptions of %s: %w", recordingSID, classify(ctx, err))
	}
	var newest time.Time
	for i, tr := range list {
		t, _ := time.Parse(time.RFC1123Z, deref(tr.DateCreated))
		if i == 0 || t.After(newest) {
			newest, status, text = t, deref(tr.Status), deref(tr.TranscriptionText)
		}
	}
	return status, text, nil
}

// SendSMS sends body to the E.164 number to from the configured phone
// number and returns the message's SID.
func (c *Client) SendSMS(ctx context.Context, to, body string) (string, error) {
	if c.from == "" {
		return "", errors.New("send sms: no twilio phone number configured")
	}
	params := &api.CreateMessageParams{}
	params.SetTo(to).SetFrom(c.from).SetBody(body)
	m, err := c.service(ctx).CreateMessage(params)
	if err != nil {
		return "", fmt.Errorf("send sms: %w", classify(ctx, err))
	}
	return deref(m.Sid), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
