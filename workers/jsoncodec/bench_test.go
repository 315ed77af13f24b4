package jsoncodec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// benchSession has the shape of telegramauth.Session; its methods are what
// rpcgen generates for it.
type benchSession struct {
	SessionString string    `json:"sessionString"`
	SessionID     string    `json:"sessionId"`
	UserID        int64     `json:"userId"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

func (v *benchSession) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"sessionString":`...)
	dst = AppendString(dst, v.SessionString)
	dst = append(dst, `,"sessionId":`...)
	dst = AppendString(dst, v.SessionID)
	dst = append(dst, `,"userId":`...)
	dst = AppendInt(dst, v.UserID)
	dst = append(dst, `,"expiresAt":`...)
	dst = AppendTime(dst, v.ExpiresAt)
	return append(dst, '}')
}

func (v *benchSession) DecodeJSON(d *Decoder) error {
	return d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "sessionString":
			v.SessionString, err = d.String()
			err = WithField("sessionString", err)
		case "sessionId":
			v.SessionID, err = d.String()
			err = WithField("sessionId", err)
		case "userId":
			v.UserID, err = d.Int64()
			err = WithField("userId", err)
		case "expiresAt":
			v.ExpiresAt, err = d.Time()
			err = WithField("expiresAt", err)
		}
		return err
	})
}

var benchValue = benchSession{
	// A GramJS session string is about 350 bytes of base64.
	SessionString: "1" + strings.Repeat("AgAAAAAQ0WoBuzD4", 22),
	SessionID:     "8f14e45f-ceea-467f-a8f6-0c4d1e5b3a2c",
	UserID:        123456789,
	ExpiresAt:     time.Date(2026, 11, 26, 22, 22, 44, 123e6, time.UTC),
}

func TestBenchSessionRoundTrip(t *testing.T) {
	b := benchValue.AppendJSON(nil)
	var std benchSession
	if err := json.Unmarshal(b, &std); err != nil || std != benchValue {
		t.Fatalf("encoding/json reads %s as %+v, %v", b, std, err)
	}
	var got benchSession
	d := NewDecoder(b)
	if err := got.DecodeJSON(d); err != nil || got != benchValue {
		t.Fatalf("DecodeJSON: %+v, %v", got, err)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkEncode(b *testing.B) {
	b.Run("jsoncodec", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = benchValue.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&benchValue); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := benchValue.AppendJSON(nil)
	b.Run("jsoncodec", func(b *testing.B) {
		b.ReportAllocs()
		var d Decoder
		for b.Loop() {
			var v benchSession
			d.Reset(data)
			if err := v.DecodeJSON(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v benchSession
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := benchValue.SessionString
	b.SetBytes(int64(len(s)))
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
