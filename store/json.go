package store

import (
	"encoding/json"
	"fmt"
)

// jsonText encodes v for a JSON column (jsonb on PostgreSQL, text on
// SQLite). It is sent as text: a []byte would go as binary jsonb.
func jsonText(v any) (string, error) {
	if v == nil {
		return "null", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	if string(b) == "null" {
		switch v.(type) {
		case []string:
			return "[]", nil
		}
	}
	return string(b), nil
}
