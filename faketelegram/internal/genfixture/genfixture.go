// Package genfixture writes faketelegram's shipped fixture: a deterministic,
// realistic-looking set of users, chats, groups and channels with a few
// thousand messages (edits, replies, forwards, media placeholders, service
// messages, and text in many scripts). Run `go generate ./faketelegram` after
// changing it; a test fails while the committed fixture is stale.
package genfixture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/communicator/communicator/faketelegram"
)

// rng is splitmix64: tiny, and its sequence never changes with Go versions
// (math/rand's helpers may).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) chance(percent int) bool { return r.intn(100) < percent }

func (r *rng) hash() int64 { return int64(r.next() &^ (1 << 63)) }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// start is Monday 2025-01-06 08:00 UTC; the fixture covers about a year.
const start = 1736150400

type user struct {
	id                  int64
	first, last, handle string
	password, hint      string
	bot                 bool
	noPhone             bool
}

var users = []user{
	{id: 1001, first: "Maya", last: "Lindqvist", handle: "maya_lindqvist"},
	{id: 1002, first: "Daniel", last: "Okafor", handle: "dokafor", password: "correct horse battery staple", hint: "xkcd"},
	{id: 1003, first: "Yuki", last: "Tanaka", handle: "yuki_t"},
	{id: 1004, first: "Noa", last: "Ben-David", handle: "noabd"},
	{id: 1005, first: "Олег", last: "Смирнов", handle: "oleg_smirnov"},
	{id: 1006, first: "李", last: "娜", handle: "lina_shanghai"},
	{id: 1007, first: "فاطمة", last: "السيد", handle: "fatima_s", password: "sesame-🔑 öffne dich", hint: "open"},
	{id: 1008, first: "Jose\u0301", last: "Garci\u0301a"},
	{id: 1009, first: "Priya", last: "Raman", handle: "priyaraman"},
	{id: 1010, first: "Lukas", last: "Müller", handle: "lukas_m"},
	{id: 1011, first: "Chloé", last: "Dubois"},
	{id: 1012, first: "Kwame", last: "Mensah", handle: "kwame"},
	{id: 1013, first: "Sofia", last: "Rossi", handle: "sofiarossi"},
	{id: 1014, first: "민준", last: "김", handle: "minjun_kim"},
	{id: 1015, first: "Aroha", last: "Ngata"},
	{id: 1016, first: "Mateus", last: "Silva", handle: "mateus_s"},
	{id: 1017, first: "Ingrid", last: "Hansen"},
	{id: 1018, first: "Tomasz", last: "Kowalski", handle: "tkowalski"},
	{id: 1019, first: "Ayşe", last: "Yılmaz", handle: "ayse_y"},
	{id: 1020, first: "Nguyễn", last: "Văn An"},
	{id: 1021, first: "Grandma 👵"},
	{id: 1022, first: "Sam", last: "O'Brien", handle: "sam_ob"},
	{id: 1023, first: "Zanele", last: "Dlamini"},
	{id: 1024, first: "Eitan", last: "Levi", handle: "eitan_l"},
	{id: 1099, first: "Weather", last: "Bot", handle: "forecast_demo_bot", bot: true, noPhone: true},
}

// Phone of a user: 1555010 followed by the id (fictional 555 numbers); the
// login code is the phone's last five digits.
func phone(id int64) string { return fmt.Sprintf("1555010%04d", id) }
func code(id int64) string  { p := phone(id); return p[len(p)-5:] }

var english = []string{
	"Morning! Did you see the news?", "On my way, 10 minutes", "Can you send me the slides?",
	"Sounds good 👍", "Haha, exactly", "Let's do Thursday instead", "I'm at the station now",
	"Did you get my email about the budget?", "Happy birthday!!! 🎉🎂", "Running late, sorry 🙏",
	"What time works for you tomorrow?", "Thanks a lot, that really helped", "ok", "lol",
	"The deploy went fine, no errors so far", "Can we move the call to 3pm?", "Where did you park?",
	"I'll bring snacks 🍕", "Just landed ✈️", "That's hilarious 😂😂😂", "Good night 🌙",
	"Have you tried turning it off and on again?", "See you at the climbing gym", "Miss you!",
	"Reminder: rent is due on Friday", "Here's the recipe I told you about", "Did the package arrive?",
	"Meeting notes are in the shared doc", "I think the bug is in the retry loop", "Weekend plans?",
}

var multilingual = []string{
	"Привет! Как дела?", "Спасибо, всё отлично 😊", "Созвонимся вечером?",
	"שלום, מה שלומך?", "נתראה מחר בבוקר", "مرحبا، كيف حالك؟", "شكراً جزيلاً 🌹",
	"你好！今天有空吗？", "周末一起吃饭吧 🍜", "こんにちは、元気ですか？", "了解しました！",
	"안녕하세요 👋", "Café com pão de queijo ☕", "Ça marche, à demain !", "Grüß dich, alles klar?",
	"Çok teşekkürler!", "Chúc mừng năm mới 🧧", "Kia ora e hoa!", "Dzięki, do zobaczenia",
	"Zalgo: Z\u0351\u036b\u0343a\u0310\u0352l\u0367g\u033ao\u0360", "e\u0301 vs é — same letter, different bytes",
	"👩‍👩‍👧‍👦 family photo coming", "🏳️‍🌈🇺🇦🇯🇵 flags", "mixed: hello שלום مرحبا 你好",
	"नमस्ते, आप कैसे हैं?", "ধন্যবাদ", "Γεια σου!", "ok 👌🏽", "₿ is at a new high?!", "𝔣𝔞𝔫𝔠𝔶 𝔱𝔢𝔵𝔱",
}

var long = []string{
	"So here's the thing: I talked to the landlord and he says the heating will be fixed by next week, but honestly I've heard that three times now. If it's not done by Friday I'm calling the city.",
	"Long story short, the train was cancelled, the replacement bus took two hours, and I ended up sharing a taxi with a very talkative dentist. Anyway, I'm home now!",
	"I've been reading about how Telegram pagination works: offset_id, add_offset, limit, min_id and max_id all interact, and the order they're applied in matters more than you'd think.",
	"Quick summary of the meeting:\n1. Budget approved\n2. Launch moved to March\n3. Everyone owes Sam a coffee ☕\nQuestions → me.",
}

var channelPosts = map[string][]string{
	"tech": {
		"Go 1.26 released with faster maps and a new GC mode", "WebAssembly component model: what changed this month",
		"Deep dive: how MTProto key exchange works", "10 tips for debugging flaky tests", "Rust vs Go for CLI tools — reader poll 📊",
		"Cloudflare Workers now support larger memory limits", "The hidden cost of retries without jitter", "SQLite is everywhere: a short history",
		"Weekly digest: #42 — databases, compilers and a very old bug", "Post-mortem: a leap second, a cron job and 3 hours of downtime",
	},
	"city": {
		"Road works on Main Street until Friday 🚧", "Free concert in the park this Saturday 🎶", "Tram line 4 diverted due to maintenance",
		"Weather alert: heavy rain expected tonight ☔", "New bike lanes open on the river bank 🚲", "Farmers market moves to the old harbour",
		"Library extends opening hours during exams", "Lost dog found near the bakery — is it yours? 🐕",
	},
	"cats":     {"Meet Biscuit 🐈", "Caturday!", "He fits, he sits 📦", "Loaf mode activated 🍞", "Sleepy boi 😴", "Who's a good kitty"},
	"arabic":   {"أخبار اليوم: افتتاح مكتبة جديدة", "الطقس: مشمس مع بعض السحب ☀️", "نصائح للسفر في الصيف", "مباراة الليلة ⚽", "تحديث: تغيير مواعيد المترو"},
	"announce": {"Scheduled maintenance on Sunday 02:00–04:00 UTC", "New version 3.2 is out", "We are hiring! 🚀", "Service restored, thanks for your patience"},
	"secret":   {"Internal: Q3 numbers are in", "Do not forward this", "Offsite agenda attached"},
}

var fileNames = []struct{ name, mime string }{
	{"report-2025-Q1.pdf", "application/pdf"}, {"slides_final_v3.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	{"budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, {"notes.txt", "text/plain"},
	{"договор.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, {"照片集.zip", "application/zip"},
}

type gen struct {
	r        rng
	mediaID  int64
	fixture  faketelegram.Fixture
	boxMsgs  []*boxMsg
	boxConvs []boxConv
}

// boxMsg is a message of a private chat or group before ids are assigned.
type boxMsg struct {
	conv    int
	seq     int // order within the conversation
	m       faketelegram.FixtureMessage
	replyTo int // seq of the replied message within the conversation, -1 none
	pinSeq  int // seq of the pinned message for pin actions, -1 none
}

type boxConv struct {
	private bool
	index   int
}

func (g *gen) text() string {
	switch x := g.r.intn(100); {
	case x < 55:
		return pick(&g.r, english)
	case x < 92:
		return pick(&g.r, multilingual)
	default:
		return pick(&g.r, long)
	}
}

func (g *gen) media(date int) *faketelegram.FixtureMedia {
	g.mediaID++
	id := 5_000_000_000 + g.mediaID
	switch x := g.r.intn(100); {
	case x < 45:
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaPhoto, ID: id}
	case x < 65:
		f := pick(&g.r, fileNames)
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaDocument, ID: id, FileName: f.name, MimeType: f.mime, Size: int64(10_000 + g.r.intn(5_000_000))}
	case x < 78:
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaVoice, ID: id, MimeType: "audio/ogg", Size: int64(5_000 + g.r.intn(200_000)), Duration: 1 + g.r.intn(120)}
	case x < 88:
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaVideo, ID: id, FileName: fmt.Sprintf("VID_%d.mp4", date), MimeType: "video/mp4", Size: int64(500_000 + g.r.intn(50_000_000)), Duration: 3 + g.r.intn(300)}
	case x < 95:
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaGeo, Lat: 59.3 + float64(g.r.intn(1000))/10000, Long: 18.0 + float64(g.r.intn(1000))/10000}
	default:
		return &faketelegram.FixtureMedia{Kind: faketelegram.MediaContact, Phone: "+1555010" + fmt.Sprint(1000+g.r.intn(24)), Name: pick(&g.r, users).first}
	}
}

// chatter fills a conversation's messages: n messages between members,
// spread from t0 over span seconds, with replies, edits, forwards and media.
func (g *gen) chatter(conv int, members []int64, n, t0, span int, first []faketelegram.FixtureMessage, pins bool) {
	seq := 0
	add := func(m faketelegram.FixtureMessage, reply, pin int) {
		g.boxMsgs = append(g.boxMsgs, &boxMsg{conv: conv, seq: seq, m: m, replyTo: reply, pinSeq: pin})
		seq++
	}
	date := t0
	for _, m := range first {
		m.Date = date
		add(m, -1, -1)
		date += 60 + g.r.intn(600)
	}
	step := span / max(n, 1)
	sender := members[0]
	for i := 0; i < n; i++ {
		date += 1 + g.r.intn(2*step)
		if !g.r.chance(60) {
			sender = pick(&g.r, members)
		}
		m := faketelegram.FixtureMessage{Date: date, From: sender}
		reply := -1
		if seq > 3 && g.r.chance(10) {
			reply = seq - 1 - g.r.intn(min(seq, 10))
		}
		if pins && seq > 5 && g.r.chance(2) {
			add(faketelegram.FixtureMessage{Date: date, From: sender, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionPinMessage}}, -1, seq-1-g.r.intn(5))
			continue
		}
		if g.r.chance(9) {
			m.Media = g.media(date)
			if g.r.chance(40) {
				m.Text = g.text()
			}
		} else {
			m.Text = g.text()
		}
		if g.r.chance(3) {
			if g.r.chance(50) {
				m.Forward = &faketelegram.FixtureForward{From: pick(&g.r, users).id, Date: date - 3600 - g.r.intn(86400*30)}
			} else {
				m.Forward = &faketelegram.FixtureForward{FromName: pick(&g.r, []string{"Hidden Sender", "Аноним", "匿名"}), Date: date - 3600 - g.r.intn(86400*30)}
			}
		}
		if g.r.chance(5) && m.Text != "" {
			m.EditDate = date + 30 + g.r.intn(3600)
			m.Text += " (edited)"
		}
		add(m, reply, -1)
	}
}

// Generate builds the fixture.
func Generate() *faketelegram.Fixture {
	g := &gen{r: rng{s: 20250106}}
	f := &g.fixture
	f.Comment = "Code generated by faketelegram/internal/genfixture; DO NOT EDIT. Regenerate with: go generate ./faketelegram"
	for _, u := range users {
		fu := faketelegram.FixtureUser{ID: u.id, AccessHash: g.r.hash(), FirstName: u.first, LastName: u.last, Username: u.handle, Password: u.password, PasswordHint: u.hint, Bot: u.bot}
		if !u.noPhone {
			fu.Phone, fu.LoginCode = phone(u.id), code(u.id)
		}
		f.Users = append(f.Users, fu)
	}

	// Private chats: the demo user with everyone (one long chat for paging),
	// and a few among the others.
	type pc struct {
		a, b int64
		n    int
	}
	privates := []pc{{1001, 1002, 1500}, {1001, 1003, 260}, {1001, 1004, 180}, {1001, 1005, 140}, {1001, 1006, 120},
		{1001, 1007, 90}, {1001, 1008, 75}, {1001, 1009, 60}, {1001, 1010, 48}, {1001, 1011, 40}, {1001, 1012, 33},
		{1001, 1013, 25}, {1001, 1014, 18}, {1001, 1015, 12}, {1001, 1016, 7}, {1001, 1021, 101}, {1001, 1024, 1},
		{1002, 1003, 120}, {1002, 1007, 80}, {1003, 1005, 50}, {1005, 1006, 30}, {1007, 1009, 25}, {1010, 1011, 20}}
	for i, p := range privates {
		f.PrivateChats = append(f.PrivateChats, faketelegram.FixturePrivate{Users: [2]int64{p.a, p.b}})
		g.boxConvs = append(g.boxConvs, boxConv{private: true, index: i})
		t0 := start + g.r.intn(86400*30)
		g.chatter(len(g.boxConvs)-1, []int64{p.a, p.b}, p.n, t0, 86400*300, nil, false)
	}
	// The bot: forecasts answering /weather.
	{
		f.PrivateChats = append(f.PrivateChats, faketelegram.FixturePrivate{Users: [2]int64{1001, 1099}})
		g.boxConvs = append(g.boxConvs, boxConv{private: true, index: len(f.PrivateChats) - 1})
		conv := len(g.boxConvs) - 1
		date := start + 3600
		for i := 0; i < 40; i++ {
			date += 86400*3 + g.r.intn(86400)
			g.boxMsgs = append(g.boxMsgs, &boxMsg{conv: conv, seq: 2 * i, m: faketelegram.FixtureMessage{Date: date, From: 1001, Text: "/weather"}, replyTo: -1, pinSeq: -1})
			g.boxMsgs = append(g.boxMsgs, &boxMsg{conv: conv, seq: 2*i + 1, m: faketelegram.FixtureMessage{Date: date + 1, From: 1099,
				Text: fmt.Sprintf("🌤 Stockholm: %d°C, wind %d m/s", -5+g.r.intn(30), g.r.intn(12))}, replyTo: 2 * i, pinSeq: -1})
		}
	}

	// Basic groups.
	type grp struct {
		title   string
		creator int64
		members []int64
		n       int
		left    int64 // a member who leaves (chatDeleteUser)
		link    int64 // a member who joins by link
		rename  string
	}
	groups := []grp{
		{"Family 👨‍👩‍👧", 1021, []int64{1001, 1021, 1022, 1023}, 320, 0, 0, "Family 👨‍👩‍👧‍👦"},
		{"Book club 📚", 1001, []int64{1003, 1004, 1009, 1011, 1013}, 210, 1013, 1015, ""},
		{"Climbing Tuesdays 🧗", 1010, []int64{1001, 1012, 1016, 1018}, 150, 0, 1019, ""},
		{"Квартира на Невском", 1005, []int64{1001, 1005, 1017}, 95, 0, 0, "Квартира на Невском 🏠"},
		{"项目组 Project Lotus", 1006, []int64{1001, 1006, 1014, 1020}, 130, 1020, 0, ""},
		{"Class of 2015", 1022, []int64{1001, 1002, 1004, 1008, 1022, 1024}, 60, 0, 1023, ""},
		{"Empty-ish group", 1002, []int64{1003, 1009}, 0, 0, 0, ""},
	}
	for i, gr := range groups {
		id := int64(5001 + i)
		t0 := start + g.r.intn(86400*20)
		members := append([]int64{}, gr.members...)
		if !contains(members, gr.creator) {
			members = append([]int64{gr.creator}, members...)
		}
		all := append([]int64{}, members...)
		if gr.link != 0 {
			all = append(all, gr.link)
		}
		f.Groups = append(f.Groups, faketelegram.FixtureGroup{ID: id, Title: titleAt(gr.title, gr.rename), Creator: gr.creator, Members: without(all, gr.left), Date: t0})
		g.boxConvs = append(g.boxConvs, boxConv{index: i})
		first := []faketelegram.FixtureMessage{{From: gr.creator, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChatCreate, Title: gr.title, Users: members}}}
		if gr.link != 0 {
			first = append(first, faketelegram.FixtureMessage{From: gr.link, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChatJoinedByLink}})
		}
		if gr.rename != "" {
			first = append(first, faketelegram.FixtureMessage{From: gr.creator, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChatEditTitle, Title: gr.rename}})
		}
		talkers := without(all, gr.left)
		if gr.left != 0 {
			// The leaver says goodbye early on, then leaves.
			first = append(first,
				faketelegram.FixtureMessage{From: gr.left, Text: "Sorry folks, I'm leaving — too many notifications 🙈"},
				faketelegram.FixtureMessage{From: gr.left, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChatDeleteUser, Users: []int64{gr.left}}})
		}
		g.chatter(len(g.boxConvs)-1, talkers, gr.n, t0, 86400*320, first, true)
		if gr.n > 100 {
			// Someone new is added late in the year.
			extra := pick(&g.r, []int64{1017, 1018, 1019})
			if !contains(talkers, extra) {
				g.boxMsgs = append(g.boxMsgs, &boxMsg{conv: len(g.boxConvs) - 1, seq: 1 << 20, m: faketelegram.FixtureMessage{Date: start + 86400*350, From: gr.creator, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChatAddUser, Users: []int64{extra}}}, replyTo: -1, pinSeq: -1})
				f.Groups[i].Members = append(f.Groups[i].Members, extra)
			}
		}
	}
	g.assignBoxIDs()

	// Channels: own id sequences.
	type chn struct {
		title, username, kind string
		megagroup             bool
		creator               int64
		members               []int64
		n                     int
	}
	channels := []chn{
		{"Tech Digest", "tech_digest_demo", "tech", false, 1012, []int64{1001, 1003, 1010, 1018, 1022}, 620},
		{"City News 🏙", "citynews_demo", "city", false, 1017, []int64{1001, 1004, 1005, 1021}, 340},
		{"Go Gophers", "gophers_chat_demo", "", true, 1010, []int64{1001, 1003, 1009, 1012, 1014, 1016, 1018, 1022}, 420},
		{"Cat pictures 🐈", "", "cats", false, 1004, []int64{1001, 1011, 1023}, 120},
		{"أخبار المدينة", "akhbar_demo", "arabic", false, 1007, []int64{1001, 1007}, 85},
		{"Neighbourhood 🏘", "", "", true, 1023, []int64{1001, 1015, 1017, 1019, 1021, 1024}, 160},
		{"Public Announcements", "announce_demo", "announce", false, 1012, []int64{1002, 1003}, 30},
		{"Secret Staff Room", "", "secret", false, 1002, []int64{1003}, 12},
	}
	for i, c := range channels {
		id := int64(1_700_000_001 + i)
		t0 := start + g.r.intn(86400*10)
		fc := faketelegram.FixtureChannel{ID: id, AccessHash: g.r.hash(), Title: c.title, Username: c.username, Megagroup: c.megagroup, Creator: c.creator, Members: c.members, Date: t0}
		fc.Messages = append(fc.Messages, faketelegram.FixtureMessage{ID: 1, Date: t0, From: creatorIf(c.megagroup, c.creator), Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionChannelCreate, Title: c.title}})
		date := t0
		step := 86400 * 330 / max(c.n, 1)
		talkers := append([]int64{c.creator}, c.members...)
		for j := 0; j < c.n; j++ {
			date += 1 + g.r.intn(2*step)
			id := len(fc.Messages) + 1
			m := faketelegram.FixtureMessage{ID: id, Date: date}
			if c.megagroup {
				m.From = pick(&g.r, talkers)
				if g.r.chance(8) {
					m.Media = g.media(date)
				} else {
					m.Text = g.text()
				}
				if id > 5 && g.r.chance(15) {
					m.ReplyTo = id - 1 - g.r.intn(4)
				}
				if g.r.chance(4) && m.Text != "" {
					m.EditDate = date + 60 + g.r.intn(600)
					m.Text += " ✏️"
				}
				if id > 10 && g.r.chance(1) {
					m = faketelegram.FixtureMessage{ID: id, Date: date, From: c.creator, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionPinMessage, MessageID: id - 1 - g.r.intn(5)}}
				}
			} else {
				m.Views = 50 + g.r.intn(20_000)
				posts := channelPosts[c.kind]
				if c.kind == "cats" || g.r.chance(12) {
					m.Media = &faketelegram.FixtureMedia{Kind: faketelegram.MediaPhoto, ID: 6_000_000_000 + int64(i)*10_000 + int64(id)}
				}
				if c.kind != "cats" || g.r.chance(50) {
					m.Text = fmt.Sprintf("%s\n\n#%d", pick(&g.r, posts), id)
				}
				if g.r.chance(6) && m.Text != "" {
					m.EditDate = date + 120 + g.r.intn(7200)
					m.Text += "\n\nUPD: fixed a typo"
				}
				if id > 20 && g.r.chance(1) {
					m = faketelegram.FixtureMessage{ID: id, Date: date, Action: &faketelegram.FixtureAction{Kind: faketelegram.ActionPinMessage, MessageID: id - 1 - g.r.intn(10)}}
				}
			}
			fc.Messages = append(fc.Messages, m)
		}
		f.Channels = append(f.Channels, fc)
	}
	entities(f)
	readState(f)
	return f
}

// entities marks what Telegram's clients mark in the text the fixture holds:
// the "#<id>" of broadcast posts as hashtags, "/weather" as a bot command.
func entities(f *faketelegram.Fixture) {
	mark := func(ms []faketelegram.FixtureMessage, broadcast bool) {
		for i := range ms {
			m := &ms[i]
			if m.Text == "/weather" {
				m.Entities = []faketelegram.FixtureEntity{{Type: faketelegram.EntityBotCommand, Offset: 0, Length: utf16Len(m.Text)}}
			}
			if j := strings.Index(m.Text, "\n\n#"); broadcast && j >= 0 {
				tag := m.Text[j+2:]
				if k := strings.IndexByte(tag, '\n'); k >= 0 {
					tag = tag[:k]
				}
				m.Entities = []faketelegram.FixtureEntity{{Type: faketelegram.EntityHashtag, Offset: utf16Len(m.Text[:j+2]), Length: utf16Len(tag)}}
			}
		}
	}
	for i := range f.PrivateChats {
		mark(f.PrivateChats[i].Messages, false)
	}
	for i := range f.Channels {
		mark(f.Channels[i].Messages, !f.Channels[i].Megagroup)
	}
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// The demo user's pinned dialogs and unread messages per dialog (all other
// dialogs are read), and one unread message of 1002's.
var (
	pinned1001 = []faketelegram.Peer{{Chat: 5001}, {User: 1021}, {Channel: 1_700_000_003}}
	pinned1002 = []faketelegram.Peer{{User: 1003}}
	unread     = []struct {
		user int64
		peer faketelegram.Peer
		n    int
	}{
		{1001, faketelegram.Peer{User: 1002}, 4},
		{1001, faketelegram.Peer{User: 1003}, 2},
		{1001, faketelegram.Peer{User: 1021}, 7},
		{1001, faketelegram.Peer{Chat: 5001}, 12},
		{1001, faketelegram.Peer{Chat: 5003}, 3},
		{1001, faketelegram.Peer{Channel: 1_700_000_001}, 25},
		{1001, faketelegram.Peer{Channel: 1_700_000_002}, 9},
		{1001, faketelegram.Peer{Channel: 1_700_000_003}, 40},
		{1001, faketelegram.Peer{Channel: 1_700_000_006}, 5},
		{1002, faketelegram.Peer{User: 1001}, 1},
	}
)

// readState sets the pinned dialogs and each chat's readInbox so that the
// unread counts above hold: a user's read_inbox_max_id is the message just
// before the nth newest message they did not send.
func readState(f *faketelegram.Fixture) {
	for i := range f.Users {
		switch f.Users[i].ID {
		case 1001:
			f.Users[i].Pinned = pinned1001
		case 1002:
			f.Users[i].Pinned = pinned1002
		}
	}
	for _, u := range unread {
		var ms []faketelegram.FixtureMessage
		var read *map[int64]int
		broadcastBy := int64(-1) // the creator of a broadcast channel sends its posts
		switch {
		case u.peer.User != 0:
			for i := range f.PrivateChats {
				if p := &f.PrivateChats[i]; p.Users == [2]int64{u.user, u.peer.User} || p.Users == [2]int64{u.peer.User, u.user} {
					ms, read = p.Messages, &p.ReadInbox
				}
			}
		case u.peer.Chat != 0:
			for i := range f.Groups {
				if g := &f.Groups[i]; g.ID == u.peer.Chat {
					ms, read = g.Messages, &g.ReadInbox
				}
			}
		default:
			for i := range f.Channels {
				if c := &f.Channels[i]; c.ID == u.peer.Channel {
					ms, read = c.Messages, &c.ReadInbox
					if !c.Megagroup {
						broadcastBy = c.Creator
					}
				}
			}
		}
		if read == nil {
			panic(fmt.Sprintf("genfixture: user %d has no chat %+v", u.user, u.peer))
		}
		n, j := 0, len(ms)
		for n < u.n {
			if j--; j < 0 {
				panic(fmt.Sprintf("genfixture: user %d has fewer than %d messages to read in %+v", u.user, u.n, u.peer))
			}
			if m := ms[j]; m.From != u.user && broadcastBy != u.user {
				n++
			}
		}
		id := 0
		if j > 0 {
			id = ms[j-1].ID
		}
		if *read == nil {
			*read = map[int64]int{}
		}
		(*read)[u.user] = id
	}
}

func creatorIf(megagroup bool, creator int64) int64 {
	if megagroup {
		return creator
	}
	return 0
}

func titleAt(title, rename string) string {
	if rename != "" {
		return rename
	}
	return title
}

func contains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func without(xs []int64, x int64) []int64 {
	var out []int64
	for _, y := range xs {
		if y != x {
			out = append(out, y)
		}
	}
	return out
}

// assignBoxIDs gives private chat and group messages ids from one sequence
// in date order, as one Telegram account's message box would.
func (g *gen) assignBoxIDs() {
	sort.SliceStable(g.boxMsgs, func(i, j int) bool {
		a, b := g.boxMsgs[i], g.boxMsgs[j]
		if a.m.Date != b.m.Date {
			return a.m.Date < b.m.Date
		}
		if a.conv != b.conv {
			return a.conv < b.conv
		}
		return a.seq < b.seq
	})
	// Within a conversation the date order must match seq order; dates were
	// generated increasing per conversation except the late chatAddUser
	// (seq 1<<20), which is also the latest, so ids follow seq.
	ids := map[[2]int]int{} // (conv, seq) → id
	for i, bm := range g.boxMsgs {
		bm.m.ID = i + 1
		ids[[2]int{bm.conv, bm.seq}] = bm.m.ID
	}
	for _, bm := range g.boxMsgs {
		if bm.replyTo >= 0 {
			bm.m.ReplyTo = ids[[2]int{bm.conv, bm.replyTo}]
		}
		if bm.pinSeq >= 0 {
			bm.m.Action.MessageID = ids[[2]int{bm.conv, bm.pinSeq}]
		}
		c := g.boxConvs[bm.conv]
		if c.private {
			g.fixture.PrivateChats[c.index].Messages = append(g.fixture.PrivateChats[c.index].Messages, bm.m)
		} else {
			g.fixture.Groups[c.index].Messages = append(g.fixture.Groups[c.index].Messages, bm.m)
		}
	}
}

// JSON returns the fixture as indented JSON (what fixture.json.gz holds).
func JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(Generate()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
