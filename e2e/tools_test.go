package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Headscale is built from its release module, not required by this module:
// its dependency versions would fight tailscale.com's here.
const (
	headscaleModule  = "github.com/juanfont/headscale"
	headscaleVersion = "v0.28.0"
	// envGoBinCache moves the cache of built Go tools (shared with interop/).
	envGoBinCache = "JDERPER_GO_BIN_CACHE"
	buildTimeout  = 25 * time.Minute
)

// binaries are the pinned third-party programs the scenarios run.
type binaries struct {
	headscale, tailscaled, tailscale, derper string
}

var (
	buildOnce  sync.Once
	builtTools binaries
	buildErr   error
)

// tools builds Headscale, Tailscale's daemon and CLI and its derper once per machine and
// version, keeping them in the Go tool cache between runs.
func tools(t *testing.T) binaries {
	t.Helper()
	buildOnce.Do(func() { builtTools, buildErr = buildTools() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtTools
}

func buildTools() (binaries, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return binaries{}, fmt.Errorf("building Headscale and Tailscale needs the go command: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	tsVersion, err := tailscaleVersion(ctx, goBin)
	if err != nil {
		return binaries{}, err
	}
	var b binaries
	tsDir, err := toolCacheDir("tailscale-" + tsVersion)
	if err != nil {
		return binaries{}, err
	}
	// Built inside this module, so go.mod and go.sum pin what they are made of.
	for _, tool := range []struct {
		out *string
		pkg string
	}{{&b.tailscaled, "tailscale.com/cmd/tailscaled"}, {&b.tailscale, "tailscale.com/cmd/tailscale"},
		{&b.derper, "tailscale.com/cmd/derper"}} {
		*tool.out, err = buildCached(ctx, tsDir, filepath.Base(tool.pkg), ".", goBin, "build", "-o", "{out}", tool.pkg)
		if err != nil {
			return binaries{}, err
		}
	}
	hsDir, err := toolCacheDir("headscale-" + headscaleVersion)
	if err != nil {
		return binaries{}, err
	}
	srcDir, err := downloadModule(ctx, goBin, headscaleModule+"@"+headscaleVersion)
	if err != nil {
		return binaries{}, err
	}
	b.headscale, err = buildCached(ctx, hsDir, "headscale", srcDir, goBin, "build", "-o", "{out}", "./cmd/headscale")
	return b, err
}

// tailscaleVersion is the tailscale.com version this module's go.mod requires.
func tailscaleVersion(ctx context.Context, goBin string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "list", "-m", "-f", "{{.Version}}", "tailscale.com").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m tailscale.com: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// downloadModule fetches a module version through the module proxy and
// returns its source directory. `go install pkg@version` is not used: it asks
// the proxy for the version list, which the proxy here refuses for Headscale.
func downloadModule(ctx context.Context, goBin, moduleAtVersion string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "mod", "download", "-json", moduleAtVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v\n%s", moduleAtVersion, err, out)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %v", moduleAtVersion, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", moduleAtVersion, info.Error)
	}
	return info.Dir, nil
}

// toolCacheDir is $JDERPER_GO_BIN_CACHE/<name>, by default under the user
// cache dir: the same place interop/ keeps derper.
func toolCacheDir(name string) (string, error) {
	base := os.Getenv(envGoBinCache)
	if base == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no %s and no user cache dir: %v", envGoBinCache, err)
		}
		base = filepath.Join(ucd, "jderper-go-bin")
	}
	dir := filepath.Join(base, name)
	return dir, os.MkdirAll(dir, 0o755)
}

// buildCached returns dir/name, running the build command (with "{out}"
// replaced by a temporary file renamed into place) only when it is missing.
func buildCached(ctx context.Context, dir, name, workDir string, command ...string) (string, error) {
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	args := make([]string, len(command)-1)
	for i, a := range command[1:] {
		args[i] = strings.ReplaceAll(a, "{out}", tmp)
	}
	cmd := exec.CommandContext(ctx, command[0], args...)
	cmd.Dir = workDir
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(os.Stderr, "e2e: building %s into %s\n", name, dir)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building %s (%s in %s): %v\n%s", name, strings.Join(command, " "), workDir, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", name, time.Since(start).Round(time.Second))
	return bin, os.Rename(tmp, bin)
}
