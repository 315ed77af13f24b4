//go:build !js

package authkey_test

import (
	"context"
	"crypto/rsa"
	"net"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/transport"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/authkey"
)

// exchange runs one key exchange with srv over a new connection.
func exchange(t *testing.T, srv *faketelegram.Server) authkey.Key {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := transport.Intermediate.Handshake(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key, err := authkey.Exchange(ctx, conn, authkey.Options{DC: srv.DC(), PublicKeys: []*rsa.PublicKey{srv.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// A key made here is one gotd's server (the local Telegram is gotd's
// tgtest) knows: gotd, handed the key and salt, calls with it at once,
// without an exchange of its own.
func TestExchangeWithLocalTelegram(t *testing.T) {
	srv, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	seen := map[[8]byte]bool{}
	for range 5 {
		before := srv.KeyExchanges()
		key := exchange(t, srv)
		if seen[key.ID] {
			t.Fatal("two exchanges made one key")
		}
		seen[key.ID] = true
		if d := time.Since(key.ServerTime); d < -time.Minute || d > time.Minute {
			t.Errorf("server time %v", key.ServerTime)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		storage := new(session.StorageMemory)
		if err := (&session.Loader{Storage: storage}).Save(ctx, &session.Data{
			DC: srv.DC(), Addr: srv.Addr(), AuthKey: key.Value[:], AuthKeyID: key.ID[:], Salt: key.Salt,
		}); err != nil {
			t.Fatal(err)
		}
		client := telegram.NewClient(17349, "344583e45741c457fe1862106095a5eb", srv.ClientOptions(storage))
		err := client.Run(ctx, func(ctx context.Context) error {
			_, err := client.API().HelpGetConfig(ctx)
			return err
		})
		cancel()
		if err != nil {
			t.Fatalf("gotd with the new key: %v", err)
		}
		if n := srv.KeyExchanges() - before; n != 1 {
			t.Fatalf("%d key exchanges for one key: gotd did not take it", n)
		}
	}
}
