// Package tgsource reads an account's dialogs and history through gotd's
// Telegram API client, for package ingest: messages.getDialogs and
// messages.getHistory, with Telegram's answers turned into ingest's types
// (peers as "user:ID", "chat:ID" or "channel:ID"; text exactly as sent;
// entities, forward origin and media as small JSON objects; no file is
// downloaded).
package tgsource

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/ingest"
)

// Source is ingest.Source over one open gotd client.
type Source struct {
	API *tg.Client
}

var _ ingest.Source = Source{}

// dialogsCursor is where the next getDialogs page starts: Telegram pages
// dialogs by the date, id and peer of the last one's top message.
type dialogsCursor struct {
	Date int    `json:"d"`
	ID   int    `json:"i"`
	Peer string `json:"p"`
	Hash int64  `json:"h,string"`
}

// Dialogs implements ingest.Source.
func (s Source) Dialogs(ctx context.Context, cursor string, limit int) ([]ingest.Dialog, int, string, error) {
	req := &tg.MessagesGetDialogsRequest{Limit: limit, OffsetPeer: &tg.InputPeerEmpty{}}
	if cursor != "" {
		var c dialogsCursor
		if err := json.Unmarshal([]byte(cursor), &c); err != nil {
			return nil, 0, "", errors.New("tgsource: a dialogs cursor this package did not write")
		}
		peer, err := inputPeer(c.Peer, c.Hash)
		if err != nil {
			return nil, 0, "", err
		}
		req.OffsetDate, req.OffsetID, req.OffsetPeer = c.Date, c.ID, peer
	}
	res, err := s.API.MessagesGetDialogs(ctx, req)
	if err != nil {
		return nil, 0, "", err
	}
	var dialogs []tg.DialogClass
	var msgs []tg.MessageClass
	var ents entities
	total := -1
	switch r := res.(type) {
	case *tg.MessagesDialogs:
		dialogs, msgs = r.Dialogs, r.Messages
		ents.add(r.Users, r.Chats)
		total = len(r.Dialogs)
	case *tg.MessagesDialogsSlice:
		dialogs, msgs = r.Dialogs, r.Messages
		ents.add(r.Users, r.Chats)
		total = r.Count
	default:
		return nil, 0, "", errors.New("tgsource: getDialogs answered " + res.TypeName())
	}
	tops := map[string]tg.MessageClass{}
	for _, m := range msgs {
		if p := messagePeer(m); p != "" {
			tops[p+"/"+strconv.Itoa(m.GetID())] = m
		}
	}
	var out []ingest.Dialog
	var last dialogsCursor
	for _, dc := range dialogs {
		d, ok := dc.(*tg.Dialog)
		if !ok {
			continue // a folder
		}
		peer := peerString(d.Peer)
		title, hash := ents.describe(d.Peer)
		item := ingest.Dialog{Peer: peer, Title: title, UnreadCount: d.UnreadCount, Pinned: d.Pinned, TopMessageID: d.TopMessage, AccessHash: hash}
		if tm, ok := tops[peer+"/"+strconv.Itoa(d.TopMessage)]; ok {
			if m, ok := message(tm); ok {
				item.TopMessageDate = m.Date
				item.Top = &m
			}
			last = dialogsCursor{Date: messageDate(tm), ID: d.TopMessage, Peer: peer, Hash: hash}
		}
		out = append(out, item)
	}
	next := ""
	if _, slice := res.(*tg.MessagesDialogsSlice); slice && len(dialogs) >= limit && len(dialogs) > 0 && last.Peer != "" {
		b, _ := json.Marshal(last)
		next = string(b)
	}
	return out, total, next, nil
}

// History implements ingest.Source.
func (s Source) History(ctx context.Context, d ingest.Dialog, offsetID, limit int) ([]ingest.Message, error) {
	peer, err := inputPeer(d.Peer, d.AccessHash)
	if err != nil {
		return nil, err
	}
	res, err := s.API.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, OffsetID: offsetID, Limit: limit})
	if err != nil {
		return nil, err
	}
	var msgs []tg.MessageClass
	switch r := res.(type) {
	case *tg.MessagesMessages:
		msgs = r.Messages
	case *tg.MessagesMessagesSlice:
		msgs = r.Messages
	case *tg.MessagesChannelMessages:
		msgs = r.Messages
	default:
		return nil, errors.New("tgsource: getHistory answered " + res.TypeName())
	}
	out := make([]ingest.Message, 0, len(msgs))
	for _, mc := range msgs {
		if m, ok := message(mc); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// entities are the users and chats of an answer, by peer.
type entities struct {
	users map[int64]*tg.User
	chats map[int64]tg.ChatClass
}

func (e *entities) add(users []tg.UserClass, chats []tg.ChatClass) {
	e.users, e.chats = map[int64]*tg.User{}, map[int64]tg.ChatClass{}
	for _, u := range users {
		if u, ok := u.(*tg.User); ok {
			e.users[u.ID] = u
		}
	}
	for _, c := range chats {
		e.chats[c.GetID()] = c
	}
}

// describe is a peer's title and access hash.
func (e *entities) describe(p tg.PeerClass) (string, int64) {
	switch p := p.(type) {
	case *tg.PeerUser:
		if u := e.users[p.UserID]; u != nil {
			title := strings.TrimSpace(u.FirstName + " " + u.LastName)
			if title == "" {
				title = u.Username
			}
			return title, u.AccessHash
		}
	case *tg.PeerChat:
		if c, ok := e.chats[p.ChatID].(*tg.Chat); ok {
			return c.Title, 0
		}
	case *tg.PeerChannel:
		switch c := e.chats[p.ChannelID].(type) {
		case *tg.Channel:
			return c.Title, c.AccessHash
		case *tg.ChannelForbidden:
			return c.Title, c.AccessHash
		}
	}
	return "", 0
}

func peerString(p tg.PeerClass) string {
	switch p := p.(type) {
	case *tg.PeerUser:
		return "user:" + strconv.FormatInt(p.UserID, 10)
	case *tg.PeerChat:
		return "chat:" + strconv.FormatInt(p.ChatID, 10)
	case *tg.PeerChannel:
		return "channel:" + strconv.FormatInt(p.ChannelID, 10)
	}
	return ""
}

// inputPeer addresses a peer written by peerString.
func inputPeer(peer string, hash int64) (tg.InputPeerClass, error) {
	kind, ids, _ := strings.Cut(peer, ":")
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || !ingest.ValidPeer(peer) {
		return nil, errors.New("tgsource: not a peer: " + strconv.Quote(peer))
	}
	switch kind {
	case "user":
		return &tg.InputPeerUser{UserID: id, AccessHash: hash}, nil
	case "chat":
		return &tg.InputPeerChat{ChatID: id}, nil
	default:
		return &tg.InputPeerChannel{ChannelID: id, AccessHash: hash}, nil
	}
}

func messagePeer(m tg.MessageClass) string {
	switch m := m.(type) {
	case *tg.Message:
		return peerString(m.PeerID)
	case *tg.MessageService:
		return peerString(m.PeerID)
	}
	return ""
}

func messageDate(m tg.MessageClass) int {
	switch m := m.(type) {
	case *tg.Message:
		return m.Date
	case *tg.MessageService:
		return m.Date
	}
	return 0
}

func unix(sec int) time.Time { return time.Unix(int64(sec), 0).UTC() }

// message turns a message of Telegram's into ingest's; an empty message
// (deleted) is skipped.
func message(mc tg.MessageClass) (ingest.Message, bool) {
	switch m := mc.(type) {
	case *tg.Message:
		out := ingest.Message{ID: m.ID, Peer: peerString(m.PeerID), Date: unix(m.Date), Text: m.Message}
		if from, ok := m.GetFromID(); ok {
			out.Sender = peerString(from)
		} else if !m.Post {
			out.Sender = peerString(m.PeerID) // a private chat's messages carry no from_id
		}
		if e, ok := m.GetEditDate(); ok {
			out.EditDate = unix(e)
		}
		if r, ok := m.GetReplyTo(); ok {
			if h, ok := r.(*tg.MessageReplyHeader); ok {
				out.ReplyToID = h.ReplyToMsgID
			}
		}
		if f, ok := m.GetFwdFrom(); ok {
			out.Forward = forward(f)
		}
		if med, ok := m.GetMedia(); ok {
			out.Media = media(med)
		}
		if len(m.Entities) > 0 {
			out.Entities = entitiesJSON(m.Entities)
		}
		if v, ok := m.GetViews(); ok {
			out.Views = v
		}
		if g, ok := m.GetGroupedID(); ok {
			out.GroupedID = g
		}
		return out, true
	case *tg.MessageService:
		out := ingest.Message{ID: m.ID, Peer: peerString(m.PeerID), Date: unix(m.Date),
			Action: strings.TrimPrefix(m.Action.TypeName(), "messageAction")}
		if from, ok := m.GetFromID(); ok {
			out.Sender = peerString(from)
		}
		if r, ok := m.GetReplyTo(); ok {
			if h, ok := r.(*tg.MessageReplyHeader); ok {
				out.ReplyToID = h.ReplyToMsgID
			}
		}
		return out, true
	}
	return ingest.Message{}, false
}

// entity is a formatting entity as stored: its kind ("bold", "textUrl",
// "mentionName"...), where it is (in UTF-16 code units, as Telegram counts)
// and what it carries.
type entity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	UserID   int64  `json:"userId,omitempty"`
	Language string `json:"language,omitempty"`
	EmojiID  int64  `json:"customEmojiId,omitempty,string"`
}

func entitiesJSON(list []tg.MessageEntityClass) json.RawMessage {
	out := make([]entity, 0, len(list))
	for _, e := range list {
		en := entity{Type: lowerFirst(strings.TrimPrefix(e.TypeName(), "messageEntity")), Offset: e.GetOffset(), Length: e.GetLength()}
		switch e := e.(type) {
		case *tg.MessageEntityTextURL:
			en.URL = e.URL
		case *tg.MessageEntityMentionName:
			en.UserID = e.UserID
		case *tg.MessageEntityPre:
			en.Language = e.Language
		case *tg.MessageEntityCustomEmoji:
			en.EmojiID = e.DocumentID
		}
		out = append(out, en)
	}
	b, _ := json.Marshal(out)
	return b
}

// forwardOrigin is where a forwarded message came from.
type forwardOrigin struct {
	From      string `json:"from,omitempty"`     // a peer
	FromName  string `json:"fromName,omitempty"` // a name, when the peer is hidden
	Date      int64  `json:"date"`               // unix ms of the original
	ChannelID int    `json:"channelPost,omitempty"`
	Author    string `json:"author,omitempty"`
}

func forward(f tg.MessageFwdHeader) json.RawMessage {
	o := forwardOrigin{Date: unix(f.Date).UnixMilli()}
	if from, ok := f.GetFromID(); ok {
		o.From = peerString(from)
	}
	o.FromName, _ = f.GetFromName()
	o.ChannelID, _ = f.GetChannelPost()
	o.Author, _ = f.GetPostAuthor()
	b, _ := json.Marshal(o)
	return b
}

// mediaDescriptor is a message's media, described, never downloaded.
type mediaDescriptor struct {
	Kind     string `json:"kind"` // photo, document, geo, contact, poll, webPage, venue, dice...
	MimeType string `json:"mimeType,omitempty"`
	Size     int64  `json:"size,omitempty"`
	FileName string `json:"fileName,omitempty"`
	Duration int    `json:"duration,omitempty"` // seconds, audio and video
	Title    string `json:"title,omitempty"`    // a poll's question, a web page's title
	URL      string `json:"url,omitempty"`      // a web page's
}

func media(m tg.MessageMediaClass) json.RawMessage {
	d := mediaDescriptor{Kind: lowerFirst(strings.TrimPrefix(m.TypeName(), "messageMedia"))}
	switch m := m.(type) {
	case *tg.MessageMediaEmpty:
		return nil
	case *tg.MessageMediaDocument:
		if doc, ok := m.Document.(*tg.Document); ok {
			d.MimeType, d.Size = doc.MimeType, doc.Size
			for _, a := range doc.Attributes {
				switch a := a.(type) {
				case *tg.DocumentAttributeFilename:
					d.FileName = a.FileName
				case *tg.DocumentAttributeVideo:
					d.Duration = int(a.Duration)
				case *tg.DocumentAttributeAudio:
					d.Duration = a.Duration
				}
			}
		}
	case *tg.MessageMediaPoll:
		d.Title = m.Poll.Question
	case *tg.MessageMediaWebPage:
		if p, ok := m.Webpage.(*tg.WebPage); ok {
			d.Title, d.URL = p.Title, p.URL
		}
	case *tg.MessageMediaVenue:
		d.Title = m.Title
	}
	b, _ := json.Marshal(d)
	return b
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
