package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLoginGuessingDoesNotStarveLogins (issue 10, item 8): 200 parallel
// wrong-password logins from one source address against one user must
// not queue ahead of other users' logins. Counted, not timed: of the
// attack, only the failures allowed per source and per user (and the
// checks allowed in flight) reach the password check, the rest are
// refused with 429 APIGW.0308 before it; another user's correct login
// from another address, sent while the attack runs, gets its token. (The
// attacked user itself is limited while the attack lasts: that is what
// bounds guessing one password from many addresses.)
func TestLoginGuessingDoesNotStarveLogins(t *testing.T) {
	srv, ids, addr := metricsServer(t)
	const attackers = 200
	body := func(account, user, pw string) string {
		return fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"password":%q,"domain":{"name":%q}}}},"scope":{"project":{"name":%q}}}}`,
			user, pw, account, ids.ProjectName)
	}
	// The attacker connects from 127.0.0.2; the user from 127.0.0.1.
	attacker := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: attackers, MaxIdleConnsPerHost: attackers,
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext,
	}}
	login := func(c *http.Client, account, user, pw string) (int, string) {
		resp, err := c.Post("http://"+addr+"/v3/auth/tokens", "application/json", strings.NewReader(body(account, user, pw)))
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "APIGW.0308")) {
			t.Errorf("429 without Retry-After or APIGW.0308: %s", b)
		}
		return resp.StatusCode, resp.Header.Get("X-Subject-Token")
	}
	var wg sync.WaitGroup
	var refused, wrong atomic.Int64
	firstRefusal := make(chan struct{})
	var once sync.Once
	for range attackers {
		wg.Go(func() {
			switch status, _ := login(attacker, ids.AccountName, ids.AdminName, "wrong-password-guess"); status {
			case 429:
				refused.Add(1)
				once.Do(func() { close(firstRefusal) })
			case 401:
				wrong.Add(1)
			default:
				t.Errorf("a wrong password answered %d", status)
			}
		})
	}
	// The attack is under way (it is being refused): log in for real.
	<-firstRefusal
	checkedBefore := srv.Handler.LoginStats().Checked
	status, tok := login(http.DefaultClient, ids.Account2Name, ids.Admin2Name, ids.Admin2Password)
	checkedAfter := srv.Handler.LoginStats().Checked
	wg.Wait()
	if status != 201 || tok == "" {
		t.Fatalf("the real login during the attack answered %d", status)
	}
	// 5 failures per user in a burst (fewer than the source's 10), 2
	// checks in flight (the defaults): at most 5 + 2 of the 200 guesses
	// are checked; the rest are refused unchecked.
	if w := wrong.Load(); w > 7 || refused.Load() < attackers-7 {
		t.Errorf("%d guesses checked (401), %d refused (429): want at most 7 checked", w, refused.Load())
	}
	// Ahead of the real login, only the few guesses admitted can have
	// been queued for a password check.
	if ahead := checkedAfter - checkedBefore - 1; ahead > 7 {
		t.Errorf("%d password checks ran between the attack's first refusal and the real login", ahead)
	}
	st := srv.Handler.LoginStats()
	t.Logf("attack: %d refused, %d checked; login stats %+v", refused.Load(), wrong.Load(), st)
}
