package logging

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
