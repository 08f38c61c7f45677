package api

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/kmsd/kmsd/internal/kms"
)

// Requests. Each operation with a body has a typed request struct beside
// its handler, named in the route table (body[R]); its fields and their
// tags are the one definition of what the operation takes. From them a
// requestPlan is derived once, when the route table is built, and every
// request is decoded by it in three steps, each over the whole request
// before the next:
//
//  1. the JSON type of every member the struct declares, nested ones
//     included (a wrong type is KMS.0202 before anything else, as a body
//     that is not JSON is: both are malformed messages); unknown members
//     are ignored, as the real service ignores what newer SDKs add;
//  2. the sequence member (KMS.0206);
//  3. in field order: required members (KMS.0204), numeric strings, key
//     id shapes, and the values set into the struct.
//
// The handler then checks what only it knows (enums, ranges, encodings).
//
// Field types: string; []byte (a string's UTF-8 bytes, which alias the
// body when the string has no escapes: the hot path reads its plaintext
// so); numeric (a numeric string, see numeric); *int32 and *int64 (a JSON
// integer, nil when absent); *bool (a JSON boolean, nil when absent);
// []string; a struct or *struct (an object; the pointer is nil when
// absent); []struct (an array of objects).
//
// The `kms` tag lists options, comma-separated:
//
//	req            absent or null is errMissingParameter (KMS.0204)
//	nonempty       req, and "" counts as missing too
//	nullok         with req on an array: only absence is missing; null is
//	               an empty array
//	key=OP         the member names a key (kms.ValidateKeyID when not
//	               empty) that the grant operation OP lets a grantee use;
//	               key alone names a key no grant can authorize
//	ciphertext=OP  the member is a ciphertext naming a key, likewise
//	own            a member of kmsd's own, outside the reference's model:
//	               decoded like the others, not in RequestMembers
//
// For each grant operation the tags name, the first key member present
// (else the first ciphertext member present) names the key the request
// uses with it; a request that lacks one names no key, so that no grant
// authorizes half of it (requestPlan.keys).

// numeric is a member the reference types as a numeric string
// ("pending_days": "7"). kmsd takes a JSON integer too (docs/compatibility.md):
// both must be canonical — digits only, no sign, no leading zero unless
// the value is 0. A JSON number that is not such an integer is KMS.0202
// like any other wrong type; a string that is not is the member's own
// bad-value error (badNumber). Set is false when the member is absent,
// null or "".
type numeric struct {
	N   int
	Set bool
}

// badNumber is the error of a numeric member whose value is not a
// canonical integer, by member name: the reference's code for the
// member's range, where it has one.
var badNumber = map[string]error{
	"limit":          kms.ErrInvalidLimit,
	"marker":         kms.ErrInvalidMarker,
	"offset":         kms.ErrInvalidOffset,
	"pending_days":   kms.ErrInvalidPendingDays,
	"datakey_length": kms.ErrDataKeyLengthRange,
}

func badNumberError(name string) error {
	if err, ok := badNumber[name]; ok {
		return err
	}
	return kms.ErrInvalidParameter
}

// badInteger is the error of a JSON integer member out of its range.
var badInteger = map[string]error{
	"rotation_interval": kms.ErrInvalidRotationInterval,
}

// fieldKind is how a request field is decoded.
type fieldKind uint8

const (
	kindString fieldKind = iota + 1
	kindBytes
	kindNumeric
	kindInt32
	kindInt64
	kindBool
	kindStrings
	kindObject    // struct
	kindObjectPtr // *struct
	kindObjects   // []struct
)

// fieldPlan is one member of a request.
type fieldPlan struct {
	name     string
	index    []int
	kind     fieldKind
	required bool
	nonempty bool
	nullOK   bool
	own      bool
	// key and ciphertext mark a member that names a key; op is the grant
	// operation that lets a grantee use it ("" for none).
	key, ciphertext bool
	op              string
	elem            *requestPlan // of an object kind
}

// requestPlan decodes one request type.
type requestPlan struct {
	typ    reflect.Type
	fields []fieldPlan
	// keyGroups are the members that name keys, by grant operation.
	keyGroups []keyGroup
}

var (
	numericType = reflect.TypeFor[numeric]()
	bytesType   = reflect.TypeFor[[]byte]()
)

// newPlan derives the plan of the struct type t; it panics on a field it
// cannot decode, so that a wrong table fails at start-up, in every test.
func newPlan(t reflect.Type) *requestPlan {
	p := &requestPlan{typ: t}
	p.add(t, nil)
	p.groupKeys()
	if len(p.fields) > maxFields {
		panic("api: request type " + t.String() + " has more than maxFields members")
	}
	return p
}

func (p *requestPlan) add(t reflect.Type, index []int) {
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			p.add(sf.Type, idx)
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			panic("api: request field " + t.String() + "." + sf.Name + " has no JSON name")
		}
		fp := fieldPlan{name: name, index: idx, kind: kindOf(sf.Type)}
		if fp.kind == 0 {
			panic("api: request field " + t.String() + "." + sf.Name + " has a type requests cannot hold")
		}
		for opt := range strings.SplitSeq(sf.Tag.Get("kms"), ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "":
			case "req":
				fp.required = true
			case "nonempty":
				fp.required, fp.nonempty = true, true
			case "nullok":
				fp.nullOK = true
			case "own":
				fp.own = true
			case "key":
				fp.key, fp.op = true, v
			case "ciphertext":
				fp.ciphertext, fp.op = true, v
			default:
				panic("api: request field " + t.String() + "." + sf.Name + ": unknown kms tag option " + k)
			}
		}
		switch fp.kind {
		case kindObject:
			fp.elem = newPlan(sf.Type)
		case kindObjectPtr, kindObjects:
			fp.elem = newPlan(sf.Type.Elem())
		}
		p.fields = append(p.fields, fp)
	}
}

func kindOf(t reflect.Type) fieldKind {
	switch {
	case t == numericType:
		return kindNumeric
	case t == bytesType:
		return kindBytes
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Struct:
		return kindObject
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			return kindStrings
		case reflect.Struct:
			return kindObjects
		}
	case reflect.Pointer:
		switch t.Elem().Kind() {
		case reflect.Int32:
			return kindInt32
		case reflect.Int64:
			return kindInt64
		case reflect.Bool:
			return kindBool
		case reflect.Struct:
			return kindObjectPtr
		}
	}
	return 0
}

// jsonType is the member's type in the reference's request model.
func (fp *fieldPlan) jsonType() jsonType {
	switch fp.kind {
	case kindString, kindBytes, kindNumeric:
		return typeString
	case kindInt32, kindInt64:
		return typeNumber
	case kindBool:
		return typeBoolean
	case kindStrings, kindObjects:
		return typeArray
	}
	return typeObject
}

// maxFields is the most members a request type has; decode looks them up
// once each into an array of this size on the stack.
const maxFields = 16

// decode decodes f into a new request of the plan's type and returns a
// pointer to it.
func (p *requestPlan) decode(f fields) (any, error) {
	var buf [maxFields][]byte
	raws := p.lookup(f, buf[:0])
	if err := p.checkTypes(raws); err != nil {
		return nil, err
	}
	if err := f.sequence(); err != nil {
		return nil, err
	}
	v := reflect.New(p.typ)
	if err := p.set(raws, v.Elem()); err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// lookup appends to dst the raw value of each of the plan's members in f,
// nil when absent, in field order.
func (p *requestPlan) lookup(f fields, dst [][]byte) [][]byte {
	for i := range p.fields {
		dst = append(dst, f[p.fields[i].name])
	}
	return dst
}

// checkTypes checks the JSON type of every member the plan declares
// (raws, as lookup returns them), deeply. A member that is null counts as
// absent here.
func (p *requestPlan) checkTypes(raws [][]byte) error {
	for i, raw := range raws {
		if raw == nil || isNull(raw) {
			continue
		}
		if err := p.fields[i].checkType(raw); err != nil {
			return err
		}
	}
	return nil
}

// checkObject is checkTypes of the valid JSON object raw.
func (p *requestPlan) checkObject(raw []byte) error {
	o, err := decodeObject(raw)
	if err != nil {
		return err
	}
	var buf [maxFields][]byte
	return p.checkTypes(p.lookup(o, buf[:0]))
}

func isNull(raw []byte) bool { return string(raw) == "null" }

func (fp *fieldPlan) wrongType() error {
	return fmt.Errorf("%w: %s must be a JSON %v", errMalformedJSON, fp.name, fp.jsonType())
}

// checkType checks the valid JSON value raw against the member's type.
func (fp *fieldPlan) checkType(raw []byte) error {
	switch fp.kind {
	case kindString, kindBytes:
		if raw[0] != '"' {
			return fp.wrongType()
		}
	case kindNumeric:
		if raw[0] != '"' && !canonicalInteger(raw) {
			return fmt.Errorf("%w: %s must be a JSON string or a non-negative JSON integer", errMalformedJSON, fp.name)
		}
	case kindInt32, kindInt64:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return fp.wrongType()
		}
	case kindBool:
		if raw[0] != 't' && raw[0] != 'f' {
			return fp.wrongType()
		}
	case kindStrings:
		if raw[0] != '[' {
			return fp.wrongType()
		}
		if !eachElement(raw, func(e []byte) bool { return e[0] == '"' || isNull(e) }) {
			return fmt.Errorf("%w: %s must be an array of strings", errMalformedJSON, fp.name)
		}
	case kindObject, kindObjectPtr:
		if raw[0] != '{' {
			return fp.wrongType()
		}
		return fp.elem.checkObject(raw)
	case kindObjects:
		if raw[0] != '[' {
			return fp.wrongType()
		}
		var err error
		eachElement(raw, func(e []byte) bool {
			if isNull(e) {
				return true
			}
			if e[0] != '{' {
				err = fmt.Errorf("%w: %s must be an array of objects", errMalformedJSON, fp.name)
				return false
			}
			err = fp.elem.checkObject(e)
			return err == nil
		})
		return err
	}
	return nil
}

// canonicalInteger reports whether raw is a JSON number that is a
// non-negative integer without leading zeros ("0", "7", not "07", "-1",
// "1.0" or "1e2").
func canonicalInteger(raw []byte) bool {
	return canonicalDigits(string(raw))
}

// canonicalDigits reports whether s is digits only, without a leading zero
// unless it is "0": the one form of every numeric member.
func canonicalDigits(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// set sets the members raws (as lookup returns them), whose types
// checkTypes accepted, into the struct v, in field order.
func (p *requestPlan) set(raws [][]byte, v reflect.Value) error {
	for i, raw := range raws {
		fp := &p.fields[i]
		present := raw != nil
		null := present && isNull(raw)
		if !present || null {
			if fp.required && !(null && fp.nullOK) {
				return fmt.Errorf("%w: %s", errMissingParameter, fp.name)
			}
			continue
		}
		fv := v.FieldByIndex(fp.index)
		switch fp.kind {
		case kindString, kindBytes:
			b, err := rawString(raw)
			if err != nil {
				return fmt.Errorf("%w: %s must be a JSON string", errMalformedJSON, fp.name)
			}
			if len(b) == 0 && fp.nonempty {
				return fmt.Errorf("%w: %s is empty", errMissingParameter, fp.name)
			}
			if fp.kind == kindBytes {
				*fv.Addr().Interface().(*[]byte) = b
				continue
			}
			s := string(b)
			if fp.key && s != "" {
				if err := kms.ValidateKeyID(s); err != nil {
					return err
				}
			}
			*fv.Addr().Interface().(*string) = s
		case kindNumeric:
			n, err := fp.numeric(raw)
			if err != nil {
				return err
			}
			*fv.Addr().Interface().(*numeric) = n
		case kindInt32, kindInt64:
			bits := 32
			if fp.kind == kindInt64 {
				bits = 64
			}
			n, err := strconv.ParseInt(string(raw), 10, bits)
			if err != nil {
				bad, ok := badInteger[fp.name]
				if !ok {
					bad = kms.ErrInvalidParameter
				}
				return fmt.Errorf("%w: %s is not a %d-bit integer", bad, fp.name, bits)
			}
			if fp.kind == kindInt32 {
				m := int32(n)
				*fv.Addr().Interface().(**int32) = &m
			} else {
				*fv.Addr().Interface().(**int64) = &n
			}
		case kindBool:
			b := raw[0] == 't'
			*fv.Addr().Interface().(**bool) = &b
		case kindStrings:
			ss, err := stringArray(raw)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", errMalformedJSON, fp.name, err)
			}
			fv.Set(reflect.ValueOf(ss))
		case kindObject, kindObjectPtr:
			if fp.kind == kindObjectPtr {
				fv.Set(reflect.New(fp.elem.typ))
				fv = fv.Elem()
			}
			if err := fp.elem.setObject(raw, fv); err != nil {
				return err
			}
		case kindObjects:
			var elems [][]byte
			eachElement(raw, func(e []byte) bool { elems = append(elems, e); return true })
			s := reflect.MakeSlice(fv.Type(), len(elems), len(elems))
			for j, e := range elems {
				if isNull(e) {
					return fmt.Errorf("%w: %s[%d] is null", errMalformedJSON, fp.name, j)
				}
				if err := fp.elem.setObject(e, s.Index(j)); err != nil {
					return err
				}
			}
			fv.Set(s)
		}
	}
	return nil
}

// setObject is set of the valid JSON object raw.
func (p *requestPlan) setObject(raw []byte, v reflect.Value) error {
	o, err := decodeObject(raw)
	if err != nil {
		return err
	}
	var buf [maxFields][]byte
	return p.set(p.lookup(o, buf[:0]), v)
}

// numeric reads a numeric member: a JSON string of a canonical integer
// ("" is absent), or a JSON integer, which checkTypes made canonical.
func (fp *fieldPlan) numeric(raw []byte) (numeric, error) {
	s := string(raw)
	if raw[0] == '"' {
		b, err := rawString(raw)
		if err != nil {
			return numeric{}, fmt.Errorf("%w: %s must be a JSON string", errMalformedJSON, fp.name)
		}
		s = string(b)
		if s == "" {
			if fp.required {
				return numeric{}, fmt.Errorf("%w: %s", errMissingParameter, fp.name)
			}
			return numeric{}, nil
		}
		if !canonicalDigits(s) {
			return numeric{}, fmt.Errorf("%w: %s is not a canonical non-negative integer", badNumberError(fp.name), fp.name)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return numeric{}, fmt.Errorf("%w: %s is out of range", badNumberError(fp.name), fp.name)
	}
	return numeric{N: n, Set: true}, nil
}

// stringArray decodes the valid JSON array raw of strings, the one reader
// of string arrays: a null element, which the type check lets by as it
// does a null member, is not a string (KMS.0202).
func stringArray(raw []byte) ([]string, error) {
	out := []string{}
	var err error
	eachElement(raw, func(e []byte) bool {
		if e[0] != '"' {
			err = errors.New("an element is not a string")
			return false
		}
		var b []byte
		if b, err = rawString(e); err != nil {
			return false
		}
		out = append(out, string(b))
		return true
	})
	return out, err
}

// keys appends to dst the keys the request v names, by the plan's key
// and ciphertext tags: for each grant operation the tags name, in the
// order they first name it, the first key member present, else the first
// ciphertext member present (an explicit key id wins over the one inside
// a blob). A request without a key for one of its operations names none,
// so that no grant authorizes half of it.
func (p *requestPlan) keys(v reflect.Value, dst []kms.KeyUse) []kms.KeyUse {
	start := len(dst)
	for _, g := range p.keyGroups {
		u := kms.KeyUse{Operation: g.op}
		for _, i := range g.keys {
			if u.KeyID = v.FieldByIndex(p.fields[i].index).String(); u.KeyID != "" {
				break
			}
		}
		for _, i := range g.ciphertexts {
			if u.KeyID != "" {
				break
			}
			u.Ciphertext = v.FieldByIndex(p.fields[i].index).String()
			if u.Ciphertext != "" {
				break
			}
		}
		if u.KeyID == "" && u.Ciphertext == "" {
			return dst[:start]
		}
		dst = append(dst, u)
	}
	return dst
}

// keyGroup is the members of a request that name the key of one grant
// operation, by field number.
type keyGroup struct {
	op                string
	keys, ciphertexts []int
}

// groupKeys builds the plan's keyGroups.
func (p *requestPlan) groupKeys() {
	for i := range p.fields {
		fp := &p.fields[i]
		if !fp.key && !fp.ciphertext {
			continue
		}
		j := 0
		for j < len(p.keyGroups) && p.keyGroups[j].op != fp.op {
			j++
		}
		if j == len(p.keyGroups) {
			p.keyGroups = append(p.keyGroups, keyGroup{op: fp.op})
		}
		if fp.key {
			p.keyGroups[j].keys = append(p.keyGroups[j].keys, i)
		} else {
			p.keyGroups[j].ciphertexts = append(p.keyGroups[j].ciphertexts, i)
		}
	}
}
