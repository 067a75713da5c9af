package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/earshot-dev/earshot/internal/procstat"
)

// cpuMeter measures the CPU seconds the servers of a run use between two
// points, by process group. The PostgreSQL backends of earbench's own
// progress queries can be set apart (see exclude): they are the
// measurement, not the work measured.
type cpuMeter struct {
	groups map[string]int // name → process group id
	start  map[string]float64
	t0     time.Time
	// from, when set, is the group the excluded processes belong to,
	// and pids lists them at the moment of a reading.
	from     string
	pids     func() []int
	excluded map[int]float64 // pid → CPU seconds at the start
}

// newCPUMeter starts measuring the named process groups.
func newCPUMeter(groups map[string]int) *cpuMeter {
	m := &cpuMeter{groups: groups, start: map[string]float64{}, t0: time.Now()}
	for name, pgid := range groups {
		m.start[name] = procstat.GroupCPU(pgid)
	}
	return m
}

// exclude sets apart, within group from, the CPU of the processes pids
// returns (e.g. the backends serving earbench's own queries): Used
// reports it as "observer" and leaves it out of from's figure. Call it
// right after newCPUMeter.
func (m *cpuMeter) exclude(from string, pids func() []int) {
	m.from, m.pids, m.excluded = from, pids, map[int]float64{}
	for _, pid := range pids() {
		m.excluded[pid] = procstat.PidCPU(pid)
	}
}

// Used returns the CPU seconds each group used since the start, and the
// wall-clock seconds elapsed.
func (m *cpuMeter) Used() map[string]float64 {
	out := map[string]float64{"wall": round2(time.Since(m.t0).Seconds())}
	var obs float64
	if m.pids != nil {
		for _, pid := range m.pids() {
			obs += max(0, procstat.PidCPU(pid)-m.excluded[pid])
		}
		out["observer"] = round2(obs)
	}
	for name, pgid := range m.groups {
		used := procstat.GroupCPU(pgid) - m.start[name]
		if name == m.from {
			used -= obs
		}
		out[name] = round2(used)
	}
	return out
}

// statement is one row of pg_stat_statements.
type statement struct {
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	MeanMS  float64 `json:"mean_ms"`
	Rows    int64   `json:"rows"`
	Query   string  `json:"query"`
}

// topStatements returns the statements that took the most execution time
// (needs pg_stat_statements preloaded; see environment.pgStats).
func topStatements(ctx context.Context, o *observer, n int) ([]statement, error) {
	if _, err := o.db.ExecContext(ctx, `create extension if not exists pg_stat_statements`); err != nil {
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	rows, err := o.db.QueryContext(ctx, `select calls, total_exec_time, mean_exec_time, rows,
		regexp_replace(left(query, 300), '\s+', ' ', 'g')
		from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
		and position('from receipts),' in query) = 0 and position('pg_stat_statements' in query) = 0
		order by total_exec_time desc limit $1`, n)
	if err != nil {
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var out []statement
	for rows.Next() {
		var s statement
		if err := rows.Scan(&s.Calls, &s.TotalMS, &s.MeanMS, &s.Rows, &s.Query); err != nil {
			return nil, fmt.Errorf("pg_stat_statements: %w", err)
		}
		s.TotalMS, s.MeanMS = round(s.TotalMS), round3(s.MeanMS)
		out = append(out, s)
	}
	return out, rows.Err()
}

// captureHeapAtPeaks saves the daemon's heap profile (after a forced GC:
// the objects live at that moment) each time its resident memory reaches
// a new high above 64 MB, so that the file left at the end shows what the
// peak was made of.
func captureHeapAtPeaks(ctx context.Context, d *daemon, path string) {
	client := &http.Client{Timeout: 10 * time.Second}
	var captured float64
	for d.Alive() && ctx.Err() == nil {
		if rss := d.rss.LastMB(); rss > 64 && rss > captured+8 {
			if err := saveHeap(ctx, client, "http://"+d.pprofAddr+"/debug/pprof/heap?gc=1", path); err == nil {
				captured = rss
				slog.Info("heap profile at a new memory high", "rss_mb", round(rss), "file", path)
			}
		}
		if sleepCtx(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}

// saveHeap downloads a profile to path.
func saveHeap(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// round2 rounds CPU seconds to the clock's tick, 0.01 s.
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
