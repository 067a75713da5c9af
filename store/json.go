package store

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// jsonText encodes v for a JSON column (jsonb on PostgreSQL, text on
// SQLite). It is sent as text: a []byte would go as binary jsonb. Its
// strings are cleaned as cleanText does (jsonb refuses \u0000).
func jsonText(v any) (string, error) {
	if v == nil {
		return "null", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	if string(b) == "null" && reflect.ValueOf(v).Kind() == reflect.Slice {
		return "[]", nil
	}
	return cleanJSON(string(b))
}

// stringList decodes a JSON list of strings; what is not one comes back
// as a single string, so that nothing stored is hidden.
func stringList(text string) []string {
	if text == "" || text == "[]" || text == "null" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return []string{text}
	}
	return out
}

// nullID is an id for a nullable foreign key: 0 is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
