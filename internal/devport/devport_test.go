package devport

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"testing"
)

// A port another program listens on (on loopback, or on every interface as
// `python3 -m http.server` does) is named, with a free port to choose
// instead; a free port passes.
func TestCheck(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		err = Check(port)
		want := fmt.Sprintf("port %d is busy: another program listens on 127.0.0.1:%d", port, port)
		if err == nil || !regexp.MustCompile(`(?s)`+regexp.QuoteMeta(want)+`.*make dev PORT=\d+$`).MatchString(err.Error()) {
			t.Errorf("%s taken: %v", addr, err)
		} else {
			suggested, _ := strconv.Atoi(regexp.MustCompile(`PORT=(\d+)$`).FindStringSubmatch(err.Error())[1])
			if suggested <= port {
				t.Errorf("suggests %d after %d", suggested, port)
			} else if l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", suggested)); err != nil {
				t.Errorf("suggests %d, which is busy: %v", suggested, err)
			} else {
				l2.Close()
			}
		}
		l.Close()
		if err := Check(port); err != nil {
			t.Errorf("after the listener closed: %v", err)
		}
	}
	if err := Check(70000); err == nil {
		t.Error("PORT=70000 accepted")
	}
}
