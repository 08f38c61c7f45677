package auth

import (
	"slices"
	"strings"
	"time"
)

// parseDate parses an X-Sdk-Date: exactly DateLayout, every field two
// digits (the year four) and in range. It accepts what time.Parse accepts
// and formats back to the same text (FuzzParseDate compares the two),
// at a fraction of the cost.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(DateLayout) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // past the end of the month
		return time.Time{}, false
	}
	return t, true
}

// authorization is a parsed Authorization header. signedHeaders and
// signature use the arrays of the struct unless they are unusually long.
type authorization struct {
	alg           *algorithm
	ak            string
	scope         string // V11 only: "yyyymmdd/region/service"
	signedHeaders []string
	signature     []byte

	headerArray    [8]string
	signatureArray [maxSignatureHex / 2]byte
}

func (a *authorization) reset() { *a = authorization{} }

// parseAuthorization parses an Authorization header (see parse).
func parseAuthorization(v string) (*authorization, error) {
	a := new(authorization)
	if err := a.parse(v); err != nil {
		return nil, err
	}
	return a, nil
}

// parse parses "ALG Access=AK, SignedHeaders=h1;h2, Signature=hex" (or
// "V11-HMAC-SHA256 Credential=AK/yyyymmdd/region/service, …") into a.
// Parameters may come in any order; each must appear exactly once.
func (a *authorization) parse(v string) error {
	a.reset()
	name, params, ok := strings.Cut(v, " ")
	if !ok {
		return authErrorf("malformed Authorization header")
	}
	alg := algorithms[name]
	if alg == nil {
		return authErrorf("unsupported signing algorithm %.40q", name)
	}
	credKey := "Access"
	if alg.kind == kindDerived {
		credKey = "Credential"
	}
	// vals are the values of credKey, SignedHeaders and Signature.
	var vals [3]string
	var seen [3]bool
	for p := range strings.SplitSeq(params, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		i := -1
		switch {
		case !ok:
		case k == credKey:
			i = 0
		case k == "SignedHeaders":
			i = 1
		case k == "Signature":
			i = 2
		}
		if i < 0 {
			return authErrorf("malformed Authorization parameter %.40q", p)
		}
		if seen[i] {
			return authErrorf("repeated Authorization parameter %s", k)
		}
		seen[i], vals[i] = true, val
	}
	if seen != [3]bool{true, true, true} {
		return authErrorf("Authorization needs %s, SignedHeaders and Signature", credKey)
	}
	a.alg, a.ak = alg, vals[0]
	if alg.kind == kindDerived {
		ak, scope, _ := strings.Cut(a.ak, "/")
		parts := strings.Split(scope, "/")
		if len(parts) != 3 || slices.Contains(parts, "") {
			return authErrorf("malformed V11 credential scope")
		}
		if _, err := time.Parse(derivedDateLayout, parts[0]); err != nil {
			return authErrorf("malformed V11 credential date")
		}
		a.ak, a.scope = ak, scope
	}
	if a.ak == "" {
		return authErrorf("empty access key")
	}
	a.signedHeaders = a.headerArray[:0]
	for h := range strings.SplitSeq(vals[1], ";") {
		if h == "" || h != strings.ToLower(h) || slices.Contains(a.signedHeaders, h) {
			return authErrorf("malformed SignedHeaders")
		}
		a.signedHeaders = append(a.signedHeaders, h)
	}
	sig := vals[2]
	if len(sig) > maxSignatureHex {
		return authErrorf("signature too long")
	}
	if len(sig) == 0 || len(sig)%2 != 0 {
		return authErrorf("malformed signature")
	}
	a.signature = a.signatureArray[:len(sig)/2]
	for i := range a.signature {
		hi, ok1 := fromHex(sig[2*i])
		lo, ok2 := fromHex(sig[2*i+1])
		if !ok1 || !ok2 {
			return authErrorf("malformed signature")
		}
		a.signature[i] = hi<<4 | lo
	}
	return nil
}

// fromHex decodes one hex digit of either case, as encoding/hex does.
func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
