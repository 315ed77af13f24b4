package workers

import (
	"bytes"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Console is an io.Writer onto the worker's console: each line written becomes
// one console.log call (console.error for ConsoleErrors). Writing to it is
// much cheaper than os.Stdout, which Go on js/wasm emulates through syscall/js
// with a callback per write. Outside a worker it writes to standard error.
//
// With one Go instance shared by concurrent requests, the runtime attributes a
// line to whichever request's context is running Go when it is written.
var Console = &consoleWriter{level: 0}

// ConsoleErrors is Console writing with console.error.
var ConsoleErrors = &consoleWriter{level: 1}

type consoleWriter struct{ level uint32 }

// Write writes p, one console call per line; a trailing newline is dropped
// and a last partial line is written as a line.
func (c *consoleWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		bridge.Console(c.level, line)
	}
	return n, nil
}
