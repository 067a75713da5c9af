package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/model"
)

// A Slack item's page shows its channel, its author, the permalink, what
// changed in Slack since, and the ack posted in the thread as text.
func TestSlackItemPage(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		reps := seedReps(t, e.st, "Dana Whitfield/West")
		ts := "1712345678.000100"
		id := seedItem(t, e.st, model.RawItem{SourceKey: "T1:C0FIELDINT:" + ts, Kind: model.KindSlack, Raw: []byte(`{"type":"message"}`),
			Meta: `{"team":"T1","channel":"C0FIELDINT","channel_name":"field-intel","ts":"` + ts + `","user":"U0DANA001"}`},
			model.Processed{RepID: reps["Dana Whitfield"], Sender: "U0DANA001", Subject: "#field-intel: Acme cut prices by 20%.",
				BodyText: "Acme cut prices by 20%.", Trust: model.TrustRep, TrustReason: "Slack user U0DANA001 is Dana Whitfield's (roster)",
				Message: model.Message{Slack: &model.SlackRef{Team: "T1", Channel: "C0FIELDINT", ChannelName: "field-intel", TS: ts,
					User: "U0DANA001", UserName: "Dana Whitfield", Permalink: "https://acme.slack.test/archives/C0FIELDINT/p1712345678000100", Revisions: 1}},
				Outbox: []model.OutboxMessage{{Kind: model.OutboxAck, Channel: model.ChannelSlack, Recipient: "#field-intel " + ts,
					Body: []byte(`{"channel":"C0FIELDINT","thread_ts":"` + ts + `","text":"Thanks Dana, your intel is in (Acme). *+5 pts.*"}`)}}})
		// The source key must be the test source's: a change names it.
		if _, err := e.st.ReceiveSlackChange(ctx, "test", "T1:C0FIELDINT:"+ts, model.SlackChange{Kind: model.SlackEdit,
			TS: "1712345690.000000", Text: "Acme cut prices by 20%.", Raw: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		c, _ := e.signIn(t)
		_, page := get(t, c, e.srv.URL+fmt.Sprintf("/items/%d", id))
		for _, want := range []string{`<span class="badge">#field-intel</span>`, "Dana Whitfield <code>U0DANA001</code>",
			`href="https://acme.slack.test/archives/C0FIELDINT/p1712345678000100"`, "edited 1×",
			`Edited: <q>Acme cut prices by 20%.</q>`, "<strong>ack</strong> by slack to #field-intel " + ts,
			"Thanks Dana, your intel is in (Acme). *&#43;5 pts.*"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(page, `"thread_ts"`) {
			t.Error("the ack shows as JSON")
		}
	})
}
