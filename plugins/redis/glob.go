package redis

// globMatch reports whether key matches a Redis glob pattern like SCAN's
// MATCH: * (any run), ? (one byte), [abc], [^abc], [a-z], and \ to
// quote the next byte.
func globMatch(pattern, key string) bool {
	p, k := 0, 0
	starP, starK := -1, 0 // where to resume after the last *
	for k < len(key) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starK = p, k
				p++
				continue
			case '?':
				p++
				k++
				continue
			case '[':
				if end, ok := matchClass(pattern, p, key[k]); end > 0 {
					if ok {
						p, k = end, k+1
						continue
					}
					break
				}
				// an unclosed [ is a literal
				if key[k] == '[' {
					p, k = p+1, k+1
					continue
				}
			case '\\':
				if p+1 < len(pattern) {
					if pattern[p+1] == key[k] {
						p, k = p+2, k+1
						continue
					}
					break
				}
				if key[k] == '\\' {
					p, k = p+1, k+1
					continue
				}
			default:
				if pattern[p] == key[k] {
					p, k = p+1, k+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starK++
		p, k = starP+1, starK
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the class starting at pattern[p] == '['. It
// returns the index after the closing ] (0 when there is none) and whether
// c is in the class.
func matchClass(pattern string, p int, c byte) (int, bool) {
	i := p + 1
	negate := i < len(pattern) && pattern[i] == '^'
	if negate {
		i++
	}
	in := false
	for i < len(pattern) {
		if pattern[i] == ']' {
			return i + 1, in != negate
		}
		lo := pattern[i]
		if lo == '\\' && i+1 < len(pattern) {
			i++
			lo = pattern[i]
		}
		if i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']' {
			hi := pattern[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				in = true
			}
			i += 3
			continue
		}
		if c == lo {
			in = true
		}
		i++
	}
	return 0, false
}
