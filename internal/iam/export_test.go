package iam

// HoldLoginSlots takes every password-check slot of s, as that many
// logins in progress would, and returns the function that frees them.
func HoldLoginSlots(s *Service) (release func()) {
	n := cap(s.logins)
	for range n {
		s.logins <- struct{}{}
	}
	return func() {
		for range n {
			<-s.logins
		}
	}
}
