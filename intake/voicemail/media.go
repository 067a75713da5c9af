package voicemail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// mediaPolicy bounds media downloads.
type mediaPolicy struct {
	timeout  time.Duration
	tries    int
	wait     time.Duration
	maxBytes int64
}

func (p *mediaPolicy) defaults() {
	if p.timeout == 0 {
		p.timeout = 2 * time.Minute
	}
	if p.tries == 0 {
		p.tries = 3
	}
	if p.wait == 0 {
		p.wait = time.Second
	}
	if p.maxBytes == 0 {
		p.maxBytes = 100 << 20
	}
}

// Media is a downloaded recording.
type Media struct {
	Data        []byte
	ContentType string
	// Tries is how many attempts the download took.
	Tries int
}

// Media downloads a recording's audio as format ("wav" or "mp3") with HTTP
// Basic auth (accounts may require it for media). Twilio may answer 404
// for a moment after a recording completes, and networks fail: it tries up
// to three times, pausing longer each time. Redirects to storage are
// followed without the credentials.
func (c *Client) Media(ctx context.Context, recordingSID, format string) (Media, error) {
	u := "https://" + twilioHost + "/2010-04-01/Accounts/" + c.sid + "/Recordings/" + recordingSID + "." + format
	client := &http.Client{Timeout: c.media.timeout, Transport: apiTransport{base: c.base, next: c.transport}}
	var last error
	wait := c.media.wait
	for try := 1; try <= c.media.tries; try++ {
		data, ctype, retry, err := c.fetchMedia(ctx, client, u)
		if err == nil {
			return Media{Data: data, ContentType: ctype, Tries: try}, nil
		}
		last = fmt.Errorf("download recording %s (try %d of %d): %w", recordingSID, try, c.media.tries, err)
		if !retry || try == c.media.tries {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Media{}, fmt.Errorf("%w: %w", last, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
	return Media{}, last
}

// fetchMedia makes one download attempt and says whether another may
// succeed.
func (c *Client) fetchMedia(ctx context.Context, client *http.Client, u string) (data []byte, ctype string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", false, err
	}
	req.SetBasicAuth(c.sid, c.token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, "", false, &PermanentError{Reason: "twilio refused the media download", Err: errors.New(resp.Status)}
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return nil, "", true, errors.New(resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, "", false, errors.New(resp.Status)
	}
	ctype = resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ctype); strings.HasPrefix(mt, "text/") || mt == "application/json" {
		return nil, "", false, fmt.Errorf("got %s instead of audio", mt)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, c.media.maxBytes+1))
	if err != nil {
		return nil, "", ctx.Err() == nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > c.media.maxBytes {
		return nil, "", false, fmt.Errorf("recording larger than %d bytes", c.media.maxBytes)
	}
	if len(data) == 0 {
		return nil, "", true, errors.New("empty response")
	}
	return data, ctype, false, nil
}
