package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/testenv"
	"github.com/chromedp/chromedp"
)

// chromium finds a headless-capable Chromium: missing, it skips the test,
// or fails it under CI=true (scripts/test.sh installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "the HTML report's browser test", errors.New("chromium is not on PATH (apt-get install chromium; scripts/test.sh installs it)"))
	return ""
}

// box is an element's rectangle on the page, in CSS pixels from the page's top left.
type box struct{ X, Y, W, H float64 }

// visible reports whether the box takes room on the page.
func (b box) visible() bool { return b.W >= 1 && b.H >= 1 }

// renderedRow is one row of the timeline table as the browser laid it out.
type renderedRow struct {
	ID, Status, Colour string
	Box                box
}

// rendered is what Chromium shows of a page, read through the DevTools
// protocol after layout: the visible text (innerText honours CSS), the
// computed colours and the boxes of the elements a reader looks at, and a
// screenshot of the whole page.
type rendered struct {
	Title string
	Text  string
	Badge *struct {
		Text, Background string
		Box              box
	}
	Rows        []renderedRow
	Bars        []box
	ScrollWidth float64
	ViewWidth   float64
	Shot        image.Image
}

// readRendered is the script that collects rendered's fields.
const readRendered = `(() => {
  const box = e => { const r = e.getBoundingClientRect(); return {X: r.x + scrollX, Y: r.y + scrollY, W: r.width, H: r.height}; };
  const badge = document.querySelector('header .badge');
  const rows = [...document.querySelectorAll('table tbody tr')].filter(tr => tr.querySelector('.st')).map(tr => {
    const st = tr.querySelector('.st'), id = tr.querySelector('code');
    return {ID: id ? id.innerText : '', Status: st.innerText, Colour: getComputedStyle(st).color, Box: box(tr)};
  });
  return {
    Title: document.title,
    Text: document.body ? document.body.innerText : '',
    Badge: badge ? {Text: badge.innerText, Background: getComputedStyle(badge).backgroundColor, Box: box(badge)} : null,
    Rows: rows,
    Bars: [...document.querySelectorAll('svg rect.bar')].map(box),
    ScrollWidth: document.documentElement.scrollWidth,
    ViewWidth: innerWidth,
  };
})()`

// render opens each page in one headless Chromium, 1200 px wide, and
// reads what it shows.
func render(t *testing.T, pages map[string][]byte) map[string]*rendered {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true), chromedp.Env("HOME="+dir))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	out := map[string]*rendered{}
	for name, html := range pages {
		file := filepath.Join(dir, name+".html")
		if err := os.WriteFile(file, html, 0o644); err != nil {
			t.Fatal(err)
		}
		tctx, tcancel := chromedp.NewContext(bctx)
		err := chromedp.Do(tctx, chromedp.Navigate("file://"+file))
		var r rendered
		if err == nil {
			r, err = chromedp.Run(tctx, chromedp.Evaluate[rendered](readRendered))
		}
		var shot []byte
		if err == nil {
			shot, err = chromedp.Run(tctx, chromedp.FullScreenshot(100))
		}
		tcancel()
		if err != nil {
			t.Fatalf("rendering %s: %v", name, err)
		}
		if r.Shot, err = png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatalf("%s: the screenshot is not a PNG: %v", name, err)
		}
		if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" && name == "report" {
			if err := os.WriteFile(keep, shot, 0o644); err != nil {
				t.Error(err)
			}
		}
		out[name] = &r
	}
	return out
}

// statusColours are the report's colours for step statuses, as computed
// styles; a status not listed here is drawn in some other colour.
var statusColours = map[string]string{
	"failed":    "rgb(197, 48, 48)",
	"succeeded": "rgb(47, 133, 90)",
	"skipped":   "rgb(97, 110, 124)",
}

// reportProblems lists how the page p fails to show the run r to a
// reader. What is expected comes from r, the journal's account of the run,
// never from the page.
func reportProblems(r *Run, p *rendered) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !strings.Contains(p.Title, r.Runbook) {
		add("title %q does not name runbook %s", p.Title, r.Runbook)
	}
	if !strings.Contains(p.Text, "Incident report: "+r.Runbook) {
		add("no visible heading naming %s", r.Runbook)
	}
	switch b := p.Badge; {
	case b == nil:
		add("no status badge")
	case !b.Box.visible():
		add("the status badge takes no room")
	case b.Text != strings.ToUpper(r.Status):
		add("badge says %q, the run %s", b.Text, r.Status)
	case r.Status == "failed" && b.Background != statusColours["failed"]:
		add("the FAILED badge is %s, not red", b.Background)
	case r.Status == "failed" && share(p.Shot, b.Box, color.RGBA{0xc5, 0x30, 0x30, 0xff}) < 0.5:
		add("in the screenshot, only %.0f%% of the FAILED badge is red", 100*share(p.Shot, b.Box, color.RGBA{0xc5, 0x30, 0x30, 0xff}))
	}
	rows := map[string]renderedRow{}
	for _, row := range p.Rows {
		rows[row.ID] = row
	}
	bars := 0
	for _, s := range r.Steps {
		if s.Attempts > 0 {
			bars++
		}
		row, ok := rows[s.ID]
		switch {
		case !ok:
			add("step %s has no row in the timeline", s.ID)
		case !row.Box.visible():
			add("step %s's row takes no room", s.ID)
		case !strings.HasPrefix(row.Status, s.Status):
			add("step %s shows %q, the journal says %s", s.ID, row.Status, s.Status)
		case statusColours[s.Status] != "" && row.Colour != statusColours[s.Status]:
			add("step %s's status %s is drawn %s, want %s", s.ID, s.Status, row.Colour, statusColours[s.Status])
		}
		if first, _, _ := strings.Cut(s.Error, "\n"); first != "" && !strings.Contains(p.Text, first) {
			add("step %s's error %q is not shown as text", s.ID, first)
		}
	}
	drawn := 0
	for _, b := range p.Bars {
		if b.visible() {
			drawn++
		}
	}
	if drawn != bars {
		add("the Gantt chart draws %d bars, the run has %d steps that ran", drawn, bars)
	}
	if p.ScrollWidth > p.ViewWidth {
		add("the page is %v px wide in a %v px window", p.ScrollWidth, p.ViewWidth)
	}
	return problems
}

// share is the fraction of the screenshot's pixels inside b that are near c.
func share(img image.Image, b box, c color.RGBA) float64 {
	var in, all int
	for y := int(b.Y); y < int(b.Y+b.H); y++ {
		for x := int(b.X); x < int(b.X+b.W); x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if near(color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}, c) {
				in++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(in) / float64(all)
}

// near reports whether two colours differ by at most 24 in every channel.
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return x-y <= 24 || y-x <= 24 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// TestHTMLReportRendersInBrowser opens the HTML report of a failed run in
// headless Chromium and checks what a reader sees against the journal: the
// heading, the red FAILED badge (computed style and the screenshot's
// pixels), every step's row, status and colour, the errors as text (the
// error holds a <script> tag, which must show as text), one Gantt bar per
// step that ran, nothing wider than the window. The same checks run on
// broken pages, each of which must be caught, so the test can fail.
// REPORT_SCREENSHOT=FILE keeps the report's screenshot.
func TestHTMLReportRendersInBrowser(t *testing.T) {
	r := readCase(t, "failed", "testdata/pitr.yaml")
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	report := b.Bytes()
	withCSS := func(css string) []byte {
		return bytes.Replace(report, []byte("</style>"), []byte(css+"\n</style>"), 1)
	}
	broken := map[string][]byte{
		"red-error-page": []byte(`<!DOCTYPE html><html><head><title>Incident report: pitr</title></head>` +
			`<body style="background:#c53030;color:#fff"><h1>500 Internal Server Error</h1></body></html>`),
		"timeline-hidden":   withCSS("table { display: none; }"),
		"bars-collapsed":    withCSS("rect.bar { display: none; }"),
		"status-uncoloured": withCSS(".st.failed, .st.succeeded { color: inherit; }"),
		"too-wide":          withCSS("main { min-width: 1600px; }"),
		"badge-green":       withCSS(".badge.failed { background: #2f855a; }"),
		"badge-covered":     withCSS("header::after { content: ''; position: absolute; left: 0; top: 0; width: 100%; height: 120px; background: #fff; }"),
	}
	pages := map[string][]byte{"report": report}
	for name, page := range broken {
		pages[name] = page
	}
	got := render(t, pages)
	if problems := reportProblems(r, got["report"]); len(problems) > 0 {
		t.Errorf("the report does not show the run:\n  %s", strings.Join(problems, "\n  "))
	}
	for name := range broken {
		if problems := reportProblems(r, got[name]); len(problems) == 0 {
			t.Errorf("broken page %s passed the checks", name)
		} else {
			t.Logf("%s caught: %s", name, problems[0])
		}
	}
}
