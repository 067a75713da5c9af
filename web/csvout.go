package web

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strings"
)

// csvText neutralises a text cell against spreadsheet formula injection:
// a cell that starts with =, +, -, @, a tab or a carriage return is
// prefixed with an apostrophe, so spreadsheets show it as text.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvDownload starts an RFC 4180 CSV attachment (UTF-8, CRLF line ends)
// named filename and writes its header row.
func csvDownload(w http.ResponseWriter, filename string, header []string) (*csv.Writer, error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw, cw.Write(header)
}
