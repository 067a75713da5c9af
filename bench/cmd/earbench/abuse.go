package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/dev"
	"github.com/earshot-dev/earshot/internal/dovecot"
)

// abuseOptions sizes the abuse run.
type abuseOptions struct {
	strangers int // forged senders in the flood
	bigMB     int // the size of the large text-only mail
	slow      slowOptions
}

// abuseReport is the outcome of every attack.
type abuseReport struct {
	Kind    string     `json:"kind"`
	Started time.Time  `json:"started"`
	Host    hostInfo   `json:"host"`
	Rows    []abuseRow `json:"attacks"`
	Seconds float64    `json:"seconds"`
	Passed  int        `json:"passed"`
	Failed  int        `json:"failed"`
}

// abuseRow is one attack: what it should do to Earshot, and what it did.
type abuseRow struct {
	Attack   string `json:"attack"`
	Expected string `json:"expected"`
	Seen     string `json:"seen"`
	OK       bool   `json:"ok"`
}

func (r *abuseReport) add(attack, expected string, ok bool, seen string, args ...any) {
	r.Rows = append(r.Rows, abuseRow{Attack: attack, Expected: expected, Seen: fmt.Sprintf(seen, args...), OK: ok})
	slog.Info("attack", "attack", attack, "ok", ok, "seen", r.Rows[len(r.Rows)-1].Seen)
}

// printTable writes the attacks as a table, then "N passed, N failed".
func (r *abuseReport) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  \tattack\texpected\tseen")
	for _, row := range r.Rows {
		mark := "ok"
		if !row.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, row.Attack, row.Expected, row.Seen)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", r.Passed, r.Failed)
}

// The abuse run's addresses and numbers.
const (
	repAddr = "dana@rep.test"
	// abuseMaxConns is http.max_connections (its default, said so).
	abuseMaxConns = 512
	spoofedCall   = "+442079460958" // the number the local Twilio's recording comes from
)

// abuseConfig: feedback@ takes the roster only and requires DMARC (the
// rep domain's DKIM key and DMARC record come from a stub DNS); intel@
// is opened to anyone (an explicit opt-in) with the daily cap per
// recipient at 2; a local stand-in for Twilio serves a voicemail from a
// rep's number without a STIR/SHAKEN attestation. /healthz, /readyz and
// /metrics have a listener of their own, as deployed.
const abuseConfig = `database: "$DB"
timezone: UTC
log: {level: info, format: json}
http: {listen: "127.0.0.1:$HTTP", public_url: "http://127.0.0.1:$HTTP", ops_listen: "127.0.0.1:$OPS",
  max_connections: $MAXCONNS}
workers: {items: 4, batch: 20, lease: 30s, source_lease: 15s}
mailboxes:
  - name: feedback
    address: $FEEDBACK
    category: feedback
    imap: {host: $IMAPHOST, port: $IMAPPORT, tls: none, username: $FEEDBACK, password: $FBPW, after_ingest: seen}
    contributors: {accept: roster, require: dmarc}
  - name: intel
    address: $INTEL
    category: intel
    imap: {host: $IMAPHOST, port: $IMAPPORT, tls: none, username: $INTEL, password: $INPW, after_ingest: seen}
    contributors: {accept: anyone, require: none, hourly_cap: 1000}
twilio:
  account_sid: $TWILIO_ACCOUNT
  auth_token: $TWILIO_TOKEN
  api_url: $TWILIO_URL
  phone_number: "$TWILIO_NUMBER"
  poll_interval: 10s
transcribe: {engine: none}
smtp: {host: $SMTPHOST, port: $SMTPPORT, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci-lead@example.test}
  - {name: product-ops, email: product-ops@example.test}
competitors:
  - {name: Acme, aliases: [Acme Corp]}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead}
acks: {enabled: true, daily_cap: 2}
dns: {resolver: "$DNS", timeout: 2s}
`

// runAbuse replays the attacks an outsider can make against a running
// daemon and records what each did.
func runAbuse(ctx context.Context, env *environment, o abuseOptions) (*abuseReport, error) {
	start := time.Now()
	rep := &abuseReport{Kind: "abuse", Started: start.UTC(), Host: host()}
	err := abuse(ctx, env, o, rep)
	for _, row := range rep.Rows {
		if row.OK {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	rep.Seconds = round(time.Since(start).Seconds())
	return rep, err
}

func abuse(ctx context.Context, env *environment, o abuseOptions, rep *abuseReport) error {
	dir := filepath.Join(env.dir, "abuse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dc, err := startDovecot(env.dovecotBin, filepath.Join(dir, "dovecot"))
	if err != nil {
		return err
	}
	defer func() { _ = dc.Stop() }()
	snk, err := startSink()
	if err != nil {
		return err
	}
	defer snk.Close()
	tw, err := dev.StartTwilioFake(wavTone())
	if err != nil {
		return err
	}
	defer tw.Close()
	if err := env.pg.CreateDB(ctx, "abuse"); err != nil {
		return err
	}
	db := env.pg.URL("abuse")
	key, dns, err := startRepDNS()
	if err != nil {
		return err
	}
	defer dns.Close()
	port, err := freePort()
	if err != nil {
		return err
	}
	opsPort, err := freePort()
	if err != nil {
		return err
	}
	imapHost, imapPort, _ := strings.Cut(dc.Addr, ":")
	smtpHost, smtpPort, _ := strings.Cut(snk.Addr, ":")
	conf := strings.NewReplacer("$DB", db, "$HTTP", strconv.Itoa(port), "$OPS", strconv.Itoa(opsPort),
		"$MAXCONNS", strconv.Itoa(abuseMaxConns),
		"$IMAPHOST", imapHost, "$IMAPPORT", imapPort, "$SMTPHOST", smtpHost, "$SMTPPORT", smtpPort,
		"$FEEDBACK", feedbackAddr, "$INTEL", intelAddr, "$FBPW", passwords[feedbackAddr], "$INPW", passwords[intelAddr],
		"$TWILIO_ACCOUNT", dev.TwilioAccount, "$TWILIO_TOKEN", dev.TwilioToken, "$TWILIO_URL", tw.URL,
		"$TWILIO_NUMBER", dev.TwilioNumber, "$DNS", dns.Addr).Replace(abuseConfig)
	cfg := filepath.Join(dir, "abuse.yaml")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	log := filepath.Join(dir, "earshot.log")
	if err := earshotCmd(ctx, env.earshot, cfg, log, "migrate", "up"); err != nil {
		return err
	}
	roster := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(roster, []byte("name,emails,phones\nDana Reyes,"+repAddr+",\nRavi Patel,,"+spoofedCall+"\n"), 0o644); err != nil {
		return err
	}
	if err := earshotCmd(ctx, env.earshot, cfg, log, "reps", "import", roster); err != nil {
		return err
	}
	obs, err := openObserver(ctx, db)
	if err != nil {
		return err
	}
	defer obs.Close()
	d, err := startDaemon(env.earshot, cfg, log, false, append(env.daemonEnv, deployed()...)...)
	if err != nil {
		return err
	}
	defer func() { d.Stop() }()

	a := &attacker{ctx: ctx, dc: dc, snk: snk, obs: obs, repKey: key,
		httpAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), opsAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opsPort))}
	for _, step := range []func(*attacker, *abuseReport) error{
		func(a *attacker, r *abuseReport) error { return a.strangers(r, o.strangers) },
		(*attacker).signedRep,
		(*attacker).forgedRep,
		(*attacker).alteredRep,
		(*attacker).capVariants,
		(*attacker).spoofedCallerID,
		func(a *attacker, r *abuseReport) error { return a.slowClients(r, o.slow) },
	} {
		if err := step(a, rep); err != nil {
			return err
		}
	}
	// The large mail runs on a fresh daemon, so that its peak is its own.
	d.Stop()
	if d, err = startDaemon(env.earshot, cfg, log, false, append(env.daemonEnv, deployed()...)...); err != nil {
		return err
	}
	return a.largeText(rep, d, o.bigMB)
}

// attacker holds what the attacks use.
type attacker struct {
	ctx context.Context
	dc  *dovecot.Server
	snk *sink
	obs *observer
	n   int
	// repKey signs as the rep's domain; the stub DNS publishes its key.
	repKey ed25519.PrivateKey
	// httpAddr is the daemon's http.listen (the dashboard), opsAddr its
	// http.ops_listen.
	httpAddr, opsAddr string
}

// send appends raw messages to a mailbox and waits until the daemon has
// processed the items of every one of them (by Message-ID: other items,
// such as a voicemail the Twilio source polls meanwhile, do not count)
// and has no message left to send.
func (a *attacker) send(box string, msgs ...[]byte) error {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = messageID(m)
	}
	ap, err := dialAppender(a.ctx, a.dc.Addr, box, passwords[box], "INBOX", 16)
	if err != nil {
		return err
	}
	defer ap.Close()
	var answers []<-chan appendResult
	for _, m := range msgs {
		ch, err := ap.Send(a.ctx, m)
		if err != nil {
			return err
		}
		answers = append(answers, ch)
	}
	for _, ch := range answers {
		select {
		case res := <-ch:
			if res.err != nil {
				return res.err
			}
		case <-a.ctx.Done():
			return a.ctx.Err()
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done, err := a.obs.count(a.ctx, `select count(*) from items
			where message_id = any($1) and state in ('processed', 'quarantined')`, pq.Array(ids))
		if err != nil {
			return err
		}
		if done >= int64(len(ids)) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("abuse: %d of %d messages processed after 5 minutes", done, len(ids))
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-a.ctx.Done():
			return a.ctx.Err()
		}
	}
	_, err = a.obs.waitUntil(a.ctx, 5*time.Minute, 200*time.Millisecond, func(s snapshot) bool {
		return s.Pending == 0
	})
	return err
}

// mail builds one message.
func (a *attacker) mail(from, to, subject, extraHeader, body string) []byte {
	a.n++
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <abuse-%d-%d@attacker.test>\r\n"+
		"Date: %s\r\n%sMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, to, subject, a.n, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z), extraHeader, body))
}

// strangers floods feedback@ with mail forged from strangers' addresses:
// a backscatter source would thank each victim.
func (a *attacker) strangers(r *abuseReport, n int) error {
	deliveries := a.snk.Counts().Deliveries
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, a.mail(fmt.Sprintf("Cheap Pills <victim%d@third-party.test>", i), feedbackAddr,
			"CHEAP PILLS at http://spam.example/buy", "", "Acme pills at http://spam.example/buy"))
	}
	if err := a.send(feedbackAddr, msgs...); err != nil {
		return err
	}
	sent := a.snk.Counts().Deliveries - deliveries
	kept, err := a.obs.count(a.ctx, `select count(*) from items where trust = 'stranger' and subject like 'CHEAP PILLS%'`)
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("%d forged strangers", n), "0 acks, 0 owner notices, every mail kept",
		sent == 0 && kept == int64(n), "%d messages sent, %d of %d kept as strangers' items", sent, kept, n)
	return nil
}

// forgedRep writes from a rep's address with a failing authentication
// verdict: nothing verifies it, so it must not earn the rep points.
func (a *attacker) forgedRep(r *abuseReport) error {
	m := a.mail("Dana Reyes <"+repAddr+">", feedbackAddr, "Acme pricing", "Authentication-Results: mx.rep.test; spf=fail smtp.mailfrom=rep.test; dmarc=fail header.from=rep.test\r\n",
		"Acme is 40% cheaper.")
	deliveries := a.snk.Counts().Deliveries
	if err := a.send(feedbackAddr, m); err != nil {
		return err
	}
	points, err := a.obs.count(a.ctx, `select coalesce(sum(l.points), 0) from points_ledger l join items i on i.id = l.item_id where i.subject = 'Acme pricing'`)
	if err != nil {
		return err
	}
	flagged, err := a.obs.count(a.ctx, `select count(*) from items where subject = 'Acme pricing' and trust = 'unverified'`)
	if err != nil {
		return err
	}
	sent := a.snk.Counts().Deliveries - deliveries
	r.add("forged rep From, dmarc=fail", "0 points, no ack, item flagged unverified",
		points == 0 && flagged == 1 && sent == 0, "%d points, %d messages sent, %d item flagged", points, sent, flagged)
	return nil
}

// capVariants writes as one address spelled four ways to a mailbox open
// to anyone: the daily cap of 2 must count them as one recipient.
func (a *attacker) capVariants(r *abuseReport) error {
	acksBefore := a.snk.Counts().Acks
	var msgs [][]byte
	for _, from := range []string{"victim2@cap.test", "VICTIM2@cap.test", "Victim2@Cap.Test", "victim2+x@cap.test"} {
		msgs = append(msgs, a.mail(from, intelAddr, "hello", "", "hello"))
	}
	if err := a.send(intelAddr, msgs...); err != nil {
		return err
	}
	acks := a.snk.Counts().Acks - acksBefore
	r.add("one address spelled 4 ways (case, +tag)", "at most 2 acks (the daily cap)", acks <= 2,
		"%d acks delivered", acks)
	return nil
}

// spoofedCallerID is a voicemail from a rep's number whose call carried
// no STIR/SHAKEN attestation: anyone can set a caller ID.
func (a *attacker) spoofedCallerID(r *abuseReport) error {
	_, err := a.obs.waitUntil(a.ctx, 2*time.Minute, 200*time.Millisecond, func(snapshot) bool {
		n, err := a.obs.count(a.ctx, `select count(*) from items where kind = 'voicemail' and state = 'processed'`)
		return err == nil && n > 0
	})
	if err != nil {
		return fmt.Errorf("the voicemail was not processed: %w", err)
	}
	points, err := a.obs.count(a.ctx, `select coalesce(sum(l.points), 0) from points_ledger l join items i on i.id = l.item_id where i.kind = 'voicemail'`)
	if err != nil {
		return err
	}
	flagged, err := a.obs.count(a.ctx, `select count(*) from items where kind = 'voicemail' and trust = 'unverified'`)
	if err != nil {
		return err
	}
	r.add("spoofed caller ID, no attestation", "0 points, item flagged unverified", points == 0 && flagged == 1,
		"%d points, %d item flagged", points, flagged)
	return nil
}

// largeText sends a text-only mail of mb megabytes from the rep: the
// daemon's memory must stay bounded (GOMEMLIMIT=100MiB and GOGC=200, as deployed).
func (a *attacker) largeText(r *abuseReport, d *daemon, mb int) error {
	line := "Customers keep asking about Acme's pricing and the billing screen. "
	body := strings.Repeat(line+"\r\n", mb*1000*1000/(len(line)+2))
	if err := a.send(feedbackAddr, a.mail("Dana Reyes <"+repAddr+">", feedbackAddr, "A long report", "", body)); err != nil {
		return err
	}
	peak := d.rss.PeakMB()
	whole, err := a.obs.count(a.ctx, `select count(*) from items where subject = 'A long report'
		and not raw_truncated and state = 'processed'`)
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("%d MB text-only mail", mb), "processed whole, peak RSS under 150 MB ("+deployedEnv+")",
		peak < 150 && whole == 1, "peak RSS %.0f MB, %d item processed whole", peak, whole)
	return nil
}

// wavTone is a second of 8 kHz silence as a WAV file: the voicemail's audio.
func wavTone() []byte {
	const rate, n = 8000, 8000
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	putLE(b[4:], 36+2*n, 4)
	copy(b[8:], "WAVEfmt ")
	putLE(b[16:], 16, 4)
	putLE(b[20:], 1, 2)
	putLE(b[22:], 1, 2)
	putLE(b[24:], rate, 4)
	putLE(b[28:], rate*2, 4)
	putLE(b[32:], 2, 2)
	putLE(b[34:], 16, 2)
	copy(b[36:], "data")
	putLE(b[40:], 2*n, 4)
	return b
}

func putLE(b []byte, v, size int) {
	for i := range size {
		b[i] = byte(v >> (8 * i))
	}
}
