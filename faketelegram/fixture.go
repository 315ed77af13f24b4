package faketelegram

//go:generate go run gen_fixture.go

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Fixture is the world the fake server serves: users, private chats, basic
// groups and channels with their messages. It is read from JSON (LoadFixture,
// ParseFixture) and must not be changed after it is passed to Start.
//
// Message ids follow Telegram: private chats and basic groups share one id
// sequence (the fixture uses a single sequence for everyone, so ids are unique
// across all private chats and groups), and every channel has its own
// sequence starting at 1. Within a chat, messages are listed oldest first, with
// strictly increasing ids and non-decreasing dates.
type Fixture struct {
	// Comment is free text (the generator marks its output as generated here).
	Comment      string           `json:"comment,omitempty"`
	Users        []FixtureUser    `json:"users"`
	PrivateChats []FixturePrivate `json:"privateChats"`
	Groups       []FixtureGroup   `json:"groups"`
	Channels     []FixtureChannel `json:"channels"`

	idx *index // built by validate
}

// FixtureUser is a Telegram account. Phone, LoginCode and Password are what
// a person types to log in (auth.sendCode, auth.signIn, auth.checkPassword).
type FixtureUser struct {
	ID         int64  `json:"id"`
	AccessHash int64  `json:"accessHash"`
	FirstName  string `json:"firstName"`
	LastName   string `json:"lastName,omitempty"`
	Username   string `json:"username,omitempty"`
	// Phone is digits only, international form without "+" (e.g. "15550101001").
	// Empty means the user cannot log in by phone (e.g. a bot).
	Phone string `json:"phone,omitempty"`
	// LoginCode is the code auth.signIn accepts (digits). Required with Phone.
	LoginCode string `json:"loginCode,omitempty"`
	// Password is the 2FA (cloud) password; empty means no 2FA.
	Password     string `json:"password,omitempty"`
	PasswordHint string `json:"passwordHint,omitempty"`
	Bot          bool   `json:"bot,omitempty"`
}

// FixturePrivate is a one-to-one chat between two users.
type FixturePrivate struct {
	Users    [2]int64         `json:"users"`
	Messages []FixtureMessage `json:"messages"`
}

// FixtureGroup is a basic group ("chat" in the API).
type FixtureGroup struct {
	ID       int64            `json:"id"`
	Title    string           `json:"title"`
	Creator  int64            `json:"creator"`
	Members  []int64          `json:"members"`
	Date     int              `json:"date"`
	Messages []FixtureMessage `json:"messages"`
}

// FixtureChannel is a broadcast channel or, with Megagroup, a supergroup.
// A channel with a Username is public: non-members may read its history.
type FixtureChannel struct {
	ID         int64            `json:"id"`
	AccessHash int64            `json:"accessHash"`
	Title      string           `json:"title"`
	Username   string           `json:"username,omitempty"`
	Megagroup  bool             `json:"megagroup,omitempty"`
	Creator    int64            `json:"creator"`
	Members    []int64          `json:"members"`
	Date       int              `json:"date"`
	Messages   []FixtureMessage `json:"messages"`
}

// FixtureMessage is a message or, with Action, a service message. From is the
// sender; it is 0 only for posts of broadcast channels.
type FixtureMessage struct {
	ID       int             `json:"id"`
	Date     int             `json:"date"`
	From     int64           `json:"from,omitempty"`
	Text     string          `json:"text,omitempty"`
	EditDate int             `json:"editDate,omitempty"`
	ReplyTo  int             `json:"replyTo,omitempty"`
	Forward  *FixtureForward `json:"forward,omitempty"`
	Media    *FixtureMedia   `json:"media,omitempty"`
	Action   *FixtureAction  `json:"action,omitempty"`
	Views    int             `json:"views,omitempty"`
}

// FixtureForward says a message was forwarded: from a fixture user (From) or
// from someone who hides their account (FromName).
type FixtureForward struct {
	From     int64  `json:"from,omitempty"`
	FromName string `json:"fromName,omitempty"`
	Date     int    `json:"date"`
}

// Media kinds of FixtureMedia.Kind.
const (
	MediaPhoto    = "photo"
	MediaDocument = "document"
	MediaVideo    = "video"
	MediaVoice    = "voice"
	MediaGeo      = "geo"
	MediaContact  = "contact"
)

// FixtureMedia is a media placeholder: the server sends the matching tg
// type with ids and metadata but there is no file behind it.
type FixtureMedia struct {
	Kind     string  `json:"kind"`
	ID       int64   `json:"id,omitempty"`
	FileName string  `json:"fileName,omitempty"`
	MimeType string  `json:"mimeType,omitempty"`
	Size     int64   `json:"size,omitempty"`
	Duration int     `json:"duration,omitempty"`
	Lat      float64 `json:"lat,omitempty"`
	Long     float64 `json:"long,omitempty"`
	Phone    string  `json:"phone,omitempty"`
	Name     string  `json:"name,omitempty"`
}

// Service action kinds of FixtureAction.Kind.
const (
	ActionChatCreate       = "chatCreate"       // Title, Users
	ActionChatAddUser      = "chatAddUser"      // Users
	ActionChatDeleteUser   = "chatDeleteUser"   // Users (exactly one)
	ActionChatJoinedByLink = "chatJoinedByLink" // (inviter is the creator)
	ActionChatEditTitle    = "chatEditTitle"    // Title
	ActionPinMessage       = "pinMessage"       // MessageID
	ActionChannelCreate    = "channelCreate"    // Title
)

// FixtureAction makes a message a service message.
type FixtureAction struct {
	Kind      string  `json:"kind"`
	Title     string  `json:"title,omitempty"`
	Users     []int64 `json:"users,omitempty"`
	MessageID int     `json:"messageId,omitempty"`
}

// User returns the fixture user with that id.
func (f *Fixture) User(id int64) (FixtureUser, bool) {
	i, ok := f.idx.users[id]
	if !ok {
		return FixtureUser{}, false
	}
	return f.Users[i], true
}

// UserByPhone returns the user whose phone is phone ("+", spaces, dashes and
// parentheses are ignored).
func (f *Fixture) UserByPhone(phone string) (FixtureUser, bool) {
	i, ok := f.idx.phones[NormalizePhone(phone)]
	if !ok {
		return FixtureUser{}, false
	}
	return f.Users[i], true
}

// NormalizePhone drops everything but digits from a phone number.
func NormalizePhone(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Stats counts what a fixture holds.
type Stats struct {
	Users, PrivateChats, Groups, Channels, Messages, ServiceMessages, Media, Edited int
}

// Stats counts the fixture's users, chats and messages.
func (f *Fixture) Stats() Stats {
	s := Stats{Users: len(f.Users), PrivateChats: len(f.PrivateChats), Groups: len(f.Groups), Channels: len(f.Channels)}
	for _, c := range f.idx.convs {
		for _, m := range c.msgs {
			s.Messages++
			if m.Action != nil {
				s.ServiceMessages++
			}
			if m.Media != nil {
				s.Media++
			}
			if m.EditDate != 0 {
				s.Edited++
			}
		}
	}
	return s
}

//go:embed fixture.json.gz
var defaultFixtureGz []byte

var defaultFixture = sync.OnceValues(func() (*Fixture, error) {
	zr, err := gzip.NewReader(bytes.NewReader(defaultFixtureGz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	return ParseFixture("fixture.json.gz", data)
})

// DefaultFixture returns the shipped fixture (fixture.json.gz, written by
// internal/genfixture), parsed once. Callers must not modify it.
func DefaultFixture() *Fixture {
	f, err := defaultFixture()
	if err != nil {
		panic("faketelegram: the embedded fixture is broken: " + err.Error())
	}
	return f
}

// DefaultFixtureJSON returns the shipped fixture as JSON, a starting point
// for a custom fixture file.
func DefaultFixtureJSON() []byte {
	zr, err := gzip.NewReader(bytes.NewReader(defaultFixtureGz))
	if err != nil {
		panic(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	return data
}

// LoadFixture reads and checks a fixture file: JSON, or gzipped JSON when
// the name ends in ".gz". Errors name the file and what is wrong in it (the
// user, chat or message).
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("fixture %s: gzip: %w", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("fixture %s: gzip: %w", path, err)
		}
	}
	return ParseFixture(path, data)
}

// ParseFixture parses and checks fixture JSON; name is used in errors.
// Unknown fields are errors (a misspelt field would otherwise be ignored).
func ParseFixture(name string, data []byte) (*Fixture, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("fixture %s: data after the JSON object", name)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	return &f, nil
}

// Peer kinds.
const (
	peerUser = iota
	peerChat
	peerChannel
)

type peerKey struct {
	kind int
	id   int64
}

// conv is one chat as the index sees it.
type conv struct {
	kind     int
	id       int64 // group or channel id; 0 for private chats
	users    [2]int64
	members  map[int64]bool
	private  int // index into PrivateChats, Groups or Channels
	msgs     []FixtureMessage
	byID     map[int]int // message id → index in msgs
	channel  *FixtureChannel
	group    *FixtureGroup
	category string // for errors: "private chat 1001-1002", "group 5001", "channel 7001"
}

// peerFor returns the peer of c as user viewer sees it.
func (c *conv) peerFor(viewer int64) peerKey {
	switch c.kind {
	case peerUser:
		if c.users[0] == viewer {
			return peerKey{peerUser, c.users[1]}
		}
		return peerKey{peerUser, c.users[0]}
	case peerChat:
		return peerKey{peerChat, c.id}
	default:
		return peerKey{peerChannel, c.id}
	}
}

type index struct {
	users    map[int64]int
	phones   map[string]int
	convs    []*conv
	groups   map[int64]*conv
	channels map[int64]*conv
	privates map[[2]int64]*conv // sorted pair
	// dialogs of each user, newest top message first.
	dialogs map[int64][]*conv
	// boxCount: messages in private chats and groups of each user (updates.getState pts).
	boxCount map[int64]int
}

func pair(a, b int64) [2]int64 {
	if a > b {
		a, b = b, a
	}
	return [2]int64{a, b}
}

func (f *Fixture) validate() error {
	ix := &index{
		users:    map[int64]int{},
		phones:   map[string]int{},
		groups:   map[int64]*conv{},
		channels: map[int64]*conv{},
		privates: map[[2]int64]*conv{},
		dialogs:  map[int64][]*conv{},
		boxCount: map[int64]int{},
	}
	if len(f.Users) == 0 {
		return fmt.Errorf("no users")
	}
	for i, u := range f.Users {
		where := fmt.Sprintf("user %d (entry %d)", u.ID, i)
		if u.ID <= 0 {
			return fmt.Errorf("%s: id must be positive", where)
		}
		if _, dup := ix.users[u.ID]; dup {
			return fmt.Errorf("%s: duplicate user id", where)
		}
		if u.FirstName == "" {
			return fmt.Errorf("%s: firstName is empty", where)
		}
		if u.Phone != "" {
			if NormalizePhone(u.Phone) != u.Phone {
				return fmt.Errorf("%s: phone %q must be digits only", where, u.Phone)
			}
			if _, dup := ix.phones[u.Phone]; dup {
				return fmt.Errorf("%s: phone %s is used by another user", where, u.Phone)
			}
			if u.LoginCode == "" || NormalizePhone(u.LoginCode) != u.LoginCode {
				return fmt.Errorf("%s: loginCode must be digits (and is required with phone)", where)
			}
			ix.phones[u.Phone] = i
		} else if u.LoginCode != "" || u.Password != "" {
			return fmt.Errorf("%s: loginCode/password without phone", where)
		}
		ix.users[u.ID] = i
	}
	userOK := func(id int64) bool { _, ok := ix.users[id]; return ok }

	boxIDs := map[int]string{} // shared id sequence of private chats and groups
	for i := range f.PrivateChats {
		p := &f.PrivateChats[i]
		a, b := p.Users[0], p.Users[1]
		where := fmt.Sprintf("private chat %d-%d (entry %d)", a, b, i)
		if !userOK(a) || !userOK(b) {
			return fmt.Errorf("%s: users must be fixture users", where)
		}
		if a == b {
			return fmt.Errorf("%s: a private chat needs two different users", where)
		}
		k := pair(a, b)
		if ix.privates[k] != nil {
			return fmt.Errorf("%s: duplicate private chat", where)
		}
		c := &conv{kind: peerUser, users: p.Users, members: map[int64]bool{a: true, b: true}, private: i, msgs: p.Messages, category: fmt.Sprintf("private chat %d-%d", a, b)}
		ix.privates[k] = c
		ix.convs = append(ix.convs, c)
	}
	for i := range f.Groups {
		g := &f.Groups[i]
		where := fmt.Sprintf("group %d (entry %d)", g.ID, i)
		if g.ID <= 0 {
			return fmt.Errorf("%s: id must be positive", where)
		}
		if ix.groups[g.ID] != nil {
			return fmt.Errorf("%s: duplicate group id", where)
		}
		if g.Title == "" {
			return fmt.Errorf("%s: title is empty", where)
		}
		c := &conv{kind: peerChat, id: g.ID, members: map[int64]bool{}, private: i, msgs: g.Messages, group: g, category: fmt.Sprintf("group %d", g.ID)}
		if err := members(c, g.Creator, g.Members, userOK); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		ix.groups[g.ID] = c
		ix.convs = append(ix.convs, c)
	}
	for i := range f.Channels {
		ch := &f.Channels[i]
		where := fmt.Sprintf("channel %d (entry %d)", ch.ID, i)
		if ch.ID <= 0 {
			return fmt.Errorf("%s: id must be positive", where)
		}
		if ix.channels[ch.ID] != nil {
			return fmt.Errorf("%s: duplicate channel id", where)
		}
		if ch.Title == "" {
			return fmt.Errorf("%s: title is empty", where)
		}
		c := &conv{kind: peerChannel, id: ch.ID, members: map[int64]bool{}, private: i, msgs: ch.Messages, channel: ch, category: fmt.Sprintf("channel %d", ch.ID)}
		if err := members(c, ch.Creator, ch.Members, userOK); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		ix.channels[ch.ID] = c
		ix.convs = append(ix.convs, c)
	}

	for _, c := range ix.convs {
		c.byID = make(map[int]int, len(c.msgs))
		prevID, prevDate := 0, 0
		for j, m := range c.msgs {
			where := fmt.Sprintf("%s: message %d", c.category, m.ID)
			if m.ID <= prevID {
				return fmt.Errorf("%s: ids must be positive and increasing (previous %d)", where, prevID)
			}
			if m.Date <= 0 || m.Date < prevDate {
				return fmt.Errorf("%s: date %d must be positive and not before the previous message's (%d)", where, m.Date, prevDate)
			}
			if c.kind != peerChannel {
				if other, dup := boxIDs[m.ID]; dup {
					return fmt.Errorf("%s: id already used in %s (private chats and groups share one id sequence)", where, other)
				}
				boxIDs[m.ID] = c.category
			}
			broadcast := c.kind == peerChannel && !c.channel.Megagroup
			switch {
			case m.From == 0 && !broadcast:
				return fmt.Errorf("%s: from is required (only broadcast channel posts have no sender)", where)
			case m.From != 0 && c.kind == peerUser && !c.members[m.From]:
				return fmt.Errorf("%s: from %d is not one of the chat's two users", where, m.From)
			case m.From != 0 && !userOK(m.From):
				// (Groups may show messages of members who left since.)
				return fmt.Errorf("%s: from %d is not a fixture user", where, m.From)
			}
			if m.EditDate != 0 && m.EditDate < m.Date {
				return fmt.Errorf("%s: editDate before date", where)
			}
			if m.ReplyTo != 0 {
				if _, ok := c.byID[m.ReplyTo]; !ok {
					return fmt.Errorf("%s: replyTo %d is not an earlier message of the chat", where, m.ReplyTo)
				}
			}
			if fw := m.Forward; fw != nil {
				if (fw.From == 0) == (fw.FromName == "") {
					return fmt.Errorf("%s: forward needs exactly one of from and fromName", where)
				}
				if fw.From != 0 && !userOK(fw.From) {
					return fmt.Errorf("%s: forward from %d is not a fixture user", where, fw.From)
				}
			}
			if m.Action != nil {
				if m.Media != nil || m.Text != "" || m.Forward != nil || m.EditDate != 0 {
					return fmt.Errorf("%s: a service message has no text, media, forward or edit", where)
				}
				if err := checkAction(c, m.Action, userOK); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
			} else if m.Text == "" && m.Media == nil {
				return fmt.Errorf("%s: needs text, media or action", where)
			}
			if m.Media != nil {
				switch m.Media.Kind {
				case MediaPhoto, MediaDocument, MediaVideo, MediaVoice, MediaGeo, MediaContact:
				default:
					return fmt.Errorf("%s: unknown media kind %q", where, m.Media.Kind)
				}
			}
			c.byID[m.ID] = j
			prevID, prevDate = m.ID, m.Date
		}
	}

	for _, c := range ix.convs {
		for u := range c.members {
			ix.dialogs[u] = append(ix.dialogs[u], c)
			if c.kind != peerChannel {
				ix.boxCount[u] += len(c.msgs)
			}
		}
	}
	for u, ds := range ix.dialogs {
		// Dialogs without messages are not listed (Telegram lists chats by
		// their top message).
		ds = slices.DeleteFunc(ds, func(c *conv) bool { return len(c.msgs) == 0 })
		sort.SliceStable(ds, func(i, j int) bool { return dialogLess(ds[j], ds[i], u) })
		ix.dialogs[u] = ds
	}
	f.idx = ix
	return nil
}

func members(c *conv, creator int64, list []int64, userOK func(int64) bool) error {
	if !userOK(creator) {
		return fmt.Errorf("creator %d is not a fixture user", creator)
	}
	c.members[creator] = true
	for _, m := range list {
		if !userOK(m) {
			return fmt.Errorf("member %d is not a fixture user", m)
		}
		c.members[m] = true
	}
	return nil
}

func checkAction(c *conv, a *FixtureAction, userOK func(int64) bool) error {
	for _, u := range a.Users {
		if !userOK(u) {
			return fmt.Errorf("action %s: user %d is not a fixture user", a.Kind, u)
		}
	}
	switch a.Kind {
	case ActionChatCreate, ActionChatEditTitle, ActionChannelCreate:
		if a.Title == "" {
			return fmt.Errorf("action %s needs a title", a.Kind)
		}
	case ActionChatAddUser:
		if len(a.Users) == 0 {
			return fmt.Errorf("action %s needs users", a.Kind)
		}
	case ActionChatDeleteUser:
		if len(a.Users) != 1 {
			return fmt.Errorf("action %s needs exactly one user", a.Kind)
		}
	case ActionChatJoinedByLink:
	case ActionPinMessage:
		if _, ok := c.byID[a.MessageID]; !ok {
			return fmt.Errorf("action %s: messageId %d is not an earlier message of the chat", a.Kind, a.MessageID)
		}
	default:
		return fmt.Errorf("unknown action kind %q", a.Kind)
	}
	return nil
}

// dialogLess orders dialogs by their top message's date, then by peer, so the
// order is total and stable.
func dialogLess(a, b *conv, viewer int64) bool {
	ta, tb := a.msgs[len(a.msgs)-1], b.msgs[len(b.msgs)-1]
	if ta.Date != tb.Date {
		return ta.Date < tb.Date
	}
	pa, pb := a.peerFor(viewer), b.peerFor(viewer)
	if pa.kind != pb.kind {
		return pa.kind < pb.kind
	}
	return pa.id < pb.id
}
