package outbound

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
)

// Webhook events are JSON in the Standard Webhooks shape: type, timestamp
// and data. doc/webhooks.md documents them.

// Event is one webhook event.
type Event struct {
	// Type is item.processed or item.status_changed.
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is an event's data: the item, and for a status change the
// change.
type EventData struct {
	Item   ItemJSON    `json:"item"`
	Change *ChangeJSON `json:"change,omitempty"`
}

// ItemJSON is an item as webhooks and the JSON API show it.
type ItemJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	URL         string     `json:"url,omitempty"`
	Subject     string     `json:"subject"`
	Text        string     `json:"text"`
	ReceivedAt  time.Time  `json:"received_at"`
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	Rep         *RepJSON   `json:"rep,omitempty"`
	// Trust is who the item is from as far as Earshot trusts it (rep,
	// credited, colleague, open, unverified, stranger, spam).
	Trust       string   `json:"trust"`
	Categories  []string `json:"categories"`
	Products    []string `json:"products"`
	Competitors []string `json:"competitors"`
	Topics      []string `json:"topics"`
	Owners      []string `json:"owners"`
	Status      string   `json:"status"`
	StatusNote  string   `json:"status_note,omitempty"`
	DuplicateOf int64    `json:"duplicate_of,omitempty"`
}

// RepJSON is the rep an item is credited to.
type RepJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Team string `json:"team,omitempty"`
}

// ChangeJSON is one status change.
type ChangeJSON struct {
	Status      string    `json:"status"`
	Previous    string    `json:"previous"`
	Note        string    `json:"note,omitempty"`
	DuplicateOf int64     `json:"duplicate_of,omitempty"`
	Actor       string    `json:"actor"`
	Via         string    `json:"via"`
	At          time.Time `json:"at"`
}

// NewItemJSON describes an item with its tags, owners, rep and status.
func NewItemJSON(it model.Item, tags []model.Tag, owners []string, rep *model.Rep, st model.ItemStatus, publicURL string) ItemJSON {
	j := ItemJSON{ID: it.ID, Kind: string(it.Kind), Subject: it.Subject, Text: it.Text(), ReceivedAt: it.ReceivedAt.UTC(),
		Trust: string(it.Trust), Categories: []string{}, Products: []string{}, Competitors: []string{}, Topics: []string{},
		Owners: owners, Status: string(st.Status), StatusNote: st.Note, DuplicateOf: st.DuplicateOf}
	if j.Owners == nil {
		j.Owners = []string{}
	}
	if j.Status == "" {
		j.Status = string(model.StatusNew)
	}
	if !it.ProcessedAt.IsZero() {
		p := it.ProcessedAt.UTC()
		j.ProcessedAt = &p
	}
	if publicURL != "" {
		j.URL = publicURL + "/items/" + strconv.FormatInt(it.ID, 10)
	}
	if rep != nil {
		j.Rep = &RepJSON{ID: rep.ID, Name: rep.Name, Team: rep.Team}
	}
	for _, t := range tags {
		switch t.Kind {
		case model.TagCategory:
			j.Categories = append(j.Categories, t.Value)
		case model.TagProduct:
			j.Products = append(j.Products, t.Value)
		case model.TagCompetitor:
			j.Competitors = append(j.Competitors, t.Value)
		case model.TagTopic:
			j.Topics = append(j.Topics, t.Value)
		}
	}
	return j
}

// WebhookMessages are the outbox messages delivering ev to each endpoint
// that wants it.
func WebhookMessages(endpoints []config.Webhook, ev Event) ([]model.OutboxMessage, error) {
	var out []model.OutboxMessage
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", ev.Type, err)
	}
	for _, e := range endpoints {
		if !e.Wants(ev.Type) {
			continue
		}
		out = append(out, model.OutboxMessage{Kind: model.OutboxWebhook, Channel: model.ChannelWebhook, Recipient: e.Name,
			RecipientKey: "webhook:" + e.Name, Subject: fmt.Sprintf("%s item %d", ev.Type, ev.Data.Item.ID), Body: body})
	}
	return out, nil
}

// WebhookID is the webhook-id of an outbox message: the same on every
// attempt, so that a receiver can drop a delivery it already has.
func WebhookID(outboxID int64) string { return "msg_earshot_" + strconv.FormatInt(outboxID, 10) }

// SignWebhook signs a delivery per Standard Webhooks: base64 of
// HMAC-SHA256 over "id.timestamp.body", prefixed "v1,".
func SignWebhook(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookSender posts webhook deliveries to the configured endpoints.
type WebhookSender struct {
	Endpoints map[string]config.Webhook
	Client    *http.Client
	// Now is the clock of webhook-timestamp; time.Now when nil.
	Now func() time.Time
}

// NewWebhookSender is the sender of the configured endpoints.
func NewWebhookSender(c config.Webhooks) *WebhookSender {
	s := &WebhookSender{Endpoints: map[string]config.Webhook{}, Client: &http.Client{Timeout: c.Timeout}}
	for _, e := range c.Endpoints {
		s.Endpoints[e.Name] = e
	}
	return s
}

// Send posts one delivery. A 2xx answer delivers it; 410 Gone is
// permanent; anything else is tried again with backoff.
func (s *WebhookSender) Send(ctx context.Context, m model.OutboxMessage) (string, error) {
	e, ok := s.Endpoints[m.Recipient]
	if !ok {
		return "", &PermanentError{fmt.Errorf("webhook endpoint %q is no longer configured", m.Recipient)}
	}
	key, err := e.Key()
	if err != nil {
		return "", &PermanentError{fmt.Errorf("webhook %s: %w", e.Name, err)}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	id, ts := WebhookID(m.ID), now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(m.Body))
	if err != nil {
		return "", &PermanentError{fmt.Errorf("webhook %s: %w", e.Name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Earshot-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", SignWebhook(key, id, ts, m.Body))
	resp, err := s.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook %s: %w", e.Name, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return fmt.Sprintf("%s HTTP %d", id, resp.StatusCode), nil
	case resp.StatusCode == http.StatusGone:
		return "", &PermanentError{fmt.Errorf("webhook %s: HTTP %d: %s", e.Name, resp.StatusCode, bytes.TrimSpace(snippet))}
	}
	return "", fmt.Errorf("webhook %s: HTTP %d: %s", e.Name, resp.StatusCode, bytes.TrimSpace(snippet))
}
