package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// EventsPath is where Slack posts Events API requests, relative to the
// public URL.
const EventsPath = "/slack/events"

// maxEventBody caps an Events API request; Slack's are a few KB.
const maxEventBody = 1 << 20

// Handler serves POST /slack/events, the Events API: every request must
// carry a valid X-Slack-Signature (HMAC-SHA256 of "v0:" + timestamp + ":"
// + body with the signing secret, compared in constant time) and a
// timestamp within five minutes; others get 401 and count in
// earshot_slack_events_rejected_total. A url_verification is answered
// with its challenge. An event is stored before the 200: a failure
// answers 500 and Slack retries. A retry (X-Slack-Retry-Num) or a replay
// of a stored event is answered 200 without a second item, and counted in
// earshot_slack_events_duplicate_total.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+EventsPath, a.events)
	return mux
}

func (a *App) events(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
	if err != nil {
		a.metrics.rejected.WithLabelValues("malformed").Inc()
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	sv, err := slack.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		reason := "signature"
		if errors.Is(err, slack.ErrExpiredTimestamp) {
			reason = "stale"
		}
		a.metrics.rejected.WithLabelValues(reason).Inc()
		a.log.Warn("events API request refused", "reason", reason, "err", err)
		http.Error(w, "invalid slack signature", http.StatusUnauthorized)
		return
	}
	outer, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		a.metrics.rejected.WithLabelValues("malformed").Inc()
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	if outer.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &ch); err != nil {
			http.Error(w, "malformed challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(ch.Challenge))
		return
	}
	var env envelope
	_ = json.Unmarshal(body, &env)
	now := a.opts.Now()
	if env.EventID != "" && a.seen.seen(env.EventID, now) {
		reason := "replay"
		if r.Header.Get("X-Slack-Retry-Num") != "" {
			reason = "retry"
		}
		a.metrics.duplicates.WithLabelValues(reason).Inc()
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2500*time.Millisecond)
	defer cancel()
	if err := a.IngestEnvelope(ctx, ViaEvents, body); err != nil {
		a.log.Warn("slack event not stored; Slack retries it", "event_id", env.EventID, "err", err)
		http.Error(w, "event not stored yet", http.StatusInternalServerError)
		return
	}
	if env.EventID != "" {
		a.seen.add(env.EventID, now)
	}
	w.WriteHeader(http.StatusOK)
}
