package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// report is everything one run measured.
type report struct {
	Env     environment `json:"environment"`
	Results []*result   `json:"results"`
}

// result is one operation's measurement. Times per request are in µs.
type result struct {
	Op          string  `json:"op"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	ReqPerSec   float64 `json:"req_per_sec"`
	P50Micros   float64 `json:"p50_us"`
	P99Micros   float64 `json:"p99_us"`
	// ServerCPUMicros is the server process's user+system CPU time per
	// request; ServerCores the cores it kept busy on average.
	ServerCPUMicros float64 `json:"server_cpu_us_per_req"`
	ServerCores     float64 `json:"server_cores"`
	// ClientCPUMicros is the load generator's CPU time per request.
	ClientCPUMicros float64 `json:"client_cpu_us_per_req"`
	// VsNoop and VsNoopMicros compare ServerCPUMicros with the no-op
	// ceiling's: their ratio and their difference. Zero without a ceiling.
	VsNoop       float64 `json:"vs_noop_ratio,omitempty"`
	VsNoopMicros float64 `json:"vs_noop_diff_us,omitempty"`

	ceiling bool
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func newResult(op string, conc int, l *load, serverCPU, clientCPU time.Duration) *result {
	r := &result{
		Op:          op,
		Concurrency: conc,
		Requests:    l.requests,
		Errors:      l.errors,
		Seconds:     l.wall.Seconds(),
		P50Micros:   micros(l.percentile(50)),
		P99Micros:   micros(l.percentile(99)),
		ceiling:     op == "noop (ceiling)",
	}
	if l.wall > 0 {
		r.ReqPerSec = float64(l.requests) / l.wall.Seconds()
		r.ServerCores = serverCPU.Seconds() / l.wall.Seconds()
	}
	if l.requests > 0 {
		r.ServerCPUMicros = micros(serverCPU) / float64(l.requests)
		r.ClientCPUMicros = micros(clientCPU) / float64(l.requests)
	}
	return r
}

// add appends r, comparing it with the ceiling measured before it.
func (rep *report) add(r *result) {
	for _, c := range rep.Results {
		if c.ceiling && c.ServerCPUMicros > 0 {
			r.VsNoop = r.ServerCPUMicros / c.ServerCPUMicros
			r.VsNoopMicros = r.ServerCPUMicros - c.ServerCPUMicros
		}
	}
	rep.Results = append(rep.Results, r)
}

// print writes rep as a table.
func (rep *report) print(w io.Writer) {
	proto := "HTTP/1.1"
	if rep.Env.TLS {
		proto = "HTTPS (TLS, HTTP/1.1)"
	}
	fmt.Fprintf(w, "keyhaven bench: %s, %s, %d CPUs; %s keep-alive over loopback; %s per op after %s warm-up\n",
		rep.Env.GoVersion, rep.Env.OS, rep.Env.NumCPU, proto, rep.durationText(), rep.Env.Warmup)
	fmt.Fprintf(w, "%-16s %5s %8s %9s %9s %s %s %s %7s\n",
		"op", "conc", "req/s", "p50", "p99", pad("server CPU/req", 15), pad("vs no-op", 20), pad("client CPU/req", 15), "errors")
	for _, r := range rep.Results {
		vs := "-"
		switch {
		case r.ceiling:
			vs = "1.00×"
		case r.VsNoop > 0:
			vs = fmt.Sprintf("%.2f× (%+.1f µs)", r.VsNoop, r.VsNoopMicros)
		}
		fmt.Fprintf(w, "%-16s %5d %8.0f %s %s %s %s %s %7d\n",
			r.Op, r.Concurrency, r.ReqPerSec, pad(latency(r.P50Micros), 9), pad(latency(r.P99Micros), 9),
			pad(fmt.Sprintf("%.1f µs", r.ServerCPUMicros), 15), pad(vs, 20),
			pad(fmt.Sprintf("%.1f µs", r.ClientCPUMicros), 15), r.Errors)
	}
	fmt.Fprintln(w, "server CPU/req: the server process's user+system CPU time (/proc) over the measured requests;")
	fmt.Fprintln(w, "vs no-op: that figure over the ceiling's, and the difference; latencies are as the clients saw them.")
}

func (rep *report) durationText() string {
	if rep.Env.Requests > 0 {
		return fmt.Sprintf("%d requests", rep.Env.Requests)
	}
	return rep.Env.Duration
}

// pad right-aligns s in width columns, counting runes, not bytes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return strings.Repeat(" ", width-n) + s
	}
	return s
}

// latency formats a latency given in µs.
func latency(us float64) string {
	if us < 1000 {
		return fmt.Sprintf("%.0fµs", us)
	}
	return fmt.Sprintf("%.2fms", us/1000)
}
