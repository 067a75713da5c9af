package dev

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/slackfake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/reps"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/web"
)

// Options configure the local instance.
type Options struct {
	// Dir keeps the SQLite database and the generated config.
	Dir   string
	Ports Ports
	// Smoke processes the samples, checks each one, and returns.
	Smoke bool
	// Out receives the banner and the smoke report.
	Out io.Writer
	// Log receives the daemon's log lines.
	Log *slog.Logger
}

// Run starts the embedded servers and the daemon, seeds the samples
// through IMAP, and serves until ctx is done (or, with Smoke, until every
// sample is processed and acknowledged).
func Run(ctx context.Context, o Options) error {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	imapSrv, err := StartIMAP(fmt.Sprintf("127.0.0.1:%d", o.Ports.IMAP), map[string]string{
		FeedbackAddr: MailboxPass, IntelAddr: MailboxPass})
	if err != nil {
		return err
	}
	defer imapSrv.Close()
	smtpSrv, err := StartSMTP(fmt.Sprintf("127.0.0.1:%d", o.Ports.SMTP))
	if err != nil {
		return err
	}
	defer smtpSrv.Close()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.Ports.HTTP))
	if err != nil {
		return fmt.Errorf("dev: dashboard: %w", err)
	}
	// Port 0 means any free port: use what the servers got.
	o.Ports = Ports{HTTP: port(ln.Addr().String()), IMAP: port(imapSrv.Addr), SMTP: port(smtpSrv.Addr)}

	wav, err := samples.ReadFile("samples/twilio-voicemail.wav")
	if err != nil {
		return err
	}
	twilio, err := StartTwilioFake(wav)
	if err != nil {
		return err
	}
	defer twilio.Close()
	slack := StartSlack()
	defer slack.Stop()
	postSlackBefore(slack)
	hash, err := web.HashPassword(WebPass)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(o.Dir, "earshot.yaml")
	text := sampleConfig(filepath.Join(o.Dir, "earshot.db"), o.Ports, hash, twilio.URL, slack.APIURL())
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		return fmt.Errorf("dev: sample config: %w", err)
	}
	st, err := store.Open(ctx, cfg.Database.Value(), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	roster, err := reps.ParseCSV(bytes.NewReader(sampleReps), cfg.PhoneRegion)
	if err != nil {
		return fmt.Errorf("dev: sample reps: %w", err)
	}
	if _, err := st.ImportReps(ctx, roster); err != nil {
		return err
	}

	d, err := pipeline.New(cfg, st, o.Log, &pipeline.Options{Listener: ln, Name: "dev",
		Routes: func(mux *http.ServeMux) { mux.Handle("GET /dev/mail", capturedPage(smtpSrv)) }})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(o.Out, `
Earshot is running on 127.0.0.1 with everything embedded.

  dashboard   %s/   (login %s / %s)
  sent mail   %s/dev/mail   (what Earshot sent, captured by its SMTP server on 127.0.0.1:%d)
  mailboxes   IMAP 127.0.0.1:%d, no TLS: %s and %s, password %s
  slack       #%s in a local Slack stand-in (Web API and Socket Mode at %s)
  config      %s
  database    %s

Any IMAP client can add mail (APPEND to either INBOX); it is tagged,
routed, acknowledged and counted within a second or two.
`, base, WebUser, WebPass, base, o.Ports.SMTP, o.Ports.IMAP, FeedbackAddr, IntelAddr, MailboxPass, SlackChannelName,
		slack.APIURL(), cfgPath, cfg.Database.Value())

	samples, err := Samples()
	if err != nil {
		return err
	}
	for _, s := range samples {
		if err := Deliver(ctx, imapSrv.Addr, s.To, s.Raw); err != nil {
			return err
		}
	}
	if err := postSlackLive(ctx, slack); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\nseeded %d sample contributions through IMAP, a voicemail through a local Twilio stand-in, and 2 Slack messages in #%s\n",
		len(samples), SlackChannelName)

	if o.Smoke {
		err := smoke(ctx, o.Out, st, smtpSrv, len(samples)+3)
		if err == nil {
			err = smokeSlack(o.Out, slack, 2)
		}
		if err == nil {
			fmt.Fprintln(o.Out, "smoke test passed")
		}
		stop()
		if derr := <-done; err == nil {
			err = derr
		}
		return err
	}
	return <-done
}

// smoke waits until every sample is processed and its ack sent, or, for
// auto-generated mail, suppressed, and reports each.
func smoke(ctx context.Context, out io.Writer, st *store.Store, smtpSrv *SMTPCapture, items int) error {
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		rows, err := smokeRows(ctx, st)
		if err != nil {
			return err
		}
		problems := smokeProblems(rows, items)
		if len(problems) == 0 {
			fmt.Fprintln(out, "\nsmoke test:")
			for _, r := range rows {
				fmt.Fprintf(out, "  item %d %-58q %s, ack %s %s\n", r.ID, r.Subject, r.State, r.AckState, r.AckReason)
			}
			fmt.Fprintf(out, "  %d messages captured by the SMTP server\n", len(smtpSrv.Messages()))
			return nil
		}
		last = strings.Join(problems, "; ")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("smoke test failed after 90s: %s", last)
}

// smokeSlack checks that the Slack stand-in saw a reaction and a threaded
// ack for each Slack sample, and reports them.
func smokeSlack(out io.Writer, s *slackfake.Server, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var threaded int
		for _, p := range s.Posts() {
			if p.Channel == SlackChannel && p.ThreadTS != "" {
				threaded++
			}
		}
		reactions := len(s.Reactions())
		if threaded == n && reactions == n {
			fmt.Fprintf(out, "  slack: %d messages in #%s, each with a reaction and a reply in its thread\n", n, SlackChannelName)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("smoke test failed: %d threaded replies and %d reactions in #%s, want %d each", threaded, reactions, SlackChannelName, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

type smokeRow struct {
	ID        int64             `db:"id"`
	Subject   string            `db:"subject"`
	State     model.ItemState   `db:"state"`
	Auto      string            `db:"auto_reason"`
	AckState  model.OutboxState `db:"ack_state"`
	AckReason string            `db:"ack_reason"`
	LastError string            `db:"last_error"`
}

func smokeRows(ctx context.Context, st *store.Store) ([]smokeRow, error) {
	var rows []smokeRow
	err := st.DB().SelectContext(ctx, &rows, `select i.id, i.subject, i.state, i.auto_reason, i.last_error,
		coalesce(o.state, '') as ack_state, coalesce(o.reason, '') as ack_reason
		from items i left join outbox o on o.item_id = i.id and o.kind = 'ack' order by i.id`)
	return rows, err
}

func smokeProblems(rows []smokeRow, items int) []string {
	var p []string
	if len(rows) != items {
		p = append(p, fmt.Sprintf("%d items stored, want %d", len(rows), items))
	}
	for _, r := range rows {
		switch {
		case r.State != model.StateProcessed:
			p = append(p, fmt.Sprintf("item %d is %s %s", r.ID, r.State, r.LastError))
		case r.Auto != "" && r.AckState != model.OutboxSuppressed:
			p = append(p, fmt.Sprintf("auto-generated item %d has ack %q, want suppressed", r.ID, r.AckState))
		case r.Auto == "" && r.AckState != model.OutboxSent:
			p = append(p, fmt.Sprintf("item %d ack is %q %s", r.ID, r.AckState, r.AckReason))
		}
	}
	return p
}
