package store

// BlockSeek finds the block of a list that holds an offset, for backends
// that keep counts of blocks of the list order (key_list_blocks): feed it
// the blocks' counts in list order (Forward) or in reverse order, one
// Next call per block, until Next reports true; Before is then the number
// of list entries before that block's start.
type BlockSeek struct {
	offset  int
	forward bool
	before  int
}

// NewBlockSeek starts a seek to offset in a list of total entries, from
// the end nearer to it.
func NewBlockSeek(offset, total int) *BlockSeek {
	s := &BlockSeek{offset: offset, forward: offset <= total/2}
	if !s.forward {
		s.before = total
	}
	return s
}

// Forward reports whether the blocks are to be read in list order.
func (s *BlockSeek) Forward() bool { return s.forward }

// Next takes the count n of the next block read and reports whether that
// block holds the offset.
func (s *BlockSeek) Next(n int) bool {
	if s.forward {
		if s.offset < s.before+n {
			return true
		}
		s.before += n
		return false
	}
	s.before -= n
	return s.before <= s.offset
}

// Before returns the number of list entries before the block found (or,
// before it is found, before the blocks read so far): negative when the
// blocks count more entries than the total.
func (s *BlockSeek) Before() int { return s.before }
