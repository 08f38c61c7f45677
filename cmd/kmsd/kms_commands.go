package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/client"
)

// kmsCommands is every kms command, in the order of the help.
var kmsCommands []kmsCommand

func init() {
	kmsCommands = []kmsCommand{
		{name: "create-key", flags: []string{"alias", "spec", "usage", "description", "origin"}, help: "create a key (--alias A [--spec AES_256] [--usage U] [--description D] [--origin external])", run: createKey},
		{name: "list-keys", flags: []string{"spec", "state", "limit"}, help: "list keys ([--spec ALL] [--state enabled] [--limit N])", run: listKeys},
		{name: "describe-key", args: "KEY", nargs: 1, help: "show a key", run: keyOp("describe-key")},
		{name: "enable-key", args: "KEY", nargs: 1, help: "enable a key", run: keyOp("enable-key")},
		{name: "disable-key", args: "KEY", nargs: 1, help: "disable a key", run: keyOp("disable-key")},
		{name: "schedule-key-deletion", args: "KEY", nargs: 1, flags: []string{"pending-days"}, help: "schedule deletion ([--pending-days 7])", run: scheduleDeletion},
		{name: "cancel-key-deletion", args: "KEY", nargs: 1, help: "cancel a scheduled deletion (the key becomes disabled)", run: keyOp("cancel-key-deletion")},
		{name: "update-key-alias", args: "KEY ALIAS", nargs: 2, help: "rename a key", run: keyField("update-key-alias", "key_alias")},
		{name: "update-key-description", args: "KEY TEXT", nargs: 2, help: "change a key's description", run: keyField("update-key-description", "key_description")},
		{name: "create-alias", args: "KEY ALIAS", nargs: 2, help: "add an alias (alias/NAME) to a key", run: createAlias},
		{name: "associate-alias", args: "ALIAS KEY", nargs: 2, help: "point an alias at another key", run: associateAlias},
		{name: "delete-alias", args: "KEY ALIAS...", nargs: -1, help: "delete aliases of a key", run: deleteAlias},
		{name: "list-aliases", flags: []string{"key", "limit"}, help: "list aliases ([--key KEY])", run: listAliases},
		{name: "tag-key", args: "KEY K=V...", nargs: -1, help: "set tags on a key", run: tagKey},
		{name: "untag-key", args: "KEY TAG_KEY", nargs: 2, help: "delete a tag of a key", run: untagKey},
		{name: "list-tags", args: "KEY", nargs: 1, help: "show a key's tags", run: listTags},
		{name: "create-grant", args: "KEY", nargs: 1, flags: []string{"grantee", "grantee-type", "operations", "name"}, help: "grant operations on a key (--grantee ID --operations describe-key,encrypt-data [--grantee-type user|domain] [--name N])", run: createGrant},
		{name: "list-grants", args: "KEY", nargs: 1, flags: []string{"limit"}, help: "list a key's grants", run: listGrants},
		{name: "revoke-grant", args: "KEY GRANT_ID", nargs: 2, help: "revoke a grant", run: revokeGrant},
		{name: "enable-key-rotation", args: "KEY", nargs: 1, flags: []string{"interval"}, help: "turn rotation on ([--interval DAYS])", run: enableRotation},
		{name: "disable-key-rotation", args: "KEY", nargs: 1, help: "turn rotation off", run: keyOp("disable-key-rotation")},
		{name: "update-key-rotation-interval", args: "KEY DAYS", nargs: 2, help: "set the rotation interval", run: rotationInterval},
		{name: "get-key-rotation-status", args: "KEY", nargs: 1, help: "show rotation settings", run: keyOp("get-key-rotation-status")},
		{name: "encrypt", flags: []string{"key", "in", "algorithm", "aad"}, help: "encrypt UTF-8 text (≤ 4096 bytes) from --in or stdin; prints the base64 ciphertext", run: encrypt},
		{name: "decrypt", flags: []string{"key", "in", "algorithm", "aad", "base64"}, help: "decrypt a base64 ciphertext from --in or stdin; writes the plaintext bytes ([--base64])", run: decrypt},
		{name: "create-datakey", flags: []string{"key", "bits", "no-plaintext", "aad"}, help: "make a data key (--key KEY [--bits 256] [--no-plaintext]); hex output", run: createDataKey},
		{name: "decrypt-datakey", args: "CIPHER_HEX", nargs: 1, flags: []string{"key", "length", "aad"}, help: "open a data key (--key KEY [--length 32])", run: decryptDataKey},
		{name: "gen-random", flags: []string{"bits"}, help: "random bytes, hex ([--bits 256])", run: genRandom},
		{name: "sign", flags: []string{"key", "algorithm", "in", "raw"}, help: "sign --in FILE or stdin (--key KEY --algorithm ECDSA_SHA_256); digest computed locally; prints base64", run: sign},
		{name: "verify", flags: []string{"key", "algorithm", "in", "raw", "signature"}, help: "verify a signature (--signature B64); exit 4 when invalid", run: verify},
		{name: "get-publickey", args: "KEY", nargs: 1, help: "print an asymmetric key's public key (PEM)", run: getPublicKey},
		{name: "encrypt-file", args: "IN OUT", nargs: 2, flags: []string{"key", "cipher", "quiet"}, help: "envelope-encrypt a file of any size (--key KEY [--cipher SM4_GCM]); - is stdin/stdout", run: encryptFile},
		{name: "decrypt-file", args: "IN OUT", nargs: 2, flags: []string{"quiet"}, help: "decrypt an encrypt-file output; fails (exit 4) on any tampering", run: decryptFile},
		{name: "instances", help: "the number of keys (the seed operation's count)", run: getOp("user-instances")},
		{name: "quotas", help: "the project's quotas", run: quotas},
	}
}

// keyState names the key_state values (reference kms-api.md §4).
var keyStates = map[string]string{"1": "pending-activation", "2": "enabled", "3": "disabled", "4": "pending-deletion", "5": "pending-import"}

func stateName(s string) string {
	if n, ok := keyStates[s]; ok {
		return n
	}
	return s
}

func keyOp(op string) func(*kmsEnv, []string) error {
	return func(e *kmsEnv, a []string) error { return e.post(op, map[string]string{"key_id": a[0]}) }
}

func keyField(op, field string) func(*kmsEnv, []string) error {
	return func(e *kmsEnv, a []string) error {
		return e.post(op, map[string]string{"key_id": a[0], field: a[1]})
	}
}

func getOp(op string) func(*kmsEnv, []string) error {
	return func(e *kmsEnv, _ []string) error {
		raw, err := e.c.Call(e.ctx, "GET", op, nil, nil)
		if err != nil {
			return err
		}
		return e.show(raw)
	}
}

func createKey(e *kmsEnv, _ []string) error {
	if e.o.alias == "" {
		return usageErr(errors.New("create-key: --alias is required"))
	}
	body := map[string]string{"key_alias": e.o.alias}
	for k, v := range map[string]string{"key_spec": e.o.spec, "key_usage": e.o.usage, "key_description": e.o.description, "origin": e.o.origin} {
		if v != "" {
			body[k] = v
		}
	}
	return e.post("create-key", body)
}

func scheduleDeletion(e *kmsEnv, a []string) error {
	return e.post("schedule-key-deletion", map[string]string{"key_id": a[0], "pending_days": strconv.Itoa(e.o.pendingDays)})
}

// keyDetails is the part of KeyDetails the tables show.
type keyDetails struct {
	KeyID        string `json:"key_id"`
	KeyAlias     string `json:"key_alias"`
	KeySpec      string `json:"key_spec"`
	KeyUsage     string `json:"key_usage"`
	KeyState     string `json:"key_state"`
	DefaultKey   string `json:"default_key_flag"`
	CreationDate string `json:"creation_date"`
}

func listKeys(e *kmsEnv, _ []string) error {
	body := map[string]string{"key_spec": "ALL"}
	if e.o.spec != "" {
		body["key_spec"] = e.o.spec
	}
	if s := e.o.state; s != "" {
		for n, name := range keyStates {
			if s == name {
				s = n
			}
		}
		body["key_state"] = s
	}
	if e.o.limit > 0 {
		body["limit"] = strconv.Itoa(e.o.limit)
	}
	var all []keyDetails
	err := e.markerPages("list-keys", body, func(raw []byte) (string, error) {
		var page struct {
			KeyDetails []keyDetails `json:"key_details"`
			markerPage
		}
		err := json.Unmarshal(raw, &page)
		all = append(all, page.KeyDetails...)
		return page.next(), err
	})
	if err != nil || e.json {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY_ID\tALIAS\tSPEC\tUSAGE\tSTATE\tDEFAULT")
	for _, k := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KeyID, k.KeyAlias, k.KeySpec, k.KeyUsage, stateName(k.KeyState), k.DefaultKey)
	}
	return tw.Flush()
}

// markerPage is the paging of list-keys and list-grants.
type markerPage struct {
	NextMarker string `json:"next_marker"`
	Truncated  string `json:"truncated"`
}

// next is the marker of the next page, "" after the last.
func (p markerPage) next() string {
	if p.Truncated != "true" {
		return ""
	}
	return p.NextMarker
}

// markerPages calls the POST list operation op page after page (one page
// with --limit), printing each raw answer with -o json and handing it to
// read, which returns the next marker.
func (e *kmsEnv) markerPages(op string, body map[string]string, read func(raw []byte) (string, error)) error {
	for {
		raw, err := e.c.Call(e.ctx, "POST", op, nil, body)
		if err != nil {
			return err
		}
		if e.json {
			if err := printJSON(e.stdout, raw); err != nil {
				return err
			}
		}
		next, err := read(raw)
		if err != nil {
			return fmt.Errorf("%s: undecodable answer: %w", op, err)
		}
		if e.o.limit > 0 || next == "" {
			return nil
		}
		body["marker"] = next
	}
}

func createAlias(e *kmsEnv, a []string) error {
	raw, err := e.c.Call(e.ctx, "POST", "aliases", nil, map[string]string{"key_id": a[0], "alias": a[1]})
	if err != nil {
		return err
	}
	return e.show(raw)
}

func associateAlias(e *kmsEnv, a []string) error {
	return e.post("alias/associate", map[string]string{"alias": a[0], "target_key_id": a[1]})
}

func deleteAlias(e *kmsEnv, a []string) error {
	if len(a) < 2 {
		return usageErr(errors.New("delete-alias: give KEY and at least one ALIAS"))
	}
	_, err := e.c.Call(e.ctx, "DELETE", "aliases", nil, map[string]any{"key_id": a[0], "aliases": a[1:]})
	if err == nil && !e.json {
		fmt.Fprintf(e.stdout, "deleted %s from key %s\n", strings.Join(a[1:], ", "), a[0])
	}
	return err
}

func listAliases(e *kmsEnv, _ []string) error {
	q := url.Values{}
	if e.o.key != "" {
		q.Set("key_id", e.o.key)
	}
	if e.o.limit > 0 {
		q.Set("limit", strconv.Itoa(e.o.limit))
	}
	var all []client.Alias
	for {
		raw, err := e.c.Call(e.ctx, "GET", "aliases", q, nil)
		if err != nil {
			return err
		}
		if e.json {
			if err := printJSON(e.stdout, raw); err != nil {
				return err
			}
		}
		p, err := client.ParseAliasPage(raw)
		if err != nil {
			return err
		}
		all = append(all, p.Aliases...)
		if e.o.limit > 0 || p.PageInfo.NextMarker == "" || len(p.Aliases) == 0 {
			break
		}
		q.Set("marker", p.PageInfo.NextMarker)
	}
	if e.json {
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tKEY_ID\tCREATED")
	for _, al := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", al.Alias, al.KeyID, al.CreateTime)
	}
	return tw.Flush()
}

func tagKey(e *kmsEnv, a []string) error {
	if len(a) < 2 {
		return usageErr(errors.New("tag-key: give KEY and at least one KEY=VALUE"))
	}
	var tags []map[string]string
	for _, kv := range a[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr(fmt.Errorf("tag-key: %q is not KEY=VALUE", kv))
		}
		tags = append(tags, map[string]string{"key": k, "value": v})
	}
	_, err := e.c.Call(e.ctx, "POST", url.PathEscape(a[0])+"/tags/action", nil, map[string]any{"action": "create", "tags": tags})
	if err == nil && !e.json {
		fmt.Fprintf(e.stdout, "tagged key %s with %s\n", a[0], strings.Join(a[1:], ", "))
	}
	return err
}

func untagKey(e *kmsEnv, a []string) error {
	_, err := e.c.Call(e.ctx, "DELETE", url.PathEscape(a[0])+"/tags/"+a[1], nil, nil)
	if err == nil && !e.json {
		fmt.Fprintf(e.stdout, "deleted tag %s of key %s\n", a[1], a[0])
	}
	return err
}

func listTags(e *kmsEnv, a []string) error {
	raw, err := e.c.Call(e.ctx, "GET", url.PathEscape(a[0])+"/tags", nil, nil)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	var v struct {
		Tags []struct{ Key, Value string } `json:"tags"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("undecodable answer: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE")
	for _, t := range v.Tags {
		fmt.Fprintf(tw, "%s\t%s\n", t.Key, t.Value)
	}
	return tw.Flush()
}

func createGrant(e *kmsEnv, a []string) error {
	if e.o.grantee == "" || e.o.operations == "" {
		return usageErr(errors.New("create-grant: --grantee ID and --operations OP,OP are required"))
	}
	body := map[string]any{"key_id": a[0], "grantee_principal": e.o.grantee, "operations": strings.Split(e.o.operations, ",")}
	if e.o.name != "" {
		body["name"] = e.o.name
	}
	if e.o.granteeType != "" {
		body["grantee_principal_type"] = e.o.granteeType
	}
	return e.post("create-grant", body)
}

func listGrants(e *kmsEnv, a []string) error {
	body := map[string]string{"key_id": a[0]}
	if e.o.limit > 0 {
		body["limit"] = strconv.Itoa(e.o.limit)
	}
	var all []map[string]any
	err := e.markerPages("list-grants", body, func(raw []byte) (string, error) {
		var page struct {
			Grants []map[string]any `json:"grants"`
			markerPage
		}
		err := json.Unmarshal(raw, &page)
		all = append(all, page.Grants...)
		return page.next(), err
	})
	if err != nil || e.json {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GRANT_ID\tNAME\tGRANTEE\tOPERATIONS")
	for _, g := range all {
		var ops []string
		if l, ok := g["operations"].([]any); ok {
			for _, op := range l {
				ops = append(ops, fmt.Sprint(op))
			}
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\n", g["grant_id"], g["name"], g["grantee_principal"], strings.Join(ops, ","))
	}
	return tw.Flush()
}

func revokeGrant(e *kmsEnv, a []string) error {
	_, err := e.c.Call(e.ctx, "POST", "revoke-grant", nil, map[string]string{"key_id": a[0], "grant_id": a[1]})
	if err == nil && !e.json {
		fmt.Fprintf(e.stdout, "revoked grant %s of key %s\n", a[1], a[0])
	}
	return err
}

func enableRotation(e *kmsEnv, a []string) error {
	raw, err := e.c.Call(e.ctx, "POST", "enable-key-rotation", nil, map[string]string{"key_id": a[0]})
	if err != nil {
		return err
	}
	if e.o.interval > 0 {
		if raw, err = e.c.Call(e.ctx, "POST", "update-key-rotation-interval", nil, map[string]any{"key_id": a[0], "rotation_interval": e.o.interval}); err != nil {
			return err
		}
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	fmt.Fprintf(e.stdout, "rotation enabled for key %s\n", a[0])
	return nil
}

func rotationInterval(e *kmsEnv, a []string) error {
	days, err := strconv.Atoi(a[1])
	if err != nil {
		return usageErr(fmt.Errorf("update-key-rotation-interval: %q is not a number of days", a[1]))
	}
	return e.post("update-key-rotation-interval", map[string]any{"key_id": a[0], "rotation_interval": days})
}

// input reads --in, or stdin when it is empty or "-".
func (e *kmsEnv) input(limit int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if e.o.in != "" && e.o.in != "-" {
		f, err := os.Open(e.o.in)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("input longer than %d bytes", limit)
	}
	return b, nil
}

// maxSmallData is the largest plaintext of encrypt-data (reference
// kms-api.md §5.C: 1–4096 bytes).
const maxSmallData = 4096

func encrypt(e *kmsEnv, _ []string) error {
	if e.o.key == "" {
		return usageErr(errors.New("encrypt: --key is required"))
	}
	pt, err := e.input(maxSmallData)
	if err != nil {
		return usageErr(fmt.Errorf("encrypt: %w (encrypt takes at most 4096 bytes; use encrypt-file for more)", err))
	}
	if !utf8.Valid(pt) {
		return usageErr(errors.New("encrypt: the input is not UTF-8 text, which encrypt-data requires; base64 it first, or use encrypt-file"))
	}
	body := map[string]string{"key_id": e.o.key, "plain_text": string(pt)}
	if e.o.algorithm != "" {
		body["encryption_algorithm"] = e.o.algorithm
	}
	if e.o.aad != "" {
		body["additional_authenticated_data"] = e.o.aad
	}
	var resp struct {
		CipherText string `json:"cipher_text"`
	}
	raw, err := e.c.CallInto(e.ctx, "POST", "encrypt-data", body, &resp)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	_, err = fmt.Fprintln(e.stdout, resp.CipherText)
	return err
}

func decrypt(e *kmsEnv, _ []string) error {
	ct, err := e.input(64 << 10)
	if err != nil {
		return usageErr(fmt.Errorf("decrypt: %w", err))
	}
	body := map[string]string{"cipher_text": string(bytes.TrimSpace(ct))}
	for k, v := range map[string]string{"key_id": e.o.key, "encryption_algorithm": e.o.algorithm, "additional_authenticated_data": e.o.aad} {
		if v != "" {
			body[k] = v
		}
	}
	var resp struct {
		PlainTextBase64 string `json:"plain_text_base64"`
	}
	raw, err := e.c.CallInto(e.ctx, "POST", "decrypt-data", body, &resp)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	if e.o.base64 {
		_, err = fmt.Fprintln(e.stdout, resp.PlainTextBase64)
		return err
	}
	pt, err := base64.StdEncoding.DecodeString(resp.PlainTextBase64)
	if err != nil {
		return fmt.Errorf("decrypt-data answered a plain_text_base64 that is not base64: %w", err)
	}
	_, err = e.stdout.Write(pt)
	return err
}

func createDataKey(e *kmsEnv, _ []string) error {
	if e.o.key == "" {
		return usageErr(errors.New("create-datakey: --key is required"))
	}
	op := "create-datakey"
	if e.o.noPlaintext {
		op = "create-datakey-without-plaintext"
	}
	body := map[string]string{"key_id": e.o.key, "datakey_length": strconv.Itoa(e.o.bits)}
	if e.o.aad != "" {
		body["additional_authenticated_data"] = e.o.aad
	}
	return e.post(op, body)
}

func decryptDataKey(e *kmsEnv, a []string) error {
	if e.o.key == "" {
		return usageErr(errors.New("decrypt-datakey: --key is required"))
	}
	body := map[string]string{"key_id": e.o.key, "cipher_text": a[0], "datakey_cipher_length": strconv.Itoa(e.o.length)}
	if e.o.aad != "" {
		body["additional_authenticated_data"] = e.o.aad
	}
	return e.post("decrypt-datakey", body)
}

func genRandom(e *kmsEnv, _ []string) error {
	return e.post("gen-random", map[string]string{"random_data_length": strconv.Itoa(e.o.bits)})
}

func getPublicKey(e *kmsEnv, a []string) error {
	var resp struct {
		PublicKey string `json:"public_key"`
	}
	raw, err := e.c.CallInto(e.ctx, "POST", "get-publickey", map[string]string{"key_id": a[0]}, &resp)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	pk := strings.ReplaceAll(resp.PublicKey, "\r\n", "\n")
	if !strings.HasSuffix(pk, "\n") {
		pk += "\n"
	}
	_, err = io.WriteString(e.stdout, pk)
	return err
}

// maxRawMessage bounds a RAW message of sign and verify (reference
// kms-api.md §5.E: decoded length < 4096 bytes).
const maxRawMessage = 4095

// signMessage returns the message and message_type of a sign or verify
// request: the input itself with --raw, else its digest computed here
// with the algorithm's hash, so that input of any size can be signed.
// SM2DSA_SM3 digests are SM3(Z_A‖M), which needs the key's public key.
func signMessage(e *kmsEnv) (msg []byte, messageType string, err error) {
	if e.o.key == "" || e.o.algorithm == "" {
		return nil, "", usageErr(errors.New("--key and --algorithm are required"))
	}
	if e.o.raw {
		msg, err := e.input(maxRawMessage)
		if err != nil {
			return nil, "", usageErr(fmt.Errorf("--raw: %w; leave out --raw to sign a digest", err))
		}
		return msg, "RAW", nil
	}
	var h hash.Hash
	alg := e.o.algorithm
	switch {
	case strings.HasSuffix(alg, "_SHA_256"):
		h = sha256.New()
	case strings.HasSuffix(alg, "_SHA_384"):
		h = sha512.New384()
	case strings.HasSuffix(alg, "_SHA_512"):
		h = sha512.New()
	case alg == "SM2DSA_SM3":
		return sm2Digest(e)
	default:
		return nil, "", usageErr(fmt.Errorf("--algorithm %q: not a signing algorithm (RSASSA_PSS_SHA_256, ECDSA_SHA_256, SM2DSA_SM3, …)", alg))
	}
	if err := e.hashInput(h); err != nil {
		return nil, "", err
	}
	return h.Sum(nil), "DIGEST", nil
}

// hashInput writes --in (or stdin) to h.
func (e *kmsEnv) hashInput(h io.Writer) error {
	var r io.Reader = e.stdin
	if e.o.in != "" && e.o.in != "-" {
		f, err := os.Open(e.o.in)
		if err != nil {
			return usageErr(err)
		}
		defer f.Close()
		r = f
	}
	if _, err := io.Copy(h, r); err != nil {
		return usageErr(err)
	}
	return nil
}

func sm2Digest(e *kmsEnv) ([]byte, string, error) {
	var resp struct {
		PublicKey string `json:"public_key"`
	}
	if _, err := e.c.CallInto(e.ctx, "POST", "get-publickey", map[string]string{"key_id": e.o.key}, &resp); err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode([]byte(resp.PublicKey))
	if block == nil {
		return nil, "", errors.New("get-publickey answered no PEM public key")
	}
	pub, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("get-publickey: %w", err)
	}
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok || ecPub.Curve != sm2.P256() {
		return nil, "", fmt.Errorf("key %s is not an SM2 key", e.o.key)
	}
	// SM3(Z_A‖M) streams M: Z_A first, then the input.
	z, err := sm2.CalculateZA(ecPub, []byte(sm2DefaultUID))
	if err != nil {
		return nil, "", err
	}
	h := sm3.New()
	h.Write(z)
	if err := e.hashInput(h); err != nil {
		return nil, "", err
	}
	return h.Sum(nil), "DIGEST", nil
}

// sm2DefaultUID is the signer id of SM2DSA_SM3 (GM/T 0009's default), the
// one the service uses for RAW messages.
const sm2DefaultUID = "1234567812345678"

func signRequest(e *kmsEnv) (map[string]string, error) {
	msg, mt, err := signMessage(e)
	if err != nil {
		return nil, err
	}
	return map[string]string{"key_id": e.o.key, "signing_algorithm": e.o.algorithm, "message_type": mt, "message": base64.StdEncoding.EncodeToString(msg)}, nil
}

func sign(e *kmsEnv, _ []string) error {
	body, err := signRequest(e)
	if err != nil {
		return err
	}
	var resp struct {
		Signature string `json:"signature"`
	}
	raw, err := e.c.CallInto(e.ctx, "POST", "sign", body, &resp)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	_, err = fmt.Fprintln(e.stdout, resp.Signature)
	return err
}

func verify(e *kmsEnv, _ []string) error {
	if e.o.signature == "" {
		return usageErr(errors.New("verify: --signature B64 is required"))
	}
	body, err := signRequest(e)
	if err != nil {
		return err
	}
	body["signature"] = e.o.signature
	var resp struct {
		Valid string `json:"signature_valid"`
	}
	raw, err := e.c.CallInto(e.ctx, "POST", "verify", body, &resp)
	if err != nil {
		return err
	}
	if e.json {
		if err := printJSON(e.stdout, raw); err != nil {
			return err
		}
	}
	if resp.Valid != "true" {
		return fmt.Errorf("%w: the signature is not valid for this input and key", errInvalid)
	}
	if !e.json {
		fmt.Fprintln(e.stdout, "signature valid")
	}
	return nil
}

func quotas(e *kmsEnv, _ []string) error {
	raw, err := e.c.Call(e.ctx, "GET", "user-quotas", nil, nil)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, raw)
	}
	var v struct {
		Quotas struct {
			Resources []struct {
				Type  string `json:"type"`
				Used  int    `json:"used"`
				Quota int    `json:"quota"`
			} `json:"resources"`
		} `json:"quotas"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("undecodable answer: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tUSED\tQUOTA")
	for _, r := range v.Quotas.Resources {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", r.Type, r.Used, r.Quota)
	}
	return tw.Flush()
}
