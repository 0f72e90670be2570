package main

import (
	"slices"
	"testing"
)

// TestPrimitives checks that every asymmetric operation has a primitive
// that runs, and that each -ops name is known.
func TestPrimitives(t *testing.T) {
	keys := &primitiveKeys{}
	for _, s := range asymSpecs {
		if !slices.Contains(knownOps, s.name) {
			t.Errorf("%s is not in knownOps", s.name)
		}
		name, f, err := newPrimitive(s.primitiveKey(), keys)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if err := f(); err != nil {
			t.Errorf("%s: primitive %q: %v", s.name, name, err)
		}
	}
}

// TestSetPrimitive checks the ratio against DESIGN's 80% bar.
func TestSetPrimitive(t *testing.T) {
	for _, tc := range []struct {
		server, prim float64
		ok           bool
	}{
		{1000, 900, true},
		{1250, 1000, true},
		{1300, 1000, false},
	} {
		r := &result{ServerCPUMicros: tc.server}
		r.setPrimitive(&primitive{CPUMicros: tc.prim})
		if r.MeetsPrimitiveBar == nil || *r.MeetsPrimitiveBar != tc.ok || r.ServerOverPrimitive != tc.server/tc.prim {
			t.Errorf("server %v µs, primitive %v µs: ratio %v, meets %v; want %v, %v",
				tc.server, tc.prim, r.ServerOverPrimitive, r.MeetsPrimitiveBar, tc.server/tc.prim, tc.ok)
		}
	}
}
