package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server running in a child process: the bench binary itself,
// started with childFlag.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // lines the child prints; closed when it exits
	exited chan struct{}
	err    error // of cmd.Wait, once exited is closed
}

// startChild starts a child serving kind at addr with the extra flags, and
// env added to this process's environment, and waits until it answers
// GET /healthz through t.
func startChild(kind, addr string, t *target, env []string, extra ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	args := append([]string{childFlag, "-kind=" + kind, "-addr=" + addr}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s server: %w", kind, err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 4), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	if err := c.expect(msgReady, 60*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s server: %w", kind, err)
	}
	if err := waitHealthy(t, c.exited, 30*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s server: %w", kind, err)
	}
	return c, nil
}

// expect waits for the child to print want.
func (c *child) expect(want string, timeout time.Duration) error {
	select {
	case line, ok := <-c.lines:
		switch {
		case !ok:
			<-c.exited
			return fmt.Errorf("exited before answering: %v", c.err)
		case line != want:
			return fmt.Errorf("child said %q, want %q", line, want)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("no %q within %v", want, timeout)
	}
}

// command sends one protocol line and waits for its acknowledgement.
func (c *child) command(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return err
	}
	return c.expect(msgOK, 30*time.Second)
}

// stop closes the child's stdin, which makes it shut down gracefully, and
// waits for it; a child that does not exit in time is killed.
func (c *child) stop() error {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(childStopTimeout + 5*time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	return c.err
}

// waitHealthy polls GET /healthz until it answers 200.
func waitHealthy(t *target, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := strings.TrimSuffix(t.url, "/") + "/healthz"
	for {
		res, err := t.client.Get(url)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: HTTP %d", res.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exited:
			return errors.New("exited while starting")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// clockTicks returns the kernel's clock ticks per second (getconf CLK_TCK),
// 100 if it cannot be read.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// processCPU returns the user+system CPU time pid has used, all threads,
// from /proc/<pid>/stat (resolution: one clock tick).
func processCPU(pid int, ticks int64) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / time.Duration(ticks), nil
}

// selfCPU returns the user+system CPU time of this process (the load
// generator), at microsecond resolution.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
