// Package imap is Earshot's IMAP source: it ingests one folder of one
// mailbox into the store.
//
// # Guarantees
//
// Messages are read with BODY.PEEK in UID order, in bounded batches. Each
// batch is stored together with the cursor that follows it
// ({"uidvalidity":N,"last_uid":M}) in one store transaction; only after that
// commit does the after_ingest step (keep, seen, move) touch the server. A
// crash anywhere loses nothing and stores nothing twice: a restart resumes
// from the stored cursor, and a step cut short is finished by the next
// sync, which searches the folder for stored messages still waiting for it.
// The connection carries commands side by side, as IMAP allows, on
// different UIDs: the next batch is fetched while one is stored, and a
// stored batch's after_ingest step is answered while the next is stored.
// When UIDVALIDITY changes the folder is re-scanned; the store links
// messages it already holds (same content hash) instead of inserting them.
//
// # Goroutines
//
// Run (or SyncOnce) owns the connection: it issues the IMAP commands,
// and during a sync a goroutine of its own fetches the batches ahead.
// go-imap's reader goroutine calls the unilateral-data handler, which only
// signals new messages on a buffered channel. Commands take no context, so
// the end of a context closes the connection to interrupt them. Status and
// Cursor may be called from any goroutine. The source's runner (package
// source) keeps its status, lease and retries; the source implements only
// the sync and the wait.
//
// # Waiting for mail
//
// Where the server offers IDLE the source idles, leaves IDLE on an EXISTS
// notification and renews IDLE every idle_refresh; elsewhere it polls every
// poll_interval. Every sync starts with NOOP, which brings the server's view
// of the folder up to date and proves the connection alive; TCP keepalive
// notices a dead peer while idling. A lost connection is re-established
// after a capped, jittered backoff. A permanent error (rejected
// credentials, missing folder, untrusted certificate) disables the source
// with a visible reason and is retried only every DisabledRetry.
package imap
