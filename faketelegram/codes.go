package faketelegram

import (
	"context"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// How a login code was sent (SentCode.Type; the control API's "type").
const (
	// CodeTypeApp is auth.sendCode's: a message in the Telegram app
	// (auth.sentCodeTypeApp).
	CodeTypeApp = "app"
	// CodeTypeSMS is auth.resendCode's: a text message
	// (auth.sentCodeTypeSms).
	CodeTypeSMS = "sms"
)

// SentCode is the last login code the server sent to a phone.
type SentCode struct {
	Phone string // digits only, as NormalizePhone returns it
	Code  string // the user's login code
	Type  string // how the last one was sent: CodeTypeApp or CodeTypeSMS
	// Sends counts the codes sent to the phone since Start: every
	// auth.sendCode and auth.resendCode answered with auth.sentCode.
	Sends  int
	SentAt time.Time // when the last one was sent
}

// LastCode returns the last login code the server sent to phone (any
// form NormalizePhone takes: "+1 555 010 1002" is "15550101002").
func (s *Server) LastCode(phone string) (SentCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.sent[NormalizePhone(phone)]
	if !ok {
		return SentCode{}, false
	}
	return *c, true
}

// recordSend notes a code sent to u. s.mu must be held.
func (s *Server) recordSend(u FixtureUser, typ string, now time.Time) {
	c, ok := s.sent[u.Phone]
	if !ok {
		c = &SentCode{Phone: u.Phone}
		s.sent[u.Phone] = c
	}
	c.Code, c.Type, c.SentAt = u.LoginCode, typ, now
	c.Sends++
}

// codeFor returns the code a request names by its phone and
// phone_code_hash, as auth.signIn, auth.resendCode and auth.cancelCode
// check it: 400 PHONE_CODE_HASH_EMPTY, PHONE_CODE_EXPIRED (a hash unknown,
// used, cancelled, expired or of another auth key) or PHONE_NUMBER_INVALID
// (the hash was sent to another phone). s.mu must be held.
func (s *Server) codeFor(in reqInfo, phone, hash string) (*pendingCode, error) {
	if hash == "" {
		return nil, tgerr.New(400, "PHONE_CODE_HASH_EMPTY")
	}
	p, ok := s.codes[hash]
	if !ok || p.key != in.key || in.now.After(p.expires) {
		return nil, tgerr.New(400, "PHONE_CODE_EXPIRED")
	}
	if NormalizePhone(phone) != p.phone {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	return p, nil
}

// authResendCode sends the code again, as a text message: the same hash,
// still valid until 5 minutes after auth.sendCode, and no next type.
func (s *Server) authResendCode(ctx context.Context, req *tg.AuthResendCodeRequest) (tg.AuthSentCodeClass, error) {
	in := info(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.codeFor(in, req.PhoneNumber, req.PhoneCodeHash)
	if err != nil {
		return nil, err
	}
	u, _ := s.fx.User(p.user)
	s.recordSend(u, CodeTypeSMS, in.now)
	return &tg.AuthSentCode{
		Type:          &tg.AuthSentCodeTypeSMS{Length: len(u.LoginCode)},
		PhoneCodeHash: req.PhoneCodeHash,
	}, nil
}

// authCancelCode forgets a code: its hash answers PHONE_CODE_EXPIRED from
// then on.
func (s *Server) authCancelCode(ctx context.Context, req *tg.AuthCancelCodeRequest) (bool, error) {
	in := info(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.codeFor(in, req.PhoneNumber, req.PhoneCodeHash); err != nil {
		return false, err
	}
	delete(s.codes, req.PhoneCodeHash)
	return true, nil
}
