package faketelegram_test

import (
	"context"
	"fmt"
	"testing"
	"unicode/utf16"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

func msgIDs(t *testing.T, ms []tg.MessageClass) []int {
	t.Helper()
	var ids []int
	for _, m := range ms {
		ids = append(ids, m.GetID())
	}
	return ids
}

func TestDialogs(t *testing.T) {
	s, sess := sharedServer(t)
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		// Page through with limit 7, as clients do: offset from the last dialog.
		// The first page holds the three pinned dialogs and 7 others.
		seen := map[string]bool{}
		unread := map[string]int{}
		req := &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 7}
		total := -1
		for page := 0; page < 20; page++ {
			res, err := api.MessagesGetDialogs(ctx, req)
			if err != nil {
				return err
			}
			sl, ok := res.(*tg.MessagesDialogsSlice)
			if !ok {
				t.Fatalf("page %d: %T, want a slice", page, res)
			}
			total = sl.Count
			if len(sl.Dialogs) == 0 {
				break
			}
			pinned := 0
			if page == 0 {
				pinned = 3
			}
			if len(sl.Dialogs) > 7+pinned || len(sl.Messages) != len(sl.Dialogs) {
				t.Fatalf("page %d: %d dialogs, %d messages", page, len(sl.Dialogs), len(sl.Messages))
			}
			for i, d := range sl.Dialogs {
				if d.(*tg.Dialog).Pinned != (i < pinned) {
					t.Errorf("page %d, dialog %d (%v): pinned %v", page, i, d.GetPeer(), d.(*tg.Dialog).Pinned)
				}
				unread[d.GetPeer().String()] = d.(*tg.Dialog).UnreadCount
			}
			if page == 0 {
				want := []string{(&tg.PeerChat{ChatID: 5001}).String(), (&tg.PeerUser{UserID: 1021}).String(), (&tg.PeerChannel{ChannelID: 1_700_000_003}).String()}
				for i, w := range want {
					if got := sl.Dialogs[i].GetPeer().String(); got != w {
						t.Errorf("pinned dialog %d: %s, want %s", i, got, w)
					}
				}
			}
			users := map[int64]*tg.User{}
			for _, u := range sl.Users {
				users[u.GetID()] = u.(*tg.User)
			}
			chats := map[int64]tg.ChatClass{}
			for _, c := range sl.Chats {
				chats[c.GetID()] = c
			}
			var last tg.DialogClass
			for _, d := range sl.Dialogs {
				key := d.GetPeer().String()
				if seen[key] {
					t.Errorf("dialog %s twice", key)
				}
				seen[key] = true
				switch p := d.GetPeer().(type) {
				case *tg.PeerUser:
					if users[p.UserID] == nil {
						t.Errorf("user %d not in users", p.UserID)
					}
				case *tg.PeerChat:
					if chats[p.ChatID] == nil {
						t.Errorf("chat %d not in chats", p.ChatID)
					}
				case *tg.PeerChannel:
					if chats[p.ChannelID] == nil {
						t.Errorf("channel %d not in chats", p.ChannelID)
					}
				}
				last = d
			}
			top := sl.Messages[len(sl.Messages)-1]
			req.OffsetID = top.GetID()
			switch m := top.(type) {
			case *tg.Message:
				req.OffsetDate = m.Date
			case *tg.MessageService:
				req.OffsetDate = m.Date
			}
			switch p := last.GetPeer().(type) {
			case *tg.PeerUser:
				req.OffsetPeer = &tg.InputPeerUser{UserID: p.UserID, AccessHash: users[p.UserID].AccessHash}
			case *tg.PeerChat:
				req.OffsetPeer = &tg.InputPeerChat{ChatID: p.ChatID}
			case *tg.PeerChannel:
				req.OffsetPeer = &tg.InputPeerChannel{ChannelID: p.ChannelID, AccessHash: chats[p.ChannelID].(*tg.Channel).AccessHash}
			}
		}
		if total < 25 || len(seen) != total {
			t.Errorf("saw %d dialogs of %d", len(seen), total)
		}
		// The shipped fixture's unread counts (internal/genfixture).
		for p, n := range map[tg.PeerClass]int{
			&tg.PeerUser{UserID: 1002}: 4, &tg.PeerUser{UserID: 1021}: 7, &tg.PeerUser{UserID: 1024}: 0, &tg.PeerChat{ChatID: 5001}: 12,
			&tg.PeerChannel{ChannelID: 1_700_000_001}: 25, &tg.PeerChannel{ChannelID: 1_700_000_003}: 40,
		} {
			if got, ok := unread[p.String()]; !ok || got != n {
				t.Errorf("%v: unread %d (listed %v), want %d", p, got, ok, n)
			}
		}
		// One page above the cap returns everything at once.
		res, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 500})
		if err != nil {
			return err
		}
		if all, ok := res.(*tg.MessagesDialogs); !ok || len(all.Dialogs) != total {
			t.Errorf("limit 500: %T", res)
		}
		return nil
	})
}

func TestHistory(t *testing.T) {
	s, sess := sharedServer(t)
	f := s.Fixture()
	u1002 := mustUser(t, 1002)
	peer := &tg.InputPeerUser{UserID: 1002, AccessHash: u1002.AccessHash}
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		history := func(req tg.MessagesGetHistoryRequest) (tg.MessagesMessagesClass, []int) {
			t.Helper()
			if req.Peer == nil {
				req.Peer = peer
			}
			res, err := api.MessagesGetHistory(ctx, &req)
			if err != nil {
				t.Fatalf("getHistory %+v: %v", req, err)
			}
			mm, ok := res.AsModified()
			if !ok {
				return res, nil
			}
			return res, msgIDs(t, mm.GetMessages())
		}
		// Page through the whole long chat, newest first, limit 100.
		var all []int
		offset := 0
		for page := 0; page < 30; page++ {
			res, ids := history(tg.MessagesGetHistoryRequest{OffsetID: offset, Limit: 100})
			if sl, ok := res.(*tg.MessagesMessagesSlice); !ok || sl.Count != 1500 {
				t.Fatalf("page %d: %T %+v", page, res, res)
			}
			if len(ids) == 0 {
				break
			}
			all = append(all, ids...)
			offset = ids[len(ids)-1]
		}
		if len(all) != 1500 {
			t.Fatalf("paged %d messages, want 1500", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Fatalf("not strictly newest first at %d: %d then %d", i, all[i-1], all[i])
			}
		}
		// limit above 100 is capped.
		if _, ids := history(tg.MessagesGetHistoryRequest{Limit: 1000}); len(ids) != 100 {
			t.Errorf("limit 1000 gave %d", len(ids))
		}
		// min_id / max_id filter the slice.
		if _, ids := history(tg.MessagesGetHistoryRequest{Limit: 100, MaxID: all[3], MinID: all[10]}); !equal(ids, all[4:10]) {
			t.Errorf("min/max: %v, want %v", ids, all[4:10])
		}
		if _, ids := history(tg.MessagesGetHistoryRequest{Limit: 100, MinID: all[5]}); !equal(ids, all[:5]) {
			t.Errorf("min_id only: %v", ids)
		}
		// Negative add_offset: messages around offset_id (it included).
		k := 700
		if _, ids := history(tg.MessagesGetHistoryRequest{OffsetID: all[k], AddOffset: -10, Limit: 20}); !equal(ids, all[k-9:k+11]) {
			t.Errorf("around: %v, want %v", ids, all[k-9:k+11])
		}
		if _, ids := history(tg.MessagesGetHistoryRequest{OffsetID: all[k], AddOffset: -20, Limit: 20}); !equal(ids, all[k-19:k+1]) {
			t.Errorf("newer: %v", ids)
		}
		if _, ids := history(tg.MessagesGetHistoryRequest{OffsetID: all[2], AddOffset: -10, Limit: 20}); !equal(ids, all[:13]) {
			t.Errorf("newer past the top: %v", ids)
		}
		// hash of an unchanged page → not modified.
		_, ids := history(tg.MessagesGetHistoryRequest{Limit: 5})
		var h uint64
		for _, id := range ids {
			h ^= h >> 21
			h ^= h << 35
			h ^= h >> 4
			h += uint64(id)
		}
		if res, _ := history(tg.MessagesGetHistoryRequest{Limit: 5, Hash: int64(h)}); res.TypeID() != tg.MessagesMessagesNotModifiedTypeID {
			t.Errorf("hash: %T", res)
		}
		// A short chat comes whole.
		u1024 := mustUser(t, 1024)
		if res, ids := history(tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerUser{UserID: 1024, AccessHash: u1024.AccessHash}, Limit: 10}); res.TypeID() != tg.MessagesMessagesTypeID || len(ids) != 1 {
			t.Errorf("short chat: %T %v", res, ids)
		}
		// A channel: channelMessages with pts; media, edits, service messages.
		ch := f.Channels[0]
		res, ids := history(tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerChannel{ChannelID: ch.ID, AccessHash: ch.AccessHash}, Limit: 100})
		cm, ok := res.(*tg.MessagesChannelMessages)
		if !ok || cm.Count != len(ch.Messages) || cm.Pts < cm.Count || len(ids) != 100 || len(cm.Chats) != 1 {
			t.Errorf("channel: %T", res)
		}
		// Its posts' "#<id>" come with hashtag entities, offsets in UTF-16.
		tags := 0
		for _, m := range cm.Messages {
			m, ok := m.(*tg.Message)
			if !ok || len(m.Entities) == 0 {
				continue
			}
			e, ok := m.Entities[0].(*tg.MessageEntityHashtag)
			text := utf16.Encode([]rune(m.Message))
			if !ok || string(utf16.Decode(text[e.Offset:e.Offset+e.Length])) != fmt.Sprintf("#%d", m.ID) {
				t.Errorf("message %d: entities %v of %q", m.ID, m.Entities, m.Message)
			}
			tags++
		}
		if tags == 0 {
			t.Error("no hashtag entities in the channel")
		}
		// A basic group, with service messages.
		g := f.Groups[0]
		var service, media, edited int
		offset = 0
		for {
			res, _ := history(tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerChat{ChatID: g.ID}, OffsetID: offset, Limit: 100})
			mm, _ := res.AsModified()
			msgs := mm.GetMessages()
			if len(msgs) == 0 {
				break
			}
			for _, m := range msgs {
				switch m := m.(type) {
				case *tg.MessageService:
					service++
				case *tg.Message:
					if m.Media != nil {
						media++
					}
					if m.EditDate != 0 {
						edited++
					}
				}
			}
			offset = msgs[len(msgs)-1].GetID()
		}
		if service == 0 || media == 0 || edited == 0 {
			t.Errorf("group: %d service, %d media, %d edited", service, media, edited)
		}
		// Errors.
		for _, tc := range []struct {
			peer tg.InputPeerClass
			want string
		}{
			{&tg.InputPeerUser{UserID: 1002, AccessHash: 1}, "PEER_ID_INVALID"},
			{&tg.InputPeerChat{ChatID: 424242}, "PEER_ID_INVALID"},
			{&tg.InputPeerChannel{ChannelID: ch.ID, AccessHash: 1}, "CHANNEL_INVALID"},
			{&tg.InputPeerChannel{ChannelID: f.Channels[7].ID, AccessHash: f.Channels[7].AccessHash}, "CHANNEL_PRIVATE"},
		} {
			_, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: tc.peer, Limit: 1})
			if !tgerr.Is(err, tc.want) {
				t.Errorf("%v: %v, want %s", tc.peer, err, tc.want)
			}
		}
		return nil
	})
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
