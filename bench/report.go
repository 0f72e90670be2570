package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// report is everything one run measured.
type report struct {
	Env     environment `json:"environment"`
	Results []*result   `json:"results"`
	// AuditRatio is Encrypt's rate with the durable audit trail over its
	// rate with the trail in memory only (issue: at least 0.7 at 64 clients).
	AuditRatio float64 `json:"audit_ratio,omitempty"`
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
	// Primitive is the in-process cost of the bare primitive behind an
	// asymmetric operation; ServerOverPrimitive is ServerCPUMicros over its
	// CPU per op, PrimitiveShare the inverse (the fraction of the primitive's
	// rate the server reaches per core). DESIGN.md asks for a share of at
	// least 0.8, i.e. a ratio of at most 1.25.
	Primitive           *primitive `json:"primitive,omitempty"`
	ServerOverPrimitive float64    `json:"server_over_primitive,omitempty"`
	PrimitiveShare      float64    `json:"primitive_share,omitempty"`
	MeetsPrimitiveBar   *bool      `json:"meets_primitive_bar,omitempty"`

	ceiling bool
}

// setPrimitive compares r with the primitive behind it; p may be nil.
func (r *result) setPrimitive(p *primitive) {
	r.Primitive = p
	if p == nil || p.CPUMicros <= 0 || r.ServerCPUMicros <= 0 {
		return
	}
	r.ServerOverPrimitive = r.ServerCPUMicros / p.CPUMicros
	r.PrimitiveShare = p.CPUMicros / r.ServerCPUMicros
	ok := r.PrimitiveShare >= primitiveBar
	r.MeetsPrimitiveBar = &ok
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
	ow := rep.opWidth()
	fmt.Fprintf(w, "%-*s %5s %8s %9s %9s %s %s %s %s %s %7s\n",
		ow, "op", "conc", "req/s", "p50", "p99", pad("server CPU/req", 15), pad("vs no-op", 20),
		pad("primitive CPU/op", 17), pad("server÷primitive", 22), pad("client CPU/req", 15), "errors")
	for _, r := range rep.Results {
		vs := "-"
		switch {
		case r.ceiling:
			vs = "1.00×"
		case r.VsNoop > 0:
			vs = fmt.Sprintf("%.2f× (%+.1f µs)", r.VsNoop, r.VsNoopMicros)
		}
		prim, share := "-", "-"
		if r.Primitive != nil {
			prim = fmt.Sprintf("%.1f µs", r.Primitive.CPUMicros)
		}
		if r.MeetsPrimitiveBar != nil {
			verdict := "ok"
			if !*r.MeetsPrimitiveBar {
				verdict = "BELOW"
			}
			share = fmt.Sprintf("%.2f× (%.0f%%) %s", r.ServerOverPrimitive, 100*r.PrimitiveShare, verdict)
		}
		fmt.Fprintf(w, "%-*s %5d %8.0f %s %s %s %s %s %s %s %7d\n",
			ow, r.Op, r.Concurrency, r.ReqPerSec, pad(latency(r.P50Micros), 9), pad(latency(r.P99Micros), 9),
			pad(fmt.Sprintf("%.1f µs", r.ServerCPUMicros), 15), pad(vs, 20), pad(prim, 17), pad(share, 22),
			pad(fmt.Sprintf("%.1f µs", r.ClientCPUMicros), 15), r.Errors)
	}
	fmt.Fprintln(w, "server CPU/req: the server process's user+system CPU time (/proc) over the measured requests;")
	fmt.Fprintln(w, "vs no-op: that figure over the ceiling's, and the difference; latencies are as the clients saw them.")
	if h := rep.Env.HSM; h != nil {
		if h.Skipped != "" {
			fmt.Fprintf(w, "HSM: no %s rows: %s\n", hsmSuffix, h.Skipped)
		} else {
			fmt.Fprintf(w, "%s: the same operation on a key with ProtectionLevel HSM in SoftHSM2 token %q (%s, %d sessions);\n", hsmSuffix, h.Token, h.Module, h.Sessions)
			fmt.Fprintln(w, "  SoftHSM2 runs inside the server process, so its crypto counts in server CPU/req; no primitive is timed for it.")
		}
	}
	if rep.AuditRatio > 0 {
		verdict := "ok"
		if rep.AuditRatio < 0.7 {
			verdict = "BELOW the 70% bar"
		}
		fmt.Fprintf(w, "audit: Encrypt with the durable trail runs at %.0f%% of its rate with the trail in memory only (%s)\n", 100*rep.AuditRatio, verdict)
	}
	var prims []*primitive
	for _, r := range rep.Results {
		if r.Primitive != nil && !slices.Contains(prims, r.Primitive) {
			prims = append(prims, r.Primitive)
		}
	}
	if len(prims) == 0 {
		return
	}
	fmt.Fprintf(w, "primitive CPU/op: the bare primitive in this process on one goroutine, CPU time per op (GC included);\n")
	fmt.Fprintf(w, "server÷primitive: server CPU/req over it (and the primitive's share of it); DESIGN's bar is a share of at least %.0f%% (ratio ≤ %.2f×).\n",
		100*primitiveBar, 1/primitiveBar)
	var noop float64
	for _, r := range rep.Results {
		if r.ceiling {
			noop = r.ServerCPUMicros
		}
	}
	for _, p := range prims {
		fmt.Fprintf(w, "  %-34s %8.1f µs CPU/op %8.1f µs wall/op %7d ops", p.Name, p.CPUMicros, p.WallMicros, p.Ops)
		if noop > 0 {
			// What a server adding nothing to the no-op stack would reach.
			fmt.Fprintf(w, "; share at the no-op ceiling: %.0f%%", 100*p.CPUMicros/(p.CPUMicros+noop))
		}
		fmt.Fprintln(w)
	}
}

// opWidth is the width of the op column: 16, or with -hsm wide enough for
// every name.
func (rep *report) opWidth() int {
	w := 16
	if rep.Env.HSM == nil {
		return w
	}
	for _, r := range rep.Results {
		w = max(w, utf8.RuneCountInString(r.Op))
	}
	return w
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
