package slack

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
)

// metrics are the Slack source's series.
type metrics struct {
	ingested    prometheus.Counter
	changes     *prometheus.CounterVec
	ignored     prometheus.Counter
	rejected    *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	rateLimited prometheus.Counter
	reactFailed prometheus.Counter
	gaps        prometheus.Counter
	connected   prometheus.Gauge
	errors      prometheus.Counter
	lastSuccess prometheus.Gauge
	disabled    prometheus.Gauge
}

// newMetrics registers the earshot_slack_* series with reg (reusing ones
// registered before); a nil reg keeps them unregistered.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var errs []error
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "earshot", Subsystem: "slack", Name: name, Help: help}
	}
	counter := func(name, help string) prometheus.Counter {
		c, err := source.Register(reg, prometheus.NewCounter(prometheus.CounterOpts(opts(name, help))))
		errs = append(errs, err)
		return c
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		c, err := source.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts(opts(name, help)), []string{label}))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g, err := source.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts(opts(name, help))))
		errs = append(errs, err)
		return g
	}
	m := &metrics{
		ingested:    counter("messages_ingested_total", "Slack messages stored as new items."),
		changes:     vec("changes_total", "Edits, deletions and authors' thread replies kept with a stored message, by kind.", "kind"),
		ignored:     counter("events_ignored_total", "Slack events that are no item: bots, joins, leaves, topic changes, Earshot's own posts, other channels, late edits."),
		rejected:    vec("events_rejected_total", "Events API requests refused, by reason (signature, stale, malformed).", "reason"),
		duplicates:  vec("events_duplicate_total", "Events delivered again and stored once, by reason (retry, replay, stored).", "reason"),
		rateLimited: counter("rate_limited_total", "Web API calls answered 429 and retried after Retry-After."),
		reactFailed: counter("reactions_failed_total", "Reactions that could not be added to a stored message."),
		gaps:        counter("gaps_total", "Socket Mode reconnections, each followed by a catch-up of every channel."),
		connected:   gauge("connected", "1 while the Socket Mode connection is open."),
		errors:      counter("errors_total", "Failed catch-ups and connections."),
		lastSuccess: gauge("last_success_timestamp_seconds", "Unix time of the last successful catch-up or connection."),
		disabled:    gauge("disabled", "1 while a source is disabled by a permanent error."),
	}
	return m, errors.Join(errs...)
}

func (m *metrics) runner() source.Metrics {
	return source.Metrics{Errors: m.errors, LastSuccess: m.lastSuccess, Disabled: m.disabled}
}
