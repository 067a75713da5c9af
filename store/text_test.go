package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// Text from mail nobody here wrote may hold NUL bytes (an encoded word
// that decodes to one) and bytes that are not UTF-8. PostgreSQL refuses
// both in text and jsonb ("invalid byte sequence for encoding \"UTF8\":
// 0x00"), which failed every attempt until quarantine; every write that
// binds such text stores it cleaned instead.
func TestTextFromMailIsStored(t *testing.T) {
	const bad = "Initech quote\x00 caf\xe9"
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "feedback", "imap")
		it := raw(1)
		it.MessageID = "id\x00\xff@example.test"
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{it, raw(2)}}); err != nil {
			t.Fatalf("receive a message id with NUL and 0xff: %v", err)
		}
		claimed, err := s.Claim(ctx, "w1", 2, time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim = %d items, %v", len(claimed), err)
		}
		p := model.Processed{
			Sender: "bob\x00@example.test", Subject: bad, BodyText: bad, FullText: bad, AutoReason: bad,
			Warnings:    []string{bad},
			Message:     model.Message{From: model.Address{Name: "Bob\x00", Addr: "bob@example.test"}, Quoted: bad},
			Tags:        []model.Tag{{Kind: model.TagTopic, Value: bad, Evidence: []model.Evidence{{Phrase: bad, Field: "text"}}, Origin: "rule"}},
			Assignments: []model.Assignment{{Owner: "pm", Route: "topic"}},
			Outbox: []model.OutboxMessage{{Kind: model.OutboxAck, Channel: model.ChannelEmail, Recipient: "bob@example.test",
				Subject: "Re: " + bad, State: model.OutboxSuppressed, Reason: "test"}},
		}
		if err := s.Complete(ctx, claimed[0].ID, "w1", p); err != nil {
			t.Fatalf("complete with NUL and invalid UTF-8: %v", err)
		}
		// A failure whose message is cut at 2,000 bytes inside a character.
		cause := errors.New(strings.Repeat("x", 1999) + "é\x00" + bad)
		if _, err := s.Fail(ctx, claimed[1].ID, "w1", cause, 5); err != nil {
			t.Fatalf("fail with a long message: %v", err)
		}
		if err := s.RecordSourceError(ctx, "feedback", "server said "+bad, ""); err != nil {
			t.Fatalf("record a source error: %v", err)
		}

		var texts []string
		for _, q := range []string{
			`select message_id from items`, `select subject from items`, `select body_text from items`,
			`select sender from items`, `select warnings from items`, `select normalized from items`,
			`select last_error from items`, `select value from tags`, `select evidence from tags`,
			`select subject from outbox`, `select last_error from sources`,
		} {
			var got []string
			if err := s.DB().SelectContext(ctx, &got, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			texts = append(texts, got...)
		}
		for _, v := range texts {
			if strings.ContainsRune(v, 0) || strings.Contains(v, `\u0000`) || !utf8.ValidString(v) {
				t.Errorf("stored %q: NUL or invalid UTF-8", v)
			}
		}
		got, _ := s.Item(ctx, claimed[0].ID)
		if got.Subject != "Initech quote caf\uFFFD" {
			t.Errorf("subject stored as %q", got.Subject)
		}
	})
}
