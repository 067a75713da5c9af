package store

// SetBeforeCommit installs a hook that runs inside Receive's transaction
// after every insert and before the commit, for crash tests.
func SetBeforeCommit(s *Store, f func()) { s.beforeCommit = f }
