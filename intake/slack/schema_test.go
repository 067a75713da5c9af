package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// schema is the part of JSON Schema (draft-07) that Slack's event wrapper
// schema uses: type, required, properties.
type schema struct {
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Examples   []json.RawMessage  `json:"examples"`
}

// validate names the first place v breaks s.
func (s *schema) validate(path string, v any) error {
	ok := true
	switch s.Type {
	case "object":
		_, ok = v.(map[string]any)
	case "string":
		_, ok = v.(string)
	case "integer", "number":
		_, ok = v.(float64)
	case "array":
		_, ok = v.([]any)
	}
	if !ok {
		return fmt.Errorf("%s: want %s, got %T", path, s.Type, v)
	}
	obj, _ := v.(map[string]any)
	for _, r := range s.Required {
		if _, ok := obj[r]; !ok {
			return fmt.Errorf("%s: %s is required", path, r)
		}
	}
	for k, sub := range s.Properties {
		if val, ok := obj[k]; ok {
			if err := sub.validate(path+"."+k, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestEnvelopeSchema checks the Events API envelopes Earshot is tested
// with (the stand-in's, which Socket Mode carries, and those the Events
// API tests post) against Slack's schema of the event wrapper
// (../shared/slack/slack_common_event_wrapper_schema.json), and stores
// the message of an envelope built from the schema's own examples.
func TestEnvelopeSchema(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "slack", "slack_common_event_wrapper_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var wrapper schema
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	e.fake.Say(channel, dana, "Acme again.", "")
	fromSchema := map[string]any{}
	for k, p := range wrapper.Properties {
		if len(p.Examples) > 0 {
			var v any
			_ = json.Unmarshal(p.Examples[0], &v)
			fromSchema[k] = v
		}
	}
	fromSchema["token"] = "XXYYZZ"
	fromSchema["authed_users"] = []string{"U0EARSHOT"} // the schema has no example of it
	// The schema's example event is a DM; Earshot reads a channel.
	ev := fromSchema["event"].(map[string]any)
	ev["channel"] = channel
	exampleBody, _ := json.Marshal(fromSchema)
	for _, c := range []struct {
		name string
		body string
		ok   bool
	}{
		{"the stand-in's envelope", string(e.fake.Envelope(1)), true},
		{"an Events API test's envelope", event("Ev0001", message(dana, "1712345678.000100", "Acme.")), true},
		{"an envelope built from the schema's examples", string(exampleBody), true},
		{"an envelope without an event_id", strings.Replace(event("Ev0001", message(dana, "1.2", "x")), `"event_id"`, `"id"`, 1), false},
		{"an event without event_ts", event("Ev0001", `{"type":"message","ts":"1.2"}`), false},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		err := wrapper.validate("$", v)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want valid %v", c.name, err, c.ok)
		}
	}
	if err := e.app.IngestEnvelope(context.Background(), "events", exampleBody); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.items(t)[key(ev["ts"].(string))]; !ok {
		t.Errorf("the schema's example message is not stored: %v", e.items(t))
	}
}
