package config

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml"
)

// Print renders the configuration as Earshot understood it, defaults
// filled in and every secret shown as ***.
func (c *Config) Print() (string, error) {
	b, err := yaml.MarshalWithOptions(c, yaml.IndentSequence(true),
		yaml.CustomMarshaler[Secret](func(s Secret) ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }))
	if err != nil {
		return "", fmt.Errorf("print config: %w", err)
	}
	return string(b), nil
}
