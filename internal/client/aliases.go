package client

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Alias is one alias of a ListAliases page.
type Alias struct {
	Alias      string `json:"alias"`
	AliasURN   string `json:"alias_urn"`
	KeyID      string `json:"key_id"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
}

// AliasPage is one page of ListAliases.
type AliasPage struct {
	Aliases  []Alias `json:"aliases"`
	PageInfo struct {
		NextMarker   string `json:"next_marker"`
		CurrentCount int    `json:"current_count"`
	} `json:"page_info"`
}

// ParseAliasPage reads a ListAliases answer in either shape: the array
// holding one page that the Go SDK decodes, or the page object itself
// (what the API reference shows, and what kmsd may answer to clients
// other than the official SDKs).
func ParseAliasPage(raw []byte) (AliasPage, error) {
	var p AliasPage
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var ps []AliasPage
		if err := json.Unmarshal(raw, &ps); err != nil {
			return p, fmt.Errorf("client: undecodable ListAliases answer: %w", err)
		}
		for _, q := range ps {
			p.Aliases = append(p.Aliases, q.Aliases...)
			p.PageInfo = q.PageInfo
		}
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("client: undecodable ListAliases answer: %w", err)
	}
	return p, nil
}
