package dev

import (
	"html/template"
	"net/http"
)

var capturedTmpl = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Earshot dev: sent mail</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}
details{border-bottom:1px solid #ddd;padding:.5em 0}summary{cursor:pointer}</style></head>
<body><h1>Sent mail</h1><p>What Earshot sent through SMTP, captured by <code>earshot dev</code>. Newest first. <a href="/">Dashboard</a></p>
{{range .}}<details><summary>{{.At.Format "15:04:05"}} to {{range .To}}{{.}} {{end}}: <strong>{{.Subject}}</strong></summary><pre>{{printf "%s" .Raw}}</pre></details>
{{else}}<p>Nothing sent yet.</p>{{end}}</body></html>`))

// capturedPage lists the mail the capture server received.
func capturedPage(c *SMTPCapture) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		capturedTmpl.Execute(w, c.Messages())
	})
}
