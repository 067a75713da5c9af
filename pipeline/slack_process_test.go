package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/transcribe"
)

// directory is a Slack directory of fixed users and files.
type directory struct {
	users map[string]slackin.User
	files map[string][]byte
}

func (d directory) UserInfo(ctx context.Context, id string) (slackin.User, error) {
	if u, ok := d.users[id]; ok {
		return u, nil
	}
	return slackin.User{}, errors.New("users.info: user_not_found")
}

func (d directory) Permalink(ctx context.Context, channel, ts string) (string, error) {
	return "https://acme-sales.slack.test/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", ""), nil
}

func (d directory) Download(ctx context.Context, url string) ([]byte, error) {
	if b, ok := d.files[url]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no file %s", url)
}

// countingEngine transcribes every audio to the same words, and counts.
type countingEngine struct{ calls atomic.Int32 }

func (e *countingEngine) Transcribe(ctx context.Context, a transcribe.Audio) (transcribe.Transcript, error) {
	e.calls.Add(1)
	return transcribe.Transcript{Text: "Globex told me Acme bundles reports for free", Engine: "test"}, nil
}

func (e *countingEngine) Name() string { return "test" }

const slackProcessConfig = `
database: sqlite:%s
timezone: America/Los_Angeles
slack:
  bot_token: xoxb-0000000000-0000000000-earshottest
  app_token: xapp-1-A0EARSHOT-0000000000-earshottest
  channels:
    - {name: field-intel, channel: C0FIELDINT, category: intel}
    - {name: open-intel, channel: C0OPENINT1, category: both, route_strangers: true}
owners:
  - {name: ci-lead, email: ci@example.test}
competitors:
  - {name: Acme, owner: ci-lead}
  - {name: Globex}
route: {owner: ci-lead}
acks: {enabled: true}
`

type slackHarness struct {
	t   *testing.T
	st  *store.Store
	p   *pipeline.Processor
	eng *countingEngine
	n   int
}

func newSlackHarness(t *testing.T, extra ...string) *slackHarness {
	t.Helper()
	ctx := context.Background()
	yml := fmt.Sprintf(slackProcessConfig, filepath.Join(t.TempDir(), "s.db"))
	for _, x := range extra {
		yml = strings.Replace(yml, "  channels:\n", x+"  channels:\n", 1)
	}
	cfg, err := config.Parse([]byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Database.Value(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"field-intel", "open-intel"} {
		if err := st.EnsureSource(ctx, src, "slack"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ImportReps(ctx, []model.Rep{{Name: "Dana Whitfield", Slack: []string{dana}, Line: 2},
		{Name: "Ravi Patel", Emails: []string{"ravi@example.test"}, Line: 3}}); err != nil {
		t.Fatal(err)
	}
	router, err := pipeline.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.NewAwarder(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gate := pipeline.NewGate(cfg, st, nil)
	eng := &countingEngine{}
	dir := directory{users: map[string]slackin.User{
		dana:     {ID: dana, RealName: "Dana Whitfield", Email: "dana.w@example.test"},
		ravi:     {ID: ravi, RealName: "Ravi Patel", Email: "RAVI@example.test"},
		stranger: {ID: stranger, RealName: "Sam Visitor", Email: "sam@elsewhere.test"},
	}, files: map[string][]byte{"https://files.slack.test/memo.m4a": []byte("audio")}}
	return &slackHarness{t: t, st: st, eng: eng, p: &pipeline.Processor{Store: st, Router: router, Gate: gate, Awarder: a,
		Slacks: &pipeline.Slacks{Store: st, Directory: dir, Transcriber: eng, Router: router, Gate: gate}}}
}

// post stores a Slack message as the source would.
func (h *slackHarness) post(src, ch, user, text string, files ...model.SlackFile) string {
	h.t.Helper()
	h.n++
	ts := fmt.Sprintf("17123456%02d.000100", h.n)
	meta, _ := json.Marshal(model.SlackMeta{Team: "T1", Channel: ch, ChannelName: src, Source: src, TS: ts, User: user,
		Text: text, Files: files, Category: map[string]string{"field-intel": "intel", "open-intel": "both"}[src]})
	_, err := h.st.Receive(context.Background(), model.Batch{Source: src, Items: []model.RawItem{{
		SourceKey: slackin.Key("T1", ch, ts), Kind: model.KindSlack, ContentHash: slackin.ContentHash("T1", ch, ts),
		Raw: []byte(`{}`), Meta: string(meta), ReceivedAt: model.SlackTime(ts)}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return ts
}

// process claims, processes and completes every due item.
func (h *slackHarness) process() map[int64]model.Processed {
	h.t.Helper()
	ctx := context.Background()
	items, err := h.st.Claim(ctx, "w", 50, time.Minute)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int64]model.Processed{}
	for _, it := range items {
		res, err := h.p.Process(ctx, it)
		if err != nil {
			h.t.Fatal(err)
		}
		if err := h.st.Complete(ctx, it.ID, "w", res); err != nil {
			h.t.Fatal(err)
		}
		out[it.ID] = res
	}
	return out
}

func (h *slackHarness) change(src, ch, ts string, c model.SlackChange) {
	h.t.Helper()
	if _, err := h.st.ReceiveSlackChange(context.Background(), src, slackin.Key("T1", ch, ts), c); err != nil {
		h.t.Fatal(err)
	}
}

func tagValues(tags []model.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, string(t.Kind)+"="+t.Value)
	}
	slices.Sort(out)
	return out
}

// TestSlackWhoEarns maps Slack users to reps: by the roster's slack
// contact, by the profile e-mail; a stranger is kept and tagged without
// points or an ack, and reaches an owner only where the channel routes
// strangers.
func TestSlackWhoEarns(t *testing.T) {
	for _, c := range []struct {
		name, src, ch, user string
		trust               model.Trust
		reason              string
		paid, routed        bool
		ack                 model.OutboxState
		ackReason           string
	}{
		{"a rep by the roster's slack contact", "field-intel", "C0FIELDINT", dana, model.TrustRep, "Dana Whitfield's (roster)", true, true, model.OutboxPending, ""},
		{"a rep by the profile e-mail", "field-intel", "C0FIELDINT", ravi, model.TrustRep, "profile e-mail ravi@example.test", true, true, model.OutboxPending, ""},
		{"a stranger", "field-intel", "C0FIELDINT", stranger, model.TrustStranger, "not on the rep roster", false, false, model.OutboxSuppressed, outbound.ReasonNotContributor},
		{"a stranger where the channel routes strangers", "open-intel", "C0OPENINT1", stranger, model.TrustStranger, "not on the rep roster", false, true, model.OutboxSuppressed, outbound.ReasonNotContributor},
		{"a user Slack does not know (another workspace's)", "field-intel", "C0FIELDINT", "U0GONE0001", model.TrustStranger, "not on the rep roster", false, false, model.OutboxSuppressed, outbound.ReasonNotContributor},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newSlackHarness(t)
			h.post(c.src, c.ch, c.user, "Acme &amp; Globex are <b>bundling</b>.")
			for _, res := range h.process() {
				if res.Trust != c.trust || !strings.Contains(res.TrustReason, c.reason) {
					t.Errorf("trust %s (%s), want %s (%s)", res.Trust, res.TrustReason, c.trust, c.reason)
				}
				if (len(res.Ledger) > 0) != c.paid || (len(res.Assignments) > 0) != c.routed {
					t.Errorf("ledger %v, assignments %v; want paid %v, routed %v", res.Ledger, res.Assignments, c.paid, c.routed)
				}
				ack := res.Outbox[0]
				if ack.Channel != model.ChannelSlack || ack.State != c.ack && !(c.ack == model.OutboxPending && ack.State == "") || ack.Reason != c.ackReason {
					t.Errorf("ack %s %q %q, want %s %q", ack.Channel, ack.State, ack.Reason, c.ack, c.ackReason)
				}
				if res.BodyText != "Acme & Globex are <b>bundling</b>." || res.Message.Slack == nil || res.Message.Slack.Permalink == "" {
					t.Errorf("text %q, slack %+v", res.BodyText, res.Message.Slack)
				}
				if c.paid {
					var p model.SlackPost
					if err := json.Unmarshal(ack.Body, &p); err != nil || p.ThreadTS == "" || p.Channel != c.ch || !strings.Contains(p.Text, "pts") {
						t.Errorf("ack post %+v, %v", p, err)
					}
				}
			}
		})
	}
}

// An edit before routing is what is tagged; one after routing changes
// the text shown, not the tags, owners or points. A deletion withholds
// the ack. The author's own replies count as the post's text.
func TestSlackRevisions(t *testing.T) {
	h := newSlackHarness(t)
	ctx := context.Background()
	ts := h.post("field-intel", "C0FIELDINT", dana, "A competitor cut prices.")
	h.change("field-intel", "C0FIELDINT", ts, model.SlackChange{Kind: model.SlackEdit, TS: "1.1", Text: "Acme cut prices.", Raw: []byte(`{}`)})
	h.change("field-intel", "C0FIELDINT", ts, model.SlackChange{Kind: model.SlackContext, TS: "1.2", Text: "Globex confirmed it.", Raw: []byte(`{}`)})
	var id int64
	for i, res := range h.process() {
		id = i
		got := tagValues(res.Tags)
		if !slices.Contains(got, "competitor=Acme") || !slices.Contains(got, "competitor=Globex") {
			t.Errorf("tags %v; want Acme from the edit and Globex from the author's reply", got)
		}
		if res.Message.Slack.Revisions != 1 || len(res.Message.Slack.Context) != 1 {
			t.Errorf("slack ref %+v", res.Message.Slack)
		}
	}
	before, _ := h.st.Tags(ctx, id)
	h.change("field-intel", "C0FIELDINT", ts, model.SlackChange{Kind: model.SlackEdit, TS: "1.3", Text: "Acme and Initech cut prices.", Raw: []byte(`{}`)})
	it, err := h.st.Item(ctx, id)
	if err != nil || it.BodyText != "Acme and Initech cut prices." || it.State != model.StateProcessed {
		t.Errorf("after a later edit: %q %s, %v; want the new text shown, the item left processed", it.BodyText, it.State, err)
	}
	after, _ := h.st.Tags(ctx, id)
	if !slices.Equal(tagValues(before), tagValues(after)) {
		t.Errorf("tags changed after routing: %v → %v", tagValues(before), tagValues(after))
	}

	gone := h.post("field-intel", "C0FIELDINT", dana, "Acme again.")
	h.change("field-intel", "C0FIELDINT", gone, model.SlackChange{Kind: model.SlackDelete, TS: "1.4", Raw: []byte(`{}`)})
	for _, res := range h.process() {
		if ack := res.Outbox[0]; ack.State != model.OutboxSuppressed || ack.Reason != pipeline.ReasonSlackDeleted || !res.Message.Slack.Deleted {
			t.Errorf("ack of a deleted message: %s %q", ack.State, ack.Reason)
		}
		if len(res.Ledger) == 0 {
			t.Error("a deleted message is still the rep's contribution: it earns its points")
		}
	}
}

// A voice memo is downloaded and transcribed, the transcript saved first:
// processing again transcribes nothing.
func TestSlackVoiceMemo(t *testing.T) {
	h := newSlackHarness(t)
	ctx := context.Background()
	h.post("field-intel", "C0FIELDINT", dana, "", model.SlackFile{ID: "F1", Name: "memo.m4a", Mimetype: "audio/mp4",
		Size: 5, URL: "https://files.slack.test/memo.m4a", Audio: true},
		model.SlackFile{ID: "F2", Name: "deck.pdf", Mimetype: "application/pdf", Size: 9000, URL: "https://files.slack.test/deck.pdf"})
	var id int64
	for i, res := range h.process() {
		id = i
		if !slices.Contains(tagValues(res.Tags), "competitor=Acme") || len(res.Message.Attachments) != 2 {
			t.Errorf("tags %v, attachments %+v", tagValues(res.Tags), res.Message.Attachments)
		}
	}
	if tr, ok, err := h.st.ItemTranscript(ctx, id); err != nil || !ok || !strings.Contains(tr.Text, "Acme") {
		t.Fatalf("saved transcript %+v %v %v", tr, ok, err)
	}
	if _, err := h.st.Reprocess(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	h.process()
	if n := h.eng.calls.Load(); n != 1 {
		t.Errorf("%d transcriptions; want one, saved before it was used", n)
	}
}

// Slack acks count against the daily cap per Slack user, like mail acks
// per address.
func TestSlackDailyCap(t *testing.T) {
	h := newSlackHarness(t)
	var states []string
	for i := range 22 {
		h.post("field-intel", "C0FIELDINT", dana, fmt.Sprintf("Acme note %d.", i))
	}
	res := h.process()
	ids := make([]int64, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ack := res[id].Outbox[0]
		states = append(states, string(ack.State)+" "+ack.Reason)
		if ack.RecipientKey != "slack:u0dana001" {
			t.Errorf("ack counted as %q", ack.RecipientKey)
		}
	}
	if states[19] != " " || states[20] != "suppressed daily cap of 20 acks reached" || states[21] != states[20] {
		t.Errorf("acks: %q", states)
	}
}

// With slack.ack.reply: ephemeral, the ack is posted so that only the
// author sees it, in the message's thread.
func TestSlackEphemeralAck(t *testing.T) {
	h := newSlackHarness(t, "  ack: {reply: ephemeral}\n")
	ts := h.post("field-intel", "C0FIELDINT", dana, "Acme again.")
	for _, res := range h.process() {
		var p model.SlackPost
		if err := json.Unmarshal(res.Outbox[0].Body, &p); err != nil || !p.Ephemeral || p.User != dana || p.ThreadTS != ts {
			t.Errorf("ack post %+v, %v; want an ephemeral one to Dana in the thread", p, err)
		}
	}
}
