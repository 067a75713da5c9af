package intake

import (
	"io"
	"mime"
	"path"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
)

// maxForwardDepth bounds how deeply message/rfc822 parts are parsed; deeper
// ones are listed as attachments.
const maxForwardDepth = 8

// walker collects the parts of one MIME tree as message.Entity.Walk visits
// them.
type walker struct {
	opts      Options
	depth     int // message/rfc822 nesting depth of this tree
	w         *warnings
	plain     []string
	html      []string
	forwards  []Forward
	attach    []Attachment
	structure structure
	// charset is the first charset a text part declares, other than
	// us-ascii: the best guess for header fields in raw 8-bit bytes.
	charset string
	// rootErr is what reading the top-level entity reported (an unknown
	// charset or transfer encoding).
	rootErr error
	// textLeft is what the text parts may still read of opts.MaxTextBytes.
	textLeft int64
}

// clip is the part of b the text budget allows, with a warning when it
// is less than b.
func (wk *walker) clip(b []byte, where string) []byte {
	n := min(int64(len(b)), max(wk.textLeft, 0))
	wk.textLeft -= n
	if n < int64(len(b)) {
		wk.w.add("%s: text longer than %d bytes in all: %d bytes more are kept in the raw message only",
			where, wk.opts.MaxTextBytes, int64(len(b))-n)
	}
	return b[:n]
}

// readText reads a text part up to what is left of the text budget and
// skips the rest, with a warning.
func (wk *walker) readText(where string, r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max(wk.textLeft, 0)))
	wk.textLeft -= int64(len(b))
	if err != nil {
		return b, err
	}
	if skipped, _ := io.Copy(io.Discard, r); skipped > 0 {
		wk.w.add("%s: text longer than %d bytes in all: %d bytes more are kept in the raw message only",
			where, wk.opts.MaxTextBytes, skipped)
	}
	return b, nil
}

// visit handles one entity. It never returns an error: a problem with a part
// is a warning, and the walk goes on.
func (wk *walker) visit(p []int, ent *message.Entity, err error) error {
	where := partName(p)
	if len(p) == 0 && err == nil {
		err = wk.rootErr
	}
	mediaType, params := contentType(ent.Header, where, wk.w)
	// go-message knows no UTF-7: it hands over the body undecoded.
	utf7 := err != nil && message.IsUnknownCharset(err) && isUTF7(params["charset"])
	if err != nil && !utf7 {
		wk.w.add("%s: %v; body kept undecoded", where, err)
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		if params["boundary"] == "" {
			wk.w.add("%s: %s without boundary", where, mediaType)
		}
		if mediaType == "multipart/digest" && len(p) == 0 {
			wk.structure.digest = true
		}
		if mediaType == "multipart/report" && wk.structure.reportType == "" {
			wk.structure.reportType = strings.ToLower(strings.TrimSpace(params["report-type"]))
			if wk.structure.reportType == "" {
				wk.structure.reportType = "unspecified"
			}
		}
		return nil
	case mediaType == "message/rfc822" || mediaType == "message/global":
		wk.forwarded(where, ent, mediaType)
		return nil
	case mediaType == "message/delivery-status" || mediaType == "message/global-delivery-status":
		wk.structure.deliveryStatus = true
	case mediaType == "message/feedback-report":
		wk.structure.feedbackReport = true
	case mediaType == "message/disposition-notification" || mediaType == "message/global-disposition-notification":
		wk.structure.mdn = true
	}

	disp, filename := disposition(ent.Header, params)
	isText := mediaType == "text/plain" || mediaType == "text/html"
	if cs := strings.TrimSpace(params["charset"]); wk.charset == "" && strings.HasPrefix(mediaType, "text/") &&
		cs != "" && !strings.EqualFold(cs, "us-ascii") {
		wk.charset = cs
	}
	// A name on a text/plain part that has no Content-Disposition labels
	// the body (some mailers name every part); only a disposition makes
	// it an attachment.
	labelled := mediaType == "text/plain" && disp == ""
	if isText && disp != "attachment" && (filename == "" || disp == "inline" || p == nil || labelled) {
		b, rerr := wk.readText(where, ent.Body)
		if rerr != nil {
			wk.w.add("%s: decoding stopped after %d bytes: %v", where, len(b), rerr)
		}
		if utf7 {
			if s, err := decodeUTF7(string(b)); err == nil {
				b = []byte(s)
			} else {
				wk.w.add("%s: %v; body kept undecoded", where, err)
			}
		}
		text := toUTF8(b, where, wk.w)
		if mediaType == "text/html" {
			wk.html = append(wk.html, text)
		} else {
			if strings.EqualFold(params["format"], "flowed") {
				text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
			}
			wk.plain = append(wk.plain, text)
		}
		return nil
	}
	wk.attachment(where, ent, mediaType, filename)
	return nil
}

// forwarded parses a message/rfc822 part as a forwarded message. Its
// attachments and the forwards inside it join the outer message's lists.
func (wk *walker) forwarded(where string, ent *message.Entity, mediaType string) {
	if wk.depth >= maxForwardDepth {
		wk.w.add("%s: forwarded messages nested deeper than %d, listed as attachment", where, maxForwardDepth)
		wk.attachment(where, ent, mediaType, "")
		return
	}
	b, err := io.ReadAll(ent.Body)
	if err != nil {
		wk.w.add("%s: decoding stopped after %d bytes: %v", where, len(b), err)
	}
	inner := normalizeRaw(b, wk.opts, wk.depth+1)
	wk.forwards = append(wk.forwards, Forward{
		From:    inner.From,
		Date:    inner.Date,
		Subject: inner.Subject,
		Text:    inner.FullText,
	})
	wk.forwards = append(wk.forwards, inner.Forwarded...)
	wk.attach = append(wk.attach, inner.Attachments...)
	for _, iw := range inner.Warnings {
		wk.w.add("%s (forwarded message): %s", where, iw)
	}
}

// attachment lists a non-body part, keeping the bytes of audio.
func (wk *walker) attachment(where string, ent *message.Entity, mediaType, filename string) {
	if mediaType == "" {
		mediaType = "application/octet-stream"
	}
	a := Attachment{Filename: filename, ContentType: mediaType, Audio: isAudio(mediaType, filename)}
	var err error
	if a.Audio {
		limit := wk.opts.MaxAudioBytes
		var data []byte
		data, err = io.ReadAll(io.LimitReader(ent.Body, limit+1))
		a.Size = int64(len(data))
		if a.Size > limit {
			var more int64
			more, err = io.Copy(io.Discard, ent.Body)
			a.Size += more
			wk.w.add("%s: audio attachment %q is %d bytes, over the %d byte limit; data not kept", where, excerpt(filename), a.Size, limit)
		} else if err == nil {
			a.Data = data
		}
	} else if isTNEF(mediaType, filename) {
		head, herr := io.ReadAll(io.LimitReader(ent.Body, tnefHeadBytes))
		if isReadReceiptClass(tnefMessageClass(head)) {
			wk.structure.readReceipt = true
		}
		a.Size, err = io.Copy(io.Discard, ent.Body)
		a.Size += int64(len(head))
		if herr != nil {
			err = herr
		}
	} else {
		a.Size, err = io.Copy(io.Discard, ent.Body)
	}
	if err != nil {
		wk.w.add("%s: attachment %q decoding stopped after %d bytes: %v", where, excerpt(filename), a.Size, err)
	}
	wk.attach = append(wk.attach, a)
}

// partName names a part for warnings: "body" for the root, else its
// 1-based position, "part 1.2".
func partName(p []int) string {
	if len(p) == 0 {
		return "body"
	}
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = strconv.Itoa(n + 1)
	}
	return "part " + strings.Join(parts, ".")
}

// contentType returns the lowercased media type and the parameters of an
// entity. A value mime.ParseMediaType rejects (duplicate or malformed
// parameters) is parsed leniently, with a warning.
func contentType(h message.Header, where string, w *warnings) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	t, params, err := h.ContentType()
	if err == nil {
		return strings.ToLower(t), params
	}
	w.add("%s: malformed content-type %q: %v", where, excerpt(v), err)
	t, params = lenientParams(v)
	return t, params
}

// lenientParams splits "type/sub; a=b; c="d"" without failing: the first
// value of a repeated parameter wins and unparseable pieces are skipped.
func lenientParams(v string) (string, map[string]string) {
	pieces := strings.Split(v, ";")
	t := strings.ToLower(strings.TrimSpace(pieces[0]))
	if f := strings.Fields(t); len(f) > 0 {
		t = f[0]
	}
	params := map[string]string{}
	for _, piece := range pieces[1:] {
		k, val, ok := strings.Cut(piece, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return t, params
}

// disposition returns the lowercased Content-Disposition and the part's
// filename, taken from the disposition or else from the type's name.
func disposition(h message.Header, ctParams map[string]string) (disp, filename string) {
	v := h.Get("Content-Disposition")
	var params map[string]string
	if v != "" {
		var err error
		disp, params, err = mime.ParseMediaType(v)
		if err != nil {
			disp, params = lenientParams(v)
		}
		disp = strings.ToLower(disp)
	}
	filename = params["filename"]
	if filename == "" {
		filename = ctParams["name"]
	}
	if dec, err := decodeWords(filename); err == nil {
		filename = dec
	}
	return disp, oneLine(filename)
}

// audioExtensions are filename extensions of audio formats PBX systems and
// phones send.
var audioExtensions = map[string]bool{
	".wav": true, ".mp3": true, ".m4a": true, ".ogg": true, ".oga": true, ".opus": true,
	".amr": true, ".awb": true, ".gsm": true, ".aac": true, ".flac": true, ".wma": true,
	".au": true, ".snd": true, ".aif": true, ".aiff": true, ".caf": true, ".spx": true,
	".vox": true, ".3ga": true, ".weba": true,
}

// isAudio reports whether a part is audio, by media type or filename.
func isAudio(mediaType, filename string) bool {
	if strings.HasPrefix(mediaType, "audio/") {
		return true
	}
	return audioExtensions[strings.ToLower(path.Ext(filename))]
}
