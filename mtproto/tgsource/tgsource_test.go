//go:build !js

package tgsource_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/mtproto/tgsource"
)

type queue struct{ jobs []ingest.Job }

func (q *queue) Enqueue(ctx context.Context, jobs []ingest.Job, delay time.Duration) error {
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// TestSyncFromTheLocalTelegram syncs fixture user 1001 through gotd's client
// against the local Telegram, then reads every dialog's history again page by
// page, and compares.
func TestSyncFromTheLocalTelegram(t *testing.T) {
	ctx := context.Background()
	fake, err := faketelegram.Start(ctx, faketelegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	minted, err := fake.MintSession(mctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	sess, _, err := sessionstring.Parse(minted)
	if err != nil {
		t.Fatal(err)
	}
	ep := fake.Endpoint()
	ep.Timeout = time.Minute
	client := tgclient.New(tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}, ep, (&net.Dialer{}).DialContext)
	dial := func(ctx context.Context, userID int64, fn func(context.Context, ingest.Source) error) error {
		return client.Run(ctx, sess, func(ctx context.Context, api *tg.Client) error { return fn(ctx, tgsource.Source{API: api}) })
	}
	db := sqlitetest.Open(t, "../../services/ingestor/migrations")
	shard := sqlitetest.Open(t, "../../services/ingestor/migrations-messages")
	q := &queue{}
	svc, err := ingest.New(db, []*sql.DB{shard}, ingest.Config{Shards: 1, PagesPerSlice: 40}, dial, q, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.StartSync(ctx, 1001); err != nil {
		t.Fatal(err)
	}
	for i := 0; len(q.jobs) > 0; i++ {
		if i > 50 {
			t.Fatal("more than 50 slices")
		}
		job := q.jobs[0]
		q.jobs = q.jobs[1:]
		if r := svc.RunSlice(ctx, job, 1); r.RetryAfter > 0 {
			t.Fatalf("slice %d asks to retry after %v", i, r.RetryAfter)
		}
	}
	st, _ := svc.Status(ctx, 1001)
	if st.State != ingest.StateIdle || st.DialogsDone != st.DialogsTotal || st.DialogsTotal < 20 || st.MessagesStored < 5000 {
		t.Fatalf("after the sync: %+v", st)
	}

	// Every dialog again, by hand, one page after another.
	var want int
	kinds := map[string]int{}
	err = client.Run(ctx, sess, func(ctx context.Context, api *tg.Client) error {
		src := tgsource.Source{API: api}
		cursor := ""
		for {
			page, _, next, err := src.Dialogs(ctx, cursor, 100)
			if err != nil {
				return err
			}
			for _, d := range page {
				offset := 0
				var n int
				for {
					msgs, err := src.History(ctx, d, offset, 100)
					if err != nil {
						return err
					}
					for _, m := range msgs {
						if m.Action != "" {
							kinds["service"]++
						}
						if m.Media != nil {
							var md struct{ Kind string }
							json.Unmarshal(m.Media, &md)
							kinds["media:"+md.Kind]++
						}
						if m.Entities != nil {
							kinds["entities"]++
						}
						if m.Forward != nil {
							kinds["forward"]++
						}
						if m.Peer != d.Peer || m.Sender == "" && !strings.HasPrefix(d.Peer, "channel:") {
							t.Errorf("message %d of %s: peer %q sender %q", m.ID, d.Peer, m.Peer, m.Sender)
						}
					}
					n += len(msgs)
					if len(msgs) < 100 {
						break
					}
					offset = msgs[len(msgs)-1].ID
				}
				stored, _, err := svc.Messages(ctx, 1001, d.Peer, 1, 0)
				if err != nil || (n > 0 && len(stored) == 0) {
					t.Errorf("%s: %v", d.Peer, err)
				}
				want += n
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.MessagesStored != want {
		t.Errorf("stored %d messages, Telegram serves %d", st.MessagesStored, want)
	}
	t.Logf("user 1001: %d dialogs, %d messages; %v", st.DialogsTotal, want, kinds)
	for _, k := range []string{"service", "forward", "media:photo", "media:document"} {
		if kinds[k] == 0 {
			t.Errorf("the fixture's messages have no %s, or they were lost", k)
		}
	}
}
