package routing

import (
	"os"
	"testing"

	"github.com/goccy/go-yaml"
)

// testConfig is the shape of testdata/config.yaml: the routing part of the daemon's configuration.
type testConfig struct {
	Owners      []string     `yaml:"owners"`
	Competitors []Competitor `yaml:"competitors"`
	Products    []Product    `yaml:"products"`
	Topics      []Topic      `yaml:"topics"`
	Route       Route        `yaml:"route"`
}

// loadYAML decodes a file of testdata strictly, so a misspelt key fails the test.
func loadYAML(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// loadConfig returns the tagger and tree of testdata/config.yaml, with the default topics when it names none.
func loadConfig(t testing.TB) (*Tagger, *Tree) {
	t.Helper()
	var c testConfig
	loadYAML(t, "config.yaml", &c)
	if len(c.Topics) == 0 {
		c.Topics = DefaultTopics()
	}
	for _, p := range Check(c.Competitors, c.Products, c.Topics) {
		t.Logf("config: %s", p)
	}
	tagger, err := NewTagger(c.Competitors, c.Products, c.Topics)
	if err != nil {
		t.Fatal(err)
	}
	tree, problems, err := NewTree(c.Route, c.Owners)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Logf("route: %s", p)
	}
	return tagger, tree
}
