package faketelegram

import "time"

// Fault kinds (Fault.Kind; the control API's "kind").
const (
	// FaultFloodWait answers 420 FLOOD_WAIT_<Seconds> (gotd:
	// tgerr.AsFloodWait). The request is not executed.
	FaultFloodWait = "floodWait"
	// FaultDrop closes the client's TCP connection instead of answering.
	// The request is not executed; gotd sends it again once reconnected,
	// which is another call.
	FaultDrop = "drop"
	// FaultSlow delays the answer by Delay. Other requests on the same
	// connection are answered meanwhile; Close cuts the delay short.
	FaultSlow = "slow"
)

// Fault is a rule that makes the server misbehave on calls of a method.
type Fault struct {
	Kind string
	// Method is a TL name such as "messages.getHistory", or "*" for any.
	Method string
	// Seconds is FLOOD_WAIT's wait (FaultFloodWait; positive).
	Seconds int
	// Delay is how long FaultSlow holds the answer (positive).
	Delay time.Duration
	// After lets this many calls of Method, counted from AddFault, through
	// before the fault applies: After 2 makes the third call the first to
	// fail. 0: from the next call.
	After int
	// Times is how many calls the fault applies to; <= 0: every call
	// until ClearFaults.
	Times int
}

// fault is an installed rule. It applies to the calls of method whose
// sequence number (seq) is above from, for remaining calls (forever when
// remaining <= 0).
type fault struct {
	Fault
	from      int64
	remaining int
}

// callSeq is a call's sequence numbers: of its method and of all calls,
// counted since Start (ResetCalls does not touch them).
type callSeq struct{ method, all int64 }

// takeFault returns the first rule of kind that applies to a call of method
// with sequence numbers seq, and uses up one of its times. s.mu must be
// held.
func (s *Server) takeFault(kind, method string, seq callSeq) *Fault {
	for i, f := range s.faults {
		if f.Kind != kind || (f.Method != "*" && f.Method != method) {
			continue
		}
		n := seq.method
		if f.Method == "*" {
			n = seq.all
		}
		if n <= f.from {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		c := f.Fault
		return &c
	}
	return nil
}

// AddFault installs a fault rule. Rules are tried in the order they were
// added; a call meets at most one rule of each kind (a drop acts before a
// delay, a delay before a flood wait). Safe to call while clients are
// connected, as are all fault methods. The error is an *InputError.
func (s *Server) AddFault(f Fault) error {
	switch {
	case f.Method == "":
		return inputErr("method", "method is required (a TL name such as users.getUsers, or *)")
	case f.After < 0:
		return inputErr("after", "after must not be negative")
	}
	switch f.Kind {
	case FaultFloodWait:
		if f.Seconds <= 0 {
			return inputErr("seconds", "seconds must be positive")
		}
	case FaultDrop:
	case FaultSlow:
		if f.Delay <= 0 {
			return inputErr("delayMs", "delayMs must be positive")
		}
	default:
		return inputErr("kind", `kind must be "floodWait", "drop" or "slow"`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.seq[f.Method]
	if f.Method == "*" {
		from = s.seqAll
	}
	s.faults = append(s.faults, &fault{Fault: f, from: from + int64(f.After), remaining: f.Times})
	return nil
}

// FloodWait makes the next times requests of method (a TL name such as
// "users.getUsers", or "*" for any) fail with 420 FLOOD_WAIT_<seconds>.
// times <= 0 means until ClearFaults; seconds below 1 count as 1. See
// AddFault for a fault at a later call.
func (s *Server) FloodWait(method string, seconds, times int) {
	_ = s.AddFault(Fault{Kind: FaultFloodWait, Method: method, Seconds: max(seconds, 1), Times: times})
}

// DropConnections makes the server close the client's TCP connection instead
// of answering the next times requests of method (times <= 0: until
// cleared).
func (s *Server) DropConnections(method string, times int) {
	_ = s.AddFault(Fault{Kind: FaultDrop, Method: method, Times: times})
}

// Slow delays the answers to the next times requests of method by d
// (times <= 0: until cleared).
func (s *Server) Slow(method string, d time.Duration, times int) {
	_ = s.AddFault(Fault{Kind: FaultSlow, Method: method, Delay: max(d, time.Nanosecond), Times: times})
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}
