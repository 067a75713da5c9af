package slack_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The signing helper computes what Slack computes: the vector of
// slack-go's security_test.go (a request Slack signed, secret
// e6b19c573432dcc6b075501d51b51bb8, timestamp 1531431954).
func TestSignVector(t *testing.T) {
	body := `{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`
	h := sign("e6b19c573432dcc6b075501d51b51bb8", time.Unix(1531431954, 0), body)
	if got := h.Get("X-Slack-Signature"); got != "v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c" {
		t.Fatalf("signature %s", got)
	}
}

// TestEventsAPI sends the Events API requests Slack documents (Verifying
// requests from Slack: v0 signatures over "v0:timestamp:body", requests
// older than five minutes refused; the Events API: url_verification,
// retries with X-Slack-Retry-Num) and forged, stale and replayed ones, in
// order: each is refused or stored once, and counted.
func TestEventsAPI(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	first := event("Ev0001", message(dana, "1712345678.000100", "Acme is discounting 40% at Globex."))
	again := event("Ev0002", message(dana, "1712345678.000100", "Acme is discounting 40% at Globex."))
	forgedHeaders := sign("00000000000000000000000000000000", now, first)
	tampered := sign(secret, now, first)
	firstHeaders := sign(secret, now, first)
	retry := sign(secret, now, first)
	retry.Set("X-Slack-Retry-Num", "1")
	retry.Set("X-Slack-Retry-Reason", "http_timeout")
	noHeaders := http.Header{}
	for _, step := range []struct {
		name   string
		body   string
		header http.Header
		status int
		items  int
		// want is a substring of the answer, if any.
		want string
	}{
		{"url_verification is answered with its challenge",
			`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
			sign(secret, now, `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`),
			200, 0, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		{"forged: signed with another secret", first, forgedHeaders, 401, 0, ""},
		{"forged: the body changed after signing", strings.Replace(first, "40%", "90%", 1), tampered, 401, 0, ""},
		{"forged: no signature", first, noHeaders, 401, 0, ""},
		{"stale: signed six minutes ago", first, sign(secret, now.Add(-6*time.Minute), first), 401, 0, ""},
		{"stale: signed six minutes ahead", first, sign(secret, now.Add(6*time.Minute), first), 401, 0, ""},
		{"a signed event is stored", first, firstHeaders, 200, 1, ""},
		{"replayed: the same request again", first, firstHeaders, 200, 1, ""},
		{"a retry of a stored event", first, retry, 200, 1, ""},
		{"the same message in another envelope", again, sign(secret, now, again), 200, 1, ""},
		{"malformed but signed", `{"type":`, sign(secret, now, `{"type":`), 400, 1, ""},
	} {
		w := e.post(step.body, step.header)
		if w.Code != step.status || !strings.Contains(w.Body.String(), step.want) {
			t.Errorf("%s: %d %q; want %d with %q", step.name, w.Code, w.Body.String(), step.status, step.want)
		}
		if got := len(e.items(t)); got != step.items {
			t.Errorf("%s: %d items stored, want %d", step.name, got, step.items)
		}
	}
	metric := func(name, label string) float64 {
		t.Helper()
		mfs, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.Metric {
				if len(m.Label) == 1 && m.Label[0].GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	for _, c := range []struct {
		name, label string
		want        float64
	}{
		{"earshot_slack_events_rejected_total", "signature", 3},
		{"earshot_slack_events_rejected_total", "stale", 2},
		{"earshot_slack_events_rejected_total", "malformed", 1},
		{"earshot_slack_events_duplicate_total", "replay", 1},
		{"earshot_slack_events_duplicate_total", "retry", 1},
		{"earshot_slack_events_duplicate_total", "stored", 1},
	} {
		if got := metric(c.name, c.label); got != c.want {
			t.Errorf("%s{reason=%q} = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	if got := testutil.ToFloat64(mustCounter(t, e, "earshot_slack_messages_ingested_total")); got != 1 {
		t.Errorf("ingested = %v, want 1", got)
	}
	// The reaction went on at once, once.
	if rs := e.fake.Reactions(); len(rs) != 1 || rs[0].TS != "1712345678.000100" || rs[0].Name != "eyes" {
		t.Errorf("reactions = %+v", rs)
	}
	t.Logf("forged 3, stale 2 → 401 (earshot_slack_events_rejected_total signature=%v stale=%v); replay, retry and a second envelope → 200 and 1 item (earshot_slack_events_duplicate_total replay=%v retry=%v stored=%v)",
		metric("earshot_slack_events_rejected_total", "signature"), metric("earshot_slack_events_rejected_total", "stale"),
		metric("earshot_slack_events_duplicate_total", "replay"), metric("earshot_slack_events_duplicate_total", "retry"),
		metric("earshot_slack_events_duplicate_total", "stored"))
}
