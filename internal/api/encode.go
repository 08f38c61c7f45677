package api

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// rawJSON is a response body a handler encoded itself; writeJSON sends it
// as it is.
type rawJSON []byte

// emptyObject is the body of a success that has nothing to say.
var emptyObject = rawJSON("{}")

// encodeInstanceNum encodes {"instance_num":n}, the response of
// user-instances, as encoding/json does the map it replaces.
func encodeInstanceNum(n int) rawJSON {
	b := make([]byte, 0, len(`{"instance_num":}`)+20)
	b = append(b, `{"instance_num":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '}')
}

// encodeKeyBase64 encodes {"key_id":id,"<name>":"<base64 of b>"}, the
// response of encrypt-data (cipher_text) and sign (signature), in one
// allocation and with the base64 written straight into the body. The
// bytes are those encoding/json makes of encryptDataResponse and
// signResponse (TestEncodeKeyBase64); name must be a plain JSON member
// name. On the data path encoding/json costs more than AES (see
// docs/performance.md).
func encodeKeyBase64(id, name string, b []byte) rawJSON {
	const keyMember = `{"key_id":`
	n := len(keyMember) + len(id) + 2 + len(`,"":""}`) + len(name) + base64.StdEncoding.EncodedLen(len(b))
	dst := make([]byte, 0, n)
	dst = append(dst, keyMember...)
	dst = appendJSONString(dst, id)
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, `"}`...)
}

// encodeDecryptData encodes decryptDataResponse{KeyID: id, PlainText:
// string(pt), PlainTextBase64: base64(pt)} as encoding/json does
// (TestEncodeDecryptData), without the two intermediate strings.
func encodeDecryptData(id string, pt []byte) rawJSON {
	n := len(`{"key_id":"","plain_text":"","plain_text_base64":""}`) + len(id) + len(pt) + base64.StdEncoding.EncodedLen(len(pt))
	dst := make([]byte, 0, n)
	dst = append(dst, `{"key_id":`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, `,"plain_text":`...)
	dst = appendJSONString(dst, pt)
	dst = append(dst, `,"plain_text_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, pt)
	return append(dst, `"}`...)
}

// appendJSONString appends s as encoding/json encodes a string: text
// without quotes, backslashes, control characters, HTML-special
// characters or non-ASCII bytes (ids, base64, most plaintexts) as it is,
// anything else through encoding/json.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(string(s))
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
