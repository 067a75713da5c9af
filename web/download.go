package web

import (
	"net/http"
	"time"
)

// Downloads (audio, raw messages, CSV exports) may take longer than
// http.write_timeout over a slow link: a 5-minute voicemail is about 5 MB,
// an email's audio attachment up to 64 MB, an inbox export up to 100,000
// rows. Instead of one long deadline for every response, a download moves
// the connection's write deadline before each part it sends: each part
// must go out within http.write_timeout (a client that stops reading is
// cut off then), and the whole within http.download_timeout.

// downloadPart is the most one write of a download sends under one
// deadline.
const downloadPart = 64 << 10

// download runs h with a writer that moves the write deadline before each
// part of the response. (The read deadline needs no care: once a request
// is read, the server waits for the next without one.)
func (d *Dashboard) download(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		if d.partTimeout <= 0 || d.downloadTimeout <= 0 {
			return h(w, r, v)
		}
		end := time.Now().Add(d.downloadTimeout)
		return h(&downloadWriter{ResponseWriter: w, rc: http.NewResponseController(w), part: d.partTimeout, end: end}, r, v)
	}
}

// downloadWriter is a download's response writer.
type downloadWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	part time.Duration
	end  time.Time
}

// Write sends p in parts of at most downloadPart, each with a deadline of
// part from now, never past the download's end. Deadlines are real time:
// they are the network's.
func (w *downloadWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), downloadPart)]
		deadline := time.Now().Add(w.part)
		if deadline.After(w.end) {
			deadline = w.end
		}
		// Unsupported only by writers without deadlines (tests).
		_ = w.rc.SetWriteDeadline(deadline)
		m, err := w.ResponseWriter.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// Unwrap gives http.ResponseController the server's writer.
func (w *downloadWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
