package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/internal/procstat"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// benchMessages makes n raw messages shaped like real mail: 70% 2–8 KB,
// 25% 10–50 KB, 5% with a 200 KB–1 MB attachment that does not compress.
func benchMessages(n int) []model.RawItem {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"pricing", "customer", "renewal", "Acme", "invoice", "dashboard", "the", "and", "switch", "report"}
	items := make([]model.RawItem, n)
	for i := range items {
		var size int
		switch p := r.IntN(100); {
		case p < 70:
			size = 2<<10 + r.IntN(6<<10)
		case p < 95:
			size = 10<<10 + r.IntN(40<<10)
		default:
			size = 200<<10 + r.IntN(800<<10)
		}
		body := make([]byte, 0, size)
		if size > 100<<10 {
			rnd := make([]byte, size*3/4)
			for j := range rnd {
				rnd[j] = byte(r.Uint32())
			}
			body = append(body, hex.EncodeToString(rnd)[:size]...)
		} else {
			for len(body) < size {
				body = append(body, words[r.IntN(len(words))]...)
				body = append(body, ' ')
			}
		}
		raw := append([]byte(fmt.Sprintf("Subject: bench %d\r\nMessage-ID: <%d@bench>\r\n\r\n", i, i)), body...)
		sum := sha256.Sum256(raw)
		items[i] = model.RawItem{SourceKey: fmt.Sprintf("1:%d", i+1), Kind: "email", Mailbox: "feedback@example.test",
			MessageID: fmt.Sprintf("%d@bench", i), ContentHash: hex.EncodeToString(sum[:]), Raw: raw}
	}
	return items
}

// benchAck is a body shaped like the bench's acks and owner notices: a
// text part and an HTML part with the same words, 9.5 KB that lz4
// compresses to about 3.5 KB. The outbox of a bench run holds 8.2 KB per
// message on average, stored in 3.4 KB. A body that compresses to almost
// nothing stays in its row, where a real one goes to the TOAST table.
func benchAck() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"the", "and", "points", "report", "month", "rank", "your", "Acme", "pricing", "customer",
		"thanks", "for", "of", "to", "=\r\n", "<td>", "</td>", "<p>", "</p>"}
	var text strings.Builder
	for text.Len() < 3500 {
		for n := 0; n < 72; {
			var w string
			switch p := r.IntN(10); {
			case p < 6:
				w = words[r.IntN(len(words))]
			case p < 8:
				w = strconv.Itoa(r.IntN(100000))
			default:
				b := make([]byte, 3+r.IntN(8))
				for i := range b {
					b[i] = byte('a' + r.IntN(26))
				}
				w = string(b)
			}
			text.WriteString(w + " ")
			n += len(w) + 1
		}
		text.WriteString("\r\n")
	}
	var b strings.Builder
	b.WriteString("Content-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.WriteString(text.String())
	b.WriteString("\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body>")
	for _, l := range strings.Split(text.String(), "\r\n") {
		b.WriteString("<p style=3D\"margin:0 0 8px 0\">" + l + "</p>\r\n")
	}
	b.WriteString("</body></html>\r\n--b1--\r\n")
	return []byte(b.String())
}

// benchURL is the database of a benchmark on dialect: a fresh SQLite
// file, or a schema of the test PostgreSQL (skipped without one).
func benchURL(b *testing.B, dialect string) string {
	if dialect != "postgres" {
		return "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
	}
	if os.Getenv("EARSHOT_TEST_POSTGRES") == "" {
		b.Skip("postgres unavailable: EARSHOT_TEST_POSTGRES is not set")
	}
	return testenv.Postgres(b)
}

// BenchmarkReceive measures the raw ingest path: batches of 100 messages
// stored with the cursor in one transaction, in messages/s, with the CPU
// per message of this process and of the PostgreSQL server (as
// BenchmarkCompleteBatch).
func BenchmarkReceive(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			url := benchURL(b, d)
			s := open(b, url, testenv.NewClock(time.Time{}))
			ctx := context.Background()
			server := serverPID(b, s, d)
			s.EnsureSource(ctx, "feedback", "imap")
			const batch = 100
			msgs := benchMessages(2000)
			var bytes int64
			for _, m := range msgs {
				bytes += int64(len(m.Raw))
			}
			b.ResetTimer()
			total := 0
			pg0, go0 := serverCPU(server), processCPU()
			for i := 0; i < b.N; i++ {
				// Each round stores fresh content under fresh keys.
				for j := range msgs {
					msgs[j].SourceKey = fmt.Sprintf("%d:%d", i, j)
					msgs[j].ContentHash = fmt.Sprintf("%d-%d", i, j)
				}
				for start := 0; start < len(msgs); start += batch {
					res, err := s.Receive(ctx, model.Batch{Source: "feedback", Cursor: fmt.Sprintf(`{"last_uid":%d}`, start),
						Items: msgs[start:min(start+batch, len(msgs))]})
					if err != nil {
						b.Fatal(err)
					}
					total += res.Inserted
				}
			}
			goUsed := processCPU() - go0
			pgUsed := serverCPU(server) - pg0
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(total)/sec, "msgs/s")
			b.ReportMetric(float64(bytes)*float64(b.N)/sec/1e6, "MB/s")
			b.ReportMetric(float64(goUsed.Microseconds())/1e3/float64(total), "go-cpu-ms/msg")
			if d == "postgres" {
				b.ReportMetric(float64(pgUsed.Microseconds())/1e3/float64(total), "pg-cpu-ms/msg")
			}
		})
	}
}

// BenchmarkCompleteBatch measures the completion of claimed batches of 20
// items shaped like the bench's mail: nine tags, two owners, an ack and an
// owner notice (benchAck bodies), and two ledger entries each, for reps of
// a roster of 50.
//
// Beside ns/op it reports the CPU per item of this process and, on
// PostgreSQL, of the server's processes (serverCPU): the figures two
// versions of the completion are compared by, less noisy than the whole
// pipeline's. The process's
// figure includes collecting what the untimed setup allocated; the
// server's is the completion's alone. Beside it, untimed, the server's CPU
// per item for claiming the batch (the raw messages read back), for the
// award's reads of the batch (standings, ledger counts, first reports,
// ack counts), and for the outbox worker's claims and marks of its
// messages.
func BenchmarkCompleteBatch(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			url := benchURL(b, d)
			clk := testenv.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			s := open(b, url, clk)
			ctx := context.Background()
			server := serverPID(b, s, d)
			s.EnsureSource(ctx, "feedback", "imap")
			var roster []model.Rep
			for i := range 50 {
				roster = append(roster, model.Rep{Name: fmt.Sprintf("rep%d", i), Team: "West",
					Emails: []string{fmt.Sprintf("rep%d@example.test", i)}, Line: i + 2})
			}
			if _, err := s.ImportReps(ctx, roster); err != nil {
				b.Fatal(err)
			}
			var reps []int64
			for _, r := range roster {
				got, err := s.RepByContact(ctx, "email", r.Emails[0])
				if err != nil {
					b.Fatal(err)
				}
				reps = append(reps, got.ID)
			}
			const batch = 20
			msgs := benchMessages(batch)
			body := benchAck()
			// This process's CPU is read inside the server's, so that reading
			// /proc is not counted.
			var pg0, pg1, go0, go1, pgClaim, pgAward, pgOutbox time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range msgs {
					msgs[j].SourceKey = fmt.Sprintf("%d:%d", i, j)
					msgs[j].ContentHash = fmt.Sprintf("%d-%d", i, j)
				}
				if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: msgs}); err != nil {
					b.Fatal(err)
				}
				pgClaim0 := serverCPU(server)
				got, err := s.Claim(ctx, "w", batch, time.Minute)
				pgClaim += serverCPU(server) - pgClaim0
				if err != nil || len(got) != batch {
					b.Fatalf("claim: %d items, %v", len(got), err)
				}
				done := make([]store.Done, len(got))
				var batchReps []int64
				var reports []store.ReportQuery
				acks := &store.AckWindow{Domains: []string{"example.test"}, Day: clk.Now().Truncate(24 * time.Hour),
					Hour: clk.Now().Add(-time.Hour)}
				for j, it := range got {
					rep := reps[(i*batch+j)%len(reps)]
					done[j] = store.Done{ID: it.ID, P: benchProcessed(rep, j, body, it.Raw)}
					batchReps = append(batchReps, rep)
					acks.Keys = append(acks.Keys, done[j].P.Sender)
					for _, c := range []string{"Acme", "Globex"} {
						reports = append(reports, store.ReportQuery{Competitor: c, Since: it.ReceivedAt.AddDate(0, 0, -90),
							Until: it.ReceivedAt, Except: it.ID})
					}
				}
				pgAward0 := serverCPU(server)
				if _, err := s.ReadAwards(ctx, "2026-03", batchReps, clk.Now().AddDate(0, -3, 0), reports, acks); err != nil {
					b.Fatal(err)
				}
				pgAward += serverCPU(server) - pgAward0
				pg0, go0 = serverCPU(server), processCPU()
				b.StartTimer()
				errs, err := s.CompleteBatch(ctx, "w", done)
				b.StopTimer()
				go1 += processCPU() - go0
				pg1 += serverCPU(server) - pg0
				if err != nil {
					b.Fatal(err)
				}
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				pgOut0 := serverCPU(server)
				sendAll(b, s)
				pgOutbox += serverCPU(server) - pgOut0
				b.StartTimer()
			}
			items := float64(b.N * batch)
			b.ReportMetric(float64(go1.Microseconds())/1e3/items, "go-cpu-ms/item")
			if d == "postgres" {
				b.ReportMetric(float64(pg1.Microseconds())/1e3/items, "pg-cpu-ms/item")
				b.ReportMetric(float64(pgClaim.Microseconds())/1e3/items, "pg-claim-ms/item")
				b.ReportMetric(float64(pgAward.Microseconds())/1e3/items, "pg-award-ms/item")
				b.ReportMetric(float64(pgOutbox.Microseconds())/1e3/items, "pg-outbox-ms/item")
			}
		})
	}
}

// sendAll claims the outbox's pending messages, as a worker does, and
// marks them sent.
func sendAll(b *testing.B, s *store.Store) {
	ctx := context.Background()
	for {
		msgs, err := s.ClaimOutbox(ctx, "o", 50, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) == 0 {
			return
		}
		sent := make([]model.SentMessage, len(msgs))
		for i, m := range msgs {
			sent[i] = model.SentMessage{ID: m.ID, ProviderID: fmt.Sprintf("queued-%d", m.ID)}
		}
		if err := s.MarkOutboxSentBatch(ctx, sent); err != nil {
			b.Fatal(err)
		}
	}
}

// benchProcessed is a result for rep's item: nine tags, two owners, an
// ack and an owner notice attaching raw, two ledger entries.
func benchProcessed(rep int64, n int, ack, raw []byte) model.Processed {
	ev := []model.Evidence{{Phrase: "switching to", Field: "body", Offset: 120 + n}}
	p := model.Processed{Sender: fmt.Sprintf("rep%d@example.test", rep), RepID: rep, Trust: model.TrustRep,
		TrustReason: "dkim", Subject: "Acme pricing", BodyText: "They are switching to Acme over pricing.",
		FullText: "Acme pricing\nThey are switching to Acme over pricing."}
	for _, t := range []struct {
		kind  model.TagKind
		value string
	}{{model.TagCategory, "intel"}, {model.TagCategory, "feedback"}, {model.TagCompetitor, "Acme"},
		{model.TagCompetitor, "Globex"}, {model.TagProduct, "Dashboard"}, {model.TagProduct, "Reports"},
		{model.TagTopic, "pricing"}, {model.TagTopic, "renewal"}, {model.TagTopic, "switching"}} {
		p.Tags = append(p.Tags, model.Tag{Kind: t.kind, Value: t.value, Evidence: ev, Origin: "rule"})
	}
	p.Assignments = []model.Assignment{{Owner: "pm-dashboard", Route: "product:Dashboard"}, {Owner: "ci-lead", Route: "category:intel"}}
	p.Ledger = []model.LedgerEntry{{RepID: rep, Points: 3, Reason: "category:intel", Month: "2026-03"},
		{RepID: rep, Points: 1, Reason: "category:feedback", Month: "2026-03"}}
	p.Unpaid = p.Ledger
	p.Outbox = []model.OutboxMessage{
		{Kind: model.OutboxAck, Channel: model.ChannelEmail, Recipient: p.Sender, Subject: "Re: Acme pricing", Body: ack},
		{Kind: model.OutboxOwnerNotice, Channel: model.ChannelEmail, Recipient: "ci-lead@example.test", Owner: "ci-lead",
			Subject: "Intel: Acme pricing", Body: ack, Original: model.Deferred{At: len(ack) / 2, Encoding: "base64", Data: raw}},
	}
	return p
}

// serverPID is the PostgreSQL server's main process (the parent of the
// store's backends), whose CPU serverCPU reads; 0 on SQLite. The server
// must run on this machine.
func serverPID(b *testing.B, s *store.Store, dialect string) int {
	if dialect != "postgres" {
		return 0
	}
	var backend int
	if err := s.DB().Get(&backend, `select pg_backend_pid()`); err != nil {
		b.Fatal(err)
	}
	pid := procstat.Parent(backend)
	if pid == 0 {
		b.Fatalf("backend %d is not a process of this machine: the server's CPU cannot be read", backend)
	}
	return pid
}

// serverCPU is the CPU time the server pid and its processes used so far,
// with that of exited backends; 0 for no server.
func serverCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	return time.Duration(procstat.GroupCPU(pid) * float64(time.Second))
}

// processCPU is this process's CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadRaw measures reading back a 25 MB message, the largest the
// intake keeps, as the processor reads an item too large for its claim:
// ns/op, and the CPU per message of this process and of the server. The
// attachment is hex text of random bytes, like a PDF's base64, which lz4
// cannot compress; the log is text that it can. The server reads a slice
// of an uncompressed value from its TOAST chunks, but decompresses a
// compressed one from its start; SQLite follows a value's overflow pages
// from its start.
func BenchmarkReadRaw(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	rnd := make([]byte, 25<<19)
	for j := range rnd {
		rnd[j] = byte(r.Uint32())
	}
	var log strings.Builder
	for log.Len() < 25<<20 {
		fmt.Fprintf(&log, "2026-11-%02d 09:%02d:%02d renewal %d pricing dashboard customer\r\n",
			1+r.IntN(28), r.IntN(60), r.IntN(60), r.IntN(100000))
	}
	bodies := map[string]string{"attachment": hex.EncodeToString(rnd), "log": log.String()[:25<<20]}
	for _, d := range []string{"sqlite", "postgres"} {
		for _, kind := range []string{"attachment", "log"} {
			b.Run(d+"/"+kind, func(b *testing.B) {
				s := open(b, benchURL(b, d), testenv.NewClock(time.Time{}))
				ctx := context.Background()
				server := serverPID(b, s, d)
				s.EnsureSource(ctx, "feedback", "imap")
				raw := append([]byte("Subject: large\r\nMessage-ID: <large@bench>\r\n\r\n"), bodies[kind]...)
				sum := sha256.Sum256(raw)
				if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{{SourceKey: "1:1",
					Kind: "email", Mailbox: "feedback@example.test", MessageID: "large@bench",
					ContentHash: hex.EncodeToString(sum[:]), Raw: raw}}}); err != nil {
					b.Fatal(err)
				}
				got, err := s.Claim(ctx, "w1", 1, time.Hour)
				if err != nil || len(got) != 1 {
					b.Fatalf("claim = %d items, %v", len(got), err)
				}
				b.ResetTimer()
				pg0, go0 := serverCPU(server), processCPU()
				for i := 0; i < b.N; i++ {
					out, err := s.ReadRaw(ctx, got[0].ID, got[0].RawSize)
					if err != nil {
						b.Fatal(err)
					}
					if len(out) != len(raw) {
						b.Fatalf("read %d bytes of %d", len(out), len(raw))
					}
				}
				goUsed, pgUsed := processCPU()-go0, serverCPU(server)-pg0
				b.ReportMetric(float64(goUsed.Microseconds())/1e3/float64(b.N), "go-cpu-ms/msg")
				if d == "postgres" {
					b.ReportMetric(float64(pgUsed.Microseconds())/1e3/float64(b.N), "pg-cpu-ms/msg")
				}
			})
		}
	}
}

// BenchmarkCompetitorReported measures the first-report check after a
// year of mail on PostgreSQL: 52,560 processed items ten minutes apart,
// oldest first, a third of them naming Acme, each with three other tags.
// The check asks for Acme and for Globex (never named) in the last
// month's window, as the award of the year's last item does.
func BenchmarkCompetitorReported(b *testing.B) {
	url := benchURL(b, "postgres")
	end := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	s := open(b, url, testenv.NewClock(end))
	ctx := context.Background()
	for _, q := range []string{
		`insert into items (kind, content_hash, raw, raw_size, received_at, next_attempt_at, state)
			select 'email', 'h' || g, '\x00', 1, $1::timestamptz - (52560 - g) * interval '10 minutes', $1, 'processed'
			from generate_series(1, 52560) g`,
		`insert into tags (item_id, kind, value, origin, received_at)
			select id, k, case when k = 'competitor' then 'Acme' else 'x' end, 'alias', received_at
			from items, unnest(array['category', 'product', 'topic', 'competitor']) as k
			where k <> 'competitor' or id % 3 = 0`,
		`analyze items`,
		`analyze tags`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, end)
		}
		if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		competitor string
		want       bool
	}{{"Acme", true}, {"Globex", false}} {
		b.Run(c.competitor, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				found, err := s.CompetitorReported(ctx, c.competitor, end.AddDate(0, 0, -30), end, 0)
				if err != nil || found != c.want {
					b.Fatalf("%s reported = %v, %v; want %v", c.competitor, found, err, c.want)
				}
			}
		})
	}
}

// BenchmarkTextArray measures sending twenty item texts of 6 KB, as a
// completion sends them, to a statement that stores nothing: as lib/pq's
// text literal (pq.Array) and in the binary array format (textArray),
// with the CPU per array of this process and of the server.
func BenchmarkTextArray(b *testing.B) {
	url := benchURL(b, "postgres")
	s := open(b, url, testenv.NewClock(time.Now()))
	ctx := context.Background()
	server := serverPID(b, s, "postgres")
	// Mail text: mostly plain lines, one in three with quotation marks,
	// which a text literal escapes.
	lines := []string{
		"We met the customer's IT team on Tuesday and went through the renewal terms line by line.",
		"They said Acme offered them \"unlimited seats\" at a lower price, and the CFO liked it.",
		"The dashboard export is still the main complaint; reports time out on large accounts.",
	}
	texts := make([]string, 20)
	for i := range texts {
		var sb strings.Builder
		for j := 0; sb.Len() < 6000; j++ {
			fmt.Fprintf(&sb, "%s (%d)\n", lines[j%len(lines)], i)
		}
		texts[i] = sb.String()
	}
	for _, enc := range []struct {
		name  string
		value func([]string) any
	}{{"literal", func(a []string) any { return pq.Array(a) }}, {"binary", store.TextArray}} {
		b.Run(enc.name, func(b *testing.B) {
			db := s.DB()
			stmt, err := db.PreparexContext(ctx, `select sum(octet_length(t)) from unnest($1::text[]) as t`)
			if err != nil {
				b.Fatal(err)
			}
			defer stmt.Close()
			want := 0
			for _, t := range texts {
				want += len(t)
			}
			pg0, go0 := serverCPU(server), processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var got int
				if err := stmt.GetContext(ctx, &got, enc.value(texts)); err != nil || got != want {
					b.Fatalf("sum of lengths %d, %v; want %d", got, err, want)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-go0).Microseconds())/float64(b.N), "go-cpu-µs/op")
			b.ReportMetric(float64((serverCPU(server)-pg0).Microseconds())/float64(b.N), "pg-cpu-µs/op")
		})
	}
}
