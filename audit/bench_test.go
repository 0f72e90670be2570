package audit

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkAppend measures parallel Append, durable (write and fsync, group
// committed) against ModeMemory (chained and encoded, not written), with as
// many appending goroutines as the sub-benchmark names.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []Mode{ModeDurable, ModeMemory} {
		for _, goroutines := range []int{runtime.GOMAXPROCS(0), 64} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", mode, goroutines), func(b *testing.B) {
				l := mustOpen(b, b.TempDir(), "bench", Options{Mode: mode})
				ev := testEvent(1)
				b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if _, err := l.Append(ctx, ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				if st := l.Stats(); st.Syncs > 0 {
					b.ReportMetric(float64(st.Events)/float64(st.Syncs), "events/fsync")
				}
				l.Close()
			})
		}
	}
}
