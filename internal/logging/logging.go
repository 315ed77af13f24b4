// Package logging is the services' structured logging: JSON lines through
// log/slog to standard output (the worker's console), one line per request or
// RPC call. Nothing secret is ever passed to it: session strings, keys, API
// keys and secrets stay out of attributes and messages.
package logging

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/workers"
)

// New returns a JSON logger for service writing to w (the worker's console,
// workers.Console, when nil).
func New(service string, w io.Writer) *slog.Logger {
	if w == nil {
		w = workers.Console
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", service)
}

// HTTP logs one line per request served by next: method, path, status,
// duration, and the X-Service-ID the caller claims, as
// httpapi.ClaimedServiceID records it: a well-formed service id, "invalid"
// for anything else (the raw header is anyone's text, of any length), ""
// when absent.
func HTTP(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "http",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.String("caller", httpapi.ClaimedServiceID(r)),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
		)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
