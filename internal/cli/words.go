package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alpha-orion/runbook/internal/words"
)

// humanDuration writes a duration the way people read one: 850ms, 9.9s,
// 42s, 12m30s, 30m, 1h30m, 2h. It never prints a nanosecond.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	switch {
	case d < time.Millisecond:
		if d == 0 {
			return "0s"
		}
		return "<1ms"
	case d < time.Second:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d < 10*time.Second:
		tenths := int64((d + 50*time.Millisecond) / (100 * time.Millisecond))
		if tenths%10 == 0 {
			return strconv.FormatInt(tenths/10, 10) + "s"
		}
		return fmt.Sprintf("%d.%ds", tenths/10, tenths%10)
	case d < time.Minute:
		return strconv.FormatInt(int64((d+time.Second/2)/time.Second), 10) + "s"
	case d < time.Hour:
		s := int64((d + time.Second/2) / time.Second)
		if s%60 == 0 {
			return fmt.Sprintf("%dm", s/60)
		}
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	}
	m := int64((d + time.Minute/2) / time.Minute)
	if m%60 == 0 {
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}

// plural writes n and the noun, singular for one (see words.Plural).
func plural(n int, noun string, pluralForm ...string) string {
	return words.Plural(n, noun, pluralForm...)
}

// printable escapes what a terminal would act on rather than show: control
// characters (NUL, ESC starting a cursor or OSC sequence, DEL, C1 codes)
// and bytes that are not UTF-8, so text from plugins, providers and
// runbooks cannot move the cursor, retitle the window or hide a prompt.
// Newlines and tabs are kept.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// fit cuts s to at most width columns (counting runes), ending in … when cut.
func fit(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	runes := []rune(s)
	return string(runes[:width-1]) + "…"
}
