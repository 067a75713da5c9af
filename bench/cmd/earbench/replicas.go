package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// uidValidity recreates both mailboxes with the same messages under a new
// UIDVALIDITY while the daemon is quiet, waits until it has re-scanned
// them, and checks that nothing new came of it: no item, no outbox row,
// no delivery.
func (f *faultRun) uidValidity(ctx context.Context) error {
	ph := &f.rep.UIDValidity
	before, err := f.obs.Snapshot(ctx)
	if err != nil {
		return err
	}
	outbox0, err := f.obs.count(ctx, `select count(*) from outbox`)
	if err != nil {
		return err
	}
	sink0 := f.snk.Counts().Deliveries
	t0 := time.Now()
	ph.UIDValidity = map[string][2]uint32{}
	for _, box := range []string{feedbackAddr, intelAddr} {
		old, now, err := f.dc.ResetUIDValidity(box, "INBOX")
		if err != nil {
			return err
		}
		ph.UIDValidity[box] = [2]uint32{old, now}
	}
	var rescanned int64
	for _, box := range []string{feedbackAddr, intelAddr} {
		_, n, err := f.dc.SelectInfo(box, "INBOX")
		if err != nil {
			return err
		}
		rescanned += int64(n)
	}
	f.exp.Receipts += rescanned
	_, err = f.obs.waitUntil(ctx, 3*time.Minute, 200*time.Millisecond, func(s snapshot) bool {
		return s.Receipts >= before.Receipts+rescanned
	})
	ph.RescanSeconds = round(time.Since(t0).Seconds())
	f.ck.add("uidvalidity reset: folders re-scanned", err == nil, "%s, %d receipts expected", errOrOK(err), rescanned)
	// Give processing a moment to show any item the re-scan marked due again.
	if err := sleepCtx(ctx, 3*time.Second); err != nil {
		return err
	}
	if _, err := f.obs.waitUntil(ctx, 3*time.Minute, 250*time.Millisecond, f.quiet); err != nil {
		f.ck.add("uidvalidity reset: daemon quiet again", false, "%v", err)
	}
	after, err := f.obs.Snapshot(ctx)
	if err != nil {
		return err
	}
	outbox1, err := f.obs.count(ctx, `select count(*) from outbox`)
	if err != nil {
		return err
	}
	ph.NewReceipts = after.Receipts - before.Receipts
	ph.NewItems = after.Items - before.Items
	ph.NewOutbox = outbox1 - outbox0
	ph.NewDeliveries = f.snk.Counts().Deliveries - sink0
	f.ck.equal("uidvalidity reset: zero new items", ph.NewItems, 0)
	f.ck.equal("uidvalidity reset: zero new outbox rows", ph.NewOutbox, 0)
	f.ck.equal("uidvalidity reset: zero new deliveries", int64(ph.NewDeliveries), 0)
	cursors, err := f.obs.Sources(ctx)
	if err != nil {
		return err
	}
	moved := 0
	for _, src := range cursors {
		box := map[string]string{"feedback": feedbackAddr, "intel": intelAddr}[src.Name]
		if v, ok := ph.UIDValidity[box]; ok && src.UIDValidity == v[1] && v[1] != v[0] {
			moved++
		}
	}
	f.ck.add("uidvalidity reset: cursors follow the new uidvalidity", moved == 2, "%d of 2 cursors", moved)
	return nil
}

// replicas starts a second replica beside r1 on the same database, checks
// that a batch is processed exactly once between them, kills the replica
// holding the sources with SIGKILL, measures how long until the survivor
// holds them, and checks that the survivor ingests new mail.
func (f *faultRun) replicas(ctx context.Context) error {
	ph := &f.rep.Replicas
	ph.LeaseSeconds = f.o.sourceLease.Seconds()
	cfg2, err := writeConfig(f.dir, "r2", f.settingsFor())
	if err != nil {
		return err
	}
	r2, err := startDaemon(f.env.earshot, cfg2, filepath.Join(f.dir, "r2.log"), false)
	if err != nil {
		return err
	}
	defer r2.Stop()
	maxItem, err := f.obs.count(ctx, `select coalesce(max(id), 0) from items`)
	if err != nil {
		return err
	}
	maxOutbox, err := f.obs.count(ctx, `select coalesce(max(id), 0) from outbox`)
	if err != nil {
		return err
	}
	dup0 := f.snk.Counts().DupAcks
	sent0 := map[string]int{"r1": countSent(f.d.log), "r2": countSent(r2.log)}

	// Both replicas work on one batch.
	m := max(200, f.o.n/10)
	ph.Messages = m
	from, to := f.next, f.next+m
	f.next = to
	f.expect(from, to)
	if _, err := load(ctx, f.c, f.dc.Addr, from, to, f.o.conns, nil); err != nil {
		return err
	}
	if _, err := f.obs.waitUntil(ctx, 3*time.Minute, 250*time.Millisecond, f.quiet); err != nil {
		f.ck.add("replicas: batch processed by two replicas", false, "%v", err)
		return nil
	}
	ph.SentByReplica = map[string]int{"r1": countSent(f.d.log) - sent0["r1"], "r2": countSent(r2.log) - sent0["r2"]}
	ph.ExtraItemClaims, err = f.obs.count(ctx, `select count(*) from items i where i.id > $1 and i.attempts >
		(select count(distinct r.mailbox) from receipts r where r.item_id = i.id)`, maxItem)
	if err != nil {
		return err
	}
	ph.ExtraSendClaims, err = f.obs.count(ctx, `select count(*) from outbox where id > $1 and attempts > 1`, maxOutbox)
	if err != nil {
		return err
	}
	ph.DuplicateAcks = f.snk.Counts().DupAcks - dup0
	f.ck.equal("replicas: no item claimed more often than it was received", ph.ExtraItemClaims, 0)
	f.ck.equal("replicas: no outbox row claimed twice", ph.ExtraSendClaims, 0)
	f.ck.equal("replicas: no ack delivered twice", int64(ph.DuplicateAcks), 0)
	f.ck.add("replicas: both replicas alive", f.d.Alive() && r2.Alive(), "r1 %v, r2 %v", f.d.Alive(), r2.Alive())

	// Kill the replica that holds the sources; the other takes them over.
	victim, survivor, vname, sname := f.d, r2, "r1", "r2"
	if holders, err := f.leaseHolders(ctx); err == nil && holders[r2.p.Pid()] > holders[f.d.p.Pid()] {
		victim, survivor, vname, sname = r2, f.d, "r2", "r1"
	}
	ph.Killed = vname
	victim.Kill()
	t0 := time.Now()
	limit := f.o.sourceLease + f.o.sourceLease/3 + 3*time.Second
	var took time.Duration
	for took == 0 && time.Since(t0) < 3*f.o.sourceLease {
		holders, err := f.leaseHolders(ctx)
		if err == nil && holders[survivor.p.Pid()] == 2 {
			took = time.Since(t0)
			break
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	ph.TakeoverSeconds = round(took.Seconds())
	f.ck.add("replicas: sources move to the survivor", took > 0 && took <= limit,
		"%s held both sources %.1fs after %s was killed (source_lease %s; bound lease + lease/3 + 3s = %s)",
		sname, took.Seconds(), vname, f.o.sourceLease, limit)
	slog.Info("lease takeover", "seconds", round(took.Seconds()), "survivor", sname)

	// The survivor ingests, processes and acknowledges new mail alone.
	m2 := 100
	ph.AfterTakeover = m2
	from, to = f.next, f.next+m2
	f.next = to
	f.expect(from, to)
	if _, err := load(ctx, f.c, f.dc.Addr, from, to, f.o.conns, nil); err != nil {
		return err
	}
	_, err = f.obs.waitUntil(ctx, 3*time.Minute, 250*time.Millisecond, f.quiet)
	f.ck.add("replicas: survivor handles new mail", err == nil, "%s", errOrOK(err))
	if survivor == r2 {
		// r1 is dead: make r2 the replica the scenario stops at the end.
		f.d, r2 = r2, f.d
	}
	return checkTotals(ctx, &f.ck, "final", f.obs, f.snk, f.exp)
}

// settingsFor returns r1's settings for another replica.
func (f *faultRun) settingsFor() settings {
	s := f.settings()
	s.Database = f.env.pg.URL("faults")
	s.IMAPAddr, s.SMTPAddr = f.dc.Addr, f.snk.Addr
	return s
}

// leaseHolders counts the sources whose live lease each process holds, by
// the process id in the replica name (hostname-pid-random).
func (f *faultRun) leaseHolders(ctx context.Context) (map[int]int, error) {
	rows, err := f.obs.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int]int{}
	for _, r := range rows {
		if !r.LeaseUntil.Valid || r.LeaseUntil.Time.Before(time.Now()) {
			continue
		}
		parts := strings.Split(r.Holder, "-")
		if len(parts) < 3 {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(parts[len(parts)-2], "%d", &pid); err == nil {
			out[pid]++
		}
	}
	return out, nil
}

// countSent counts the outbox messages a replica's log says it sent.
func countSent(path string) int {
	return countLog(path, `"component":"outbox"`, `"msg":"sent"`)
}

// countLog counts the lines of a daemon log that contain every one of
// the strings.
func countLog(path string, all ...string) int {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer fh.Close()
	n := 0
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := sc.Text(), true
		for _, s := range all {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}
