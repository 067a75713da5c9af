package slack_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
)

// specGET are the methods Slack's OpenAPI description lists as GET. Slack
// takes every method by GET or POST; slack-go posts forms.
var specGET = map[string]bool{"auth.test": true, "conversations.list": true, "conversations.history": true,
	"conversations.replies": true, "users.info": true, "chat.getPermalink": true}

// specTransport bridges three quirks of the 2020 description (its README
// says the specs "don't always tell the whole truth") and records what
// Prism answered: a method the description lists as GET is sent as GET
// with the same parameters; the token goes where the description wants
// it besides the Authorization header (a query parameter of GET methods,
// a "token" header); and a boolean written 0 or 1, as slack-go writes
// inclusive and Slack's documentation writes its default, is written
// false or true. Every other parameter reaches Prism as Earshot sent it,
// and Prism checks it against the description.
type specTransport struct {
	mu   sync.Mutex
	seen []string
}

func (st *specTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	r = r.Clone(r.Context())
	form := url.Values{}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		form, _ = url.ParseQuery(string(b))
	}
	if tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); tok != "" && form.Get("token") == "" {
		form.Set("token", tok)
	}
	r.Header.Set("Authorization", "Bearer "+form.Get("token"))
	r.Header.Set("token", form.Get("token"))
	for _, b := range []string{"inclusive", "include_all_metadata", "exclude_archived"} {
		if v, ok := form[b]; ok && len(v) == 1 && (v[0] == "0" || v[0] == "1") {
			form.Set(b, map[string]string{"0": "false", "1": "true"}[v[0]])
		}
	}
	if specGET[method] {
		r.Method, r.Body, r.ContentLength = http.MethodGet, nil, 0
		r.Header.Del("Content-Type")
		q := r.URL.Query()
		for k, vs := range form {
			q[k] = vs
		}
		r.URL.RawQuery = q.Encode()
	} else {
		form.Del("token")
		body := form.Encode()
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err == nil {
		st.seen = append(st.seen, r.Method+" "+method+" "+resp.Status+" "+resp.Header.Get("sl-violations"))
	}
	return resp, err
}

var errFirstPage = errors.New("first page only")

// TestPrismContract sends each Web API request Earshot makes to Prism,
// which checks it against Slack's OpenAPI description
// (../shared/slack/slack_web_openapi_v2.json: a missing channel, a
// misnamed parameter or a wrong method gets 4xx) and answers with the
// description's examples, which Earshot must read. apps.connections.open
// (Socket Mode) postdates the description; the stand-in of the
// end-to-end tests serves it.
func TestPrismContract(t *testing.T) {
	prism := testenv.PrismSlack(t)
	rt := &specTransport{}
	c := slackin.NewClient("xoxb-0000000000-0000000000-contract", prism+"/", &http.Client{Transport: rt, Timeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	id, err := c.AuthTest(ctx)
	if err != nil || id.Team == "" || id.User == "" {
		t.Errorf("auth.test = %+v, %v; want the example's team and user", id, err)
	}
	if _, err := c.ChannelID(ctx, "#general"); err != nil && !strings.Contains(err.Error(), "no channel named") {
		t.Errorf("conversations.list: %v", err)
	}
	var history []slack.Message
	err = c.History(ctx, "C012AB3CD", "1512085950.000216", func(page []slack.Message) error {
		history = append(history, page...)
		return errFirstPage // the example always says has_more
	})
	if !errors.Is(err, errFirstPage) || len(history) == 0 || history[0].Timestamp == "" || history[0].User == "" {
		t.Errorf("conversations.history = %d messages, %v; want the example's", len(history), err)
	}
	err = c.Replies(ctx, "C012AB3CD", "1482960137.003543", "1482960137.003543", func([]slack.Message) error { return errFirstPage })
	if err != nil && !errors.Is(err, errFirstPage) {
		t.Errorf("conversations.replies: %v", err)
	}
	if err := c.React(ctx, "C012AB3CD", "1512085950.000216", "eyes"); err != nil {
		t.Errorf("reactions.add: %v", err)
	}
	if ts, err := c.Post(ctx, model.SlackPost{Channel: "C012AB3CD", ThreadTS: "1512085950.000216", Text: "Thanks Dana: *+5 pts.*", ItemID: 42}); err != nil || ts == "" {
		t.Errorf("chat.postMessage = %q, %v", ts, err)
	}
	if _, err := c.Post(ctx, model.SlackPost{Channel: "C012AB3CD", ThreadTS: "1512085950.000216", User: "U012AB3CD", Ephemeral: true, Text: "Thanks"}); err != nil {
		t.Errorf("chat.postEphemeral: %v", err)
	}
	if u, err := c.User(ctx, "W012A3CDE"); err != nil || u.ID == "" {
		t.Errorf("users.info = %+v, %v", u, err)
	}
	if link, err := c.Permalink(ctx, "C012AB3CD", "1512085950.000216"); err != nil || !strings.HasPrefix(link, "http") {
		t.Errorf("chat.getPermalink = %q, %v", link, err)
	}
	if _, err := c.Posted(ctx, model.SlackPost{Channel: "C012AB3CD", ThreadTS: "1512085950.000216", ItemID: 42}); err != nil {
		t.Errorf("conversations.replies with metadata: %v", err)
	}
	methods := map[string]bool{}
	for _, s := range rt.seen {
		f := strings.Fields(s)
		methods[f[1]] = true
		// Violations located in the response are the description's own
		// examples disagreeing with its schemas; those of the request are
		// Earshot's.
		if !strings.HasPrefix(f[2], "2") || strings.Contains(s, `"location":["request"`) {
			t.Errorf("Prism refused %s", s)
		}
	}
	for _, m := range []string{"auth.test", "conversations.list", "conversations.history", "conversations.replies",
		"reactions.add", "chat.postMessage", "chat.postEphemeral", "users.info", "chat.getPermalink"} {
		if !methods[m] {
			t.Errorf("%s was not called", m)
		}
	}
	t.Logf("%d requests checked by Prism, each answered 2xx without a request violation", len(rt.seen))
}
