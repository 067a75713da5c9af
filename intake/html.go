package intake

import (
	"regexp"
	"strings"

	"github.com/k3a/html2text"
)

// blockElements start a new line when rendered. html2text treats them as
// inline, which would glue the lines of a Gmail or Outlook message
// ("<div>a</div><div>b</div>") into one word.
var blockElements = map[string]bool{
	"div": true, "p": true, "tr": true, "table": true, "tbody": true, "thead": true,
	"blockquote": true, "ul": true, "ol": true, "li": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "pre": true,
	"center": true, "section": true, "article": true, "header": true, "footer": true,
	"dl": true, "dt": true, "dd": true, "address": true,
}

// blankLines matches three or more line breaks with only spaces between.
var blankLines = regexp.MustCompile(`\n[ \t]*(?:\n[ \t]*){2,}`)

// htmlToText renders an HTML body as plain text. Both steps, marking line
// breaks and the conversion itself, are single passes over the input with
// no element tree, so time and memory stay linear however deeply the markup
// nests.
func htmlToText(html string) string {
	text := html2text.HTML2TextWithOptions(markBlocks(html), html2text.WithUnixLineBreaks(), html2text.WithLinksInnerText())
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(strings.Trim(l, "\u00a0"))
	}
	s := blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.Trim(s, "\n")
}

// markBlocks puts a <br> before the tags of block elements that follow
// text on the same line, a space before table cells, and removes the
// document title.
func markBlocks(html string) string {
	var b strings.Builder
	b.Grow(len(html) + len(html)/8)
	textOnLine := false // text written since the last line break
	for {
		i := strings.IndexByte(html, '<')
		if i < 0 {
			b.WriteString(html)
			return b.String()
		}
		if strings.TrimSpace(html[:i]) != "" {
			textOnLine = true
		}
		b.WriteString(html[:i])
		html = html[i:]
		name, closing := tagName(html)
		switch {
		case name == "title" && !closing:
			end := indexTagFold(html, "</title")
			if end < 0 {
				return b.String()
			}
			html = html[end:]
			continue
		case name == "br":
			textOnLine = false
		case blockElements[name]:
			if textOnLine {
				b.WriteString("<br>")
				textOnLine = false
			}
		case name == "td" || name == "th":
			b.WriteByte(' ')
		}
		end := strings.IndexByte(html, '>')
		if end < 0 {
			b.WriteString(html)
			return b.String()
		}
		b.WriteString(html[:end+1])
		html = html[end+1:]
	}
}

// tagName returns the lowercased name of the tag that starts s ("<div ...",
// "</TD>") and whether it is a closing tag.
func tagName(s string) (name string, closing bool) {
	i := 1
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) && i-start < 12 && (isASCIILetter(s[i]) || (i > start && s[i] >= '0' && s[i] <= '9')) {
		i++
	}
	if i < len(s) && isASCIILetter(s[i]) { // longer than any name we look for
		return "", closing
	}
	return strings.ToLower(s[start:i]), closing
}

// isASCIILetter reports whether c is an ASCII letter.
func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// indexTagFold returns the index of the first case-insensitive match in s
// of tag, an ASCII string that starts with '<', or -1.
func indexTagFold(s, tag string) int {
	for i := 0; i+len(tag) <= len(s); i++ {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if i+len(tag) <= len(s) && strings.EqualFold(s[i:i+len(tag)], tag) {
			return i
		}
	}
	return -1
}
