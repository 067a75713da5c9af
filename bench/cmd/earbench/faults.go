package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/internal/dovecot"
)

// faultOptions are the flags of `earbench faults`.
type faultOptions struct {
	n, kills     int
	conns        int
	items, batch int
	sourceLease  time.Duration
	seed         uint64
}

// faultReport is the JSON `earbench faults` writes.
type faultReport struct {
	Kind            string       `json:"kind"`
	Started         time.Time    `json:"started"`
	Host            hostInfo     `json:"host"`
	N               int          `json:"n"`
	K               int          `json:"k"`
	Kill            killPhase    `json:"kill"`
	DovecotRestart  restartPhase `json:"dovecot_restart"`
	PostgresRestart restartPhase `json:"postgres_restart"`
	SettleSeconds   float64      `json:"settle_seconds"`
	UIDValidity     uidPhase     `json:"uidvalidity_reset"`
	Replicas        replicaPhase `json:"replicas"`
	DuplicateAcks   int          `json:"duplicate_ack_deliveries"`
	Sink            sinkCounts   `json:"sink"`
	Expected        expected     `json:"expected"`
	Seconds         float64      `json:"seconds"`
	Checks          []check      `json:"checks"`
	Passed          int          `json:"passed"`
	Failed          int          `json:"failed"`
}

// killPhase is the ingest under repeated kill -9.
type killPhase struct {
	Load          loadStats   `json:"append"`
	Kills         []killEvent `json:"kills"`
	IngestSeconds float64     `json:"ingest_seconds"`
}

// killEvent is one kill -9 of the daemon.
type killEvent struct {
	AtSeconds float64 `json:"at_s"`
	Progress  float64 `json:"progress"`
	Receipts  int64   `json:"receipts"`
	Processed int64   `json:"processed"`
	AcksSent  int64   `json:"acks_sent"`
}

// restartPhase is a server restart in the middle of an ingest.
type restartPhase struct {
	Messages       int     `json:"messages"`
	DownSeconds    float64 `json:"down_seconds"`
	Daemon         string  `json:"daemon"` // "survived" or "restarted by earbench"
	RecoverSeconds float64 `json:"ingest_complete_after_s"`
}

// uidPhase is the UIDVALIDITY reset of both mailboxes on a quiet daemon.
type uidPhase struct {
	UIDValidity   map[string][2]uint32 `json:"uidvalidity_old_new"`
	RescanSeconds float64              `json:"rescan_seconds"`
	NewReceipts   int64                `json:"new_receipts"`
	NewItems      int64                `json:"new_items"`
	NewOutbox     int64                `json:"new_outbox_rows"`
	NewDeliveries int                  `json:"new_sink_deliveries"`
}

// replicaPhase is two replicas on one database, then one killed.
type replicaPhase struct {
	Messages        int            `json:"messages"`
	SentByReplica   map[string]int `json:"acks_and_notices_sent_by_replica"`
	ExtraItemClaims int64          `json:"items_claimed_more_than_their_receipts"`
	ExtraSendClaims int64          `json:"outbox_rows_claimed_twice"`
	DuplicateAcks   int            `json:"duplicate_ack_deliveries"`
	Killed          string         `json:"killed"`
	LeaseSeconds    float64        `json:"source_lease_s"`
	TakeoverSeconds float64        `json:"takeover_s"`
	AfterTakeover   int            `json:"messages_after_takeover"`
}

// faultRun is the state of one faults scenario.
type faultRun struct {
	env  *environment
	o    faultOptions
	dir  string
	dc   *dovecot.Server
	snk  *sink
	obs  *observer
	c    *corpus
	cfg  string  // replica r1's config
	d    *daemon // replica r1
	exp  expected
	next int // next corpus index to append
	ck   checker
	rep  *faultReport
}

// runFaults runs every fault in turn on one database and one Dovecot:
// kills during ingest, a Dovecot restart, a PostgreSQL restart, a settle
// with the invariants checked, a UIDVALIDITY reset, and two replicas of
// which one is killed. Scenario errors (a server that cannot start) are
// returned; violated invariants are recorded as failed checks.
func runFaults(ctx context.Context, env *environment, o faultOptions) (*faultReport, error) {
	start := time.Now()
	f := &faultRun{env: env, o: o, dir: filepath.Join(env.dir, "faults"),
		rep: &faultReport{Kind: "faults", Started: start.UTC(), Host: host(), N: o.n, K: o.kills}}
	err := f.run(ctx)
	f.rep.Checks = f.ck.checks
	f.rep.Passed, f.rep.Failed = f.ck.counts()
	f.rep.Expected = f.exp
	f.rep.Seconds = round(time.Since(start).Seconds())
	if f.snk != nil {
		f.rep.Sink = f.snk.Counts()
		f.rep.DuplicateAcks = f.rep.Sink.DupAcks
	}
	if err != nil {
		f.ck.add("scenario completed", false, "%v", err)
		f.rep.Checks = f.ck.checks
		f.rep.Passed, f.rep.Failed = f.ck.counts()
	}
	return f.rep, nil
}

func (f *faultRun) run(ctx context.Context) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	var err error
	if f.dc, err = startDovecot(f.env.dovecotBin, filepath.Join(f.dir, "dovecot")); err != nil {
		return err
	}
	defer func() { _ = f.dc.Stop() }()
	if f.snk, err = startSink(); err != nil {
		return err
	}
	defer f.snk.Close()
	if err := f.env.pg.CreateDB(ctx, "faults"); err != nil {
		return err
	}
	f.c = newCorpus(fmt.Sprintf("faults-%d", time.Now().Unix()), f.o.seed, f.o.n+f.o.n/2+400, false)
	f.d, f.obs, err = f.env.prepareDaemon(ctx, f.dir, "r1", "faults", f.dc.Addr, f.snk.Addr, f.c, f.settings(), "", 0)
	if err != nil {
		return err
	}
	f.cfg = f.d.config
	defer f.obs.Close()
	defer func() { f.d.Stop() }()

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"kill", f.killPhase},
		{"dovecot restart", f.dovecotRestart},
		{"postgres restart", f.postgresRestart},
		{"settle", f.settle},
		{"uidvalidity reset", f.uidValidity},
		{"replicas", f.replicas},
	}
	for _, s := range steps {
		slog.Info("phase", "name", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// settings are the daemon settings of every replica: short leases (items
// and sources alike), so that work a killed process held is taken over
// within seconds.
func (f *faultRun) settings() settings {
	return settings{Items: f.o.items, Batch: f.o.batch, Lease: f.o.sourceLease, SourceLease: f.o.sourceLease}
}

// expect adds messages [from, to) to what the database must hold.
func (f *faultRun) expect(from, to int) expected {
	e := f.c.count(from, to)
	f.exp.Items += e.Items
	f.exp.Receipts += e.Receipts
	f.exp.Auto += e.Auto
	return e
}

// restartR1 starts replica r1 again after it died or was killed.
func (f *faultRun) restartR1() error {
	d, err := startDaemon(f.env.earshot, f.cfg, filepath.Join(f.dir, "r1.log"), false)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

// killPhase appends N messages while the daemon runs and kills it with
// SIGKILL K times at random points of its progress (ingest, processing
// and sending together), restarting it each time.
func (f *faultRun) killPhase(ctx context.Context) error {
	ph := &f.rep.Kill
	from, to := f.next, f.next+f.o.n
	f.next = to
	e := f.expect(from, to)
	r := rand.New(rand.NewPCG(f.o.seed, 7))
	thresholds := make([]float64, f.o.kills)
	for i := range thresholds {
		thresholds[i] = 0.05 + 0.8*r.Float64()
	}
	slices.Sort(thresholds)
	loaded := make(chan error, 1)
	go func() {
		st, err := load(ctx, f.c, f.dc.Addr, from, to, f.o.conns, nil)
		ph.Load = st
		loaded <- err
	}()
	start, lastStart := time.Now(), time.Now()
	deadline := start.Add(10*time.Minute + time.Duration(f.o.n)*20*time.Millisecond)
	done := false
	for k := 0; !done || k < len(thresholds); {
		select {
		case err := <-loaded:
			if err != nil {
				return err
			}
			done = true
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not finished after %s (%d kills)", deadline.Sub(start), k)
		}
		s, err := f.obs.Snapshot(ctx)
		if err == nil {
			prog := (frac(s.Receipts, e.Receipts) + frac(s.Processed, e.Items) + frac(s.AcksSent+s.AcksSupp, e.Items)) / 3
			if k < len(thresholds) && prog >= thresholds[k] && time.Since(lastStart) > time.Second {
				f.d.Kill()
				ph.Kills = append(ph.Kills, killEvent{AtSeconds: round(time.Since(start).Seconds()), Progress: round3(prog),
					Receipts: s.Receipts, Processed: s.Processed, AcksSent: s.AcksSent})
				slog.Info("killed earshot", "kill", k+1, "progress", round3(prog), "receipts", s.Receipts, "processed", s.Processed)
				if err := f.restartR1(); err != nil {
					return err
				}
				lastStart = time.Now()
				k++
			}
			if !done && k == len(thresholds) {
				// Every kill happened before the load finished: wait for it.
				if err := <-loaded; err != nil {
					return err
				}
				done = true
			}
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if err := f.waitIngest(ctx, 5*time.Minute); err != nil {
		return err
	}
	ph.IngestSeconds = round(time.Since(start).Seconds())
	return nil
}

// frac is done/total, at most 1.
func frac(done, total int64) float64 {
	if total == 0 {
		return 1
	}
	return min(1, float64(done)/float64(total))
}

// waitIngest waits until every appended message has its receipt.
func (f *faultRun) waitIngest(ctx context.Context, timeout time.Duration) error {
	_, err := f.obs.waitUntil(ctx, timeout, 200*time.Millisecond, func(s snapshot) bool {
		return s.Receipts >= f.exp.Receipts && s.Items >= f.exp.Items
	})
	if err != nil {
		return fmt.Errorf("ingest incomplete: %w", err)
	}
	return nil
}

// restartMidIngest appends a batch of messages in two halves and, once the
// daemon has started on the first half, restarts a server between the two.
// It records whether the daemon survived and how long until everything
// was ingested.
func (f *faultRun) restartMidIngest(ctx context.Context, label string, ph *restartPhase, stop, start func() error) error {
	m := max(200, f.o.n/4)
	from, mid, to := f.next, f.next+m/2, f.next+m
	f.next = to
	ph.Messages = m
	base := f.exp.Receipts
	f.expect(from, to)
	if _, err := load(ctx, f.c, f.dc.Addr, from, mid, f.o.conns, nil); err != nil {
		return err
	}
	if _, err := f.obs.waitUntil(ctx, time.Minute, 50*time.Millisecond, func(s snapshot) bool {
		return s.Receipts > base
	}); err != nil {
		return fmt.Errorf("daemon did not start on the batch: %w", err)
	}
	t0 := time.Now()
	if err := stop(); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return err
	}
	if err := start(); err != nil {
		return err
	}
	ph.DownSeconds = round(time.Since(t0).Seconds())
	if _, err := load(ctx, f.c, f.dc.Addr, mid, to, f.o.conns, nil); err != nil {
		return err
	}
	err := f.waitIngest(ctx, 3*time.Minute)
	ph.RecoverSeconds = round(time.Since(t0).Seconds())
	ph.Daemon = "survived"
	if !f.d.Alive() {
		ph.Daemon = "restarted by earbench"
		slog.Warn("earshot exited during the restart; starting it again", "exit", f.d.p.err)
		if rerr := f.restartR1(); rerr != nil {
			return rerr
		}
		err = f.waitIngest(ctx, 3*time.Minute)
		ph.RecoverSeconds = round(time.Since(t0).Seconds())
	}
	f.ck.add(label+": every message ingested after the restart", err == nil, "%s (daemon %s)", errOrOK(err), ph.Daemon)
	return nil
}

func errOrOK(err error) string {
	if err == nil {
		return "complete"
	}
	return err.Error()
}

// dovecotRestart restarts Dovecot (every IMAP connection drops) while the
// daemon ingests.
func (f *faultRun) dovecotRestart(ctx context.Context) error {
	return f.restartMidIngest(ctx, "dovecot restart", &f.rep.DovecotRestart,
		f.dc.Stop,
		func() error { return f.dc.Start() })
}

// postgresRestart restarts PostgreSQL (fast shutdown: every session is
// disconnected) while the daemon ingests.
func (f *faultRun) postgresRestart(ctx context.Context) error {
	return f.restartMidIngest(ctx, "postgres restart", &f.rep.PostgresRestart,
		func() error { f.env.pg.Stop(); return nil },
		func() error { return f.env.pg.Start(ctx) })
}

// settle waits until everything is processed and sent, then checks the
// invariants over the whole database.
func (f *faultRun) settle(ctx context.Context) error {
	start := time.Now()
	_, err := f.obs.waitUntil(ctx, 6*time.Minute, 250*time.Millisecond, f.quiet)
	f.rep.SettleSeconds = round(time.Since(start).Seconds())
	f.ck.add("settle: everything processed and sent", err == nil, "%v after %.1fs", errOrOK(err), f.rep.SettleSeconds)
	return checkTotals(ctx, &f.ck, "after kills and restarts", f.obs, f.snk, f.exp)
}

// quiet reports whether every expected item is processed with its ack
// row and nothing waits in the outbox.
func (f *faultRun) quiet(s snapshot) bool {
	return s.Receipts >= f.exp.Receipts && s.Processed >= f.exp.Items && s.AckRows >= f.exp.Items && s.Pending == 0
}
