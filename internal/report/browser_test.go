package report

import (
	"bytes"
	"context"
	"errors"
	"github.com/alpha-orion/runbook/internal/testenv"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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

// TestHTMLReportRendersInBrowser opens the HTML report in headless Chromium,
// takes a screenshot and checks it shows something. REPORT_SCREENSHOT=FILE
// keeps a copy of the screenshot for people to look at.
func TestHTMLReportRendersInBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	r := readCase(t, "failed", "testdata/pitr.yaml")
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1200,900", "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if len(data) < 20_000 {
		t.Errorf("screenshot is %d bytes: too small to show the report", len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if got := img.Bounds().Dx(); got != 1200 {
		t.Errorf("screenshot is %d px wide, want 1200", got)
	}
	if n := colours(img); n < 8 {
		t.Errorf("screenshot has %d colours: the page did not render", n)
	}
	if !hasRed(img) {
		t.Errorf("screenshot shows no red: the failed step, the FAILED badge and the RTO line are missing")
	}
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// colours counts distinct colours, up to 1000, sampling every 4th pixel.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// hasRed reports whether some pixel is the report's red (#c53030), give or take.
func hasRed(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 0xb0 && g>>8 < 0x50 && bl>>8 < 0x50 {
				return true
			}
		}
	}
	return false
}
