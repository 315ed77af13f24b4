package faketelegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/communicator/communicator/faketelegram"
)

func history1002(ctx context.Context, api *tg.Client) error {
	_, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerUser{UserID: 1002, AccessHash: faketelegramUser(1002).AccessHash}, Limit: 5})
	return err
}

func firstDialogs(ctx context.Context, api *tg.Client) error {
	_, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 5})
	return err
}

func faketelegramUser(id int64) faketelegram.FixtureUser {
	u, _ := faketelegram.DefaultFixture().User(id)
	return u
}

// A fault with After lets that many calls of its method through, counted
// from when it was added, and fails the next; calls of other methods and
// ResetCalls do not move it.
func TestFaultAfterNCalls(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := s.MintSession(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		s.ResetCalls()
		if n := s.Calls("*"); n != 0 {
			t.Fatalf("after ResetCalls: Calls(*) = %d", n)
		}
		if err := s.AddFault(faketelegram.Fault{Kind: faketelegram.FaultFloodWait, Method: "messages.getHistory", Seconds: 5, After: 2, Times: 1}); err != nil {
			t.Fatal(err)
		}
		if err := history1002(ctx, api); err != nil {
			t.Fatalf("1st getHistory: %v", err)
		}
		// Other methods do not count towards After, nor does ResetCalls.
		for range 3 {
			if err := firstDialogs(ctx, api); err != nil {
				t.Fatalf("getDialogs: %v", err)
			}
		}
		s.ResetCalls()
		if err := history1002(ctx, api); err != nil {
			t.Fatalf("2nd getHistory: %v", err)
		}
		err := history1002(ctx, api)
		if d, ok := tgerr.AsFloodWait(err); !ok || d != 5*time.Second {
			t.Fatalf("3rd getHistory: %v, want FLOOD_WAIT_5", err)
		}
		if err := history1002(ctx, api); err != nil {
			t.Fatalf("4th getHistory (times 1 used up): %v", err)
		}
		if h, d := s.Calls("messages.getHistory"), s.Calls("messages.getDialogs"); h != 3 || d != 0 {
			t.Errorf("since ResetCalls: %d getHistory, %d getDialogs; want 3 and 0", h, d)
		}

		// Drop the connection at the 2nd getDialogs from now, once.
		if err := s.AddFault(faketelegram.Fault{Kind: faketelegram.FaultDrop, Method: "messages.getDialogs", After: 1, Times: 1}); err != nil {
			t.Fatal(err)
		}
		before, conns := s.Calls("messages.getDialogs"), s.Connections()
		if err := firstDialogs(ctx, api); err != nil {
			t.Fatalf("1st getDialogs: %v", err)
		}
		if s.Connections() != conns {
			t.Fatal("a connection was dropped too early")
		}
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		err = firstDialogs(cctx, api)
		ccancel()
		t.Logf("2nd getDialogs (dropped): %v", err)
		// gotd reconnects in the background; calls fail until it has.
		for i := 0; ; i++ {
			if err = firstDialogs(ctx, api); err == nil || i == 50 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("after the drop: %v", err)
		}
		if s.Connections() <= conns {
			t.Error("no new connection after the drop")
		}
		if got := s.Calls("messages.getDialogs") - before; got < 3 {
			t.Errorf("getDialogs calls grew by %d, want at least 3 (one answered, one dropped, one after)", got)
		}

		// "*" counts every method.
		if err := s.AddFault(faketelegram.Fault{Kind: faketelegram.FaultFloodWait, Method: "*", Seconds: 1, After: 1, Times: 1}); err != nil {
			t.Fatal(err)
		}
		if err := firstDialogs(ctx, api); err != nil {
			t.Fatalf("first call after the * fault: %v", err)
		}
		if err := history1002(ctx, api); !tgerr.Is(err, "FLOOD_WAIT") {
			t.Fatalf("second call after the * fault: %v, want FLOOD_WAIT", err)
		}
		return history1002(ctx, api)
	})
}

func TestAddFaultRefuses(t *testing.T) {
	s := startServer(t)
	for _, tc := range []struct {
		f     faketelegram.Fault
		field string
	}{
		{faketelegram.Fault{Kind: "explode", Method: "x"}, "kind"},
		{faketelegram.Fault{Kind: faketelegram.FaultDrop}, "method"},
		{faketelegram.Fault{Kind: faketelegram.FaultDrop, Method: "*", After: -1}, "after"},
		{faketelegram.Fault{Kind: faketelegram.FaultFloodWait, Method: "*"}, "seconds"},
		{faketelegram.Fault{Kind: faketelegram.FaultSlow, Method: "*"}, "delayMs"},
	} {
		var ie *faketelegram.InputError
		if err := s.AddFault(tc.f); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, want an InputError naming %q", tc.f, err, tc.field)
		}
	}
}
