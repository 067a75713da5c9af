package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// check-config reads the Slack section: it masks the tokens, and refuses
// one of the wrong shape naming the key (a user token where the bot token
// goes).
func TestCheckConfigSlack(t *testing.T) {
	const cfg = `database: sqlite:x.db
slack:
  bot_token: %s
  app_token: xapp-1-A0123ABCD-1234567890-abcdef0123456789
  channels: [{name: field-intel, channel: '#field-intel', category: intel}]
`
	code, out, stderr := runCmd(t, "check-config", "-c", writeConfig(t, strings.Replace(cfg, "%s", "xoxb-1234567890-0987654321-AbCdEfGhIjKl", 1)))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out, "AbCdEfGhIjKl") || strings.Contains(out, "abcdef0123456789") || !strings.Contains(out, `channel: "#field-intel"`) {
		t.Errorf("check-config shows a token, or not the channel:\n%s", out)
	}
	code, _, stderr = runCmd(t, "check-config", "-c", writeConfig(t, strings.Replace(cfg, "%s", "xoxp-1234567890-user", 1)))
	if code != 2 || !strings.Contains(stderr, "slack.bot_token: want a bot token") || !strings.Contains(stderr, "line 3") {
		t.Errorf("a user token: exit %d, %s", code, stderr)
	}
}

// earshot sources shows a Slack channel's cursor and its last event.
func TestSourcesSlack(t *testing.T) {
	db := filepath.Join(t.TempDir(), "e.db")
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureSource(ctx, "field-intel", "slack"); err != nil {
		t.Fatal(err)
	}
	ts := "1712345678.000100"
	_, err = st.Receive(ctx, model.Batch{Source: "field-intel", Cursor: `{"oldest":"` + ts + `","channel":"C0FIELDINT"}`,
		Items: []model.RawItem{{SourceKey: "T1:C0FIELDINT:" + ts, Kind: model.KindSlack, ContentHash: "h1", Raw: []byte(`{}`),
			ReceivedAt: model.SlackTime(ts)}}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd(t, "sources", "-c", writeConfig(t, "database: sqlite:"+db+"\n"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "LAST EVENT") || !strings.Contains(out, `{"oldest":"`+ts) ||
		!strings.Contains(out, model.SlackTime(ts).Local().Format("2006-01-02 15:04:05")) {
		t.Errorf("sources:\n%s", out)
	}
}
