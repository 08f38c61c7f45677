package audit

import (
	"testing"
)

func BenchmarkRecordMarshal(b *testing.B) {
	r := rec(1)
	r.User = &User{ID: "a0000000000000000000000000000001", Name: "dev-admin", Domain: Domain{ID: "d0000000000000000000000000000001", Name: "dev"}, AccessKeyID: "KMSDDEVADMINAK000001", AuthMethod: "aksk"}
	r.KeyIDs = []string{"0d0c4c4e-2f3e-4c43-9d0a-0d3f4f0e6b11"}
	r.ResourceID = r.KeyIDs[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel measures required-mode appends from many
// goroutines: group commit shares each fsync among them.
func BenchmarkAppendParallel(b *testing.B) {
	l := openLog(b, Options{Dir: b.TempDir(), Mode: ModeRequired})
	defer l.Close()
	r := rec(1)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(b.Context(), r); err != nil {
				b.Fatal(err)
			}
		}
	})
	st := l.Stats()
	b.ReportMetric(float64(st.Appends)/float64(max(st.Syncs, 1)), "records/fsync")
}
