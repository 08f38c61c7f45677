package api

import "strings"

// This file is the one place where kmsd answers according to who the
// client is (docs/compatibility.md, "ListAliases"). Everything else is
// the same for every client.

// List-aliases answer shapes (Config.ListAliases).
const (
	// ListAliasesAuto answers the array to the official SDKs, recognised
	// by their User-Agent, and the documented object to everyone else.
	ListAliasesAuto = "auto"
	// ListAliasesObject always answers Huawei's documented object
	// {"aliases":[…],"page_info":{…}}.
	ListAliasesObject = "object"
	// ListAliasesArray always answers the one-element array the official
	// SDKs decode, [{"aliases":[…],"page_info":{…}}].
	ListAliasesArray = "array"
)

// sdkUserAgents are the first product of the User-Agent each official SDK
// sends, up to its "/": the Go SDK v0.1.207 (core/hc_http_client.go,
// "huaweicloud-usdk-go/3.0", a configured UserAgent appended after "; "),
// the Node.js SDK 3.1.209 (core/ClientBuilder.ts and
// core/http/DefaultHttpClient.ts, "huaweicloud-usdk-nodejs/3.0", then
// "; " and system and app ids or a custom value) and the Python SDK
// 3.1.211 (huaweicloudsdkcore/client.py, "huaweicloud-usdk-python/3.0",
// a custom value appended after "; ").
var sdkUserAgents = []string{"huaweicloud-usdk-go/", "huaweicloud-usdk-nodejs/", "huaweicloud-usdk-python/"}

// isOfficialSDK reports whether a User-Agent is one an official Huawei
// SDK sends. The SDKs model ListAliases' body as a list and fail on the
// documented object.
func isOfficialSDK(userAgent string) bool {
	for _, p := range sdkUserAgents {
		if strings.HasPrefix(userAgent, p) {
			return true
		}
	}
	return false
}

// listAliasesArray reports whether list-aliases answers c with the array.
func (h *Handler) listAliasesArray(c *call) bool {
	switch h.cfg.ListAliases {
	case ListAliasesArray:
		return true
	case ListAliasesObject:
		return false
	}
	return isOfficialSDK(c.r.Header.Get("User-Agent"))
}
