package postgres

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// runtimeValue converts a value pgx decoded into a runbook runtime value,
// so guards can compare it: integers become int, numeric and floats
// float64, timestamps and dates time.Time, intervals time.Duration (a
// month counts 30 days), text string, bool bool, NULL nil, uuids and
// network addresses their text, bytea "\x" and hex (as psql shows it),
// arrays lists and json its decoded value.
func runtimeValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int:
		return x
	case int64:
		return int(x)
	case int32:
		return int(x)
	case int16:
		return int(x)
	case int8:
		return int(x)
	case uint32:
		return int(x)
	case uint64:
		if x > math.MaxInt64 {
			return float64(x)
		}
		return int(x)
	case float32:
		return float64(x)
	case time.Time:
		return x
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case [16]byte:
		return uuidText(x)
	case pgtype.Numeric:
		return numericValue(x)
	case pgtype.Interval:
		if !x.Valid {
			return nil
		}
		return time.Duration(x.Microseconds)*time.Microsecond + time.Duration(x.Days)*24*time.Hour +
			time.Duration(x.Months)*30*24*time.Hour
	case pgtype.Time:
		if !x.Valid {
			return nil
		}
		d := time.Duration(x.Microseconds) * time.Microsecond
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d).Format("15:04:05.999999")
	case pgtype.Timestamptz:
		return infinite(x.Valid, x.InfinityModifier, x.Time)
	case pgtype.Timestamp:
		return infinite(x.Valid, x.InfinityModifier, x.Time)
	case pgtype.Date:
		return infinite(x.Valid, x.InfinityModifier, x.Time)
	case netip.Prefix:
		if x.Bits() == x.Addr().BitLen() {
			return x.Addr().String()
		}
		return x.String()
	case netip.Addr:
		return x.String()
	case net.HardwareAddr:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = runtimeValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = runtimeValue(e)
		}
		return out
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return fmt.Sprint(x)
		}
		if dv == nil {
			return nil
		}
		return runtimeValue(dv)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// infinite returns t, nil for NULL, or "infinity"/"-infinity".
func infinite(valid bool, mod pgtype.InfinityModifier, t time.Time) any {
	switch {
	case !valid:
		return nil
	case mod == pgtype.Infinity:
		return "infinity"
	case mod == pgtype.NegativeInfinity:
		return "-infinity"
	}
	return t
}

// numericValue converts a numeric to float64 (NaN and ±Inf included).
func numericValue(n pgtype.Numeric) any {
	if !n.Valid {
		return nil
	}
	if n.NaN {
		return math.NaN()
	}
	switch n.InfinityModifier {
	case pgtype.Infinity:
		return math.Inf(1)
	case pgtype.NegativeInfinity:
		return math.Inf(-1)
	}
	f, err := n.Float64Value()
	if err != nil || !f.Valid {
		return nil
	}
	return f.Float64
}

func uuidText(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
