package faketelegram_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gotd/td/tg"
)

// A client that connects and closes before saying which transport it
// speaks, or connects and says nothing, must not stop the server from
// serving the next one: gotd does both when its unit of work ends while it
// reconnects.
func TestSilentConnectionsDoNotStopServing(t *testing.T) {
	s, sess := sharedServer(t)
	// One that closes at once, one that only sends part of a header, and
	// one that stays open saying nothing.
	for _, send := range [][]byte{nil, {0xee, 0xee}} {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if send != nil {
			if _, err := c.Write(send); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	before := s.Connections()
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := self(ctx, api)
		return err
	})
	if s.Connections() <= before {
		t.Errorf("Connections = %d after a client connected, was %d", s.Connections(), before)
	}
}
