package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
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

// BenchmarkReceive measures the raw ingest path: batches of 100 messages
// stored with the cursor in one transaction, in messages/s.
func BenchmarkReceive(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
			if d == "postgres" {
				if os.Getenv("EARSHOT_TEST_POSTGRES") == "" {
					b.Skip("postgres unavailable: EARSHOT_TEST_POSTGRES is not set")
				}
				url = testenv.Postgres(b)
			}
			s := open(b, url, testenv.NewClock(time.Time{}))
			ctx := context.Background()
			s.EnsureSource(ctx, "feedback", "imap")
			const batch = 100
			msgs := benchMessages(2000)
			var bytes int64
			for _, m := range msgs {
				bytes += int64(len(m.Raw))
			}
			b.ResetTimer()
			total := 0
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
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(total)/sec, "msgs/s")
			b.ReportMetric(float64(bytes)*float64(b.N)/sec/1e6, "MB/s")
		})
	}
}
