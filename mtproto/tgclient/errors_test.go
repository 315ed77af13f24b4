package tgclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gotd/td/tgerr"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		kind  Kind
		typ   string
		retry bool
	}{
		{"flood wait", fmt.Errorf("rpc: %w", tgerr.New(420, "FLOOD_WAIT_7")), KindFloodWait, "FLOOD_WAIT", true},
		{"auth key unregistered", fmt.Errorf("invoke: %w", tgerr.New(401, "AUTH_KEY_UNREGISTERED")), KindSessionRejected, "AUTH_KEY_UNREGISTERED", false},
		{"session revoked", tgerr.New(401, "SESSION_REVOKED"), KindSessionRejected, "SESSION_REVOKED", false},
		{"user deactivated", tgerr.New(401, "USER_DEACTIVATED_BAN"), KindSessionRejected, "USER_DEACTIVATED_BAN", false},
		{"internal", tgerr.New(500, "INTERNAL"), KindUnavailable, "INTERNAL", true},
		{"bad request", tgerr.New(400, "PEER_ID_INVALID"), KindRefused, "PEER_ID_INVALID", false},
		{"deadline", fmt.Errorf("run: %w", context.DeadlineExceeded), KindUnavailable, "", true},
		{"timeout cause", errTimeout{Endpoint{Timeout: time.Second}}, KindUnavailable, "", true},
		{"net op", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindUnavailable, "", true},
		{"eof", fmt.Errorf("engine: %w", io.ErrUnexpectedEOF), KindUnavailable, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(tc.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("classify = %T", err)
			}
			if e.Kind != tc.kind || e.Type != tc.typ || e.Retryable() != tc.retry {
				t.Fatalf("classify = kind %v type %q retryable %v; want %v %q %v", e.Kind, e.Type, e.Retryable(), tc.kind, tc.typ, tc.retry)
			}
			if !errors.Is(err, tc.err) && !errors.Is(err, context.DeadlineExceeded) {
				t.Error("the cause is not kept")
			}
		})
	}
	e := classify(tgerr.New(420, "FLOOD_WAIT_7")).(*Error)
	if e.RetryAfter != 7*time.Second || e.Error() != "Telegram asks to wait 7s before the next call (FLOOD_WAIT)" {
		t.Fatalf("flood wait = %v, %q", e.RetryAfter, e.Error())
	}
}
