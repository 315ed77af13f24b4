// Package v8inspect reads the V8 heap of a worker's isolate through workerd's
// inspector (the Chrome DevTools protocol over a WebSocket), for make soak's
// memory figures: workerd does not expose the JavaScript heap to the worker
// itself. It needs the inspector wrangler dev enables; deployed Workers have
// none.
package v8inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"nhooyr.io/websocket"
)

// Heap is what V8 reports for one isolate (Runtime.getHeapUsage).
type Heap struct {
	Used  uint64 `json:"usedSize"`  // bytes of the JavaScript heap in use, garbage included
	Total uint64 `json:"totalSize"` // bytes V8 has reserved for it
}

// Find returns the address of the inspector of workerd process pid: the
// loopback port it listens on that answers the DevTools target list.
func Find(pid int) (string, error) {
	ports, err := listeningPorts(pid)
	if err != nil {
		return "", err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, p := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		resp, err := client.Get("http://" + addr + "/json/list")
		if err != nil {
			continue
		}
		var targets []struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&targets)
		resp.Body.Close()
		if err == nil && len(targets) > 0 {
			return addr, nil
		}
	}
	return "", fmt.Errorf("workerd %d: no inspector among its listening ports %v (wrangler dev enables one)", pid, ports)
}

// listeningPorts are the TCP ports process pid listens on (IPv4).
func listeningPorts(pid int) ([]int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(dir, "fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	table, err := os.ReadFile(filepath.Join(dir, "net", "tcp"))
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, line := range bytes.Split(table, []byte("\n"))[1:] {
		f := strings.Fields(string(line))
		// sl local_address rem_address st ... inode is the tenth field.
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
			continue
		}
		if i := strings.IndexByte(f[1], ':'); i >= 0 {
			if p, err := strconv.ParseUint(f[1][i+1:], 16, 16); err == nil {
				ports = append(ports, int(p))
			}
		}
	}
	return ports, nil
}

// HeapUsage asks the inspector at addr for the heap of worker's isolate (the
// name in wrangler.toml). With collect, it first asks V8 for a full garbage
// collection, so Used is what the isolate retains. An idle isolate left that
// unanswered here until the worker served a request, so kick (if not nil) is
// called every 500 ms while an answer is awaited, to send it one.
//
// workerd keeps one inspector session per isolate, and wrangler's dev proxy
// holds one: each side's connection closes the other's, so a session closed
// under us is tried again.
func HeapUsage(ctx context.Context, addr, worker string, collect bool, kick func()) (Heap, error) {
	for attempt := 1; ; attempt++ {
		h, err := heapUsage(ctx, addr, worker, collect, kick)
		if err == nil || attempt == 5 || ctx.Err() != nil || websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			return h, err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}

func heapUsage(ctx context.Context, addr, worker string, collect bool, kick func()) (Heap, error) {
	var h Heap
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/core:user:"+worker, nil)
	if err != nil {
		return h, fmt.Errorf("inspector of %s: %w", worker, err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	c.SetReadLimit(1 << 20)
	call := func(id int, method string, into any) error {
		b, _ := json.Marshal(map[string]any{"id": id, "method": method})
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			return fmt.Errorf("inspector of %s: %s: %w", worker, method, err)
		}
		type reply struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		got := make(chan reply, 1)
		failed := make(chan error, 1)
		go func() {
			for {
				_, msg, err := c.Read(ctx)
				if err != nil {
					failed <- err
					return
				}
				var r reply
				if json.Unmarshal(msg, &r) == nil && r.ID == id {
					got <- r
					return
				}
			}
		}()
		slow := time.NewTicker(500 * time.Millisecond)
		defer slow.Stop()
		for {
			select {
			case r := <-got:
				if r.Error != nil {
					return fmt.Errorf("inspector of %s: %s: %s", worker, method, r.Error.Message)
				}
				if into != nil {
					return json.Unmarshal(r.Result, into)
				}
				return nil
			case err := <-failed:
				return fmt.Errorf("inspector of %s: %s: %w", worker, method, err)
			case <-slow.C:
				if kick != nil {
					kick()
				}
			}
		}
	}
	if collect {
		if err := call(1, "HeapProfiler.collectGarbage", nil); err != nil {
			return h, err
		}
	}
	return h, call(2, "Runtime.getHeapUsage", &h)
}
