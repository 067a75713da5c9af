package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake/corpus"
	"github.com/earshot-dev/earshot/intake/imap"
	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

// Every file of the shared corpora and of intake's wild fixtures, appended
// to Dovecot byte for byte (raw IMAP APPEND, no line ending converted),
// goes through the IMAP source
// into PostgreSQL and is processed: one receipt per file, one item per
// distinct message (files share an item only when they are the same
// message), text wherever a reference parser finds text, nothing
// quarantined, lost or stuck.
func TestCorpusOnDovecot(t *testing.T) {
	shared := testenv.SharedDir(t)
	files, err := corpus.Files(shared)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(corpus.MailDir(shared))
	// Shapes the corpora lack (classic Mac line endings, 8-bit headers, ...)
	// come along from intake's fixtures.
	wild, err := filepath.Glob(filepath.Join("..", "intake", "testdata", "wild", "*.eml"))
	if err != nil || len(wild) == 0 {
		t.Fatalf("intake/testdata/wild: %d files, %v", len(wild), err)
	}
	files = append(files, wild...)
	raws := make([][]byte, len(files))
	names := make([]string, len(files))
	for i, f := range files {
		if raws[i], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
		if names[i], err = filepath.Rel(root, f); err != nil || strings.HasPrefix(names[i], "..") {
			names[i] = strings.TrimPrefix(filepath.ToSlash(f), "../")
		}
	}
	st, err := store.Open(context.Background(), testenv.Postgres(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := testenv.Dovecot(t)
	const user = "feedback@example.test"

	start := time.Now()
	uids, refused := d.AppendRaw(t, user, "INBOX", raws)
	appended := time.Since(start)
	byUID := map[uint32]int{}
	var refusals []string
	for i, uid := range uids {
		if uid == 0 {
			refusals = append(refusals, fmt.Sprintf("%s (%d bytes): %s", names[i], len(raws[i]), refused[i]))
			if len(raws[i]) > 0 {
				t.Errorf("Dovecot refused %s, %d bytes: %s", names[i], len(raws[i]), refused[i])
			}
			continue
		}
		byUID[uid] = i
	}

	ctx := context.Background()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	host, port, _ := net.SplitHostPort(d.Addr)
	p, _ := strconv.Atoi(port)
	src, err := imap.New("feedback", user, imap.Config{Host: host, Port: p, TLS: imap.TLSNone, Username: user,
		Password: d.Password(user)}, st, &imap.Options{Options: source.Options{Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start = time.Now()
	res, err := src.SyncOnce(ctx)
	if err != nil {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	synced := time.Since(start)

	start = time.Now()
	processAll(t, st, quiet)
	processed := time.Since(start)

	// Receipts: which file became which item.
	var receipts []struct {
		Key  string `db:"source_key"`
		Item int64  `db:"item_id"`
	}
	if err := st.DB().SelectContext(ctx, &receipts, `select source_key, item_id from receipts`); err != nil {
		t.Fatal(err)
	}
	itemFiles := map[int64][]int{}
	fileItem := map[int]int64{}
	for _, r := range receipts {
		_, u, _ := strings.Cut(r.Key, ":")
		uid, _ := strconv.ParseUint(u, 10, 32)
		i, ok := byUID[uint32(uid)]
		if !ok {
			t.Errorf("receipt %s names no appended file", r.Key)
			continue
		}
		itemFiles[r.Item] = append(itemFiles[r.Item], i)
		fileItem[i] = r.Item
	}
	var lost []string
	for _, i := range byUID {
		if _, ok := fileItem[i]; !ok {
			lost = append(lost, names[i])
		}
	}

	// Items shared by several files hold the same message, and files with
	// the same bytes share an item.
	var merged []string
	identical := 0
	for _, fs := range itemFiles {
		sort.Ints(fs)
		for _, i := range fs[1:] {
			why, same := corpus.SameMessage(raws[fs[0]], raws[i])
			if !same {
				t.Errorf("%s and %s share an item but are different messages: %s", names[fs[0]], names[i], why)
			}
			if why == "identical bytes" {
				identical++
			} else {
				merged = append(merged, fmt.Sprintf("%s = %s (%s)", names[fs[0]], names[i], why))
			}
		}
	}
	sort.Strings(merged)
	first := map[string]int{}
	for i, raw := range raws {
		if _, ok := fileItem[i]; !ok {
			continue
		}
		if j, seen := first[string(raw)]; seen && fileItem[i] != fileItem[j] {
			t.Errorf("%s and %s have the same bytes but two items", names[j], names[i])
		} else if !seen {
			first[string(raw)] = i
		}
	}

	// Every item is processed, and has text wherever the reference finds
	// some in what the server sent.
	var items []struct {
		ID       int64  `db:"id"`
		State    string `db:"state"`
		Raw      []byte `db:"raw"`
		FullText string `db:"full_text"`
		Error    string `db:"last_error"`
	}
	if err := st.DB().SelectContext(ctx, &items, `select id, state, raw, full_text, last_error from items order by id`); err != nil {
		t.Fatal(err)
	}
	var quarantined, stuck, withText, emptyText []string
	for _, it := range items {
		name := names[itemFiles[it.ID][0]]
		switch it.State {
		case string(model.StateProcessed):
		case string(model.StateQuarantined):
			quarantined = append(quarantined, name+": "+it.Error)
		default:
			stuck = append(stuck, name+" ("+it.State+"): "+it.Error)
		}
		if referenceFindsText(it.Raw) {
			withText = append(withText, name)
			if strings.TrimSpace(it.FullText) == "" {
				emptyText = append(emptyText, name)
			}
		}
	}
	sort.Strings(emptyText)

	t.Logf(`corpus on Dovecot and PostgreSQL (append %s, sync %s, process %s)
  files                %4d   (%d of the shared corpora, %d of intake/testdata/wild)
  appended             %4d   refused by Dovecot: %d %q
  receipts             %4d
  items                %4d
  files sharing items  %4d   %d byte-identical to another file, %d the same message in other bytes:
      %s
  text found by the reference parser %d items; empty text in Earshot: %d %q
  quarantined          %4d %q
  lost                 %4d %q
  stuck                %4d %q`,
		appended.Round(time.Millisecond), synced.Round(time.Millisecond), processed.Round(time.Millisecond),
		len(files), len(files)-len(wild), len(wild), len(byUID), len(refusals), refusals, len(receipts), len(items),
		identical+len(merged), identical, len(merged), strings.Join(merged, "\n      "),
		len(withText), len(emptyText), emptyText, len(quarantined), quarantined, len(lost), lost, len(stuck), stuck)
	if len(receipts) != len(byUID) || len(lost) > 0 {
		t.Errorf("%d files appended, %d receipts; lost: %q", len(byUID), len(receipts), lost)
	}
	if len(emptyText) > 0 {
		t.Errorf("%d items have no text where the reference parser finds some: %q", len(emptyText), emptyText)
	}
	if len(quarantined) > 0 || len(stuck) > 0 {
		t.Errorf("quarantined %q, stuck %q", quarantined, stuck)
	}
}

// processAll processes every received item with two workers, as the two
// cores of a small deployment would, and one attempt each: a failure
// quarantines the item at once, so the test sees it.
func processAll(t *testing.T, st *store.Store, log *slog.Logger) {
	t.Helper()
	cfg, err := config.Parse([]byte("database: sqlite:unused.db\nmailboxes: []\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	router, err := pipeline.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &pipeline.Workers{Store: st, Processor: &pipeline.Processor{Store: st, Router: router},
		Name: "corpus", Batch: 25, Lease: time.Minute, MaxAttempts: 1, Log: log}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for n := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := w.RunOnce(context.Background(), fmt.Sprintf("corpus/%d", n))
				if err != nil {
					errs <- err
					return
				}
				if got == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// referenceFindsText reports whether go-message, read plainly, finds body
// text in raw: a text/plain or text/html part (HTML without its tags)
// that is not a Content-Disposition attachment and holds more than white
// space. A message go-message cannot read is read by net/mail, and raw
// that is no message at all counts as text.
func referenceFindsText(raw []byte) bool {
	ent, err := message.Read(bytes.NewReader(raw))
	if ent == nil {
		m, err2 := netmail.ReadMessage(bytes.NewReader(raw))
		if err2 != nil {
			return len(bytes.TrimSpace(raw)) > 0
		}
		b, _ := io.ReadAll(m.Body)
		return len(bytes.TrimSpace(b)) > 0
	}
	_ = err // an unknown charset or encoding: the body is read undecoded
	found := false
	_ = ent.Walk(func(_ []int, e *message.Entity, _ error) error {
		t, _, _ := e.Header.ContentType()
		if t == "" {
			t = "text/plain"
		}
		if disp, _, _ := e.Header.ContentDisposition(); disp == "attachment" || (t != "text/plain" && t != "text/html") {
			return nil
		}
		b, _ := io.ReadAll(e.Body)
		if t == "text/html" {
			b = bytes.ReplaceAll(htmlVisible(b), []byte("&nbsp;"), []byte(" "))
		}
		found = found || len(bytes.TrimSpace(b)) > 0
		return nil
	})
	return found
}

// htmlVisible returns the text of HTML without its tags and without what
// HTML never shows: the title, scripts, styles and comments, each running
// to the end of the document when it is not closed (HTML Standard 13.2:
// RCDATA and raw text elements end only at their end tag).
func htmlVisible(b []byte) []byte {
	lower := bytes.ToLower(b)
	var out []byte
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return append(out, b[i:]...)
		}
		out = append(out, b[i:i+j]...)
		i += j
		end := []byte(">")
		for _, e := range []string{"!--", "title", "script", "style"} {
			if bytes.HasPrefix(lower[i+1:], []byte(e)) {
				end = []byte("</" + e)
				if e == "!--" {
					end = []byte("-->")
				}
				break
			}
		}
		k := bytes.Index(lower[i+1:], end)
		if k < 0 {
			return out
		}
		i += 1 + k + len(end)
		if end[0] == '<' { // past the end tag's ">"
			if g := bytes.IndexByte(b[i:], '>'); g >= 0 {
				i += g + 1
			}
		}
		out = append(out, ' ')
	}
	return out
}
