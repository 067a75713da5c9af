package slack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/internal/slackfake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

const (
	channel = "C0FIELDINT"
	dana    = "U0DANA001"
	ravi    = "U0RAVI001"
	secret  = "8f742231b10e8888abcd99aaabbb85a5"
)

// env is an app on a fresh SQLite store against a Slack stand-in.
type env struct {
	fake *slackfake.Server
	st   *store.Store
	app  *slackin.App
	reg  *prometheus.Registry
}

func newEnv(t *testing.T, mutate func(*slackin.Config)) *env {
	t.Helper()
	f := slackfake.New(map[string]string{channel: "field-intel"}, []slackfake.User{
		{ID: dana, Name: "dana", RealName: "Dana Whitfield", Email: "dana@example.test"}})
	t.Cleanup(f.Stop)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "slack.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := slackin.Config{BotToken: "xoxb-test", SigningSecret: secret, Mode: "events", APIURL: f.APIURL(),
		Reaction: "eyes", Channels: []slackin.Channel{{Name: "field-intel", Channel: "#field-intel", Category: "intel"}}}
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	app, err := slackin.New(cfg, st, &slackin.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: f, st: st, app: app, reg: reg}
}

// sign signs body as Slack does at time at: v0=hex(HMAC-SHA256(secret,
// "v0:" + timestamp + ":" + body)).
func sign(key string, at time.Time, body string) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/json")
	return h
}

// post sends an Events API request to the app's handler.
func (e *env) post(body string, h http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, slackin.EventsPath, strings.NewReader(body))
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.app.Handler().ServeHTTP(w, r)
	return w
}

// items returns the stored Slack items by key.
func (e *env) items(t *testing.T) map[string]model.Item {
	t.Helper()
	var rows []struct {
		ID  int64  `db:"item_id"`
		Key string `db:"source_key"`
	}
	if err := e.st.DB().Select(&rows, `select item_id, source_key from receipts order by item_id`); err != nil {
		t.Fatal(err)
	}
	out := map[string]model.Item{}
	for _, r := range rows {
		it, err := e.st.Item(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[r.Key] = it
	}
	return out
}

// event is an Events API envelope of a message event.
func event(id, inner string) string {
	return `{"token":"x","team_id":"` + slackfake.Team + `","api_app_id":"A0EARSHOT","type":"event_callback","event_id":"` + id +
		`","event_time":1712345678,"authed_users":["` + slackfake.BotUser + `"],"event":` + inner + `}`
}

func message(user, ts, text string) string {
	return fmt.Sprintf(`{"type":"message","channel":"%s","user":"%s","text":%q,"ts":"%s","team":"%s","event_ts":"%s"}`, channel, user, text, ts, slackfake.Team, ts)
}

func key(ts string) string { return slackin.Key(slackfake.Team, channel, ts) }

// mustCounter finds an unlabelled counter in the app's registry.
func mustCounter(t *testing.T, e *env, name string) prometheus.Collector {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "copy"})
			c.Add(mf.Metric[0].GetCounter().GetValue())
			return c
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}
