package main

import (
	"math/rand/v2"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// charset is one character set the generator writes mail in: the MIME
// name, the language of the text, and how the body is transfer-encoded.
type charset struct {
	name     string
	lang     string // "en", "ru" or "ja"
	encoding encoding.Encoding
	cte      string // "quoted-printable", "8bit" or "base64"
}

// charsets and their shares (weights out of 100) of generated mail.
var charsets = []struct {
	weight int
	cs     charset
}{
	{45, charset{"utf-8", "en", nil, "quoted-printable"}},
	{8, charset{"utf-8", "ru", nil, "8bit"}},
	{5, charset{"utf-8", "ja", nil, "base64"}},
	{10, charset{"iso-8859-1", "en", charmap.ISO8859_1, "quoted-printable"}},
	{15, charset{"windows-1252", "en", charmap.Windows1252, "quoted-printable"}},
	{9, charset{"koi8-r", "ru", charmap.KOI8R, "8bit"}},
	{8, charset{"shift_jis", "ja", japanese.ShiftJIS, "base64"}},
}

// pickCharset draws a charset by weight.
func pickCharset(r *rand.Rand) charset {
	n := r.IntN(100)
	for _, c := range charsets {
		if n < c.weight {
			return c.cs
		}
		n -= c.weight
	}
	return charsets[0].cs
}

// encode converts UTF-8 text to the charset; characters it lacks become
// the charset's replacement character.
func (c charset) encode(s string) []byte {
	if c.encoding == nil {
		return []byte(s)
	}
	out, err := encoding.ReplaceUnsupported(c.encoding.NewEncoder()).String(s)
	if err != nil {
		return []byte(s)
	}
	return []byte(out)
}

// Competitors and products of the generated configuration; mail mentions
// them so that tagging and routing have work to do.
var (
	competitorNames = []string{"Acme", "Acme Corp", "AcmeCloud", "Globex", "Globex Corporation", "Initech"}
	productWords    = []string{"billing", "invoices", "the payment run", "reports", "the dashboard", "the API", "webhooks", "integrations"}
)

// Sentence material per language. English carries Latin-1 and
// Windows-1252 characters (accents, curly quotes, the euro sign) so that
// those charsets are exercised.
var (
	enOpeners = []string{
		"Quick note from the field:", "Heard this today at a customer visit.", "FYI from my call this morning —",
		"Met the buyer at the café in Zürich.", "Following up on the São Paulo meeting.", "Short one:",
	}
	enSentences = []string{
		"The customer said %C quoted them 30%% less for a three-year deal.",
		"They keep asking when %P will support multi-currency.",
		"Their finance team finds %P confusing and wants a simpler export.",
		"%C is offering free onboarding to anyone who switches before the quarter ends.",
		"The champion mentioned a “naïve” migration plan that worries their CTO.",
		"Pricing came up twice; they think we are €4 per seat too expensive.",
		"A reseller told me %C lost two deals last month because of outages.",
		"They love %P but the monthly report arrives too late for their board.",
		"Integration with their ERP is the blocker – nothing else.",
		"The renewal is safe if we fix the rounding bug in %P.",
		"Their résumé of requirements includes SSO, audit logs and a sandbox.",
		"Security review passed; legal wants a DPA before signing.",
		"Nobody on their side has heard of our roadmap for %P.",
		"They compared us with %C feature by feature and we won on support.",
		"The pilot went well, although the dashboard felt slow with 10 000 rows.",
	}
	ruSentences = []string{
		"Клиент сказал, что %C предложил скидку тридцать процентов.",
		"Их бухгалтерия просит упростить %P.",
		"Партнёр сообщил, что %C теряет сделки из-за сбоев.",
		"Отчёты приходят слишком поздно для совета директоров.",
		"Интеграция с их системой учёта — главное препятствие.",
		"Они сравнили нас с %C и выбрали нас из-за поддержки.",
		"Продление безопасно, если мы исправим ошибку округления.",
	}
	jaSentences = []string{
		"お客様によると%Cは三割安い見積もりを出しました。",
		"経理部門は%Pをもっと簡単にしてほしいと言っています。",
		"代理店の話では%Cは障害のせいで商談を失いました。",
		"月次レポートが取締役会に間に合いません。",
		"会計システムとの連携が最大の課題です。",
		"サポートの質で%Cより当社が選ばれました。",
	}
	enSubjects = []string{
		"Pricing pressure from %C", "Feedback on %P", "Customer visit notes", "Lost deal debrief",
		"Renewal risk – %P", "Feature request: %P", "Competitive intel: %C", "Quick field note",
	}
	ruSubjects = []string{"Заметки со встречи", "Отзыв о продукте", "Конкуренты: %C"}
	jaSubjects = []string{"商談メモ", "製品への要望", "競合情報 %C"}
)

// paragraph writes sentences in lang until the paragraph has about n bytes.
// mention controls whether competitor and product names appear.
func paragraph(r *rand.Rand, lang string, n int, mention bool) string {
	var b strings.Builder
	if lang == "en" {
		b.WriteString(enOpeners[r.IntN(len(enOpeners))])
		b.WriteByte(' ')
	}
	pool := enSentences
	switch lang {
	case "ru":
		pool = ruSentences
	case "ja":
		pool = jaSentences
	}
	for b.Len() < n {
		b.WriteString(fill(r, pool[r.IntN(len(pool))], mention))
		if lang != "ja" {
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// subject draws a subject line in lang.
func subject(r *rand.Rand, lang string, mention bool) string {
	pool := enSubjects
	switch lang {
	case "ru":
		pool = ruSubjects
	case "ja":
		pool = jaSubjects
	}
	return fill(r, pool[r.IntN(len(pool))], mention)
}

// fill replaces %C with a competitor and %P with a product (or neutral
// words when mention is false) and %% with %.
func fill(r *rand.Rand, s string, mention bool) string {
	c, p := "a rival vendor", "the product"
	if mention {
		c = competitorNames[r.IntN(len(competitorNames))]
		p = productWords[r.IntN(len(productWords))]
	}
	return strings.NewReplacer("%C", c, "%P", p, "%%", "%").Replace(s)
}
