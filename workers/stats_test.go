package workers

import (
	"testing"
)

func TestStatsMemory(t *testing.T) {
	for _, c := range []struct {
		name   string
		js     string
		wasm   uint64
		jsHeap int64 // -1: null
	}{
		{"workerd", `{"instances":1,"jsValues":12,"wasmMemory":19922944,"jsHeap":null,"openSockets":0}`, 19922944, -1},
		{"node", `{"wasmMemory":4194304,"jsHeap":5123456,"waitsReported":3}`, 4194304, 5123456},
		{"an older runtime", `{"instances":1,"jsValues":12}`, 0, -1},
		{"no JavaScript side", ``, 0, -1},
		{"nested counters before", `{"stats":{"wasmMemory":1},"wasmMemory":65536}`, 65536, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := Stats{HeapInuse: 100, Sys: 200, JS: []byte(c.js)}.Memory()
			if m.GoHeapInuse != 100 || m.GoSys != 200 || m.WasmMemory != c.wasm {
				t.Errorf("got %+v, want wasm %d", m, c.wasm)
			}
			switch {
			case c.jsHeap < 0 && m.JSHeap != nil:
				t.Errorf("jsHeap %d, want nil", *m.JSHeap)
			case c.jsHeap >= 0 && (m.JSHeap == nil || *m.JSHeap != uint64(c.jsHeap)):
				t.Errorf("jsHeap %v, want %d", m.JSHeap, c.jsHeap)
			}
		})
	}
}
