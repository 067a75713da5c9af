package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/store"
)

// ScheduleStore is what the scheduler needs of the store.
type ScheduleStore interface {
	EnqueueDigest(ctx context.Context, run store.DigestRun, compose store.Compose) (int, error)
	EnqueueReminder(ctx context.Context, owner string, due time.Time, limit int, compose store.Compose) (int, error)
	ScheduleRan(ctx context.Context, name, period string) (bool, error)
	EnqueueOnce(ctx context.Context, name, period string, msgs []model.OutboxMessage) (bool, error)
	Leaderboard(ctx context.Context, q model.BoardQuery) ([]model.Standing, error)
	NotableIntel(ctx context.Context, from, to time.Time, limit int) ([]model.TaggedItem, error)
	PruneScheduleRuns(ctx context.Context, before time.Time) (int64, error)
}

// Schedule constants.
const (
	// DailyDigestHour is the local hour daily digests go out at.
	DailyDigestHour = 8
	// ScheduleManagerDigest is the schedule_runs name of the monthly
	// manager digest; its period is the month it covers, YYYY-MM.
	ScheduleManagerDigest = "manager-digest"
	// scheduleKeep is how long a run is remembered: longer than any period.
	scheduleKeep = 90 * 24 * time.Hour
)

// Scheduler enqueues the scheduled mail; the outbox worker sends it.
//
//   - Owner digests: an owner whose digest is hourly gets, at the first
//     run of each hour, one digest of the items assigned to them that no
//     notice or digest told them of yet; a daily owner gets it at the
//     first run from 08:00 (local time) each day.
//   - SLA reminders: an assignment not triaged within its owner's SLA
//     (24h by default) earns its owner one reminder; overdue items of one
//     owner share it.
//   - The manager digest: on the first day of each month (local time), the
//     first run sends last month's leaderboard and notable intel to each
//     manager.
//
// Each message is enqueued in the transaction that records it, so a
// restart or several replicas on one database never send one twice.
type Scheduler struct {
	Store    ScheduleStore
	Composer *outbound.Composer
	// Owners are the configured owners.
	Owners []config.Owner
	// Managers receive the monthly digest: "pat@example.com" or
	// "Pat Lee <pat@example.com>". None means no manager digest.
	Managers []string
	// Location is the zone of hours, days and months (UTC when nil).
	Location *time.Location
	// Suppress, when set, keeps mail to our own addresses from being sent:
	// it is enqueued suppressed.
	Suppress *outbound.Suppressor
	// Interval is the time between runs (default one minute).
	Interval time.Duration
	// BoardSize caps the manager digest's leaderboard (default 25);
	// Notable caps its notable intel (default 10).
	BoardSize, Notable int
	// Wake, when set, tells the outbox worker that mail was enqueued.
	Wake chan<- struct{}
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
}

// NewScheduler wires a Scheduler from a validated configuration, loading
// the templates (embedded defaults, acks.template_dir overrides).
func NewScheduler(cfg *config.Config, st ScheduleStore, managers []string, log *slog.Logger) (*Scheduler, error) {
	if log == nil {
		log = slog.Default()
	}
	comp, err := outbound.LoadComposer(cfg)
	if err != nil {
		return nil, err
	}
	for _, m := range managers {
		if _, err := mail.ParseAddress(m); err != nil {
			return nil, fmt.Errorf("manager %q: %w", m, err)
		}
	}
	return &Scheduler{Store: st, Composer: comp, Owners: cfg.Owners, Managers: managers, Location: cfg.Location,
		Suppress: outbound.NewSuppressor(cfg), Log: log.With("component", "schedule")}, nil
}

// Run runs the scheduler until ctx is done: at once, then every Interval.
func (s *Scheduler) Run(ctx context.Context) {
	if s.off() {
		s.log().Info("scheduled mail is off: smtp is not configured")
		return
	}
	every := s.Interval
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.RunOnce(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log().Error("scheduled mail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce enqueues what is due at now: owner digests, SLA reminders and
// the manager digest. One owner's failure does not stop the others; the
// errors are joined. Without smtp.from it does nothing.
func (s *Scheduler) RunOnce(ctx context.Context, now time.Time) error {
	if s.off() {
		return nil
	}
	var errs []error
	enqueued := 0
	for _, o := range s.Owners {
		if o.Email == "" {
			continue
		}
		n, err := s.digest(ctx, o, now)
		enqueued += n
		errs = append(errs, err)
		n, err = s.remind(ctx, o, now)
		enqueued += n
		errs = append(errs, err)
	}
	n, err := s.managerDigest(ctx, now)
	enqueued += n
	errs = append(errs, err)
	if _, err := s.Store.PruneScheduleRuns(ctx, now.Add(-scheduleKeep)); err != nil {
		errs = append(errs, err)
	}
	if enqueued > 0 && s.Wake != nil {
		select {
		case s.Wake <- struct{}{}:
		default:
		}
	}
	return errors.Join(errs...)
}

// digest enqueues an owner's digest when one is due; it returns how many
// messages it enqueued.
func (s *Scheduler) digest(ctx context.Context, o config.Owner, now time.Time) (int, error) {
	period, label, ok := digestPeriod(o.Digest, now.In(s.loc()))
	if !ok {
		return 0, nil
	}
	// A read first spares a write transaction on every run of the period.
	if ran, err := s.Store.ScheduleRan(ctx, store.ScheduleDigest(o.Name), period); err != nil || ran {
		return 0, err
	}
	n, err := s.Store.EnqueueDigest(ctx, store.DigestRun{Owner: o.Name, Email: o.Email, Period: period},
		func(due []model.DueAssignment) (model.OutboxMessage, error) {
			if m, ok := s.suppressed(model.OutboxDigest, o.Email); ok {
				return m, nil
			}
			return s.Composer.Digest(o, label, digestContributions(due))
		})
	if err != nil || n == 0 {
		return 0, err
	}
	s.log().Info("digest enqueued", "owner", o.Name, "period", period, "items", n)
	return 1, nil
}

// digestPeriod returns the key and the label of the digest period that
// began last at t for a digest mode (hourly or daily), or false when
// none is due: immediate owners get no digest, daily ones none before
// 08:00. Hours are keyed by their start in UTC, so the repeated hour at
// the end of daylight saving time is two periods.
func digestPeriod(mode string, t time.Time) (key, label string, ok bool) {
	switch mode {
	case "hourly":
		start := t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second -
			time.Duration(t.Nanosecond()))
		return start.UTC().Format("2006-01-02T15:04Z"),
			start.Format("Monday 2 January 2006, ") + start.Add(-time.Hour).Format("15:04") + " to " + start.Format("15:04"), true
	case "daily":
		if t.Before(time.Date(t.Year(), t.Month(), t.Day(), DailyDigestHour, 0, 0, 0, t.Location())) {
			return "", "", false
		}
		return t.Format("2006-01-02"), t.Format("Monday 2 January 2006"), true
	}
	return "", "", false
}

// remind enqueues one reminder about an owner's assignments past the SLA;
// it returns how many messages it enqueued.
func (s *Scheduler) remind(ctx context.Context, o config.Owner, now time.Time) (int, error) {
	sla := o.SLA
	if sla <= 0 {
		sla = 24 * time.Hour
	}
	n, err := s.Store.EnqueueReminder(ctx, o.Name, now.Add(-sla), 0,
		func(due []model.DueAssignment) (model.OutboxMessage, error) {
			if m, ok := s.suppressed(model.OutboxReminder, o.Email); ok {
				return m, nil
			}
			waited := make([]time.Duration, len(due))
			for i, d := range due {
				waited[i] = now.Sub(d.AssignedAt)
			}
			return s.Composer.Reminder(o, digestContributions(due), waited)
		})
	if err != nil || n == 0 {
		return 0, err
	}
	s.log().Info("reminder enqueued", "owner", o.Name, "items", n)
	return 1, nil
}

// managerDigest enqueues last month's digest to the managers on the first
// day of a month, once; it returns how many messages it enqueued.
func (s *Scheduler) managerDigest(ctx context.Context, now time.Time) (int, error) {
	t := now.In(s.loc())
	if t.Day() != 1 || len(s.Managers) == 0 {
		return 0, nil
	}
	to := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	from := to.AddDate(0, -1, 0)
	month := model.MonthOf(from, t.Location())
	if ran, err := s.Store.ScheduleRan(ctx, ScheduleManagerDigest, string(month)); err != nil || ran {
		return 0, err
	}
	board, err := s.Store.Leaderboard(ctx, model.BoardQuery{Month: month, Limit: cmp.Or(s.BoardSize, 25)})
	if err != nil {
		return 0, fmt.Errorf("manager digest %s: %w", month, err)
	}
	notable, err := s.Store.NotableIntel(ctx, from, to, cmp.Or(s.Notable, 10))
	if err != nil {
		return 0, fmt.Errorf("manager digest %s: %w", month, err)
	}
	var cts []outbound.Contribution
	for _, it := range notable {
		cts = append(cts, digestContribution(it))
	}
	var msgs []model.OutboxMessage
	for _, m := range s.Managers {
		addr, err := mail.ParseAddress(m)
		if err != nil {
			return 0, fmt.Errorf("manager digest %s: manager %q: %w", month, m, err)
		}
		msg, ok := s.suppressed(model.OutboxDigest, addr.Address)
		if !ok {
			if msg, err = s.Composer.ManagerDigest(addr.Name, addr.Address, month, board, cts); err != nil {
				return 0, fmt.Errorf("manager digest %s: %w", month, err)
			}
		}
		msgs = append(msgs, msg)
	}
	first, err := s.Store.EnqueueOnce(ctx, ScheduleManagerDigest, string(month), msgs)
	if err != nil || !first {
		return 0, err
	}
	s.log().Info("manager digest enqueued", "month", month, "managers", len(msgs), "reps", len(board),
		"notable", len(cts))
	return len(msgs), nil
}

// suppressed returns the suppressed row of a message to one of our own
// addresses.
func (s *Scheduler) suppressed(kind model.OutboxKind, to string) (model.OutboxMessage, bool) {
	if s.Suppress == nil || !s.Suppress.Own(to) {
		return model.OutboxMessage{}, false
	}
	return model.OutboxMessage{Kind: kind, Channel: model.ChannelEmail, Recipient: strings.TrimSpace(to),
		State: model.OutboxSuppressed, Reason: outbound.ReasonOwnAddress}, true
}

// digestContributions are what the composer needs of a digest's assignments.
func digestContributions(due []model.DueAssignment) []outbound.Contribution {
	out := make([]outbound.Contribution, len(due))
	for i, d := range due {
		out[i] = digestContribution(d.TaggedItem)
	}
	return out
}

func digestContribution(it model.TaggedItem) outbound.Contribution {
	return outbound.Contribution{
		Item:    it.Item,
		Subject: it.Subject, Text: it.Text(), Tags: it.Tags,
	}
}

// off reports that scheduled mail cannot be sent: smtp.from is not set.
func (s *Scheduler) off() bool { return s.Composer == nil || s.Composer.NoticeFrom == nil }

func (s *Scheduler) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
