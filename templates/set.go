// Package templates renders what Earshot sends: acks to reps (email and
// SMS), owner notices, owner digests, SLA reminders and the monthly manager
// digest. Default templates are embedded; a file of the same name in an
// override directory replaces one. Text and SMS use text/template, HTML
// uses html/template. Files whose name starts with "_" hold shared
// definitions and are parsed with every template of their kind.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
)

//go:embed default/*.tmpl
var defaults embed.FS

// File name suffixes.
const (
	textSuffix = ".txt.tmpl"
	htmlSuffix = ".html.tmpl"
)

// Set is a parsed set of templates. It is safe for concurrent use.
type Set struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
	// origin maps a file name to where it was read from, for errors.
	origin map[string]string
}

// Rendered is one rendered message.
type Rendered struct {
	// Subject is the text template's "subject" definition, if it has one.
	Subject string
	Text    string
	// HTML is empty when the kind has no HTML template.
	HTML string
}

// Load parses the embedded defaults, with each file of dir (when not
// empty) replacing the default of the same name or adding a new one. Every
// template is also executed with sample data, so that a mistake in an
// override shows at startup, named by its file.
func Load(dir string) (*Set, error) {
	files := map[string][]byte{}
	origin := map[string]string{}
	entries, err := fs.ReadDir(defaults, "default")
	if err != nil {
		return nil, fmt.Errorf("embedded templates: %w", err)
	}
	for _, e := range entries {
		b, err := defaults.ReadFile("default/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("embedded template %s: %w", e.Name(), err)
		}
		files[e.Name()], origin[e.Name()] = b, "default/"+e.Name()
	}
	if dir != "" {
		over, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("template directory: %w", err)
		}
		for _, e := range over {
			name := e.Name()
			if e.IsDir() || !(strings.HasSuffix(name, textSuffix) || strings.HasSuffix(name, htmlSuffix)) {
				continue
			}
			path := filepath.Join(dir, name)
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", path, err)
			}
			files[name], origin[name] = b, path
		}
	}
	s := &Set{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}, origin: origin}
	if err := s.parse(files); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// parse builds one template tree per main file, with the shared files of
// its kind parsed first so the main file can use and redefine them.
func (s *Set) parse(files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	shared := func(suffix string) []string {
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, "_") && strings.HasSuffix(n, suffix) {
				out = append(out, n)
			}
		}
		return out
	}
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			continue
		}
		switch {
		case strings.HasSuffix(n, textSuffix):
			t := texttemplate.New(n).Funcs(textFuncs())
			for _, p := range shared(textSuffix) {
				if _, err := t.New(p).Parse(string(files[p])); err != nil {
					return fmt.Errorf("template %s: %w", s.origin[p], err)
				}
			}
			if _, err := t.Parse(string(files[n])); err != nil {
				return fmt.Errorf("template %s: %w", s.origin[n], err)
			}
			s.text[strings.TrimSuffix(n, textSuffix)] = t
		case strings.HasSuffix(n, htmlSuffix):
			t := htmltemplate.New(n).Funcs(htmlFuncs())
			for _, p := range shared(htmlSuffix) {
				if _, err := t.New(p).Parse(string(files[p])); err != nil {
					return fmt.Errorf("template %s: %w", s.origin[p], err)
				}
			}
			if _, err := t.Parse(string(files[n])); err != nil {
				return fmt.Errorf("template %s: %w", s.origin[n], err)
			}
			s.html[strings.TrimSuffix(n, htmlSuffix)] = t
		}
	}
	for _, k := range requiredKinds() {
		if s.text[k] == nil {
			return fmt.Errorf("template %s%s is missing", k, textSuffix)
		}
	}
	return nil
}

// requiredKinds are the text templates Earshot renders.
func requiredKinds() []string {
	return []string{"ack_intel", "ack_feedback", "ack_both", "sms_ack", "slack_ack", "notice", "slack_notice", "digest", "reminder", "manager_digest",
		"status_note", "sms_status", "slack_status"}
}

// check executes every template with sample data.
func (s *Set) check() error {
	for name := range s.text {
		if _, err := s.Render(name, Sample(name)); err != nil {
			return err
		}
	}
	return nil
}

// Names lists the renderable templates (without suffixes), sorted.
func (s *Set) Names() []string {
	var out []string
	for n := range s.text {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ErrNoTemplate reports a template name the set does not have.
var ErrNoTemplate = errors.New("no such template")

// Render executes the text template name (and its HTML template, if any)
// with d. The text template's "subject" definition, if present, gives the
// subject.
func (s *Set) Render(name string, d Data) (Rendered, error) {
	t := s.text[name]
	if t == nil {
		return Rendered{}, fmt.Errorf("template %s: %w", name, ErrNoTemplate)
	}
	var r Rendered
	file := name + textSuffix
	b := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(b)
	b.Reset()
	if err := t.ExecuteTemplate(b, file, d); err != nil {
		return r, fmt.Errorf("template %s: %w", s.origin[file], err)
	}
	r.Text = tidy(b.String())
	if t.Lookup("subject") != nil {
		b.Reset()
		if err := t.ExecuteTemplate(b, "subject", d); err != nil {
			return r, fmt.Errorf("template %s: subject: %w", s.origin[file], err)
		}
		r.Subject = strings.Join(strings.Fields(b.String()), " ")
	}
	if h := s.html[name]; h != nil {
		file := name + htmlSuffix
		b.Reset()
		if err := h.ExecuteTemplate(b, file, d); err != nil {
			return r, fmt.Errorf("template %s: %w", s.origin[file], err)
		}
		r.HTML = b.String()
	}
	return r, nil
}

// renderBuffers hold what a template writes until Render copies it out:
// kept from one render to the next, they no longer grow from nothing each
// time.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putRenderBuffer returns b to renderBuffers unless a large text made it
// too big to keep.
func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		renderBuffers.Put(b)
	}
}

// tidy trims trailing spaces from lines, collapses runs of blank lines
// that conditional blocks leave behind, and ends the text with one newline.
func tidy(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 1)
	// gap: a blank line comes before the next line that is not.
	gap := false
	for line := range strings.Lines(s) {
		l := strings.TrimRight(line, " \t\r\n")
		if l == "" {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte('\n')
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		gap = false
		b.WriteString(l)
	}
	b.WriteByte('\n')
	return b.String()
}
