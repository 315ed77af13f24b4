package faketelegram

import (
	"context"
	"slices"
	"sort"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// maxLimit is Telegram's cap on limit for dialogs and history.
const maxLimit = 100

// defaultLimit is what limit 0 means ("an intermediate value like ~20").
const defaultLimit = 20

func capLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, tgerr.New(400, "LIMIT_INVALID")
	case limit == 0:
		return defaultLimit, nil
	case limit > maxLimit:
		return maxLimit, nil
	}
	return limit, nil
}

// listHash is Telegram's hash of a result list
// (https://core.telegram.org/api/offsets#hash-generation).
func listHash(ids []int64) int64 {
	var h uint64
	for _, id := range ids {
		h ^= h >> 21
		h ^= h << 35
		h ^= h >> 4
		h += uint64(id)
	}
	return int64(h)
}

// refs collects the users and chats a result mentions.
type refs struct {
	users map[int64]bool
	convs map[*conv]bool
}

func newRefs() *refs { return &refs{users: map[int64]bool{}, convs: map[*conv]bool{}} }

func (r *refs) message(c *conv, m *FixtureMessage, viewer int64) {
	if c.kind == peerUser {
		r.users[c.peerFor(viewer).id] = true
	} else {
		r.convs[c] = true
	}
	if m.From != 0 {
		r.users[m.From] = true
	}
	if m.Forward != nil && m.Forward.From != 0 {
		r.users[m.Forward.From] = true
	}
	if a := m.Action; a != nil {
		for _, u := range a.Users {
			r.users[u] = true
		}
		if a.Kind == ActionChatJoinedByLink && c.group != nil {
			r.users[c.group.Creator] = true
		}
	}
}

func (s *Server) resolve(r *refs, viewer int64) ([]tg.ChatClass, []tg.UserClass) {
	chats := []tg.ChatClass{}
	users := []tg.UserClass{}
	convs := make([]*conv, 0, len(r.convs))
	for c := range r.convs {
		convs = append(convs, c)
	}
	sort.Slice(convs, func(i, j int) bool { return convs[i].id < convs[j].id })
	for _, c := range convs {
		chats = append(chats, s.tgChat(c, viewer))
	}
	ids := make([]int64, 0, len(r.users))
	for id := range r.users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if u, ok := s.fx.User(id); ok {
			users = append(users, s.tgUser(u, viewer))
		}
	}
	return chats, users
}

// tgUser is u as viewer sees it.
func (s *Server) tgUser(u FixtureUser, viewer int64) *tg.User {
	out := &tg.User{
		ID: u.ID, AccessHash: u.AccessHash, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username,
		Bot: u.Bot, Status: &tg.UserStatusRecently{},
	}
	if u.Bot {
		out.BotInfoVersion = 1
		out.Status = nil
	}
	switch {
	case u.ID == viewer:
		out.Self = true
		out.Phone = u.Phone
		out.Status = &tg.UserStatusOnline{Expires: 2147483647}
	case s.fx.idx.privates[pair(u.ID, viewer)] != nil && !u.Bot:
		// People one has a private chat with are mutual contacts here.
		out.Contact, out.MutualContact = true, true
		out.Phone = u.Phone
	}
	return out
}

func (s *Server) tgChat(c *conv, viewer int64) tg.ChatClass {
	if c.group != nil {
		g := c.group
		return &tg.Chat{
			ID: g.ID, Title: g.Title, Photo: &tg.ChatPhotoEmpty{}, ParticipantsCount: len(c.members),
			Date: g.Date, Version: 1, Creator: g.Creator == viewer, Left: !c.members[viewer],
		}
	}
	ch := c.channel
	return &tg.Channel{
		ID: ch.ID, AccessHash: ch.AccessHash, Title: ch.Title, Username: ch.Username, Photo: &tg.ChatPhotoEmpty{},
		Date: ch.Date, Broadcast: !ch.Megagroup, Megagroup: ch.Megagroup, Creator: ch.Creator == viewer,
		Left: !c.members[viewer], ParticipantsCount: len(c.members),
	}
}

func tgPeer(p peerKey) tg.PeerClass {
	switch p.kind {
	case peerUser:
		return &tg.PeerUser{UserID: p.id}
	case peerChat:
		return &tg.PeerChat{ChatID: p.id}
	default:
		return &tg.PeerChannel{ChannelID: p.id}
	}
}

func (s *Server) tgMessage(c *conv, m *FixtureMessage, viewer int64) tg.MessageClass {
	peer := tgPeer(c.peerFor(viewer))
	broadcast := c.broadcast()
	out := c.isOut(m, viewer)
	var from tg.PeerClass
	if m.From != 0 {
		from = &tg.PeerUser{UserID: m.From}
	}
	if a := m.Action; a != nil {
		ms := &tg.MessageService{ID: m.ID, Out: out, FromID: from, PeerID: peer, Date: m.Date, Post: broadcast}
		switch a.Kind {
		case ActionChatCreate:
			ms.Action = &tg.MessageActionChatCreate{Title: a.Title, Users: a.Users}
		case ActionChatAddUser:
			ms.Action = &tg.MessageActionChatAddUser{Users: a.Users}
		case ActionChatDeleteUser:
			ms.Action = &tg.MessageActionChatDeleteUser{UserID: a.Users[0]}
		case ActionChatJoinedByLink:
			var inviter int64
			if c.group != nil {
				inviter = c.group.Creator
			} else if c.channel != nil {
				inviter = c.channel.Creator
			}
			ms.Action = &tg.MessageActionChatJoinedByLink{InviterID: inviter}
		case ActionChatEditTitle:
			ms.Action = &tg.MessageActionChatEditTitle{Title: a.Title}
		case ActionPinMessage:
			ms.Action = &tg.MessageActionPinMessage{}
			ms.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: a.MessageID}
		case ActionChannelCreate:
			ms.Action = &tg.MessageActionChannelCreate{Title: a.Title}
		}
		return ms
	}
	msg := &tg.Message{
		ID: m.ID, Out: out, FromID: from, PeerID: peer, Date: m.Date, Message: m.Text,
		EditDate: m.EditDate, Post: broadcast, Views: m.Views,
	}
	if len(m.Entities) > 0 {
		msg.SetEntities(tgEntities(m.Entities))
	}
	if m.ReplyTo != 0 {
		msg.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: m.ReplyTo}
	}
	if f := m.Forward; f != nil {
		msg.FwdFrom = tg.MessageFwdHeader{Date: f.Date, FromName: f.FromName}
		if f.From != 0 {
			msg.FwdFrom.FromID = &tg.PeerUser{UserID: f.From}
		}
	}
	if md := m.Media; md != nil {
		msg.Media = s.tgMedia(md, m.Date)
	}
	return msg
}

func (s *Server) tgMedia(md *FixtureMedia, date int) tg.MessageMediaClass {
	fileRef := []byte{0xfa, 0x6e, byte(md.ID), byte(md.ID >> 8)}
	doc := func(attrs ...tg.DocumentAttributeClass) tg.MessageMediaClass {
		if md.FileName != "" {
			attrs = append(attrs, &tg.DocumentAttributeFilename{FileName: md.FileName})
		}
		return &tg.MessageMediaDocument{Document: &tg.Document{
			ID: md.ID, AccessHash: md.ID * 31, FileReference: fileRef, Date: date, MimeType: md.MimeType,
			Size: md.Size, DCID: s.dc, Attributes: attrs,
		}}
	}
	switch md.Kind {
	case MediaPhoto:
		return &tg.MessageMediaPhoto{Photo: &tg.Photo{
			ID: md.ID, AccessHash: md.ID * 31, FileReference: fileRef, Date: date, DCID: s.dc,
			Sizes: []tg.PhotoSizeClass{&tg.PhotoSize{Type: "m", W: 320, H: 240, Size: 18_000}, &tg.PhotoSize{Type: "y", W: 1280, H: 960, Size: 160_000}},
		}}
	case MediaDocument:
		return doc()
	case MediaVoice:
		return doc(&tg.DocumentAttributeAudio{Voice: true, Duration: md.Duration})
	case MediaVideo:
		return doc(&tg.DocumentAttributeVideo{Duration: float64(md.Duration), W: 1280, H: 720, SupportsStreaming: true})
	case MediaGeo:
		return &tg.MessageMediaGeo{Geo: &tg.GeoPoint{Lat: md.Lat, Long: md.Long, AccessHash: md.ID}}
	case MediaContact:
		return &tg.MessageMediaContact{PhoneNumber: md.Phone, FirstName: md.Name}
	}
	return &tg.MessageMediaUnsupported{}
}

func tgEntities(es []FixtureEntity) []tg.MessageEntityClass {
	out := make([]tg.MessageEntityClass, 0, len(es))
	for _, e := range es {
		o, l := e.Offset, e.Length
		var t tg.MessageEntityClass
		switch e.Type {
		case EntityMention:
			t = &tg.MessageEntityMention{Offset: o, Length: l}
		case EntityHashtag:
			t = &tg.MessageEntityHashtag{Offset: o, Length: l}
		case EntityBotCommand:
			t = &tg.MessageEntityBotCommand{Offset: o, Length: l}
		case EntityURL:
			t = &tg.MessageEntityURL{Offset: o, Length: l}
		case EntityEmail:
			t = &tg.MessageEntityEmail{Offset: o, Length: l}
		case EntityBold:
			t = &tg.MessageEntityBold{Offset: o, Length: l}
		case EntityItalic:
			t = &tg.MessageEntityItalic{Offset: o, Length: l}
		case EntityCode:
			t = &tg.MessageEntityCode{Offset: o, Length: l}
		case EntityPre:
			t = &tg.MessageEntityPre{Offset: o, Length: l, Language: e.Language}
		case EntityTextURL:
			t = &tg.MessageEntityTextURL{Offset: o, Length: l, URL: e.URL}
		case EntityMentionName:
			t = &tg.MessageEntityMentionName{Offset: o, Length: l, UserID: e.UserID}
		case EntityPhone:
			t = &tg.MessageEntityPhone{Offset: o, Length: l}
		case EntityCashtag:
			t = &tg.MessageEntityCashtag{Offset: o, Length: l}
		case EntityUnderline:
			t = &tg.MessageEntityUnderline{Offset: o, Length: l}
		case EntityStrike:
			t = &tg.MessageEntityStrike{Offset: o, Length: l}
		case EntityBankCard:
			t = &tg.MessageEntityBankCard{Offset: o, Length: l}
		case EntitySpoiler:
			t = &tg.MessageEntitySpoiler{Offset: o, Length: l}
		case EntityBlockquote:
			t = &tg.MessageEntityBlockquote{Offset: o, Length: l}
		default: // validation admits no other type
			t = &tg.MessageEntityUnknown{Offset: o, Length: l}
		}
		out = append(out, t)
	}
	return out
}

// peerConv resolves an input peer for viewer. A nil chat with no error is
// a valid peer without messages (Saved Messages, a user one never wrote to).
func (s *Server) peerConv(p tg.InputPeerClass, viewer int64) (*chat, error) {
	ix := s.fx.idx
	var c *conv
	switch p := p.(type) {
	case *tg.InputPeerSelf:
		return nil, nil
	case *tg.InputPeerUser:
		u, ok := s.fx.User(p.UserID)
		if !ok || u.AccessHash != p.AccessHash {
			return nil, tgerr.New(400, "PEER_ID_INVALID")
		}
		c = ix.privates[pair(u.ID, viewer)]
		if c == nil {
			return nil, nil
		}
	case *tg.InputPeerChat:
		c = ix.groups[p.ChatID]
		if c == nil || !c.members[viewer] {
			return nil, tgerr.New(400, "PEER_ID_INVALID")
		}
	case *tg.InputPeerChannel:
		c = ix.channels[p.ChannelID]
		if c == nil || c.channel.AccessHash != p.AccessHash {
			return nil, tgerr.New(400, "CHANNEL_INVALID")
		}
		if !c.members[viewer] && c.channel.Username == "" {
			return nil, tgerr.New(400, "CHANNEL_PRIVATE")
		}
	default:
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	return s.w.chats[c], nil
}

// messagesGetHistory implements Telegram's paging
// (https://core.telegram.org/api/offsets): the history newest first; the
// slice starts at offsetFromID(offset_id) + add_offset (offsetFromID is the
// number of messages with id >= offset_id; with offset_id 0, offset_date
// counts messages with date >= offset_date instead) and takes limit (0 → 20,
// capped at 100) messages; then max_id and min_id filter the slice; hash,
// when it matches the result's ids, answers messagesNotModified. count is
// the number of messages the chat has now (deleted ones are gone);
// offset_id_offset, sent when offset_id or offset_date is, is the position
// of messages[0] in the history, newest first, counted from 0. The answer
// is messages.messages when it holds the whole history.
func (s *Server) messagesGetHistory(ctx context.Context, req *tg.MessagesGetHistoryRequest) (tg.MessagesMessagesClass, error) {
	viewer := info(ctx).user
	s.w.mu.RLock()
	defer s.w.mu.RUnlock()
	ch, err := s.peerConv(req.Peer, viewer)
	if err != nil {
		return nil, err
	}
	limit, err := capLimit(req.Limit)
	if err != nil {
		return nil, err
	}
	var msgs []FixtureMessage
	if ch != nil {
		msgs = ch.msgs
	}
	n := len(msgs)
	// newest first: position i is msgs[n-1-i].
	base := 0
	switch {
	case req.OffsetID > 0:
		base = n - sort.Search(n, func(i int) bool { return msgs[i].ID >= req.OffsetID })
	case req.OffsetDate > 0:
		base = n - sort.Search(n, func(i int) bool { return msgs[i].Date >= req.OffsetDate })
	}
	start := max(base+req.AddOffset, 0)
	end := min(base+req.AddOffset+limit, n)
	r := newRefs()
	out := []tg.MessageClass{}
	var ids []int64
	first := start
	for i := start; i < end; i++ {
		m := &msgs[n-1-i]
		if (req.MaxID > 0 && m.ID >= req.MaxID) || (req.MinID > 0 && m.ID <= req.MinID) {
			if len(out) == 0 {
				first = i + 1
			}
			continue
		}
		out = append(out, s.tgMessage(ch.conv, m, viewer))
		ids = append(ids, int64(m.ID))
		r.message(ch.conv, m, viewer)
	}
	if req.Hash != 0 && req.Hash == listHash(ids) {
		return &tg.MessagesMessagesNotModified{Count: n}, nil
	}
	chats, users := s.resolve(r, viewer)
	paged := req.OffsetID > 0 || req.OffsetDate > 0
	if ch != nil && ch.conv.kind == peerChannel {
		if !r.convs[ch.conv] {
			chats = append(chats, s.tgChat(ch.conv, viewer))
		}
		res := &tg.MessagesChannelMessages{Pts: ch.pts, Count: n, Messages: out, Chats: chats, Users: users, Topics: []tg.ForumTopicClass{}}
		if paged {
			res.SetOffsetIDOffset(min(first, n))
		}
		return res, nil
	}
	if len(out) == n {
		return &tg.MessagesMessages{Messages: out, Chats: chats, Users: users}, nil
	}
	res := &tg.MessagesMessagesSlice{Count: n, Messages: out, Chats: chats, Users: users}
	if paged {
		res.SetOffsetIDOffset(min(first, n))
	}
	return res, nil
}

// messagesGetDialogs lists the viewer's dialogs (folder 0; folder 1, the
// archive, is empty): pinned dialogs first, in pin order, then the others
// by their newest message, newest first (ties by peer).
//
// A request without an offset (offset_date, offset_id 0, offset_peer
// empty) gets every pinned dialog, unless exclude_pinned, and then limit
// (0 → 20, capped at 100) others: with pinned dialogs the answer holds more
// than limit, as Telegram's does. A request with an offset gets no pinned
// dialog and the next limit others after the offset: those whose (top
// message date, peer) comes after (offset_date, offset_peer) in the order
// above; without offset_peer, those whose top message is older than
// offset_date (or as old, with a lower id than offset_id); without
// offset_date, those after offset_peer's dialog. A dialog that got a new
// message meanwhile moves to the top and is not listed again, as with
// Telegram. The answer is messages.dialogs when it holds every dialog,
// else messages.dialogsSlice, whose count is the number of dialogs
// (pinned ones included).
func (s *Server) messagesGetDialogs(ctx context.Context, req *tg.MessagesGetDialogsRequest) (tg.MessagesDialogsClass, error) {
	viewer := info(ctx).user
	limit, err := capLimit(req.Limit)
	if err != nil {
		return nil, err
	}
	s.w.mu.RLock()
	defer s.w.mu.RUnlock()
	var pinned, others []*chat
	if req.FolderID == 0 {
		pinned, others = s.w.dialogs(viewer)
	}
	total := len(pinned) + len(others)
	var offsetPeer *peerKey
	switch p := req.OffsetPeer.(type) {
	case *tg.InputPeerUser:
		offsetPeer = &peerKey{peerUser, p.UserID}
	case *tg.InputPeerChat:
		offsetPeer = &peerKey{peerChat, p.ChatID}
	case *tg.InputPeerChannel:
		offsetPeer = &peerKey{peerChannel, p.ChannelID}
	}
	var page []*chat
	start := 0
	switch {
	case req.OffsetDate == 0 && req.OffsetID == 0 && offsetPeer == nil:
		if !req.ExcludePinned {
			page = slices.Clone(pinned)
		}
	case req.OffsetDate > 0 && offsetPeer != nil:
		cursor := dialogKey{date: req.OffsetDate, peer: *offsetPeer}
		start = sort.Search(len(others), func(i int) bool { return others[i].key(viewer).less(cursor) })
	case req.OffsetDate > 0:
		start = sort.Search(len(others), func(i int) bool {
			top := others[i].top()
			return top.Date < req.OffsetDate || (top.Date == req.OffsetDate && top.ID < req.OffsetID)
		})
	case offsetPeer != nil:
		for i, ch := range others {
			if ch.conv.peerFor(viewer) == *offsetPeer {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(others))
	nPinned := len(page)
	page = append(page, others[start:end]...)
	r := newRefs()
	dialogs := []tg.DialogClass{}
	msgs := []tg.MessageClass{}
	var ids []int64
	for i, ch := range page {
		top := ch.top()
		d := &tg.Dialog{
			Pinned: i < nPinned, Peer: tgPeer(ch.conv.peerFor(viewer)), TopMessage: top.ID,
			ReadInboxMaxID: ch.readInbox[viewer], ReadOutboxMaxID: ch.readOutbox(viewer), UnreadCount: ch.unread(viewer),
			NotifySettings: tg.PeerNotifySettings{},
		}
		if ch.conv.kind == peerChannel {
			d.SetPts(ch.pts)
			r.convs[ch.conv] = true
		}
		dialogs = append(dialogs, d)
		msgs = append(msgs, s.tgMessage(ch.conv, top, viewer))
		r.message(ch.conv, top, viewer)
		ids = append(ids, int64(top.ID), int64(top.Date))
	}
	if req.Hash != 0 && req.Hash == listHash(ids) {
		return &tg.MessagesDialogsNotModified{Count: total}, nil
	}
	chats, users := s.resolve(r, viewer)
	if len(page) == total {
		return &tg.MessagesDialogs{Dialogs: dialogs, Messages: msgs, Chats: chats, Users: users}, nil
	}
	return &tg.MessagesDialogsSlice{Count: total, Dialogs: dialogs, Messages: msgs, Chats: chats, Users: users}, nil
}
