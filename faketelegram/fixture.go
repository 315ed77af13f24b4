package faketelegram

//go:generate go run gen_fixture.go

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf16"
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
	// Pinned are the dialogs the user pinned, in their order (top first):
	// messages.getDialogs lists them before the others, with the pinned flag.
	Pinned []Peer `json:"pinned,omitempty"`
}

// Peer names a chat as one user sees it: exactly one of User (the private
// chat with that user), Chat (a basic group) or Channel is set.
type Peer struct {
	User    int64 `json:"user,omitempty"`
	Chat    int64 `json:"chat,omitempty"`
	Channel int64 `json:"channel,omitempty"`
}

// String is "user:1002", "chat:5001" or "channel:1700000001".
func (p Peer) String() string {
	switch {
	case p.User != 0:
		return fmt.Sprintf("user:%d", p.User)
	case p.Chat != 0:
		return fmt.Sprintf("chat:%d", p.Chat)
	default:
		return fmt.Sprintf("channel:%d", p.Channel)
	}
}

func (p Peer) key() (peerKey, error) {
	n := 0
	var k peerKey
	for _, c := range []struct {
		kind int
		id   int64
	}{{peerUser, p.User}, {peerChat, p.Chat}, {peerChannel, p.Channel}} {
		if c.id < 0 {
			return peerKey{}, fmt.Errorf("peer %s: ids are positive", p)
		}
		if c.id != 0 {
			n++
			k = peerKey{c.kind, c.id}
		}
	}
	if n != 1 {
		return peerKey{}, errors.New(`a peer needs exactly one of "user", "chat" and "channel"`)
	}
	return k, nil
}

func (k peerKey) peer() Peer {
	switch k.kind {
	case peerUser:
		return Peer{User: k.id}
	case peerChat:
		return Peer{Chat: k.id}
	default:
		return Peer{Channel: k.id}
	}
}

// FixturePrivate is a one-to-one chat between two users.
//
// ReadInbox (here and in groups and channels) is each member's
// read_inbox_max_id, by user id: the newest message the member has read.
// A member not listed has read every message the fixture holds. A dialog's
// unread_count is the number of its messages newer than that which the
// member did not send.
type FixturePrivate struct {
	Users     [2]int64         `json:"users"`
	ReadInbox map[int64]int    `json:"readInbox,omitempty"`
	Messages  []FixtureMessage `json:"messages"`
}

// FixtureGroup is a basic group ("chat" in the API).
type FixtureGroup struct {
	ID        int64            `json:"id"`
	Title     string           `json:"title"`
	Creator   int64            `json:"creator"`
	Members   []int64          `json:"members"`
	Date      int              `json:"date"`
	ReadInbox map[int64]int    `json:"readInbox,omitempty"`
	Messages  []FixtureMessage `json:"messages"`
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
	ReadInbox  map[int64]int    `json:"readInbox,omitempty"`
	Messages   []FixtureMessage `json:"messages"`
}

// FixtureMessage is a message or, with Action, a service message. From is the
// sender; it is 0 only for posts of broadcast channels.
type FixtureMessage struct {
	ID       int             `json:"id"`
	Date     int             `json:"date"`
	From     int64           `json:"from,omitempty"`
	Text     string          `json:"text,omitempty"`
	Entities []FixtureEntity `json:"entities,omitempty"`
	EditDate int             `json:"editDate,omitempty"`
	ReplyTo  int             `json:"replyTo,omitempty"`
	Forward  *FixtureForward `json:"forward,omitempty"`
	Media    *FixtureMedia   `json:"media,omitempty"`
	Action   *FixtureAction  `json:"action,omitempty"`
	Views    int             `json:"views,omitempty"`
}

// Entity kinds of FixtureEntity.Type (Telegram's messageEntity constructors).
const (
	EntityMention     = "mention"
	EntityHashtag     = "hashtag"
	EntityBotCommand  = "botCommand"
	EntityURL         = "url"
	EntityEmail       = "email"
	EntityBold        = "bold"
	EntityItalic      = "italic"
	EntityCode        = "code"
	EntityPre         = "pre"         // Language
	EntityTextURL     = "textUrl"     // URL
	EntityMentionName = "mentionName" // UserID
	EntityPhone       = "phone"
	EntityCashtag     = "cashtag"
	EntityUnderline   = "underline"
	EntityStrike      = "strike"
	EntityBankCard    = "bankCard"
	EntitySpoiler     = "spoiler"
	EntityBlockquote  = "blockquote"
)

// FixtureEntity is a formatting entity of a message's text. Offset and
// Length count UTF-16 code units, as Telegram's do.
type FixtureEntity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
	UserID   int64  `json:"userId,omitempty"`
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

// conv is one chat as the fixture describes it. It never changes once
// validated: a server's current messages are in its chat (world.go).
type conv struct {
	kind      int
	id        int64 // group or channel id; 0 for private chats
	users     [2]int64
	members   map[int64]bool
	msgs      []FixtureMessage
	readInbox map[int64]int
	channel   *FixtureChannel
	group     *FixtureGroup
	category  string // for errors: "private chat 1001-1002", "group 5001", "channel 7001"
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

// broadcast reports whether c is a broadcast channel (posts have no sender).
func (c *conv) broadcast() bool { return c.kind == peerChannel && !c.channel.Megagroup }

// isOut reports whether viewer sees m as outgoing: their own message, or a
// post of the broadcast channel they created.
func (c *conv) isOut(m *FixtureMessage, viewer int64) bool {
	return m.From == viewer || (c.broadcast() && c.channel.Creator == viewer)
}

type index struct {
	users    map[int64]int
	phones   map[string]int
	convs    []*conv
	groups   map[int64]*conv
	channels map[int64]*conv
	privates map[[2]int64]*conv // sorted pair
	pinned   map[int64][]*conv  // each user's pinned dialogs, in order
}

func pair(a, b int64) [2]int64 {
	if a > b {
		a, b = b, a
	}
	return [2]int64{a, b}
}

// dialog returns the chat a user's peer names, if the user is a member.
func (ix *index) dialog(user int64, k peerKey) *conv {
	var c *conv
	switch k.kind {
	case peerUser:
		c = ix.privates[pair(user, k.id)]
	case peerChat:
		c = ix.groups[k.id]
	case peerChannel:
		c = ix.channels[k.id]
	}
	if c == nil || !c.members[user] {
		return nil
	}
	return c
}

func (ix *index) userOK(id int64) bool { _, ok := ix.users[id]; return ok }

func (f *Fixture) validate() error {
	ix := &index{
		users:    map[int64]int{},
		phones:   map[string]int{},
		groups:   map[int64]*conv{},
		channels: map[int64]*conv{},
		privates: map[[2]int64]*conv{},
		pinned:   map[int64][]*conv{},
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

	boxIDs := map[int]string{} // shared id sequence of private chats and groups
	for i := range f.PrivateChats {
		p := &f.PrivateChats[i]
		a, b := p.Users[0], p.Users[1]
		where := fmt.Sprintf("private chat %d-%d (entry %d)", a, b, i)
		if !ix.userOK(a) || !ix.userOK(b) {
			return fmt.Errorf("%s: users must be fixture users", where)
		}
		if a == b {
			return fmt.Errorf("%s: a private chat needs two different users", where)
		}
		k := pair(a, b)
		if ix.privates[k] != nil {
			return fmt.Errorf("%s: duplicate private chat", where)
		}
		c := &conv{kind: peerUser, users: p.Users, members: map[int64]bool{a: true, b: true}, msgs: p.Messages, readInbox: p.ReadInbox, category: fmt.Sprintf("private chat %d-%d", a, b)}
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
		c := &conv{kind: peerChat, id: g.ID, members: map[int64]bool{}, msgs: g.Messages, readInbox: g.ReadInbox, group: g, category: fmt.Sprintf("group %d", g.ID)}
		if err := members(c, g.Creator, g.Members, ix.userOK); err != nil {
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
		c := &conv{kind: peerChannel, id: ch.ID, members: map[int64]bool{}, msgs: ch.Messages, readInbox: ch.ReadInbox, channel: ch, category: fmt.Sprintf("channel %d", ch.ID)}
		if err := members(c, ch.Creator, ch.Members, ix.userOK); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		ix.channels[ch.ID] = c
		ix.convs = append(ix.convs, c)
	}

	for _, c := range ix.convs {
		byID := make(map[int]bool, len(c.msgs))
		var prev *FixtureMessage
		for j := range c.msgs {
			m := &c.msgs[j]
			where := fmt.Sprintf("%s: message %d", c.category, m.ID)
			if err := ix.checkMessage(c, m, prev, func(id int) bool { return byID[id] }); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if c.kind != peerChannel {
				if other, dup := boxIDs[m.ID]; dup {
					return fmt.Errorf("%s: id already used in %s (private chats and groups share one id sequence)", where, other)
				}
				boxIDs[m.ID] = c.category
			}
			byID[m.ID] = true
			prev = m
		}
		for u, id := range c.readInbox {
			if !c.members[u] {
				return fmt.Errorf("%s: readInbox: user %d is not a member", c.category, u)
			}
			if id < 0 || (len(c.msgs) > 0 && id > c.msgs[len(c.msgs)-1].ID) || (len(c.msgs) == 0 && id != 0) {
				return fmt.Errorf("%s: readInbox of user %d: %d is not 0 or up to the newest message's id", c.category, u, id)
			}
		}
	}

	for _, u := range f.Users {
		seen := map[*conv]bool{}
		for _, p := range u.Pinned {
			k, err := p.key()
			if err != nil {
				return fmt.Errorf("user %d: pinned: %w", u.ID, err)
			}
			c := ix.dialog(u.ID, k)
			if c == nil {
				return fmt.Errorf("user %d: pinned %s is not a chat of the user", u.ID, p)
			}
			if seen[c] {
				return fmt.Errorf("user %d: pinned %s twice", u.ID, p)
			}
			seen[c] = true
			ix.pinned[u.ID] = append(ix.pinned[u.ID], c)
		}
	}
	f.idx = ix
	return nil
}

// checkMessage checks m as the next message of c after prev (nil: the
// first); exists reports whether an id is an earlier message of c. The
// fixture's messages and the ones a server is asked to post pass it.
func (ix *index) checkMessage(c *conv, m, prev *FixtureMessage, exists func(int) bool) error {
	prevID, prevDate := 0, 0
	if prev != nil {
		prevID, prevDate = prev.ID, prev.Date
	}
	if m.ID <= prevID {
		return fmt.Errorf("ids must be positive and increasing (previous %d)", prevID)
	}
	if m.Date <= 0 || m.Date < prevDate {
		return fmt.Errorf("date %d must be positive and not before the previous message's (%d)", m.Date, prevDate)
	}
	switch {
	case m.From == 0 && !c.broadcast():
		return fmt.Errorf("from is required (only broadcast channel posts have no sender)")
	case m.From != 0 && c.kind == peerUser && !c.members[m.From]:
		return fmt.Errorf("from %d is not one of the chat's two users", m.From)
	case m.From != 0 && !ix.userOK(m.From):
		// (Groups may show messages of members who left since.)
		return fmt.Errorf("from %d is not a fixture user", m.From)
	}
	if m.EditDate != 0 && m.EditDate < m.Date {
		return fmt.Errorf("editDate before date")
	}
	if m.ReplyTo != 0 && !exists(m.ReplyTo) {
		return fmt.Errorf("replyTo %d is not an earlier message of the chat", m.ReplyTo)
	}
	if fw := m.Forward; fw != nil {
		if (fw.From == 0) == (fw.FromName == "") {
			return fmt.Errorf("forward needs exactly one of from and fromName")
		}
		if fw.From != 0 && !ix.userOK(fw.From) {
			return fmt.Errorf("forward from %d is not a fixture user", fw.From)
		}
	}
	if m.Action != nil {
		if m.Media != nil || m.Text != "" || m.Forward != nil || m.EditDate != 0 || len(m.Entities) > 0 {
			return fmt.Errorf("a service message has no text, entities, media, forward or edit")
		}
		if err := checkAction(m.Action, ix.userOK, exists); err != nil {
			return err
		}
	} else if m.Text == "" && m.Media == nil {
		return fmt.Errorf("needs text, media or action")
	}
	if err := ix.checkEntities(m.Text, m.Entities); err != nil {
		return err
	}
	if m.Media != nil {
		switch m.Media.Kind {
		case MediaPhoto, MediaDocument, MediaVideo, MediaVoice, MediaGeo, MediaContact:
		default:
			return fmt.Errorf("unknown media kind %q", m.Media.Kind)
		}
	}
	return nil
}

// checkEntities checks that every entity is of a known type, lies within
// text (counted in UTF-16 code units) and has what its type needs.
func (ix *index) checkEntities(text string, es []FixtureEntity) error {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	for i, e := range es {
		switch e.Type {
		case EntityMention, EntityHashtag, EntityBotCommand, EntityURL, EntityEmail, EntityBold, EntityItalic,
			EntityCode, EntityPre, EntityPhone, EntityCashtag, EntityUnderline, EntityStrike, EntityBankCard,
			EntitySpoiler, EntityBlockquote:
		case EntityTextURL:
			if e.URL == "" {
				return fmt.Errorf("entity %d: textUrl needs a url", i)
			}
		case EntityMentionName:
			if !ix.userOK(e.UserID) {
				return fmt.Errorf("entity %d: mentionName needs the userId of a fixture user", i)
			}
		default:
			return fmt.Errorf("entity %d: unknown type %q", i, e.Type)
		}
		if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
			return fmt.Errorf("entity %d: offset %d, length %d is not within the text (%d UTF-16 code units)", i, e.Offset, e.Length, n)
		}
	}
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

func checkAction(a *FixtureAction, userOK func(int64) bool, exists func(int) bool) error {
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
		if !exists(a.MessageID) {
			return fmt.Errorf("action %s: messageId %d is not an earlier message of the chat", a.Kind, a.MessageID)
		}
	default:
		return fmt.Errorf("unknown action kind %q", a.Kind)
	}
	return nil
}
