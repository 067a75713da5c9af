package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// settings is what a generated earshot configuration varies.
type settings struct {
	Database    string
	IMAPAddr    string
	SMTPAddr    string
	Items       int           // workers.items
	Batch       int           // workers.batch
	Lease       time.Duration // workers.lease
	SourceLease time.Duration // workers.source_lease
	IntakeOnly  bool          // earshot run -intake-only
}

// writeConfig writes an earshot configuration for one replica: both
// mailboxes on the private Dovecot, acks to the sink, the HTTP listener
// on its own free port. It returns the config path.
func writeConfig(dir, name string, s settings) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	imapHost, imapPort, _ := strings.Cut(s.IMAPAddr, ":")
	smtpHost, smtpPort, _ := strings.Cut(s.SMTPAddr, ":")
	conf := strings.NewReplacer(
		"$DB", s.Database, "$HTTP", strconv.Itoa(port),
		"$IMAPHOST", imapHost, "$IMAPPORT", imapPort, "$SMTPHOST", smtpHost, "$SMTPPORT", smtpPort,
		"$ITEMS", strconv.Itoa(s.Items), "$BATCH", strconv.Itoa(s.Batch),
		"$LEASE", s.Lease.String(), "$SOURCELEASE", s.SourceLease.String(),
		"$FEEDBACK", feedbackAddr, "$INTEL", intelAddr,
		"$FBPW", passwords[feedbackAddr], "$INPW", passwords[intelAddr], "$PARTNERS", partnerDomains(),
	).Replace(configTemplate)
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}

// partnerDomains lists the domains of the corpus's partners (see
// corpus.sender): colleagues who are acknowledged but not on the roster.
func partnerDomains() string {
	var d []string
	for i := range 7 {
		d = append(d, fmt.Sprintf("partner%d.example", i))
	}
	return strings.Join(d, ", ")
}

// configTemplate is a realistic product configuration: competitors and
// products to tag, a route tree, points, acks on (with a cap no rep
// reaches here), and the CI lead notified at once about intel.
const configTemplate = `database: "$DB"
timezone: America/Los_Angeles
log: {level: info, format: json}
http: {listen: "127.0.0.1:$HTTP", public_url: "http://127.0.0.1:$HTTP"}
workers: {items: $ITEMS, batch: $BATCH, lease: $LEASE, source_lease: $SOURCELEASE}
mailboxes:
  - name: feedback
    address: $FEEDBACK
    category: feedback
    imap: {host: $IMAPHOST, port: $IMAPPORT, tls: none, username: $FEEDBACK, password: $FBPW, after_ingest: seen}
    contributors: {accept: domains, domains: [$PARTNERS], require: none}
  - name: intel
    address: $INTEL
    category: intel
    imap: {host: $IMAPHOST, port: $IMAPPORT, tls: none, username: $INTEL, password: $INPW, after_ingest: seen}
    contributors: {accept: domains, domains: [$PARTNERS], require: none}
transcribe: {engine: none}
smtp: {host: $SMTPHOST, port: $SMTPPORT, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci-lead@example.test, digest: immediate}
  - {name: billing-pm, email: billing-pm@example.test, digest: daily}
  - {name: reports-pm, email: reports-pm@example.test, digest: daily}
  - {name: product-ops, email: product-ops@example.test, digest: daily}
competitors:
  - {name: Acme, aliases: [Acme Corp, AcmeCloud], owner: ci-lead}
  - {name: Globex, aliases: [Globex Corporation]}
  - {name: Initech, aliases: [Initech Billing]}
products:
  - {name: Billing, keywords: [billing, invoice, invoices, payment run], owner: billing-pm, weight: 2}
  - {name: Reports, keywords: [report, reports, dashboard], owner: reports-pm}
  - {name: Integrations, keywords: [integration, integrations, api, webhook, webhooks]}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead, continue: true}
    - {match: ['product=~"Billing"'], owner: billing-pm}
points:
  categories: {intel: 3, feedback: 1}
  first_intel_bonus: 2
  new_competitor_bonus: 2
  goals:
    - {name: competitive nugget, category: intel, count: 1}
acks: {enabled: true, daily_cap: 1000000, hourly_cap: 1000000, domain_daily_cap: 1000000}
`

// daemon is one running `earshot run` process.
type daemon struct {
	bin, config, log string
	p                *proc
	rss              *rssSampler
	pprofAddr        string // net/http/pprof of the profiling build, or ""
}

// earshotCmd runs an earshot subcommand to completion (migrate, reps
// import), with its output in the log.
func earshotCmd(ctx context.Context, bin, config, log string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{args[0], "-c", config}, args[1:]...)...)
	out, err := cmd.CombinedOutput()
	if f, ferr := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
		f.Write(out)
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("earshot %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startDaemon starts `earshot run -c config`, logging to log, and samples
// its memory every 100 ms. intakeOnly adds -intake-only; env adds
// environment variables.
func startDaemon(bin, config, log string, intakeOnly bool, env ...string) (*daemon, error) {
	args := []string{"run", "-c", config}
	if intakeOnly {
		args = append(args, "-intake-only")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p, err := startProc(cmd, log, nil)
	if err != nil {
		return nil, fmt.Errorf("earshot run: %w", err)
	}
	d := &daemon{bin: bin, config: config, log: log, p: p}
	d.rss = sampleRSS(p, 100*time.Millisecond)
	return d, nil
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (d *daemon) Kill() { d.p.Stop(syscall.SIGKILL, 5*time.Second) }

// Stop asks the daemon to shut down and waits up to a minute. It reports
// whether it exited by itself.
func (d *daemon) Stop() bool { return d.p.Stop(syscall.SIGTERM, time.Minute) }

// Alive reports whether the daemon still runs.
func (d *daemon) Alive() bool { return d.p.Alive() }

// rssSampler follows a process's resident memory in /proc.
type rssSampler struct {
	mu      sync.Mutex
	peakKB  int64 // VmHWM: the kernel's own high-water mark
	lastKB  int64 // VmRSS at the last sample
	maxRSS  int64 // the largest VmRSS sampled
	samples []rssSample
}

// rssSample is one reading, kept once a second for the timeline.
type rssSample struct {
	T     float64 `json:"t"`
	RSSMB float64 `json:"rss_mb"`
}

// sampleRSS reads /proc/PID/status every interval until the process exits.
func sampleRSS(p *proc, interval time.Duration) *rssSampler {
	s := &rssSampler{}
	start := time.Now()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		lastKept := -1
		for {
			hwm, rss, err := readStatus(p.Pid())
			if err == nil && p.Alive() {
				s.mu.Lock()
				s.peakKB = max(s.peakKB, hwm)
				s.maxRSS = max(s.maxRSS, rss)
				s.lastKB = rss
				if sec := int(time.Since(start).Seconds()); sec != lastKept {
					lastKept = sec
					s.samples = append(s.samples, rssSample{T: float64(sec), RSSMB: float64(rss) / 1024})
				}
				s.mu.Unlock()
			}
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// PeakMB returns the high-water mark of resident memory in MB.
func (s *rssSampler) PeakMB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(max(s.peakKB, s.maxRSS)) / 1024
}

// LastMB returns the last sampled resident memory in MB.
func (s *rssSampler) LastMB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.lastKB) / 1024
}

// Timeline returns one sample per second.
func (s *rssSampler) Timeline() []rssSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rssSample(nil), s.samples...)
}

// readStatus returns VmHWM and VmRSS of pid in kB.
func readStatus(pid int) (hwm, rss int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmHWM" {
			hwm = n
		} else {
			rss = n
		}
	}
	return hwm, rss, sc.Err()
}
