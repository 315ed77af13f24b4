package faketelegram_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"go.uber.org/zap"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// dcClient is a gotd client that starts on DC dc, knowing every DC's
// address (DCAddrs), with storage as its session storage (nil: none yet).
func dcClient(t *testing.T, s *faketelegram.Server, dc int, storage session.Storage) *telegram.Client {
	t.Helper()
	var list []tg.DCOption
	for id, addr := range s.DCAddrs() {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		list = append(list, tg.DCOption{ID: id, IPAddress: host, Port: p})
	}
	if storage == nil {
		storage = new(session.StorageMemory)
	}
	return telegram.NewClient(telegram.TestAppID, telegram.TestAppHash, telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: s.PublicKey()}},
		DC:             dc,
		DCList:         dcs.List{Options: list},
		Resolver:       dcs.Plain(dcs.PlainOptions{}),
		SessionStorage: storage,
		NoUpdates:      true,
		Logger:         zap.NewNop(),
	})
}

// sessionClient is a gotd client with a string session loaded, on the
// session's DC.
func sessionClient(t *testing.T, s *faketelegram.Server, sess string) *telegram.Client {
	t.Helper()
	data, err := faketelegram.GotdSession(sess)
	if err != nil {
		t.Fatal(err)
	}
	storage := new(session.StorageMemory)
	if err := (&session.Loader{Storage: storage}).Save(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	return dcClient(t, s, data.DC, storage)
}

// rawSendCode calls auth.sendCode on the client's current DC without gotd's
// migration (which would follow a *_MIGRATE error itself).
func rawSendCode(ctx context.Context, c *telegram.Client, phone string) error {
	p, err := c.Pool(1)
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = tg.NewClient(p).AuthSendCode(ctx, &tg.AuthSendCodeRequest{
		PhoneNumber: phone, APIID: telegram.TestAppID, APIHash: telegram.TestAppHash,
	})
	return err
}

func TestSecondDC(t *testing.T) {
	s := startServer(t)
	addrs := s.DCAddrs()
	if len(addrs) != 2 || addrs[2] != s.Addr() || addrs[4] == "" || addrs[4] == addrs[2] {
		t.Fatalf("DCAddrs = %v, main %s", addrs, s.Addr())
	}
	if host, _, _ := net.SplitHostPort(addrs[4]); host != "127.0.0.1" {
		t.Errorf("DC 4 listens on %s", addrs[4])
	}
	for id, want := range map[int64]int{1001: 2, 1002: 2, 1005: 4, 1006: 4, 1099: 2} {
		if got := s.HomeDC(id); got != want {
			t.Errorf("HomeDC(%d) = %d, want %d", id, got, want)
		}
	}

	t.Run("phone migrate", func(t *testing.T) {
		c := newClient(t, s, "")
		run(t, c, func(ctx context.Context, api *tg.Client) error {
			cfg, err := api.HelpGetConfig(ctx)
			if err != nil {
				return err
			}
			if cfg.ThisDC != 2 || len(cfg.DCOptions) != 2 || cfg.DCOptions[0].ID != 2 || cfg.DCOptions[1].ID != 4 ||
				net.JoinHostPort(cfg.DCOptions[1].IPAddress, strconv.Itoa(cfg.DCOptions[1].Port)) != addrs[4] {
				t.Errorf("config: this %d, options %+v", cfg.ThisDC, cfg.DCOptions)
			}
			err = rawSendCode(ctx, c, "+1 555 010 1005")
			if e, ok := tgerr.As(err); !ok || e.Code != 303 || e.Type != "PHONE_MIGRATE" || e.Argument != 4 {
				t.Errorf("sendCode for 1005 on DC 2: %v, want 303 PHONE_MIGRATE_4", err)
			}
			return nil
		})
		if _, ok := s.LastCode("15550101005"); ok {
			t.Error("a PHONE_MIGRATE answer counted as a code sent")
		}
	})

	t.Run("code login on DC 4", func(t *testing.T) {
		sends, exchanges := s.Calls("auth.sendCode"), s.KeyExchanges()
		// gotd follows PHONE_MIGRATE_4 itself: it makes a key on DC 4 and
		// sends the code there.
		// newClient knows DC 2 only: DC 4's address comes from help.getConfig.
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
			sent, err := a.SendCode(ctx, "15550101005", auth.SendCodeOptions{})
			if err != nil {
				return err
			}
			res, err := a.SignIn(ctx, "15550101005", "01005", sent.(*tg.AuthSentCode).PhoneCodeHash)
			if err != nil {
				return err
			}
			if u := res.User.(*tg.User); u.ID != 1005 || !u.Self {
				t.Errorf("signed in as %+v", u)
			}
			return checkServes(t, ctx, api, 1005)
		})
		if got := s.Calls("auth.sendCode") - sends; got != 2 {
			t.Errorf("auth.sendCode calls: %d, want 2 (DC 2's PHONE_MIGRATE, then DC 4)", got)
		}
		if got := s.KeyExchanges() - exchanges; got != 2 {
			t.Errorf("key exchanges: %d, want 2 (one a DC)", got)
		}
		if c, ok := s.LastCode("15550101005"); !ok || c.Sends != 1 {
			t.Errorf("LastCode = %+v %v", c, ok)
		}
	})

	t.Run("migrate back to DC 2", func(t *testing.T) {
		c := dcClient(t, s, 4, nil)
		run(t, c, func(ctx context.Context, api *tg.Client) error {
			cfg, err := api.HelpGetConfig(ctx)
			if err != nil {
				return err
			}
			if cfg.ThisDC != 4 || len(cfg.DCOptions) != 2 {
				t.Errorf("config on DC 4: this %d, options %+v", cfg.ThisDC, cfg.DCOptions)
			}
			if err := rawSendCode(ctx, c, "15550101001"); !tgerr.Is(err, "PHONE_MIGRATE") {
				t.Errorf("sendCode for 1001 on DC 4: %v, want PHONE_MIGRATE_2", err)
			} else if e, _ := tgerr.As(err); e.Argument != 2 {
				t.Errorf("sendCode for 1001 on DC 4: %v", err)
			}
			return nil
		})
	})

	t.Run("minted on DC 4", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sess, err := s.MintSessionOn(ctx, 4, 1006)
		if err != nil {
			t.Fatal(err)
		}
		ss, _, err := sessionstring.Parse(sess)
		if err != nil || ss.DC != 4 || ss.HostPort() != addrs[4] {
			t.Fatalf("session %v %v, DC 4 at %s", ss, err, addrs[4])
		}
		run(t, sessionClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			return checkServes(t, ctx, api, 1006)
		})
		if _, err := s.MintSessionOn(ctx, 3, 1006); err == nil {
			t.Error("MintSessionOn(3) succeeded")
		}
	})
}

// checkServes checks that a client logged in as user is served: itself,
// its dialogs, a history.
func checkServes(t *testing.T, ctx context.Context, api *tg.Client, user int64) error {
	t.Helper()
	u, err := self(ctx, api)
	if err != nil {
		return err
	}
	if u.ID != user {
		t.Errorf("self is %d, want %d", u.ID, user)
	}
	ds, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 5})
	if err != nil {
		return err
	}
	m, ok := ds.AsModified()
	if !ok || len(m.GetDialogs()) == 0 {
		return fmt.Errorf("dialogs of %d: %T", user, ds)
	}
	peer := m.GetDialogs()[0].GetPeer()
	var in tg.InputPeerClass
	switch p := peer.(type) {
	case *tg.PeerUser:
		for _, x := range m.GetUsers() {
			if x, ok := x.(*tg.User); ok && x.ID == p.UserID {
				in = x.AsInputPeer()
			}
		}
	case *tg.PeerChat:
		in = &tg.InputPeerChat{ChatID: p.ChatID}
	case *tg.PeerChannel:
		for _, x := range m.GetChats() {
			if x, ok := x.(*tg.Channel); ok && x.ID == p.ChannelID {
				in = &tg.InputPeerChannel{ChannelID: x.ID, AccessHash: x.AccessHash}
			}
		}
	}
	if in == nil {
		return fmt.Errorf("no input peer for %v", peer)
	}
	h, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: in, Limit: 3})
	if err != nil {
		return err
	}
	if hm, ok := h.AsModified(); !ok || len(hm.GetMessages()) == 0 {
		t.Errorf("history of %d's %v: %T", user, peer, h)
	}
	return nil
}

func TestHomeDCs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, homes := range []map[int64]int{{999: 4}, {1001: 0}, {1001: 256}} {
		if s, err := faketelegram.Start(ctx, faketelegram.Options{Key: testKey, HomeDCs: homes}); err == nil {
			_ = s.Close()
			t.Errorf("Start with HomeDCs %v succeeded", homes)
		}
	}
	one, err := faketelegram.Start(ctx, faketelegram.Options{Key: testKey, HomeDCs: map[int64]int{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.DCAddrs(); len(got) != 1 || got[2] != one.Addr() || one.HomeDC(1005) != 2 {
		t.Errorf("empty HomeDCs: DCAddrs %v, 1005 on %d", got, one.HomeDC(1005))
	}
	_ = one.Close()

	// 2FA on DC 4: 1002 lives there; DCs 3 and 4 besides the main one.
	s, err := faketelegram.Start(ctx, faketelegram.Options{Key: testKey, HomeDCs: map[int64]int{1002: 4, 1003: 3, 1004: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.DCAddrs(); len(got) != 3 || s.HomeDC(1005) != 2 || s.HomeDC(1004) != 2 {
		t.Errorf("DCAddrs %v, 1005 on %d, 1004 on %d", got, s.HomeDC(1005), s.HomeDC(1004))
	}
	run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
		a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
		sent, err := a.SendCode(ctx, "15550101002", auth.SendCodeOptions{})
		if err != nil {
			return err
		}
		if _, err := a.SignIn(ctx, "15550101002", "01002", sent.(*tg.AuthSentCode).PhoneCodeHash); !errors.Is(err, auth.ErrPasswordAuthNeeded) {
			return fmt.Errorf("signIn: %v, want SESSION_PASSWORD_NEEDED", err)
		}
		if _, err := a.Password(ctx, "wrong"); !errors.Is(err, auth.ErrPasswordInvalid) {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := a.Password(ctx, mustUser(t, 1002).Password); err != nil {
			return err
		}
		cfg, err := api.HelpGetConfig(ctx)
		if err != nil {
			return err
		}
		if cfg.ThisDC != 4 {
			t.Errorf("logged in on DC %d", cfg.ThisDC)
		}
		return checkServes(t, ctx, api, 1002)
	})

	// Close stops every DC.
	addrs := s.DCAddrs()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for dc, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("DC %d still accepts connections after Close", dc)
		}
	}
}
