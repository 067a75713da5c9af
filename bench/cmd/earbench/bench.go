package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/dovecot"
)

// benchOptions are the flags of `earbench bench`.
type benchOptions struct {
	sizes    []int
	conns    int // appending connections per mailbox
	rate     int // latency probe: messages per second
	duration time.Duration
	items    int // workers.items of the daemon
	batch    int // workers.batch
	profile  string
	skipLat  bool
	seed     uint64
	// peer is the tool measured on the same mail: "n8n" or "none";
	// peerKit the directory of its kit, peerCache where it is installed.
	peer, peerKit, peerCache string
	// pgFloor measures PostgreSQL's own rate at storing the raw mail.
	pgFloor bool
	note    string
	// rounds is how many times the floor, the intake alone and the whole
	// pipeline are each measured; the median is reported.
	rounds int
}

// benchRun is the result of one corpus size.
type benchRun struct {
	N          int `json:"n"`
	Deliveries int `json:"deliveries"`
	// CPUPerItem is the headline: CPU milliseconds per item.
	CPUPerItem cpuPerItem   `json:"cpu_ms_per_item"`
	Load       loadStats    `json:"append"`
	RawFetch   fetchStats   `json:"raw_fetch"`
	RawRounds  []fetchStats `json:"raw_fetch_rounds"`
	// IngestAlone is `earshot run -intake-only` on a database of its
	// own: raw stored and cursor advanced, nothing else competing.
	IngestAlone phaseRate `json:"ingest_alone"`
	// IngestAloneMB is that run's peak resident memory.
	IngestAloneMB float64 `json:"ingest_alone_peak_rss_mb"`
	// IngestAloneCPU is the CPU earshot and PostgreSQL used meanwhile.
	IngestAloneCPU map[string]float64 `json:"ingest_alone_cpu_seconds,omitempty"`
	// IngestRounds and PipelineRounds are every round of the intake
	// alone and of the whole pipeline, in the order they ran; the run's
	// figures are the median round's (roundFigures).
	IngestRounds   []roundFigures `json:"ingest_alone_rounds,omitempty"`
	PipelineRounds []roundFigures `json:"pipeline_rounds,omitempty"`
	// Ingest, Processed and Pipeline are the full daemon's run, where
	// ingest shares the machine with processing and sending.
	Ingest    phaseRate `json:"ingest"`
	Processed phaseRate `json:"processed"`
	Pipeline  phaseRate `json:"pipeline_through_acks"`
	// SearchIndexed is when the search indexer, which runs behind
	// processing, had indexed every item.
	SearchIndexed phaseRate      `json:"search_indexed"`
	Outbox        outboxSummary  `json:"outbox"`
	Memory        memorySummary  `json:"memory"`
	Latency       *latencyResult `json:"idle_latency,omitempty"`
	// CPUThroughAcks is the CPU seconds each process group used from the
	// daemon's start until the last ack was delivered, and the wall-clock
	// seconds ("wall"); "observer" is earbench's own progress queries,
	// left out of PostgreSQL's figure. CPU is the same until the search
	// index caught up.
	CPUThroughAcks map[string]float64 `json:"cpu_seconds_through_acks"`
	CPU            map[string]float64 `json:"cpu_seconds"`
	// PGFloor is PostgreSQL's own best rate at storing the same raw mail.
	PGFloor *pgFloor `json:"pg_floor,omitempty"`
	// N8N is the peer on the same mail (-peer=n8n).
	N8N *n8nResult `json:"n8n,omitempty"`
	// Retries counts items whose processing failed and was retried after
	// a backoff, from the daemon's log; FirstIntel those that failed on
	// the first-intel-of-month bonus of a rep with two items in flight.
	Retries    int `json:"item_retries"`
	FirstIntel int `json:"item_retries_first_intel_conflict"`
	// Statements are PostgreSQL's busiest statements (profiling runs);
	// IngestStatements those of the intake-only replica.
	Statements       []statement    `json:"top_statements,omitempty"`
	IngestStatements []statement    `json:"ingest_top_statements,omitempty"`
	Timeline         []progressTick `json:"timeline"`
}

// roundFigures are one round's headline figures: its duration and rate,
// its CPU per item and its peak resident memory.
type roundFigures struct {
	Seconds    float64  `json:"seconds"`
	ItemsPerS  float64  `json:"items_per_s"`
	CPUPerItem cpuShare `json:"cpu_ms_per_item"`
	PeakRSSMB  float64  `json:"peak_rss_mb"`
	// Median marks the round whose figures the run reports.
	Median bool `json:"median,omitempty"`
}

// medianIndex is the index of the median of n values sorted by less:
// the upper middle of an even count.
func medianIndex(n int, less func(i, j int) bool) int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	return idx[n/2]
}

// phaseRate is how long earshot took to reach a point of the run, counted
// from the start of the `earshot run` process, and the rate it implies in
// mailbox messages (deliveries) per second.
type phaseRate struct {
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
	ItemsPerS  float64 `json:"items_per_s"`
	RatioToRaw float64 `json:"ratio_to_raw"`
}

// outboxSummary counts the outbox and the sink at the end of a run.
type outboxSummary struct {
	AcksSent       int64      `json:"acks_sent"`
	AcksSuppressed int64      `json:"acks_suppressed"`
	OtherSent      int64      `json:"owner_notices_sent"`
	Sink           sinkCounts `json:"sink"`
}

// memorySummary is the daemon's resident memory.
type memorySummary struct {
	PeakMB        float64     `json:"peak_rss_mb"`
	EndMB         float64     `json:"end_rss_mb"`
	AfterIdleMB   float64     `json:"peak_rss_after_latency_mb,omitempty"`
	RSSEverySecMB []rssSample `json:"rss_timeline"`
}

// progressTick is the state of a run at one second.
type progressTick struct {
	T         float64 `json:"t"`
	Receipts  int64   `json:"receipts"`
	Processed int64   `json:"processed"`
	AcksSent  int64   `json:"acks_sent"`
}

// benchReport is the JSON `earbench bench` writes.
type benchReport struct {
	Kind    string         `json:"kind"`
	Started time.Time      `json:"started"`
	Host    hostInfo       `json:"host"`
	Workers map[string]int `json:"workers"`
	// Note says what the figures should be read with (-note), e.g. a
	// busy machine.
	Note string `json:"note,omitempty"`
	// DaemonEnv is what -daemon-env added to earshot's environment.
	DaemonEnv []string `json:"daemon_env"`
	// Rounds is how many times each size's floor, intake alone and
	// pipeline were measured (-rounds).
	Rounds int        `json:"rounds"`
	Runs   []benchRun `json:"runs"`
	Goals  []goal     `json:"goals"`
}

// goal compares a figure with a target of the issue (not a threshold).
type goal struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}

// cpuShare is CPU milliseconds per item by process group; Total is
// earshot's and PostgreSQL's together (Dovecot, the mail server both
// earshot and a peer read from, is shown apart).
type cpuShare struct {
	Earshot  float64 `json:"earshot"`
	Postgres float64 `json:"postgres"`
	Total    float64 `json:"total"`
	Dovecot  float64 `json:"dovecot,omitempty"`
}

// cpuPerItem is the run's headline: CPU milliseconds per item for the
// whole pipeline (the daemon's start until the last ack was delivered),
// for the intake alone, for PostgreSQL's floor, and for the peer per
// message (per delivery: one row each).
type cpuPerItem struct {
	cpuShare
	IngestAlone cpuShare   `json:"ingest_alone"`
	PGFloor     float64    `json:"pg_floor_postgres,omitempty"`
	N8N         *n8nPerMsg `json:"n8n,omitempty"`
}

// n8nPerMsg is the peer's CPU milliseconds per message.
type n8nPerMsg struct {
	N8N      float64 `json:"n8n"`
	Postgres float64 `json:"postgres"`
	Total    float64 `json:"total"`
}

// share turns CPU seconds by group into milliseconds per item.
func share(cpu map[string]float64, items int) cpuShare {
	if items == 0 || cpu == nil {
		return cpuShare{}
	}
	per := func(s float64) float64 { return round3(s * 1000 / float64(items)) }
	return cpuShare{Earshot: per(cpu["earshot"]), Postgres: per(cpu["postgres"]),
		Total: per(cpu["earshot"] + cpu["postgres"]), Dovecot: per(cpu["dovecot"])}
}

// runBench measures each corpus size in turn on private servers.
func runBench(ctx context.Context, env *environment, o benchOptions) (*benchReport, error) {
	rep := &benchReport{Kind: "bench", Started: time.Now().UTC(), Host: host(), Note: o.note,
		Workers: map[string]int{"items": o.items, "batch": o.batch}, DaemonEnv: append([]string{}, env.daemonEnv...),
		Rounds: o.rounds}
	// The peer is installed (or found in its cache) before anything is
	// measured; a failed install is reported in each run's row.
	var pr peerRun
	if o.peer == "n8n" {
		pr.inst, pr.err = installN8N(ctx, o.peerKit, o.peerCache)
		if pr.err != nil {
			slog.Warn("n8n peer not installed; its rows will say why", "error", pr.err)
		}
	}
	for _, n := range o.sizes {
		run, err := benchOne(ctx, env, o, n, pr)
		if err != nil {
			return rep, fmt.Errorf("n=%d: %w", n, err)
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.Goals = benchGoals(rep.Runs, rep.DaemonEnv)
	return rep, nil
}

// peerRun is the peer's installation, or why there is none.
type peerRun struct {
	inst *peerInstall
	err  error
}

// benchOne runs one corpus size: load, raw fetch, PostgreSQL's floor,
// earshot's intake alone, earshot to the last ack, the idle latency
// probe, then the peer on the same messages.
func benchOne(ctx context.Context, env *environment, o benchOptions, n int, pr peerRun) (benchRun, error) {
	run := benchRun{N: n}
	dir := filepath.Join(env.dir, fmt.Sprintf("bench-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return run, err
	}
	dc, err := startDovecot(env.dovecotBin, filepath.Join(dir, "dovecot"))
	if err != nil {
		return run, err
	}
	defer func() { _ = dc.Stop() }()
	snk, err := startSink()
	if err != nil {
		return run, err
	}
	defer snk.Close()
	dbName := fmt.Sprintf("bench_%d", n)
	c := newCorpus(fmt.Sprintf("bench%d-%d", n, time.Now().Unix()), o.seed, n, true)

	slog.Info("appending", "n", n, "connections", 2*o.conns)
	if run.Load, err = load(ctx, c, dc.Addr, 0, n, o.conns, nil); err != nil {
		return run, err
	}
	run.Deliveries = run.Load.Deliveries
	slog.Info("appended", "deliveries", run.Load.Deliveries, "mb", run.Load.Bytes>>20,
		"seconds", round(run.Load.Seconds), "msgs_per_s", round(run.Load.MsgsPerSec))

	if run.RawFetch, run.RawRounds, err = rawFetch(ctx, dc.Addr, 3); err != nil {
		return run, err
	}
	slog.Info("raw fetch", "msgs_per_s", round(run.RawFetch.MsgsPerSec), "mb_per_s", round(run.RawFetch.MBPerSec))

	if o.pgFloor {
		if run.PGFloor, err = measurePGFloor(ctx, env, dir, dbName+"_floor", c, n, o.rounds); err != nil {
			if ctx.Err() != nil {
				return run, err
			}
			run.PGFloor = &pgFloor{Messages: n, Error: err.Error()}
			slog.Warn("pg floor", "error", err)
		}
		slog.Info("pg floor", "best", run.PGFloor.Best, "msgs_per_s", run.PGFloor.MsgsPerSec, "compression", run.PGFloor.Compression)
	}

	if err := measureIngestRounds(ctx, env, o, &run, dir, dbName+"_intake", dc.Addr, snk.Addr, c, n); err != nil {
		return run, err
	}
	if f := run.PGFloor; f != nil && f.MsgsPerSec > 0 {
		f.IngestRatio = round3(run.IngestAlone.ItemsPerS / f.MsgsPerSec)
	}

	if err := measurePipelineRounds(ctx, env, o, &run, dir, dbName, dc, c, n); err != nil {
		return run, err
	}
	if f := run.PGFloor; f != nil {
		run.CPUPerItem.PGFloor = f.PostgresCPUMsPerMsg
	}

	switch {
	case o.peer != "n8n":
	case pr.err != nil:
		run.N8N = &n8nResult{Status: "failed", Error: pr.err.Error(), Workflow: n8nWorkflow, Messages: n}
	default:
		slog.Info("n8n peer", "n", n)
		run.N8N = measureN8N(ctx, env, pr.inst, dir, c, n, o.conns)
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
	}
	if p := run.N8N; p != nil && p.ItemsPerSec > 0 {
		p.PipelineVsN8N = round3(run.Pipeline.ItemsPerS / p.ItemsPerSec)
		p.IngestAloneVsN8N = round3(run.IngestAlone.ItemsPerS / p.ItemsPerSec)
		if p.Rows > 0 {
			per := func(s float64) float64 { return round3(s * 1000 / float64(p.Rows)) }
			run.CPUPerItem.N8N = &n8nPerMsg{N8N: per(p.CPU["n8n"]), Postgres: per(p.CPU["postgres"]),
				Total: per(p.CPU["n8n"] + p.CPU["postgres"])}
		}
	}
	return run, nil
}

// measureDaemon runs the whole daemon, as name, on database dbName until
// the last ack and the search index, then, if probe, probes the idle
// latency, and stops it.
func measureDaemon(ctx context.Context, env *environment, o benchOptions, run *benchRun, dir, name, dbName string,
	dc *dovecot.Server, snk *sink, c *corpus, n int, probe bool) error {
	d, obs, err := env.prepareDaemon(ctx, dir, name, dbName, dc.Addr, snk.Addr, c,
		settings{Items: o.items, Batch: o.batch, Lease: 5 * time.Minute, SourceLease: time.Minute}, o.profile, n)
	if err != nil {
		return err
	}
	defer obs.Close()
	defer d.Stop()
	if d.pprofAddr != "" {
		go captureHeapAtPeaks(ctx, d, filepath.Join(o.profile, fmt.Sprintf("heap-peak-%d.pprof", n)))
	}
	meter := newCPUMeter(map[string]int{"earshot": d.p.Pid(), "postgres": env.pg.p.Pid(), "dovecot": dc.Pid()})
	meter.exclude("postgres", obs.backendPIDs)
	if err := measurePipeline(ctx, run, d, obs, snk, meter, n); err != nil {
		return err
	}
	run.CPU = meter.Used()
	run.Retries = countLog(d.log, `"msg":"item failed, will retry"`)
	run.FirstIntel = countLog(d.log, `"msg":"item failed, will retry"`, "points_ledger_first_intel")
	slog.Info("cpu seconds", "used", run.CPU)
	if o.profile != "" {
		if run.Statements, err = topStatements(ctx, obs, 20); err != nil {
			return err
		}
	}
	run.Memory.PeakMB = round(d.rss.PeakMB())
	run.Memory.EndMB = round(d.rss.LastMB())
	if o.profile != "" || o.skipLat || !probe {
		run.Memory.RSSEverySecMB = d.rss.Timeline()
		return nil
	}
	lat, err := measureLatency(ctx, c, dc.Addr, snk, n+1, o.rate, o.duration)
	if err != nil {
		return err
	}
	run.Latency = &lat
	run.Memory.AfterIdleMB = round(d.rss.PeakMB())
	run.Memory.RSSEverySecMB = d.rss.Timeline()
	slog.Info("idle latency", "p50_ms", lat.P50, "p95_ms", lat.P95, "p99_ms", lat.P99, "acked", lat.Acked, "sent", lat.Sent)
	return nil
}

// roundName is the name of round r's database or daemon: base for the
// first round, then base_r2, base_r3 and so on.
func roundName(base string, r int) string {
	if r == 1 {
		return base
	}
	return fmt.Sprintf("%s_r%d", base, r)
}

// settle readies PostgreSQL for round r of databases named after base:
// the round before's database is dropped (the last round's is kept, for
// -keep) so that its autovacuum does not run on this round's account,
// and a checkpoint writes out what earlier phases left dirty.
func settle(ctx context.Context, env *environment, base string, r int) error {
	if r > 1 {
		if err := env.pg.DropDB(ctx, roundName(base, r-1)); err != nil {
			return err
		}
	}
	return env.pg.Checkpoint(ctx)
}

// measureIngestRounds measures the intake alone o.rounds times, each on a
// database of its own, and reports the median round by duration: its
// rate and CPU, and the highest peak memory of all rounds.
func measureIngestRounds(ctx context.Context, env *environment, o benchOptions, run *benchRun, dir, dbName, imapAddr, smtpAddr string,
	c *corpus, n int) error {
	var rounds []ingestRound
	for r := 1; r <= o.rounds; r++ {
		if err := settle(ctx, env, dbName, r); err != nil {
			return err
		}
		ir, err := measureIngestAlone(ctx, env, run, dir, roundName("earshot-intake", r), roundName(dbName, r), imapAddr, smtpAddr, c, o, n)
		if err != nil {
			return err
		}
		rounds = append(rounds, ir)
	}
	m := medianIndex(len(rounds), func(i, j int) bool { return rounds[i].rate.Seconds < rounds[j].rate.Seconds })
	run.IngestAlone, run.IngestAloneCPU, run.IngestStatements = rounds[m].rate, rounds[m].cpu, rounds[m].statements
	run.CPUPerItem.IngestAlone = share(rounds[m].cpu, n)
	for i, ir := range rounds {
		run.IngestAloneMB = max(run.IngestAloneMB, ir.peakMB)
		run.IngestRounds = append(run.IngestRounds, roundFigures{Seconds: ir.rate.Seconds, ItemsPerS: ir.rate.ItemsPerS,
			CPUPerItem: share(ir.cpu, n), PeakRSSMB: ir.peakMB, Median: i == m})
	}
	return nil
}

// ingestRound is one measurement of the intake alone.
type ingestRound struct {
	rate       phaseRate
	peakMB     float64
	cpu        map[string]float64
	statements []statement
}

// measureIngestAlone runs `earshot run -intake-only`, as daemon name, on
// a database of its own until the receipts table holds every delivery,
// then stops it.
func measureIngestAlone(ctx context.Context, env *environment, run *benchRun, dir, name, dbName, imapAddr, smtpAddr string,
	c *corpus, o benchOptions, n int) (ingestRound, error) {
	var ir ingestRound
	if err := env.pg.CreateDB(ctx, dbName); err != nil {
		return ir, err
	}
	d, obs, err := env.prepareDaemon(ctx, dir, name, dbName, imapAddr, smtpAddr, c,
		settings{Items: o.items, Batch: o.batch, Lease: 5 * time.Minute, SourceLease: time.Minute, IntakeOnly: true}, o.profile, n)
	if err != nil {
		return ir, err
	}
	defer obs.Close()
	defer d.Stop()
	meter := newCPUMeter(map[string]int{"earshot": d.p.Pid(), "postgres": env.pg.p.Pid()})
	meter.exclude("postgres", obs.backendPIDs)
	start := time.Now()
	timeout := 5*time.Minute + time.Duration(n)*10*time.Millisecond
	if _, err := obs.waitUntil(ctx, timeout, 50*time.Millisecond, func(s snapshot) bool {
		return !d.Alive() || s.Receipts >= int64(run.Deliveries)
	}); err != nil {
		return ir, fmt.Errorf("ingest alone: %w", err)
	}
	if !d.Alive() {
		return ir, fmt.Errorf("ingest alone: earshot exited: %v (see %s)", d.p.err, d.log)
	}
	ir.rate = rate(time.Since(start), run.Deliveries, n, run.RawFetch.MsgsPerSec)
	ir.peakMB = round(d.rss.PeakMB())
	ir.cpu = meter.Used()
	if o.profile != "" {
		if ir.statements, err = topStatements(ctx, obs, 10); err != nil {
			return ir, err
		}
	}
	slog.Info("ingested alone", "seconds", ir.rate.Seconds, "msgs_per_s", ir.rate.MsgsPerSec,
		"ratio_to_raw", ir.rate.RatioToRaw, "peak_rss_mb", ir.peakMB, "cpu_seconds", ir.cpu)
	return ir, nil
}

// measurePipelineRounds runs the whole daemon o.rounds times, each on a
// fresh database with a fresh SMTP sink, and reports the median round by
// CPU per item: its rates, CPU, outbox and timeline, with the highest
// peak memory of all rounds. The idle-latency probe runs in the last
// round only, after its pipeline.
func measurePipelineRounds(ctx context.Context, env *environment, o benchOptions, run *benchRun, dir, dbName string,
	dc *dovecot.Server, c *corpus, n int) error {
	var rounds []benchRun
	for r := 1; r <= o.rounds; r++ {
		if err := settle(ctx, env, dbName, r); err != nil {
			return err
		}
		db := roundName(dbName, r)
		if err := env.pg.CreateDB(ctx, db); err != nil {
			return err
		}
		snk, err := startSink()
		if err != nil {
			return err
		}
		rr := benchRun{N: n, Deliveries: run.Deliveries, RawFetch: run.RawFetch}
		err = measureDaemon(ctx, env, o, &rr, dir, roundName("earshot", r), db, dc, snk, c, n, r == o.rounds)
		snk.Close()
		if err != nil {
			return err
		}
		rr.CPUPerItem.cpuShare = share(rr.CPUThroughAcks, n)
		rounds = append(rounds, rr)
	}
	m := medianIndex(len(rounds), func(i, j int) bool { return rounds[i].CPUPerItem.Total < rounds[j].CPUPerItem.Total })
	mr, last := rounds[m], rounds[len(rounds)-1]
	run.CPUPerItem.cpuShare = mr.CPUPerItem.cpuShare
	run.Ingest, run.Processed, run.Pipeline, run.SearchIndexed = mr.Ingest, mr.Processed, mr.Pipeline, mr.SearchIndexed
	run.Outbox, run.Timeline, run.Statements = mr.Outbox, mr.Timeline, mr.Statements
	run.CPUThroughAcks, run.CPU, run.Retries, run.FirstIntel = mr.CPUThroughAcks, mr.CPU, mr.Retries, mr.FirstIntel
	run.Memory = mr.Memory
	run.Memory.AfterIdleMB, run.Latency = last.Memory.AfterIdleMB, last.Latency
	for i, rr := range rounds {
		run.Memory.PeakMB = max(run.Memory.PeakMB, rr.Memory.PeakMB)
		run.PipelineRounds = append(run.PipelineRounds, roundFigures{Seconds: rr.Pipeline.Seconds, ItemsPerS: rr.Pipeline.ItemsPerS,
			CPUPerItem: rr.CPUPerItem.cpuShare, PeakRSSMB: rr.Memory.PeakMB, Median: i == m})
	}
	return nil
}

// measurePipeline polls the database from the daemon's start until every
// item is processed and every outbox message sent (or suppressed) and
// seen by the sink, and fills the run's rates.
func measurePipeline(ctx context.Context, run *benchRun, d *daemon, obs *observer, snk *sink, meter *cpuMeter, n int) error {
	start := time.Now()
	var tIngest, tProcessed, tAcked time.Duration
	var acked snapshot
	lastTick := -1
	timeout := 10*time.Minute + time.Duration(n)*50*time.Millisecond
	// The end of each stage is timed closely; the middle is polled
	// rarely. The last acks are near once every item is processed and
	// the sink has seen as many acks as the outbox will send.
	pace := func(prev, s snapshot) time.Duration {
		return paceFor(tAcked > 0 ||
			tIngest == 0 && nearing(prev, s, func(s snapshot) int64 { return s.Receipts }, int64(run.Deliveries)) ||
			tProcessed == 0 && nearing(prev, s, func(s snapshot) int64 { return s.Processed }, int64(n)) ||
			s.Processed >= int64(n) && int64(snk.Acks()) >= s.AckRows-s.AcksSupp)
	}
	final, err := obs.waitPaced(ctx, timeout, pace, func(s snapshot) bool {
		el := s.At.Sub(start)
		if tIngest == 0 && s.Receipts >= int64(run.Deliveries) {
			tIngest = el
			slog.Info("ingested", "seconds", round(el.Seconds()))
		}
		if tProcessed == 0 && s.Processed >= int64(n) {
			tProcessed = el
			slog.Info("processed", "seconds", round(el.Seconds()))
		}
		if sec := int(el.Seconds()); sec != lastTick {
			lastTick = sec
			run.Timeline = append(run.Timeline, progressTick{T: float64(sec), Receipts: s.Receipts,
				Processed: s.Processed, AcksSent: s.AcksSent})
		}
		if !d.Alive() {
			return true
		}
		if tAcked == 0 && tProcessed > 0 && s.AckRows >= int64(n) && s.Pending == 0 && int64(snk.Counts().Acks) >= s.AcksSent {
			tAcked, acked = el, s
			run.CPUThroughAcks = meter.Used()
			slog.Info("acked", "seconds", round(el.Seconds()), "acks", s.AcksSent, "suppressed", s.AcksSupp)
		}
		return tAcked > 0 && s.SearchQueue == 0
	})
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if !d.Alive() {
		return fmt.Errorf("pipeline: earshot exited: %v (see %s)", d.p.err, d.log)
	}
	raw := run.RawFetch.MsgsPerSec
	run.Ingest = rate(tIngest, run.Deliveries, n, raw)
	run.Processed = rate(tProcessed, run.Deliveries, n, raw)
	run.Pipeline = rate(tAcked, run.Deliveries, n, raw)
	run.SearchIndexed = rate(final.At.Sub(start), run.Deliveries, n, raw)
	run.Outbox = outboxSummary{AcksSent: acked.AcksSent, AcksSuppressed: acked.AcksSupp,
		OtherSent: final.Sent - final.AcksSent, Sink: snk.Counts()}
	slog.Info("search indexed", "seconds", run.SearchIndexed.Seconds)
	return nil
}

// nearing says whether a count, at the rate it rose from snapshot prev
// to s, reaches goal within two slow polls.
func nearing(prev, s snapshot, count func(snapshot) int64, goal int64) bool {
	if prev.At.IsZero() {
		return false
	}
	rate := float64(count(s)-count(prev)) / s.At.Sub(prev.At).Seconds()
	return float64(count(s))+rate*2*slowPoll.Seconds() >= float64(goal)
}

// slowPoll is how long the pipeline's measurement waits between snapshots
// while no stage is near its end: a second, the timeline's step. A
// snapshot counts whole tables: polled every 100 ms throughout, its
// backend used a tenth of the two cores the measured run had.
const slowPoll = time.Second

// paceFor is the wait before the next snapshot: slowPoll, or 50 ms when
// the end of a stage is near.
func paceFor(near bool) time.Duration {
	if near {
		return 50 * time.Millisecond
	}
	return slowPoll
}

// rssNote says how earshot's memory was managed in a run: as deployed
// (deployedEnv: GOMEMLIMIT and GOGC) unless -daemon-env said otherwise.
func rssNote(env []string) string {
	var set []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOGC=") {
			set = append(set, kv)
		}
	}
	want := deployed()
	slices.Sort(set)
	slices.Sort(want)
	switch {
	case len(set) == 0:
		return "neither GOMEMLIMIT nor GOGC, not as deployed (" + deployedEnv + ")"
	case slices.Equal(set, want):
		return strings.Join(set, ", ") + ", as deployed"
	}
	return strings.Join(set, ", ") + ", not as deployed (" + deployedEnv + ")"
}

// rate turns a duration into a phaseRate.
func rate(d time.Duration, deliveries, items int, raw float64) phaseRate {
	s := d.Seconds()
	if s <= 0 {
		return phaseRate{}
	}
	r := phaseRate{Seconds: round(s), MsgsPerSec: round(float64(deliveries) / s), ItemsPerS: round(float64(items) / s)}
	if raw > 0 {
		r.RatioToRaw = round3(r.MsgsPerSec / raw)
	}
	return r
}

// benchGoals compares the largest run with the goals; env is
// what was added to earshot's environment.
func benchGoals(runs []benchRun, env []string) []goal {
	if len(runs) == 0 {
		return nil
	}
	big := runs[len(runs)-1]
	peak := max(big.Memory.PeakMB, big.IngestAloneMB)
	gs := []goal{
		{Name: "cpu_ms_per_item_total", Value: big.CPUPerItem.Total, Target: "<= 3",
			Met:  big.CPUThroughAcks != nil && big.CPUPerItem.Total <= 3,
			Note: fmt.Sprintf("earshot %.3f + postgres %.3f, daemon start to last ack", big.CPUPerItem.Earshot, big.CPUPerItem.Postgres)},
		{Name: "ingest_alone_vs_raw_fetch", Value: big.IngestAlone.RatioToRaw, Target: ">= 0.4", Met: big.IngestAlone.RatioToRaw >= 0.4},
		{Name: "pipeline_through_acks_vs_raw_fetch", Value: big.Pipeline.RatioToRaw, Target: ">= 0.2", Met: big.Pipeline.RatioToRaw >= 0.2},
		{Name: "peak_rss_mb", Value: peak, Target: "< 150", Met: peak < 150, Note: rssNote(env)},
	}
	switch p := big.N8N; {
	case p == nil:
	case p.Status != "ok":
		gs = append(gs, goal{Name: "pipeline_vs_n8n", Value: p.PipelineVsN8N, Target: ">= 10", Met: false,
			Note: "n8n " + p.Status + ": " + p.Error})
	default:
		gs = append(gs, goal{Name: "pipeline_vs_n8n", Value: p.PipelineVsN8N, Target: ">= 10", Met: p.PipelineVsN8N >= 10,
			Note: fmt.Sprintf("earshot %.1f items/s through acks, n8n %.1f items/s (%.1f msgs/s)",
				big.Pipeline.ItemsPerS, p.ItemsPerSec, p.MsgsPerSec)})
	}
	if f := big.PGFloor; f != nil {
		g := goal{Name: "ingest_alone_vs_pg_floor", Value: f.IngestRatio, Target: ">= 0.8", Met: f.Error == "" && f.IngestRatio >= 0.8,
			Note: fmt.Sprintf("earshot %.1f items/s alone, PostgreSQL %.1f msgs/s (%s, %s)",
				big.IngestAlone.ItemsPerS, f.MsgsPerSec, f.Best, f.Compression)}
		if f.Error != "" {
			g.Note = "floor not measured: " + f.Error
		}
		gs = append(gs, g)
	}
	if big.Latency != nil {
		gs = append(gs, goal{Name: "idle_ack_latency_p99_ms", Value: big.Latency.P99, Target: "< 1000", Met: big.Latency.P99 < 1000})
	}
	if len(runs) > 1 {
		small := runs[0]
		growth := big.Memory.PeakMB - small.Memory.PeakMB
		gs = append(gs, goal{Name: fmt.Sprintf("peak_rss_growth_mb_n%d_to_n%d", small.N, big.N), Value: round(growth),
			Target: "flat (within 20% of the smaller run)", Met: growth <= 0.2*small.Memory.PeakMB})
	}
	return gs
}

func round(f float64) float64  { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
