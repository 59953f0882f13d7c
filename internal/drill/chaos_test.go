package drill

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/chaos"
	"github.com/alpha-orion/runbook/internal/sandbox"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
)

// TestHTTPFault maps each planned fault onto the emulators' pipeline.
func TestHTTPFault(t *testing.T) {
	t.Parallel()
	base := chaos.Fault{Target: chaos.Render, Method: "GET", Path: "/services", Skip: 1, Times: 2}
	tests := []struct {
		kind  chaos.Kind
		edit  func(*chaos.Fault)
		check func(f neonemu.Fault) bool
	}{
		{chaos.Throttle, func(f *chaos.Fault) { f.Delay = time.Second }, func(f neonemu.Fault) bool {
			return f.Status == 429 && f.RetryAfter == time.Second && !f.RetryAfterDate
		}},
		{chaos.ThrottleDate, func(f *chaos.Fault) { f.Delay = time.Second }, func(f neonemu.Fault) bool {
			return f.Status == 429 && f.RetryAfter == time.Second && f.RetryAfterDate
		}},
		{chaos.ThrottleBare, nil, func(f neonemu.Fault) bool { return f.Status == 429 && f.RetryAfter == 0 }},
		{chaos.ServerError, func(f *chaos.Fault) { f.Status, f.AfterEffect = 502, true }, func(f neonemu.Fault) bool {
			return f.Status == 502 && f.AfterEffect
		}},
		{chaos.Slow, func(f *chaos.Fault) { f.Delay = 200 * time.Millisecond }, func(f neonemu.Fault) bool {
			return f.Status == 0 && f.Delay == 200*time.Millisecond && !f.Drop
		}},
		{chaos.Drop, nil, func(f neonemu.Fault) bool { return f.Status == 0 && f.Drop }},
	}
	for _, tc := range tests {
		f := base
		f.Kind = tc.kind
		if tc.edit != nil {
			tc.edit(&f)
		}
		got := httpFault(f, "chaos-3")
		if !tc.check(got) || got.Method != "GET" || got.PathContains != "/services" || got.Skip != 1 || got.Times != 2 || got.Label != "chaos-3" {
			t.Errorf("%s: %+v", tc.kind, got)
		}
	}
}

// TestReplaceValue points the run at the restartable endpoint wherever
// the stage named the chain's.
func TestReplaceValue(t *testing.T) {
	t.Parallel()
	st := &sandbox.Stage{
		Params:    map[string]string{"rpc": "http://a", "other": "x"},
		Secrets:   map[string]string{"ETH_RPC_URL": "http://a"},
		Env:       map[string]string{"E": "http://a/more"},
		Overrides: map[string]map[string]any{"contract": {"rpc_url": "http://a", "chain_id": 1337}},
	}
	replaceValue(st, "http://a", "http://b")
	if st.Params["rpc"] != "http://b" || st.Params["other"] != "x" || st.Secrets["ETH_RPC_URL"] != "http://b" ||
		st.Env["E"] != "http://a/more" || st.Overrides["contract"]["rpc_url"] != "http://b" || st.Overrides["contract"]["chain_id"] != 1337 {
		t.Errorf("%+v", st)
	}
}

// TestRPCProxyRestarts: the endpoint answers, drops the request whose turn
// it is and refuses connections for a moment, then answers again on the
// same address, the node behind it unchanged.
func TestRPCProxyRestarts(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":"0x1"}`)
	}))
	defer node.Close()
	p, err := startRPCProxy(node.URL, "", 1, 300*time.Millisecond, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	p.gate = make(chan struct{}) // down until the test has seen it refuse
	client := &http.Client{Transport: &http.Transport{}}
	post := func() error {
		resp, err := client.Post(p.url(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !bytes.Contains(b, []byte(`"result":"0x1"`)) {
			t.Fatalf("answer %s", b)
		}
		return nil
	}
	if err := post(); err != nil {
		t.Fatalf("before the restart: %v", err)
	}
	if err := post(); err == nil {
		t.Fatal("the restart's request was answered")
	}
	if !p.restarted() {
		t.Error("restarted() is false after the restart")
	}
	if err := post(); err == nil {
		t.Error("a request during the restart was answered")
	}
	close(p.gate)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for post() != nil {
		if ctx.Err() != nil {
			t.Fatal("the endpoint never came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := served.Load(); got != 2 {
		t.Errorf("the node served %d requests, want 2 (the dropped ones never reached it)", got)
	}
}

// TestCorruptReads: the chosen downloads carry a flipped bit, the others
// pass through untouched.
func TestCorruptReads(t *testing.T) {
	t.Parallel()
	g := &GCS{}
	g.corruptReads(1, 1)
	h := g.recording(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "dump") }))
	var got []string
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/storage/v1/b/bk/o/d.sql?alt=media", nil))
		got = append(got, rec.Body.String())
	}
	if want := "dump|eump|dump"; strings.Join(got, "|") != want {
		t.Errorf("bodies %q, want %q", strings.Join(got, "|"), want)
	}
	if !g.corruptionsDone() {
		t.Error("corruptionsDone is false")
	}
}

// TestDNSPropagationDelay: under the fault a published change stays
// invisible to a resolver beyond its usual delay; without it the change
// shows.
func TestDNSPropagationDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		extra   time.Duration
		visible bool
	}{
		{"delayed", time.Hour, false},
		{"not delayed", 0, true},
	} {
		w, err := NewWorld()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		d, err := w.DNS()
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Set("api.example.com", "CNAME", "old.example.com"); err != nil {
			t.Fatal(err)
		}
		d.delayPropagation(tc.extra)
		d.Publish("api.example.com", "CNAME", 0, "new.example.com")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var got []string
		for ctx.Err() == nil {
			got, err = d.Lookup(ctx, "api.example.com", "CNAME")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.visible || (len(got) == 1 && got[0] == "new.example.com") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		want := "old.example.com"
		if tc.visible {
			want = "new.example.com"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: resolver answers %v, want %s", tc.name, got, want)
		}
		if d.delayedAny() != (tc.extra > 0) {
			t.Errorf("%s: delayedAny = %t", tc.name, d.delayedAny())
		}
	}
}
