package faketelegram

import "time"

type faultKind int

const (
	faultFlood faultKind = iota
	faultDrop
	faultSlow
)

// fault is one rule: it applies to the next remaining requests of method
// ("*": any), forever when remaining <= 0.
type fault struct {
	kind      faultKind
	method    string
	seconds   int
	delay     time.Duration
	remaining int
}

// takeFault returns the first rule of kind matching method and uses up one
// of its times. s.mu must be held.
func (s *Server) takeFault(kind faultKind, method string) *fault {
	for i, f := range s.faults {
		if f.kind != kind || (f.method != "*" && f.method != method) {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

func (s *Server) addFault(f *fault) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// FloodWait makes the next times requests of method (a TL name such as
// "users.getUsers", or "*" for any) fail with 420 FLOOD_WAIT_<seconds>
// (gotd: tgerr.AsFloodWait). times <= 0 means until ClearFaults. Safe to
// call while clients are connected, as are all fault methods.
func (s *Server) FloodWait(method string, seconds, times int) {
	s.addFault(&fault{kind: faultFlood, method: method, seconds: seconds, remaining: times})
}

// DropConnections makes the server close the client's TCP connection instead
// of answering the next times requests of method (times <= 0: until
// cleared). The request is not executed.
func (s *Server) DropConnections(method string, times int) {
	s.addFault(&fault{kind: faultDrop, method: method, remaining: times})
}

// Slow delays the answers to the next times requests of method by d
// (times <= 0: until cleared). Other requests on the same connection are
// answered meanwhile; Close cuts the delay short.
func (s *Server) Slow(method string, d time.Duration, times int) {
	s.addFault(&fault{kind: faultSlow, method: method, delay: d, remaining: times})
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}
