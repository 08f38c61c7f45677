package api

// versionDetail is ApiVersionDetail (reference kms-api.md §4).
type versionDetail struct {
	ID         string    `json:"id"`
	Links      []apiLink `json:"links"`
	Version    string    `json:"version"`
	Status     string    `json:"status"`
	Updated    string    `json:"updated"`
	MinVersion string    `json:"min_version"`
}

type apiLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

func (h *Handler) versions(c *call) []versionDetail {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + c.r.Host + "/"
	return []versionDetail{
		{ID: "v1.0", Links: []apiLink{{Href: base + "v1.0/", Rel: "self"}}, Status: "CURRENT", Updated: "2016-10-29T02:00:00Z"},
		{ID: "v2", Links: []apiLink{{Href: base + "v2/", Rel: "self"}}, Status: "SUPPORTED", Updated: "2024-01-01T00:00:00Z"},
	}
}

func (h *Handler) showVersions(c *call) (any, error) {
	return map[string]any{"versions": h.versions(c)}, nil
}

func (h *Handler) showVersion(c *call) (any, error) {
	for _, v := range h.versions(c) {
		if v.ID == c.params["version_id"] {
			return map[string]any{"version": v}, nil
		}
	}
	return nil, errNoSuchAPI
}
