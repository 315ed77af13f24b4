package workers

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// A response body up to this size is sent in one piece when the handler
// returns; a larger one, or one the handler flushes, is streamed.
const responseBufferSize = 64 << 10

func serveFetch(id uint32, payload []byte) {
	r := wire.NewReader(payload)
	method := r.String()
	url := r.String()
	header := readHeaders(r)
	hasBody := r.U8() == 1

	ctx, cancel := context.WithCancel(bridge.WithRequest(context.Background(), &bridge.Request{ID: id}))
	defer cancel()
	w := &responseWriter{ctx: ctx, header: http.Header{}}

	var body io.ReadCloser = http.NoBody
	if hasBody {
		body = &requestBody{ctx: ctx}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if r.Err() != nil || err != nil {
		w.header.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "bad request\n")
		w.finish(nil)
		return
	}
	req.Header = header
	req.Host = req.URL.Host
	if cl := header.Get("Content-Length"); cl != "" {
		req.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	} else if hasBody {
		req.ContentLength = -1
	}
	if ip := header.Get("CF-Connecting-IP"); ip != "" {
		req.RemoteAddr = net.JoinHostPort(ip, "0")
	}

	var failure error
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					failure = errors.New("handler aborted")
					return
				}
				perr := &PanicError{Value: v, Stack: debug.Stack()}
				logPanic(perr)
				failure = perr
			}
		}()
		handlers.Fetch.ServeHTTP(w, req)
	}()
	w.finish(failure)
}

// responseWriter buffers small responses and streams large or flushed ones.
type responseWriter struct {
	ctx         context.Context
	header      http.Header
	status      int
	wroteHeader bool
	buf         []byte
	streaming   bool
	err         error // the first streaming error; later writes fail with it
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if status < 100 || status > 999 {
		panic("workers: invalid status code " + strconv.Itoa(status))
	}
	if status < 200 { // 1xx informational responses cannot be sent by a worker
		return
	}
	w.wroteHeader = true
	w.status = status
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if w.header.Get("Content-Type") == "" && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.streaming {
		if len(w.buf)+len(p) <= responseBufferSize {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if err := w.startStreaming(); err != nil {
			return 0, err
		}
	}
	if err := w.send(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends what is buffered and switches to streaming.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.streaming && w.err == nil {
		w.startStreaming()
	}
}

func (w *responseWriter) head() *wire.Writer {
	var ww wire.Writer
	ww.U32(uint32(w.status))
	writeHeaders(&ww, w.header)
	return &ww
}

func (w *responseWriter) startStreaming() error {
	w.streaming = true
	if _, err := bridge.Do(w.ctx, bridge.OpRespondHead, w.head().Buf); err != nil {
		w.err = err
		return err
	}
	buf := w.buf
	w.buf = nil
	if len(buf) > 0 {
		return w.send(buf)
	}
	return nil
}

func (w *responseWriter) send(p []byte) error {
	for len(p) > 0 {
		chunk := p[:min(len(p), responseBufferSize)]
		rep, err := bridge.Do(w.ctx, bridge.OpBodyWrite, chunk)
		if err == nil && rep.Status != bridge.StatusOK {
			err = errors.New("workers: the client stopped reading the response")
		}
		if err != nil {
			w.err = err
			return err
		}
		p = p[len(chunk):]
	}
	return nil
}

// finish ends the response after the handler returned (failure is its panic).
func (w *responseWriter) finish(failure error) {
	if w.streaming {
		var ww wire.Writer
		if failure != nil {
			ww.U8(0)
			ww.String("handler failed while streaming the response")
		} else {
			ww.U8(1)
			ww.String("")
		}
		bridge.Post(w.ctx, bridge.OpBodyEnd, ww.Buf)
		return
	}
	if failure != nil {
		w.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
		w.status = http.StatusInternalServerError
		w.buf = append(w.buf[:0], "internal error\n"...)
	} else if !w.wroteHeader {
		w.status = http.StatusOK
	}
	hw := w.head()
	hw.Bytes(w.buf)
	bridge.Post(w.ctx, bridge.OpRespond, hw.Buf)
}

// requestBody reads the request body from JavaScript chunk by chunk.
type requestBody struct {
	ctx  context.Context
	rest []byte
	err  error
}

func (b *requestBody) Read(p []byte) (int, error) {
	for len(b.rest) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		rep, err := bridge.Do(b.ctx, bridge.OpBodyRead, nil)
		switch {
		case err != nil:
			b.err = err
		case rep.Status == bridge.StatusEOF:
			b.err = io.EOF
		case rep.Status != bridge.StatusOK:
			b.err = errors.New("workers: reading the request body failed")
		default:
			b.rest = rep.Payload
		}
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *requestBody) Close() error {
	if b.err == nil {
		b.err = errors.New("workers: read of closed request body")
	}
	return nil
}
