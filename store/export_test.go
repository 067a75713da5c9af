package store

import "context"

// SetBeforeCommit installs a hook that runs inside Receive's transaction
// after every insert and before the commit, for crash tests.
func SetBeforeCommit(s *Store, f func()) { s.beforeCommit = f }

// MigrateDownTo rolls the schema back to version v.
func MigrateDownTo(ctx context.Context, s *Store, v int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}
