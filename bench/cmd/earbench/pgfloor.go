package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"golang.org/x/sync/errgroup"
)

// pgFloor is PostgreSQL's own best rate at storing the corpus's distinct
// messages raw, on the same server earshot uses: a table shaped like the
// raw part of items (Message-ID, content hash with a unique index, bytea
// raw message, size, time), bytes passed as binary parameters, in
// batches. It is the floor earshot's intake is compared with.
type pgFloor struct {
	// Error says why the floor could not be measured.
	Error    string `json:"error,omitempty"`
	Messages int    `json:"messages"`
	Bytes    int64  `json:"bytes"`
	// Compression is the raw column's: lz4 when the server has it, else
	// pglz (CompressionNote says why).
	Compression     string `json:"compression"`
	CompressionNote string `json:"compression_note,omitempty"`
	// Best is the fastest of the variants. It is measured again until
	// it ran rounds times (BestRounds, in order); its median run is the
	// floor.
	Best       string        `json:"best"`
	BestRounds []floorResult `json:"best_variant_rounds,omitempty"`
	Seconds    float64       `json:"seconds"`
	MsgsPerSec float64       `json:"msgs_per_s"`
	MBPerSec   float64       `json:"mb_per_s"`
	// PostgresCPUMsPerMsg is the CPU PostgreSQL spent per message in
	// the best variant.
	PostgresCPUMsPerMsg float64 `json:"postgres_cpu_ms_per_msg"`
	// IngestRatio is earshot's intake alone (items per second) divided
	// by the floor (messages per second): the share of PostgreSQL's best
	// that earshot reaches when it stores the same messages.
	IngestRatio float64       `json:"ingest_ratio_to_pg_floor"`
	Variants    []floorResult `json:"variants"`
}

// floorResult is one way of inserting the messages.
type floorResult struct {
	Name       string  `json:"name"`
	Conns      int     `json:"connections"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
	// CPU is PostgreSQL's CPU seconds meanwhile, and the wall time.
	CPU map[string]float64 `json:"cpu_seconds"`
}

// floorBatch bounds one multi-row INSERT: rows, and bytes of raw mail.
const (
	floorBatchRows  = 64
	floorBatchBytes = 8 << 20
)

// floorTable is the raw part of earshot's items table.
const floorTable = `create table raw_floor (
    id           bigserial primary key,
    message_id   text not null,
    content_hash text not null,
    raw          bytea not null,
    raw_size     bigint not null,
    received_at  timestamptz not null
)`

// measurePGFloor writes the corpus's n distinct messages to a spool file
// under dir (not timed: generating mail is not PostgreSQL's work), then
// inserts them into database dbName in each variant, timed, and measures
// the fastest again until it ran rounds times: the median of those runs
// is the floor.
func measurePGFloor(ctx context.Context, env *environment, dir, dbName string, c *corpus, n, rounds int) (*pgFloor, error) {
	spool := dir + "/floor.spool"
	fl := &pgFloor{Messages: n}
	var err error
	if fl.Bytes, err = writeSpool(spool, c, n); err != nil {
		return nil, err
	}
	defer os.Remove(spool)
	if err := env.pg.CreateDB(ctx, dbName); err != nil {
		return nil, err
	}
	url := withApp(env.pg.URL(dbName), "earbench-floor")
	variants := []struct {
		name  string
		conns int
		how   floorInsert
	}{
		{"insert multi-row, binary parameters", 1, floorValues},
		{"insert multi-row, binary parameters, one connection per half", 2, floorValues},
		{"insert of one bytea cut up by the server, prepared, one connection per half", 2, floorBlob},
		{"copy (text format)", 1, floorCopy},
	}
	run := func(name string, conns int, how floorInsert) (floorResult, error) {
		note, err := resetFloorTable(ctx, url)
		if err != nil {
			return floorResult{}, err
		}
		fl.Compression, fl.CompressionNote = "lz4", note
		if note != "" {
			fl.Compression = "pglz"
		}
		if err := env.pg.Checkpoint(ctx); err != nil {
			return floorResult{}, err
		}
		meter := newCPUMeter(map[string]int{"postgres": env.pg.p.Pid()})
		start := time.Now()
		if err := insertSpool(ctx, url, spool, conns, how); err != nil {
			return floorResult{}, fmt.Errorf("pg floor: %s: %w", name, err)
		}
		el := time.Since(start).Seconds()
		r := floorResult{Name: name, Conns: conns, Seconds: round3(el), MsgsPerSec: round(float64(n) / el), CPU: meter.Used()}
		slog.Info("pg floor", "variant", name, "seconds", r.Seconds, "msgs_per_s", r.MsgsPerSec, "cpu_seconds", r.CPU)
		return r, nil
	}
	best := 0
	for i, v := range variants {
		r, err := run(v.name, v.conns, v.how)
		if err != nil {
			return nil, err
		}
		fl.Variants = append(fl.Variants, r)
		if r.Seconds < fl.Variants[best].Seconds {
			best = i
		}
	}
	v := variants[best]
	fl.Best = v.name
	fl.BestRounds = []floorResult{fl.Variants[best]}
	for len(fl.BestRounds) < rounds {
		r, err := run(v.name, v.conns, v.how)
		if err != nil {
			return nil, err
		}
		fl.BestRounds = append(fl.BestRounds, r)
	}
	rs := fl.BestRounds
	r := rs[medianIndex(len(rs), func(i, j int) bool { return rs[i].Seconds < rs[j].Seconds })]
	fl.Seconds, fl.MsgsPerSec = r.Seconds, r.MsgsPerSec
	fl.PostgresCPUMsPerMsg = round3(r.CPU["postgres"] * 1000 / float64(n))
	fl.MBPerSec = round(float64(fl.Bytes) / (1 << 20) / r.Seconds)
	return fl, nil
}

// resetFloorTable creates the table afresh. It returns why lz4 could not
// be used, or "".
func resetFloorTable(ctx context.Context, url string) (string, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return "", fmt.Errorf("pg floor: %w", err)
	}
	defer db.Close()
	for _, q := range []string{`drop table if exists raw_floor`, floorTable,
		`create unique index raw_floor_content_hash on raw_floor (content_hash)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("pg floor: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, `alter table raw_floor alter column raw set compression lz4`); err != nil {
		return "lz4 not supported by this server, pglz used: " + err.Error(), nil
	}
	return "", nil
}

// writeSpool generates messages [0, n) into path as records of
// (length, sha256 hex, Message-ID, raw), and returns the raw bytes in all.
func writeSpool(path string, c *corpus, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("pg floor: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var total int64
	var hdr [8]byte
	for i := range n {
		m := c.message(i, false)
		sum := sha256.Sum256(m.raw)
		for _, field := range [][]byte{[]byte(hex.EncodeToString(sum[:])), []byte(m.id), m.raw} {
			binary.LittleEndian.PutUint64(hdr[:], uint64(len(field)))
			w.Write(hdr[:])
			w.Write(field)
		}
		total += int64(len(m.raw))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, fmt.Errorf("pg floor: %w", err)
	}
	return total, f.Close()
}

// floorRow is one spooled message.
type floorRow struct {
	hash, id string
	raw      []byte
}

// readSpool sends the spooled messages of every conns-th record starting
// at part, in batches, until the file ends.
func readSpool(ctx context.Context, path string, part, conns int, out chan<- []floorRow) error {
	defer close(out)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var batch []floorRow
	var size int
	for k := 0; ; k++ {
		mine := k%conns == part
		var fields [3][]byte
		for j := range fields {
			var hdr [8]byte
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				if errors.Is(err, io.EOF) && j == 0 {
					if len(batch) > 0 {
						out <- batch
					}
					return nil
				}
				return fmt.Errorf("read spool: %w", err)
			}
			l := int(binary.LittleEndian.Uint64(hdr[:]))
			if !mine {
				if _, err := r.Discard(l); err != nil {
					return fmt.Errorf("read spool: %w", err)
				}
				continue
			}
			fields[j] = make([]byte, l)
			if _, err := io.ReadFull(r, fields[j]); err != nil {
				return fmt.Errorf("read spool: %w", err)
			}
		}
		if !mine {
			continue
		}
		batch = append(batch, floorRow{hash: string(fields[0]), id: string(fields[1]), raw: fields[2]})
		size += len(fields[2])
		if len(batch) >= floorBatchRows || size >= floorBatchBytes {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch, size = nil, 0
		}
	}
}

// floorInsert is how the floor writes a batch.
type floorInsert int

const (
	floorValues floorInsert = iota // a multi-row INSERT, a parameter per value
	floorBlob                      // earshot's form: arrays, and the raw messages as one bytea
	floorCopy                      // COPY FROM STDIN
)

// insertSpool stores every spooled message over conns connections, each
// reading its share of the spool, the way how says.
func insertSpool(ctx context.Context, url, spool string, conns int, how floorInsert) error {
	// binary_parameters: []byte goes to the server as is, not as text.
	db, err := sql.Open("postgres", url+"&binary_parameters=yes")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(conns)
	var blob *sql.Stmt
	if how == floorBlob {
		if blob, err = db.PrepareContext(ctx, `insert into raw_floor (message_id, content_hash, raw, raw_size, received_at)
			select v.id, v.hash, substr($5::bytea, v.off::int, v.size::int), v.size, now()
			from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) with ordinality as v(id, hash, size, off, n)
			order by v.n`); err != nil {
			return err
		}
		defer blob.Close()
	}
	g, gctx := errgroup.WithContext(ctx)
	for part := range conns {
		batches := make(chan []floorRow, 2)
		g.Go(func() error { return readSpool(gctx, spool, part, conns, batches) })
		g.Go(func() error {
			defer func() {
				for range batches {
				}
			}()
			if how == floorCopy {
				return copyBatches(gctx, db, batches)
			}
			for b := range batches {
				var err error
				if how == floorBlob {
					err = insertBlob(gctx, blob, b)
				} else {
					err = insertBatch(gctx, db, b)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// insertBatch writes one multi-row INSERT in a transaction of its own.
func insertBatch(ctx context.Context, db *sql.DB, rows []floorRow) error {
	var sb strings.Builder
	sb.WriteString(`insert into raw_floor (message_id, content_hash, raw, raw_size, received_at) values `)
	args := make([]any, 0, 4*len(rows))
	for i, r := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		k := 4 * i
		sb.WriteString("($" + strconv.Itoa(k+1) + ", $" + strconv.Itoa(k+2) + ", $" + strconv.Itoa(k+3) +
			", $" + strconv.Itoa(k+4) + ", now())")
		args = append(args, r.id, r.hash, r.raw, int64(len(r.raw)))
	}
	_, err := db.ExecContext(ctx, sb.String(), args...)
	return err
}

// insertBlob writes one batch with stmt (floorBlob): the raw messages,
// concatenated, are its one bytea parameter, the last it sends.
func insertBlob(ctx context.Context, stmt *sql.Stmt, rows []floorRow) error {
	ids, hashes := make([]string, len(rows)), make([]string, len(rows))
	sizes, offsets := make([]int64, len(rows)), make([]int64, len(rows))
	var size int64
	for _, r := range rows {
		size += int64(len(r.raw))
	}
	blob := make([]byte, 0, size)
	for i, r := range rows {
		ids[i], hashes[i], sizes[i], offsets[i] = r.id, r.hash, int64(len(r.raw)), int64(len(blob))+1
		blob = append(blob, r.raw...)
	}
	_, err := stmt.ExecContext(ctx, pq.Array(ids), pq.Array(hashes), pq.Array(sizes), pq.Array(offsets), blob)
	return err
}

// copyBatches writes every batch with COPY FROM STDIN, one transaction
// per batch.
func copyBatches(ctx context.Context, db *sql.DB, batches <-chan []floorRow) error {
	for rows := range batches {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("raw_floor", "message_id", "content_hash", "raw", "raw_size", "received_at"))
		if err != nil {
			tx.Rollback()
			return err
		}
		now := time.Now()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r.id, r.hash, r.raw, int64(len(r.raw)), now); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			tx.Rollback()
			return err
		}
		if err := stmt.Close(); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
