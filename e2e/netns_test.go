package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// stopTimeout bounds how long a process gets between SIGTERM and SIGKILL.
	stopTimeout = 15 * time.Second
	// logTailLines of each process's log are printed when a scenario fails.
	logTailLines = 1000
	// pollInterval is how often a wait for a log line, file or state looks.
	pollInterval    = 100 * time.Millisecond
	namespacePrefix = "jderper-e2e-"
)

// namespace is a network namespace of its own for one scenario: its loopback
// carries 127.0.0.1 and the example public address, so the README's ports and
// addresses are used literally and nothing reaches the machine's network.
type namespace struct {
	name   string
	logDir string
}

func newNamespace(t *testing.T, addresses ...string) *namespace {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the e2e suite makes network namespaces and needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("the e2e suite needs the ip command (iproute2): ", err)
	}
	removeOrphanedNamespaces(t)
	ns := &namespace{
		name:   fmt.Sprintf(namespacePrefix+"%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000),
		logDir: t.TempDir(),
	}
	mustRun(t, "ip", "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", ns.name, err, out)
		}
	})
	mustRun(t, "ip", "-n", ns.name, "link", "set", "lo", "up")
	for _, a := range addresses {
		mustRun(t, "ip", "-n", ns.name, "addr", "add", a+"/32", "dev", "lo")
	}
	return ns
}

// removeOrphanedNamespaces deletes the namespaces of suite runs whose process
// is gone: a run killed by its timeout cannot run its cleanups.
func removeOrphanedNamespaces(t *testing.T) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		var pid, n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(e.Name(), namespacePrefix), "%d-%d", &pid, &n); err != nil ||
			!strings.HasPrefix(e.Name(), namespacePrefix) {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		t.Logf("removing namespace %s left by an earlier run", e.Name())
		if out, err := exec.Command("ip", "netns", "delete", e.Name()).CombinedOutput(); err != nil {
			t.Logf("ip netns delete %s: %v %s", e.Name(), err, out)
		}
	}
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// command is `ip netns exec <ns> bash -c <script>`: README steps are shell
// text. ip and bash exec into the last command, so its PID is the command's.
func (ns *namespace) command(ctx context.Context, env []string, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.name, "bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = repoRoot()
	// Pdeathsig: if the test binary dies (a go test timeout), nothing it
	// started outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a script to completion within timeout and returns its stdout; a
// failure ends the test with the script's output.
func (ns *namespace) run(t *testing.T, timeout time.Duration, env []string, script string) string {
	t.Helper()
	out, err := ns.try(timeout, env, script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// try is run that returns the failure instead of ending the test.
func (ns *namespace) try(timeout time.Duration, env []string, script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := ns.command(ctx, env, script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("$ %s\nfailed after %s: %v (timeout %s)\nstdout:\n%s\nstderr:\n%s",
			script, time.Since(start).Round(time.Millisecond), err, timeout, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// process is a long-running program of a scenario, logging to a file.
type process struct {
	label   string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// start runs script in the background. The process is stopped when the test
// ends, pass or fail, and its log tail is printed if the test failed.
func (ns *namespace) start(t *testing.T, label string, env []string, script string) *process {
	t.Helper()
	logPath := filepath.Join(ns.logDir, label+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logFile, "$ %s\n", script)
	p := &process{label: label, logPath: logPath, cmd: ns.command(context.Background(), env, script),
		done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", label, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("--- last %d lines of %s's log (%s):\n%s", logTailLines, label, logPath, p.tail(logTailLines))
		}
	})
	return p
}

// stop sends SIGTERM, waits up to stopTimeout, then kills the process group.
// It returns whether the process had to be killed.
func (p *process) stop(t *testing.T) bool {
	t.Helper()
	select {
	case <-p.done:
		return false
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(stopTimeout):
		t.Errorf("%s did not stop within %s of SIGTERM; killed", p.label, stopTimeout)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return true
	}
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *process) tail(lines int) string {
	all := strings.Split(strings.TrimRight(p.log(), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// await polls cond every pollInterval until it holds, for up to timeout. It
// gives up at the deadline, or as soon as the process exits (cond is tried
// once more then: the exit may be what made it true).
func (p *process) await(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-p.done:
			if cond() {
				return nil
			}
			return fmt.Errorf("%s exited (%v)", p.label, p.waitErr)
		case <-tick.C:
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still running after %s", p.label, timeout)
			}
		}
	}
	return nil
}

// waitForLog waits until the process logs a line matching re and returns the
// submatches.
func (p *process) waitForLog(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	var m []string
	if err := p.await(timeout, func() bool {
		m = re.FindStringSubmatch(p.log())
		return m != nil
	}); err != nil {
		t.Fatalf("no log line /%s/: %v", re, err)
	}
	return m
}

// listen opens a TCP listener inside the namespace: the socket is created on a
// thread switched into it, and keeps the namespace after the thread returns.
func (ns *namespace) listen(t *testing.T, address string) net.Listener {
	t.Helper()
	ln, err := onNamespaceThread(ns.name, func() (net.Listener, error) { return net.Listen("tcp", address) })
	if err != nil {
		t.Fatalf("listening on %s in %s: %v", address, ns.name, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// dial opens a TCP connection from inside the namespace, the same way.
func (ns *namespace) dial(t *testing.T, address string, timeout time.Duration) net.Conn {
	t.Helper()
	conn, err := onNamespaceThread(ns.name, func() (net.Conn, error) { return net.DialTimeout("tcp", address, timeout) })
	if err != nil {
		t.Fatalf("dialling %s in %s: %v", address, ns.name, err)
	}
	return conn
}

// onNamespaceThread runs f on a locked thread switched into the namespace.
func onNamespaceThread[T any](name string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		v, switchedBack, err := inNamespace(name, f)
		if switchedBack {
			// Unlocked, the thread lives on. A locked thread ends with its
			// goroutine, and that would SIGKILL (Pdeathsig) every process
			// forked from it: only one left in the wrong namespace may end.
			runtime.UnlockOSThread()
		}
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}

// inNamespace runs f on the calling (locked) thread switched into the named
// namespace, and reports whether the thread is back in its own.
func inNamespace[T any](name string, f func() (T, error)) (T, bool, error) {
	var zero T
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return zero, true, err
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return zero, true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return zero, true, fmt.Errorf("setns %s: %v", name, err)
	}
	v, ferr := f()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		return zero, false, fmt.Errorf("setns back: %v", err)
	}
	return v, true, ferr
}

// repoRoot is the jderper checkout this module sits in.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}
