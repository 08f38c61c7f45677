package api

// jsonType is the JSON type of a request member.
type jsonType uint8

const (
	typeString jsonType = iota + 1
	typeNumber
	typeBoolean
	typeArray
	typeObject
)

var jsonTypeNames = [...]string{typeString: "string", typeNumber: "number", typeBoolean: "boolean", typeArray: "array", typeObject: "object"}

func (t jsonType) String() string { return jsonTypeNames[t] }

// eachElement reports whether ok holds for every element of the valid
// JSON array raw.
func eachElement(raw []byte, ok func([]byte) bool) bool {
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end := valueEnd(raw, i)
		if !ok(raw[i:end]) {
			return false
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return true
}

// RequestMembers returns the JSON type of every request member of op that
// kmsd checks, by JSON path: "tags" for a member, "tags[]" for its
// elements, "tags[].key" for a member of an element. It is derived from
// the operation's request type (request.go) and is nil for an operation
// without a request body. kmsd's own members (the own tag) are left out:
// the SDK parity test compares the result with the SDK's request models.
func RequestMembers(op string) map[string]string {
	for _, rt := range routeTable() {
		if rt.op != op || rt.handler == nil || rt.handler.plan == nil {
			continue
		}
		out := map[string]string{}
		rt.handler.plan.members("", out)
		return out
	}
	return nil
}

// members adds the plan's members to out, below prefix.
func (p *requestPlan) members(prefix string, out map[string]string) {
	for i := range p.fields {
		fp := &p.fields[i]
		if fp.own {
			continue
		}
		path := prefix + fp.name
		out[path] = fp.jsonType().String()
		switch fp.kind {
		case kindStrings:
			out[path+"[]"] = typeString.String()
		case kindObjects:
			out[path+"[]"] = typeObject.String()
			fp.elem.members(path+"[].", out)
		case kindObject, kindObjectPtr:
			fp.elem.members(path+".", out)
		}
	}
}

// NumericMembers returns the top-level members of op's request that the
// reference types as numeric strings and kmsd also takes as JSON integers
// (request.go, numeric).
func NumericMembers(op string) []string {
	var out []string
	for _, rt := range routeTable() {
		if rt.op != op || rt.handler == nil || rt.handler.plan == nil {
			continue
		}
		for _, fp := range rt.handler.plan.fields {
			if fp.kind == kindNumeric {
				out = append(out, fp.name)
			}
		}
	}
	return out
}
