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

// The bridge's counters, read from the JavaScript side's JSON by name; one it
// does not carry (an older runtime) is zero, one it garbles stops the reading
// there without touching what was read before.
func TestStatsBridge(t *testing.T) {
	js := `{"jspi":true,"instances":1,"liveRequests":2,"inflightOps":3,"goTimers":4,"waitsReported":5,"openSockets":6,` +
		`"loopWakes":70,"loopPolls":80,"suspendedCalls":9,"suspendsReleased":10,"syncAnswers":11,"syncFallbacks":12,` +
		`"jsonCalls":13,"jsonServed":14,"jsValues":15,"wasmMemory":65536,"jsHeap":null}`
	i := Stats{Goroutines: 16, PendingCalls: 17, HeapInuse: 100, Sys: 200, JS: []byte(js)}.Isolate()
	want := Bridge{JSPI: true, GoInstances: 1, LiveRequests: 2, InflightOps: 3, GoTimers: 4, WaitsReported: 5, OpenSockets: 6,
		SuspendedCalls: 9, SuspendsReleased: 10, SyncAnswers: 11, SyncFallbacks: 12, JSONCalls: 13, JSONServed: 14,
		Goroutines: 16, PendingCalls: 17}
	if i.Bridge != want {
		t.Errorf("bridge\n got %+v\nwant %+v", i.Bridge, want)
	}
	if i.Memory.WasmMemory != 65536 || i.Memory.GoHeapInuse != 100 || i.Memory.JSHeap != nil {
		t.Errorf("memory %+v", i.Memory)
	}

	old := Stats{Goroutines: 3, JS: []byte(`{"instances":1,"wasmMemory":65536}`)}.Isolate().Bridge
	if old != (Bridge{GoInstances: 1, Goroutines: 3}) {
		t.Errorf("an older runtime: %+v", old)
	}
	garbled := Stats{JS: []byte(`{"jspi":true,"suspendedCalls":"many","syncAnswers":3}`)}.Isolate().Bridge
	if garbled != (Bridge{JSPI: true}) {
		t.Errorf("garbled: %+v", garbled)
	}
}
