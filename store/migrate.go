package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// ErrSchemaTooNew means the database was migrated by a newer Earshot.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Source  string
	Applied bool
}

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	d := goose.DialectSQLite3
	if s.dialect == Postgres {
		d = goose.DialectPostgres
		// Replicas starting together take turns migrating.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(d, s.db.DB, sub, opts...)
}

// Migrate applies every pending migration. It refuses a database whose
// schema is newer than the migrations built into this binary.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if err := s.checkNotNewer(ctx, p); err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// CheckSchema verifies that the database is fully migrated and not newer
// than this binary.
func (s *Store) CheckSchema(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := s.checkNotNewer(ctx, p); err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if pending {
		return errors.New("database schema is not up to date: run earshot migrate up")
	}
	return nil
}

func (s *Store) checkNotNewer(ctx context.Context, p *goose.Provider) error {
	db, err := p.GetDBVersion(ctx)
	if err != nil {
		// A fresh database has no version table yet.
		return nil
	}
	srcs := p.ListSources()
	var max int64
	if len(srcs) > 0 {
		max = srcs[len(srcs)-1].Version
	}
	if db > max {
		return fmt.Errorf("%w (database at version %d, binary knows %d)", ErrSchemaTooNew, db, max)
	}
	return nil
}

// Migrations lists every migration and whether it is applied.
func (s *Store) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{
			Version: m.Source.Version,
			Source:  m.Source.Path,
			Applied: m.State == goose.StateApplied,
		})
	}
	return out, nil
}
