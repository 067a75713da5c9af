package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/errgroup"

	"github.com/earshot-dev/earshot/internal/procstat"
)

// n8nResult is the peer's row of a run: n8n on the same N messages,
// appended the same way, timed from their appearance in both inboxes
// until its workflows have inserted a row per delivery.
type n8nResult struct {
	// Status is "ok", "incomplete" (rows stopped coming) or "failed"
	// (with Error).
	Status   string       `json:"status"`
	Error    string       `json:"error,omitempty"`
	Install  *peerInstall `json:"install,omitempty"`
	Workflow string       `json:"workflow,omitempty"`
	// Messages are distinct messages (earshot's items); Deliveries the
	// mailbox messages, one row each for n8n.
	Messages   int   `json:"messages"`
	Deliveries int   `json:"deliveries"`
	Rows       int64 `json:"rows"`
	// ReadySeconds is n8n's start until its readiness check answers.
	ReadySeconds    float64 `json:"ready_s,omitempty"`
	FirstRowSeconds float64 `json:"first_row_s,omitempty"`
	Seconds         float64 `json:"seconds,omitempty"`
	MsgsPerSec      float64 `json:"msgs_per_s"`
	ItemsPerSec     float64 `json:"items_per_s"`
	// CPU is the CPU seconds of n8n (its node processes and the task
	// runner) and of PostgreSQL meanwhile (n8n's target table and its
	// own execution store), and the wall time.
	CPU map[string]float64 `json:"cpu_seconds,omitempty"`
	// CPUMsPerMsg is n8n's CPU per delivery (per row).
	CPUMsPerMsg float64 `json:"n8n_cpu_ms_per_msg"`
	// PeakRSSMB is the largest sum of the resident memory of n8n's
	// processes.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// PipelineVsN8N is earshot's rate through acks divided by n8n's
	// (items/s ÷ items/s, which is deliveries/s ÷ deliveries/s: n8n's
	// time for the same mail ÷ earshot's); IngestAloneVsN8N the same for
	// earshot's intake alone.
	PipelineVsN8N    float64 `json:"pipeline_vs_n8n"`
	IngestAloneVsN8N float64 `json:"ingest_alone_vs_n8n"`
	// Timeline is the row count once a second from the copy.
	Timeline []rowTick `json:"rows_timeline,omitempty"`
}

// n8nWorkflow says what the peer does per message.
const n8nWorkflow = "per mailbox: Email Trigger (IMAP), format simple, mark read → Postgres insert (subject, sender, text)"

// n8nStall ends the wait when n8n has neither inserted a row nor used a
// CPU-second for this long; n8nLimit ends it in any case.
const (
	n8nStall = 3 * time.Minute
	n8nLimit = time.Hour
)

// rowTick is the number of rows n8n had inserted at a second.
type rowTick struct {
	T    float64 `json:"t"`
	Rows int64   `json:"rows"`
}

// measureN8N runs the peer on messages [0, n) of the corpus: a fresh
// Dovecot whose two users get the messages appended to a "staging"
// folder, n8n started with the kit's workflow once per mailbox, then
// both folders copied into the inboxes at once (the clock starts) and
// the rows counted until there is one per delivery.
func measureN8N(ctx context.Context, env *environment, inst *peerInstall, dir string, c *corpus, n, conns int) *n8nResult {
	res := &n8nResult{Status: "failed", Install: inst, Workflow: n8nWorkflow, Messages: n}
	if err := runN8N(ctx, env, inst, dir, c, n, conns, res); err != nil {
		res.Error = err.Error()
		slog.Warn("n8n peer", "error", err)
	}
	return res
}

func runN8N(ctx context.Context, env *environment, inst *peerInstall, dir string, c *corpus, n, conns int, res *n8nResult) error {
	base := filepath.Join(dir, "n8n")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	dc, err := startDovecot(env.dovecotBin, filepath.Join(dir, "n8n-dovecot"))
	if err != nil {
		return err
	}
	defer dc.Stop()
	for _, db := range []string{"n8n", "n8n_mail"} {
		if err := env.pg.CreateDB(ctx, db); err != nil {
			return err
		}
	}
	mail, err := openObserver(ctx, env.pg.URL("n8n_mail"))
	if err != nil {
		return err
	}
	defer mail.Close()
	if _, err := mail.db.ExecContext(ctx, `create table emails (id bigserial primary key, subject text, sender text,
		body text, received_at timestamptz default now())`); err != nil {
		return fmt.Errorf("n8n target table: %w", err)
	}
	n8nPort, err := freePort()
	if err != nil {
		return err
	}
	runnerPort, err := freePort()
	if err != nil {
		return err
	}
	run := &n8nRunner{inst: inst, base: base, env: []string{
		"BASE=" + base, "NODEDIR=" + inst.nodeDir, "KIT=" + inst.kit, "APP=" + filepath.Join(inst.Dir, "app"),
		"PG_PORT=" + strconv.Itoa(env.pg.Port), "N8N_PORT_=" + strconv.Itoa(n8nPort),
		"RUNNER_PORT=" + strconv.Itoa(runnerPort)}}
	ids, err := run.writeKit(dc.Addr, env.pg.Port)
	if err != nil {
		return err
	}
	slog.Info("n8n: importing credentials and workflows")
	if err := run.cli(ctx, "import:credentials", "--input="+filepath.Join(base, "credentials.json")); err != nil {
		return err
	}
	for _, id := range ids {
		if err := run.cli(ctx, "import:workflow", "--input="+filepath.Join(base, "workflow-"+id+".json")); err != nil {
			return err
		}
		if err := run.cli(ctx, "publish:workflow", "--id="+id); err != nil {
			return err
		}
	}

	slog.Info("n8n: appending to staging", "n", n)
	for _, box := range []string{feedbackAddr, intelAddr} {
		if err := createFolder(dc.Addr, box, "staging"); err != nil {
			return err
		}
	}
	st, err := loadInto(ctx, c, dc.Addr, "staging", 0, n, conns, nil)
	if err != nil {
		return err
	}
	res.Deliveries = st.Deliveries

	p, ready, err := run.start(ctx, n8nPort)
	if err != nil {
		return err
	}
	defer p.Stop(syscall.SIGTERM, 30*time.Second)
	res.ReadySeconds = round(ready.Seconds())
	// The kit's observation: its IMAP library enters IDLE only 15 s
	// after its last command; mail arriving before that waits.
	slog.Info("n8n: ready; waiting 16 s for its IDLE", "seconds", res.ReadySeconds)
	if err := sleepCtx(ctx, 16*time.Second); err != nil {
		return err
	}
	if !p.Alive() {
		return fmt.Errorf("n8n exited: %v: %s", p.err, tail(filepath.Join(base, "n8n.log"), 8))
	}

	copiers, err := dialCopiers(ctx, dc.Addr)
	if err != nil {
		return err
	}
	defer func() {
		for _, cl := range copiers {
			cl.Close()
		}
	}()
	rss := sampleGroupRSS(p, 200*time.Millisecond)
	meter := newCPUMeter(map[string]int{"n8n": p.Pid(), "postgres": env.pg.p.Pid()})
	meter.exclude("postgres", mail.backendPIDs)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for _, cl := range copiers {
		g.Go(func() error {
			var set imap.UIDSet
			set.AddRange(1, 0)
			if _, err := cl.Copy(set, "INBOX").Wait(); err != nil {
				return fmt.Errorf("n8n: copy staging to INBOX: %w", err)
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	slog.Info("n8n: mail in both inboxes", "deliveries", res.Deliveries)
	var last int64
	lastChange, lastCPU, lastBusy := start, procstat.GroupCPU(p.Pid()), start
	for {
		rows, err := mail.count(ctx, `select count(*) from emails`)
		if err != nil {
			return err
		}
		now := time.Now()
		if rows > 0 && res.FirstRowSeconds == 0 {
			res.FirstRowSeconds = round(now.Sub(start).Seconds())
		}
		if rows != last {
			last, lastChange = rows, now
		}
		if sec := now.Sub(start).Seconds(); len(res.Timeline) == 0 || sec >= res.Timeline[len(res.Timeline)-1].T+1 {
			res.Timeline = append(res.Timeline, rowTick{T: float64(int(sec)), Rows: rows})
			// n8n may work a long while before its first rows (a batch
			// is fetched and parsed whole): it has stalled only when it
			// neither inserts nor uses CPU.
			if cpu := procstat.GroupCPU(p.Pid()); cpu-lastCPU > 1 {
				lastCPU, lastBusy = cpu, now
			}
		}
		stalled := now.Sub(lastChange) > n8nStall && now.Sub(lastBusy) > n8nStall
		if rows >= int64(res.Deliveries) || !p.Alive() || stalled || now.Sub(start) > n8nLimit {
			res.Rows = rows
			el := now.Sub(start)
			if rows < int64(res.Deliveries) {
				el = lastChange.Sub(start)
			}
			res.Seconds = round(el.Seconds())
			res.CPU = meter.Used()
			if el > 0 {
				res.MsgsPerSec = round(float64(rows) / el.Seconds())
				res.ItemsPerSec = round(float64(rows) / float64(res.Deliveries) * float64(n) / el.Seconds())
			}
			if rows > 0 {
				res.CPUMsPerMsg = round3(res.CPU["n8n"] * 1000 / float64(rows))
			}
			break
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	res.PeakRSSMB = round(rss.PeakMB())
	slog.Info("n8n: done", "rows", res.Rows, "seconds", res.Seconds, "msgs_per_s", res.MsgsPerSec,
		"cpu_ms_per_msg", res.CPUMsPerMsg, "peak_rss_mb", res.PeakRSSMB)
	switch {
	case res.Rows >= int64(res.Deliveries):
		res.Status = "ok"
	case !p.Alive():
		return fmt.Errorf("n8n exited after %d of %d rows: %v: %s", res.Rows, res.Deliveries, p.err,
			tail(filepath.Join(base, "n8n.log"), 8))
	default:
		res.Status = "incomplete"
		res.Error = fmt.Sprintf("%d of %d rows; then none for %s (log: %s)", res.Rows, res.Deliveries, n8nStall,
			tail(filepath.Join(base, "n8n.log"), 5))
	}
	return nil
}

// n8nRunner runs n8n commands in the kit's environment (its n8n_env
// function, read from the kit's script at run time) with this run's
// ports and directories.
type n8nRunner struct {
	inst *peerInstall
	base string   // N8N_USER_FOLDER's parent, per run
	env  []string // BASE, NODEDIR, KIT, APP and the ports n8n_env reads
}

// n8nShell defines the kit's n8n_env, calls it, and runs n8n.
const n8nShell = `set -euo pipefail
eval "$(sed -n '/^n8n_env() {/,/^}/p' "$KIT/n8n-bench.sh")"
declare -F n8n_env >/dev/null || { echo "n8n_env not found in $KIT/n8n-bench.sh" >&2; exit 3; }
n8n_env
cd "$APP"
exec node node_modules/n8n/bin/n8n "$@"`

func (r *n8nRunner) command(args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{"-c", n8nShell, "n8n"}, args...)...)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Dir = r.base
	return cmd
}

// cli runs an n8n CLI command to completion.
func (r *n8nRunner) cli(ctx context.Context, args ...string) error {
	cmd := r.command(args...)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	p, err := startProc(cmd, filepath.Join(r.base, "cli.log"), nil)
	if err != nil {
		return fmt.Errorf("n8n %s: %w", args[0], err)
	}
	select {
	case <-p.done:
	case <-cctx.Done():
		p.Stop(syscall.SIGTERM, 10*time.Second)
	}
	if p.err != nil || cctx.Err() != nil {
		return fmt.Errorf("n8n %s: %v %v: %s", args[0], p.err, cctx.Err(), tail(filepath.Join(r.base, "cli.log"), 6))
	}
	return nil
}

// start runs `n8n start` and waits until its readiness check answers.
func (r *n8nRunner) start(ctx context.Context, port int) (*proc, time.Duration, error) {
	t0 := time.Now()
	p, err := startProc(r.command("start"), filepath.Join(r.base, "n8n.log"), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("n8n start: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz/readiness", port)
	err = waitFor(p, 5*time.Minute, func() error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readiness: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		p.Stop(syscall.SIGTERM, 30*time.Second)
		return nil, 0, fmt.Errorf("n8n start: %w: %s", err, tail(filepath.Join(r.base, "n8n.log"), 8))
	}
	return p, time.Since(t0), nil
}

// writeKit derives this run's credentials and workflows from the kit's:
// the IMAP credential once per mailbox user on this run's Dovecot, the
// PostgreSQL credential on this run's server (database n8n_mail), and
// the workflow once per mailbox. It returns the workflow ids.
func (r *n8nRunner) writeKit(imapAddr string, pgPort int) ([]string, error) {
	var creds []map[string]any
	if err := readJSON(filepath.Join(r.inst.kit, "credentials.json"), &creds); err != nil {
		return nil, err
	}
	var wf map[string]any
	if err := readJSON(filepath.Join(r.inst.kit, "workflow.json"), &wf); err != nil {
		return nil, err
	}
	_, imapPort, _ := strings.Cut(imapAddr, ":")
	iport, _ := strconv.Atoi(imapPort)
	var out []map[string]any
	var imapCred map[string]any
	for _, cr := range creds {
		data, _ := cr["data"].(map[string]any)
		switch cr["type"] {
		case "imap":
			imapCred = cr
		case "postgres":
			if data == nil {
				return nil, fmt.Errorf("n8n kit: postgres credential without data")
			}
			data["host"], data["port"], data["database"] = "127.0.0.1", pgPort, "n8n_mail"
			out = append(out, cr)
		}
	}
	if imapCred == nil {
		return nil, fmt.Errorf("n8n kit: no imap credential in credentials.json")
	}
	credID, _ := imapCred["id"].(string)
	wfID, _ := wf["id"].(string)
	if credID == "" || wfID == "" {
		return nil, fmt.Errorf("n8n kit: credential or workflow without id")
	}
	var ids []string
	for k, box := range []string{feedbackAddr, intelAddr} {
		cr := cloneJSON(imapCred)
		cid := variantID(credID, k)
		cr["id"], cr["name"] = cid, fmt.Sprintf("%s (%s)", imapCred["name"], box)
		data, _ := cr["data"].(map[string]any)
		if data == nil {
			return nil, fmt.Errorf("n8n kit: imap credential without data")
		}
		data["host"], data["port"], data["user"], data["password"] = "127.0.0.1", iport, box, passwords[box]
		out = append(out, cr)

		w := cloneJSON(wf)
		id := variantID(wfID, k)
		w["id"], w["name"] = id, fmt.Sprintf("%s (%s)", wf["name"], box)
		nodes, _ := w["nodes"].([]any)
		for _, nd := range nodes {
			node, _ := nd.(map[string]any)
			if nid, ok := node["id"].(string); ok {
				node["id"] = variantID(nid, k)
			}
			if cm, ok := node["credentials"].(map[string]any); ok {
				if ic, ok := cm["imap"].(map[string]any); ok {
					ic["id"], ic["name"] = cid, cr["name"]
				}
			}
		}
		if err := writeJSON(filepath.Join(r.base, "workflow-"+id+".json"), w); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, writeJSON(filepath.Join(r.base, "credentials.json"), out)
}

// variantID derives the k-th id from a kit id by its last character, so
// that it keeps its length: k = 0 is the id itself.
func variantID(id string, k int) string {
	if k == 0 || id == "" {
		return id
	}
	last := id[len(id)-1]
	next := byte('0' + (int(last-'0')+k)%10)
	if last < '0' || last > '9' {
		next = byte('a' + (int(last-'a')+k)%26)
	}
	return id[:len(id)-1] + string(next)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("n8n kit: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("n8n kit: %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// cloneJSON deep-copies a decoded JSON object.
func cloneJSON(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// createFolder creates a folder of user's on the Dovecot at addr.
func createFolder(addr, user, folder string) error {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return fmt.Errorf("create %s: %w", folder, err)
	}
	defer c.Close()
	if err := c.Login(user, passwords[user]).Wait(); err != nil {
		return fmt.Errorf("create %s: login %s: %w", folder, user, err)
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		return fmt.Errorf("create %s for %s: %w", folder, user, err)
	}
	return c.Logout().Wait()
}

// dialCopiers logs both users in with "staging" selected, ready to copy.
func dialCopiers(ctx context.Context, addr string) ([]*imapclient.Client, error) {
	var out []*imapclient.Client
	for _, box := range []string{feedbackAddr, intelAddr} {
		c, err := imapclient.DialInsecure(addr, nil)
		if err != nil {
			return out, fmt.Errorf("n8n: dial: %w", err)
		}
		out = append(out, c)
		if err := c.Login(box, passwords[box]).Wait(); err != nil {
			return out, fmt.Errorf("n8n: login %s: %w", box, err)
		}
		if _, err := c.Select("staging", nil).Wait(); err != nil {
			return out, fmt.Errorf("n8n: select staging: %w", err)
		}
	}
	return out, ctx.Err()
}

// groupRSS follows the summed resident memory of a process group.
type groupRSS struct {
	done chan struct{}
	peak chan float64
}

// sampleGroupRSS sums VmRSS over the processes of p's group every
// interval until p exits or PeakMB is called.
func sampleGroupRSS(p *proc, interval time.Duration) *groupRSS {
	g := &groupRSS{done: make(chan struct{}), peak: make(chan float64, 1)}
	go func() {
		var peakKB int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			peakKB = max(peakKB, groupRSSKB(p.Pid()))
			select {
			case <-g.done:
				g.peak <- float64(peakKB) / 1024
				return
			case <-p.done:
				g.peak <- float64(peakKB) / 1024
				<-g.done
				return
			case <-t.C:
			}
		}
	}()
	return g
}

// PeakMB stops sampling and returns the largest sum seen, in MB.
func (g *groupRSS) PeakMB() float64 {
	close(g.done)
	return <-g.peak
}

// groupRSSKB sums VmRSS over the processes of a process group.
func groupRSSKB(pgid int) int64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kb int64
	for _, path := range dirs {
		f := procstat.Fields(path)
		if f == nil {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); pg != pgid {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if _, rss, err := readStatus(pid); err == nil {
			kb += rss
		}
	}
	return kb
}
