package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// maxAudioBytes bounds the audio attachment an email can play.
const maxAudioBytes = 64 << 20

// audio streams an item's audio: a voicemail's recording, or the first
// audio attachment of an email (a PBX's voicemail-to-email). Range
// requests are answered by http.ServeContent, so players can seek.
func (d *Dashboard) audio(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := d.store.ItemRaw(r.Context(), id)
	if err != nil {
		return err
	}
	data, ctype := audioOf(src)
	if data == nil {
		return &httpError{http.StatusNotFound, "This item has no audio."}
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=300")
	http.ServeContent(w, r, "", src.ReceivedAt, bytes.NewReader(data))
	return nil
}

// audioOf finds an item's audio and its media type; nil when it has none.
func audioOf(src store.RawSource) ([]byte, string) {
	if src.Kind == "voicemail" {
		if len(src.Raw) == 0 {
			return nil, ""
		}
		var meta model.VoicemailMeta
		_ = json.Unmarshal([]byte(src.Meta), &meta)
		return src.Raw, audioType(meta.MediaContentType, "."+meta.MediaFormat, src.Raw)
	}
	msg := intake.NormalizeBytes(src.Raw, &intake.Options{MaxAudioBytes: maxAudioBytes})
	for _, a := range msg.Attachments {
		if a.Audio && a.Data != nil {
			return a.Data, audioType(a.ContentType, path.Ext(a.Filename), a.Data)
		}
	}
	return nil, ""
}

// audioType picks the media type: the declared audio type, else the
// file extension's, else what the bytes look like.
func audioType(declared, ext string, data []byte) string {
	if t, _, err := mime.ParseMediaType(declared); err == nil && strings.HasPrefix(t, "audio/") {
		return t
	}
	switch strings.ToLower(ext) {
	case ".mp3":
		return "audio/mpeg"
	case ".wav":
		return "audio/wav"
	}
	if t := mime.TypeByExtension(strings.ToLower(ext)); strings.HasPrefix(t, "audio/") {
		return t
	}
	if t := http.DetectContentType(data); strings.HasPrefix(t, "audio/") {
		return t
	}
	return "application/octet-stream"
}

// raw shows an item's source as plain text in a sandbox: an email's RFC
// 822 message, or a voicemail's metadata (its audio is at /audio). With
// ?download=1 it is saved as a file instead.
func (d *Dashboard) raw(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := d.store.ItemRaw(r.Context(), id)
	if err != nil {
		return err
	}
	body, name := src.Raw, fmt.Sprintf("item-%d.eml", id)
	if src.Kind == "voicemail" {
		var pretty bytes.Buffer
		if json.Indent(&pretty, []byte(src.Meta), "", "  ") != nil {
			pretty.WriteString(src.Meta)
		}
		fmt.Fprintf(&pretty, "\n\nRecording: %d bytes, at /items/%d/audio\n", len(src.Raw), id)
		body, name = pretty.Bytes(), fmt.Sprintf("item-%d.json", id)
	}
	disposition := "inline"
	if r.URL.Query().Get("download") == "1" {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	// Nothing in a message may run, even if a browser sniffed it as HTML.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Write(body)
	return nil
}
