package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// ImportResult counts what an import did.
type ImportResult struct{ Created, Updated int }

// ImportReps creates or updates reps by name (case-insensitive) and adds
// their contacts, all in one transaction: a conflicting row imports
// nothing. A contact that belongs to another rep is an error naming the line.
func (s *Store) ImportReps(ctx context.Context, reps []model.Rep) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res = ImportResult{}
		for _, r := range reps {
			id, created, err := s.upsertRep(ctx, tx, r)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if created {
				res.Created++
			} else {
				res.Updated++
			}
			for _, c := range contacts(r) {
				var owner int64
				err := tx.GetContext(ctx, &owner, s.rebind(
					`select rep_id from rep_contacts where kind = ? and value = ?`), c[0], c[1])
				switch {
				case err == nil && owner != id:
					return fmt.Errorf("line %d: %s %s already belongs to another rep", r.Line, c[0], c[1])
				case err == nil:
					continue
				case !errors.Is(err, sql.ErrNoRows):
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				if _, err := tx.ExecContext(ctx, s.rebind(
					`insert into rep_contacts (rep_id, kind, value) values (?, ?, ?)`), id, c[0], c[1]); err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import reps: %w", err)
	}
	return res, nil
}

func contacts(r model.Rep) [][2]string {
	var out [][2]string
	for _, e := range r.Emails {
		out = append(out, [2]string{"email", e})
	}
	for _, p := range r.Phones {
		out = append(out, [2]string{"phone", p})
	}
	for _, u := range r.Slack {
		out = append(out, [2]string{"slack", u})
	}
	return out
}

func (s *Store) upsertRep(ctx context.Context, tx *sqlx.Tx, r model.Rep) (id int64, created bool, err error) {
	err = tx.GetContext(ctx, &id, s.rebind(`select id from reps where lower(name) = lower(?)`), r.Name)
	if err == nil {
		_, err = tx.ExecContext(ctx, s.rebind(`update reps set team = ?, manager = ? where id = ?`), r.Team, r.Manager, id)
		return id, false, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, err
	}
	err = tx.GetContext(ctx, &id, s.rebind(
		`insert into reps (name, team, manager) values (?, ?, ?) returning id`), r.Name, r.Team, r.Manager)
	return id, true, err
}

// AddRepContact gives a rep another contact (a folded email address, an
// E.164 number or a Slack user ID), e.g. the address a manager saw a rep write from. A
// contact of another rep is an error; one the rep has already is not.
func (s *Store) AddRepContact(ctx context.Context, repID int64, kind, value string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var owner int64
		err := tx.GetContext(ctx, &owner, s.rebind(`select rep_id from rep_contacts where kind = ? and value = ?`), kind, value)
		switch {
		case err == nil && owner != repID:
			return fmt.Errorf("%s %s already belongs to another rep", kind, value)
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("add %s %s: %w", kind, value, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`insert into rep_contacts (rep_id, kind, value) values (?, ?, ?)`),
			repID, kind, value); err != nil {
			return fmt.Errorf("add %s %s to rep %d: %w", kind, value, repID, conflictOrMissing(err))
		}
		return nil
	})
}

// RepByContact finds the rep with a folded email address, an E.164 phone
// or a Slack user ID.
func (s *Store) RepByContact(ctx context.Context, kind, value string) (model.Rep, error) {
	var r model.Rep
	err := s.hot.Get(ctx, nil, &r, `select r.id, r.name, r.team, r.manager from reps r
		join rep_contacts c on c.rep_id = r.id where c.kind = ? and c.value = ?`, kind, value)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rep with %s %s: %w", kind, value, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("rep with %s %s: %w", kind, value, err)
	}
	return r, nil
}

// RepsByContacts is RepByContact for many values of one kind at once:
// the reps found, by value. A value no rep has is not in the map.
func (s *Store) RepsByContacts(ctx context.Context, kind string, values []string) (map[string]model.Rep, error) {
	out := map[string]model.Rep{}
	if len(values) == 0 {
		return out, nil
	}
	q, args, err := s.listQuery(`select c.value, r.id, r.name, r.team, r.manager from reps r
		join rep_contacts c on c.rep_id = r.id where c.value in (?) and c.kind = ?`, values, "text", []any{kind})
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Value string `db:"value"`
		model.Rep
	}
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("reps with %d %s contacts: %w", len(values), kind, err)
	}
	for _, r := range rows {
		out[r.Value] = r.Rep
	}
	return out, nil
}

// Reps lists every rep with contacts, ordered by name.
func (s *Store) Reps(ctx context.Context) ([]model.Rep, error) {
	var reps []model.Rep
	if err := s.db.SelectContext(ctx, &reps, `select id, name, team, manager from reps order by name, id`); err != nil {
		return nil, fmt.Errorf("list reps: %w", err)
	}
	var cs []struct {
		RepID int64  `db:"rep_id"`
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &cs, `select rep_id, kind, value from rep_contacts order by value`); err != nil {
		return nil, fmt.Errorf("list rep contacts: %w", err)
	}
	idx := map[int64]int{}
	for i, r := range reps {
		idx[r.ID] = i
	}
	for _, c := range cs {
		addContact(&reps[idx[c.RepID]], c.Kind, c.Value)
	}
	return reps, nil
}

// RepByID returns one rep with contacts.
func (s *Store) RepByID(ctx context.Context, id int64) (model.Rep, error) {
	var r model.Rep
	err := s.hot.Get(ctx, nil, &r, `select id, name, team, manager from reps where id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rep %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("rep %d: %w", id, err)
	}
	return r, s.addContacts(ctx, &r)
}

// FindRep finds a rep by name (case-insensitive) or by a folded email
// address, with contacts.
func (s *Store) FindRep(ctx context.Context, nameOrEmail string) (model.Rep, error) {
	who := strings.TrimSpace(nameOrEmail)
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`select id from reps where lower(name) = lower(?)
		union select rep_id from rep_contacts where kind = 'email' and value = lower(?)`), who, who)
	if err != nil {
		return model.Rep{}, fmt.Errorf("find rep %q: %w", who, err)
	}
	switch len(ids) {
	case 0:
		return model.Rep{}, fmt.Errorf("rep %q: %w", who, ErrNotFound)
	case 1:
		return s.RepByID(ctx, ids[0])
	}
	return model.Rep{}, fmt.Errorf("rep %q is ambiguous: %d reps match", who, len(ids))
}

func (s *Store) addContacts(ctx context.Context, r *model.Rep) error {
	var cs []struct {
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &cs, s.rebind(`select kind, value from rep_contacts
		where rep_id = ? order by value`), r.ID); err != nil {
		return fmt.Errorf("rep %d contacts: %w", r.ID, err)
	}
	for _, c := range cs {
		addContact(r, c.Kind, c.Value)
	}
	return nil
}

// addContact files a contact under its kind.
func addContact(r *model.Rep, kind, value string) {
	switch kind {
	case "email":
		r.Emails = append(r.Emails, value)
	case "slack":
		r.Slack = append(r.Slack, value)
	default:
		r.Phones = append(r.Phones, value)
	}
}

// ReleaseWaitingPoints makes processed items due again whose sender was
// unregistered when they were processed and is now a rep's contact, so
// that processing pays their points. Call it after importing reps. It
// returns how many items were queued.
func (s *Store) ReleaseWaitingPoints(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`update items set state = 'received', attempts = 0,
		claimed_by = '', next_attempt_at = ?
		where state = 'processed' and rep_id is null and sender <> ''
		and sender in (select value from rep_contacts)`), ts(s.now()))
	if err != nil {
		return 0, fmt.Errorf("release waiting points: %w", err)
	}
	return res.RowsAffected()
}
