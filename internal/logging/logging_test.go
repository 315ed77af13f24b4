package logging

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPLogsOneLinePerRequest(t *testing.T) {
	var buf bytes.Buffer
	log := New("test", &buf)
	h := HTTP(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	req := httptest.NewRequest("GET", "/x/1", nil)
	req.Header.Set("X-Service-ID", "svc")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if line["service"] != "test" || line["msg"] != "http" || line["status"] != float64(418) || line["caller"] != "svc" || line["path"] != "/x/1" {
		t.Errorf("line = %v", line)
	}
}

// A caller's X-Service-ID is logged only if it is a service id, and a path
// only up to a bound: a request cannot write what it likes into the log.
func TestHTTPLogsOnlyValidatedCallers(t *testing.T) {
	for header, want := range map[string]string{
		"svc.ok_1":                                "svc.ok_1",
		"evil\u2028\"}{\"injected\":1":            "invalid",
		"not a service id; DROP TABLE access_log": "invalid",
		strings.Repeat("a", 65):                   "invalid",
		"":                                        "",
	} {
		var buf bytes.Buffer
		h := HTTP(New("test", &buf), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest("GET", "/"+strings.Repeat("p", 1000), nil)
		req.Header.Set("X-Service-ID", header)
		h.ServeHTTP(httptest.NewRecorder(), req)
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, buf.Bytes())
		}
		if line["caller"] != want || len(line["path"].(string)) > 256 || strings.Contains(buf.String(), "injected") {
			t.Errorf("X-Service-ID %.20q: line %s", header, buf.Bytes())
		}
	}
}
