package transcribe

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// installScript runs scripts/whisper with its cache in dir and returns its
// output and whether it succeeded. The build of whisper-server is left out
// (--skip-build): it takes minutes and is not what these tests are about.
func installScript(t *testing.T, dir string, args ...string) (string, bool) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "scripts", "whisper"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "EARSHOT_WHISPER_DIR="+dir, "EARSHOT_WHISPER_MODEL_URL=", "EARSHOT_WHISPER_MODEL_SHA256=")
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

// TestWhisperInstallModel fetches a model the way `scripts/whisper install`
// does for real (from Hugging Face, with the pinned SHA-256 of ggml
// base.en), here from a local server serving a test file: the file is
// checked and installed, a second run downloads nothing, and a file whose
// checksum differs is refused without installing anything.
func TestWhisperInstallModel(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed by scripts/whisper and missing")
	}
	model := []byte("ggml test model: not a real one, but bytes with a known checksum\n")
	sum := sha256.Sum256(model)
	good := hex.EncodeToString(sum[:])
	var downloads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ggml-test.bin" {
			http.NotFound(w, r)
			return
		}
		downloads.Add(1)
		w.Write(model)
	}))
	defer srv.Close()
	url := srv.URL + "/ggml-test.bin"
	dir := t.TempDir()
	installed := filepath.Join(dir, "models", "ggml-test.bin")

	out, ok := installScript(t, dir, "install", "--skip-build", "--model-url", url, "--model-sha256", good)
	got, _ := os.ReadFile(installed)
	if !ok || string(got) != string(model) || downloads.Load() != 1 {
		t.Fatalf("install: ok %v, %d downloads, model %q:\n%s", ok, downloads.Load(), got, out)
	}
	if !strings.Contains(out, "ready: transcribe.whisper.server: "+filepath.Join(dir, "bin", "whisper-server")) {
		t.Errorf("install does not say what to configure:\n%s", out)
	}

	out, ok = installScript(t, dir, "install", "--skip-build", "--model-url", url, "--model-sha256", strings.ToUpper(good))
	if !ok || downloads.Load() != 1 || !strings.Contains(out, "already installed") {
		t.Errorf("second install: ok %v, %d downloads:\n%s", ok, downloads.Load(), out)
	}

	out, ok = installScript(t, dir, "paths", "--model-url", url, "--model-sha256", good)
	if !ok || !strings.Contains(out, "WHISPER_MODEL="+installed+"\n") {
		t.Errorf("paths:\n%s", out)
	}

	bad := strings.Repeat("0", 64)
	other := t.TempDir()
	out, ok = installScript(t, other, "install", "--skip-build", "--model-url", url, "--model-sha256", bad)
	if ok || !strings.Contains(out, "checksum mismatch") || !strings.Contains(out, "got sha256 "+good) {
		t.Errorf("wrong checksum: ok %v:\n%s", ok, out)
	}
	if left, _ := filepath.Glob(filepath.Join(other, "models", "*")); len(left) > 0 {
		t.Errorf("a refused download left %v behind", left)
	}

	// A file changed after its install is fetched again, not trusted.
	os.Remove(installed + ".sha256")
	os.WriteFile(installed, []byte("tampered"), 0o600)
	out, ok = installScript(t, dir, "install", "--skip-build", "--model-url", url, "--model-sha256", good)
	got, _ = os.ReadFile(installed)
	if !ok || string(got) != string(model) || downloads.Load() != 3 { // the refused one counted too
		t.Errorf("reinstall over a changed file: ok %v, %d downloads:\n%s", ok, downloads.Load(), out)
	}

	for _, args := range [][]string{
		{"install", "--skip-build", "--model-url", srv.URL + "/missing.bin", "--model-sha256", good},
		{"install", "--skip-build", "--model-url", url},
		{"install", "--skip-build", "--model-url", url, "--model-sha256", "abc"},
	} {
		if out, ok := installScript(t, t.TempDir(), args...); ok {
			t.Errorf("%v succeeded:\n%s", args, out)
		}
	}
}
