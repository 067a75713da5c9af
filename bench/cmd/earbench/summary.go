package main

import (
	"fmt"
	"io"
	"strings"
)

// printSummary writes the human summary of a bench report: CPU per item
// first, then the rates, the peer, PostgreSQL's floor and the goals.
func (r *benchReport) printSummary(w io.Writer) {
	fmt.Fprintln(w, "earbench bench summary:")
	if r.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", r.Note)
	}
	for _, run := range r.Runs {
		c := run.CPUPerItem
		fmt.Fprintf(w, "  n=%d (%d deliveries)\n", run.N, run.Deliveries)
		fmt.Fprintf(w, "    cpu_ms_per_item: pipeline total %.3f (earshot %.3f + postgres %.3f; dovecot %.3f apart)\n",
			c.Total, c.Earshot, c.Postgres, c.Dovecot)
		fmt.Fprintf(w, "                     ingest alone %.3f (earshot %.3f + postgres %.3f)",
			c.IngestAlone.Total, c.IngestAlone.Earshot, c.IngestAlone.Postgres)
		if c.PGFloor > 0 {
			fmt.Fprintf(w, "; pg floor postgres %.3f", c.PGFloor)
		}
		if c.N8N != nil {
			fmt.Fprintf(w, "; n8n %.3f per message (n8n %.3f + postgres %.3f)", c.N8N.Total, c.N8N.N8N, c.N8N.Postgres)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "    pipeline through acks %.1f items/s (%.1f s); ingest alone %.1f items/s (%.1f s); raw fetch %.1f msgs/s\n",
			run.Pipeline.ItemsPerS, run.Pipeline.Seconds, run.IngestAlone.ItemsPerS, run.IngestAlone.Seconds, run.RawFetch.MsgsPerSec)
		if len(run.PipelineRounds) > 1 {
			fmt.Fprintf(w, "    rounds (median marked *): pipeline CPU-ms per item %s; ingest alone items/s %s\n",
				roundList(run.PipelineRounds, func(r roundFigures) float64 { return r.CPUPerItem.Total }, "%.3f"),
				roundList(run.IngestRounds, func(r roundFigures) float64 { return r.ItemsPerS }, "%.1f"))
		}
		if p := run.N8N; p != nil {
			if p.Status == "failed" {
				fmt.Fprintf(w, "    n8n: failed: %s\n", p.Error)
			} else {
				fmt.Fprintf(w, "    n8n: %s, %d of %d rows in %.1f s: %.1f msgs/s, %.1f items/s, %.3f CPU-ms per message, peak %.0f MB;"+
					" pipeline ÷ n8n %.2f, ingest alone ÷ n8n %.2f\n",
					p.Status, p.Rows, p.Deliveries, p.Seconds, p.MsgsPerSec, p.ItemsPerSec, p.CPUMsPerMsg, p.PeakRSSMB,
					p.PipelineVsN8N, p.IngestAloneVsN8N)
			}
		}
		if f := run.PGFloor; f != nil {
			if f.Error != "" {
				fmt.Fprintf(w, "    pg floor: failed: %s\n", f.Error)
			} else {
				fmt.Fprintf(w, "    pg floor: %.1f msgs/s, %.1f MB/s (%s, %s); ingest alone ÷ floor %.3f\n",
					f.MsgsPerSec, f.MBPerSec, f.Best, f.Compression, f.IngestRatio)
			}
		}
		fmt.Fprintf(w, "    peak RSS %.1f MB (ingest alone %.1f MB)", run.Memory.PeakMB, run.IngestAloneMB)
		if run.Latency != nil {
			fmt.Fprintf(w, "; idle ack latency p50 %.0f ms, p99 %.0f ms", run.Latency.P50, run.Latency.P99)
		}
		fmt.Fprintln(w)
	}
	met := 0
	for _, g := range r.Goals {
		mark := "miss"
		if g.Met {
			mark, met = "met ", met+1
		}
		fmt.Fprintf(w, "  %s %s = %v (target %s)", mark, g.Name, g.Value, g.Target)
		if g.Note != "" {
			fmt.Fprintf(w, ": %s", g.Note)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  goals: %d met, %d missed\n", met, len(r.Goals)-met)
}

// roundList writes one figure of each round, in the order they ran,
// marking the median round with a star.
func roundList(rs []roundFigures, fig func(roundFigures) float64, format string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf(format, fig(r))
		if r.Median {
			out[i] += "*"
		}
	}
	return strings.Join(out, " ")
}
